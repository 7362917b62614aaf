"""Progress of a run: library code reports what it is doing; the console shows it and the run's log keeps it.

Inside a step (a notebook in the kernel), `report` appends one JSON line to the file named by
WENNUAN_PROGRESS_FILE (set in the kernel for each step), which `run` follows and prints — so progress never
lands in the executed notebook.
A notebook run by itself (in JupyterLab) has no such file and reports nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from pathlib import Path

from wennuan_lib.base.files import atomic_write_bytes

ENV = "WENNUAN_PROGRESS_FILE"
EVERY = 100  # above this many files, a line at every 5 % (and a bar on a terminal)


def report(message: str, done: int | None = None, total: int | None = None) -> None:
    """Called from library code: `message`, optionally as item `done` of `total`."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps({"m": message, "d": done, "t": total}, ensure_ascii=False)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


class Console:
    """What the analyst sees in the terminal, and the run's log file (every line, with the time)."""

    def __init__(self, log: Path | None = None, stream=None):
        self.stream = stream or sys.stdout
        self.log_lines: list[str] = []
        self.log = log
        self._bar = None

    def __call__(self, line: str) -> None:
        self.close_bar()
        print(line, file=self.stream, flush=True)
        self._keep(line)

    def _keep(self, line: str) -> None:
        self.log_lines.append(f"{dt.datetime.now():%H:%M:%S} {line}")

    def item(self, message: str, done: int, total: int) -> None:
        """Item `done` of `total`: every item for a small inbox, every 5 % (or a bar on a terminal)
        for a big one."""
        self._keep(f"    {message.replace('{n}', f'[{done}/{total}]')}")
        if total <= EVERY:
            print(f"    {message.replace('{n}', f'[{done}/{total}]')}", file=self.stream, flush=True)
            return
        if self.stream.isatty():
            if self._bar is None:
                # 0.03-0.05 s to import (its version from the package metadata): only for a bar
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc="    读取", unit="个文件", file=self.stream, leave=False)
            self._bar.n = done
            self._bar.refresh()
            if done >= total:
                self.close_bar()
        elif done % max(1, total // 20) == 0 or done == total:
            print(f"    {message.replace('{n}', f'[{done}/{total}]')}", file=self.stream, flush=True)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def write_log(self, path: Path) -> None:
        atomic_write_bytes(path, ("\n".join(self.log_lines) + "\n").encode("utf-8"))


class Follow:
    """Follows a step's progress file in a thread and shows each line on the console."""

    def __init__(self, path: Path, console: Console):
        self.path, self.console = Path(path), console
        self.path.write_text("", encoding="utf-8")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Follow:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        pos = 0
        while True:
            stopping = self._stop.wait(0.1)
            with open(self.path, "rb") as fh:
                fh.seek(pos)
                chunk = fh.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            pos += len(complete)
            for raw in complete.decode("utf-8", "replace").splitlines():
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                if rec.get("t"):
                    self.console.item(rec["m"], rec["d"], rec["t"])
                else:
                    self.console("    " + rec["m"])
            if stopping:
                return
