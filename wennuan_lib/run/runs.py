"""A scope's run folders: outputs/<year>/ (or outputs/trends/) holds one folder per run under runs/, and
`current` names the last complete one. A run is made in a new folder and switched to in one step when it
is whole, so a kill, a full disk or a failed step leaves the previous set as it was. A lock keeps two runs (or
a run and a freeze) from working on one scope at the same time.

    outputs/2013/
      .lock
      runs/20130128-101500-4711/   data/…  report/…  feedback/…  notebooks/…  (and the run's record)
      current                      a small text file: runs/20130128-101500-4711 (replaced in one rename)
      data -> runs/…/data, report -> runs/…/report, …   (shortcuts the analyst opens, when links can be made)
      cache/  sent/  logs/

`current` is a text file, not a link, so the outputs folder survives any copy (a USB stick, Windows): nothing
depends on the shortcuts. A copy that turned an older version's `current` link into a folder is taken as the
last complete run, and moved under runs/ by the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wennuan_lib.base import catalog
from wennuan_lib.errors import WennuanError

STAGING_MARK = ".staging"
RUN_OWN = tuple(
    catalog.dataset(n).path.split("/")[0] for n in ("run_record", "run_log")
)  # inside the run only
LEGACY = (
    "data",
    "report",
    "feedback",
    "notebooks",
)  # what an older version wrote straight into outputs/<year>/
FAILED_SUFFIX = "-未完成"
COPIED = "复制的结果"  # the name under runs/ of a `current` folder that a copy made of a link
POINTER_NOTE = (
    "（上一行是最近一次完整运行的结果所在的文件夹。本文件由程序维护，请不要修改；"
    "data、report 等快捷方式也指向那里）"
)


class LockTimeout(WennuanError, RuntimeError):
    pass


class Scope:
    """outputs/<year>/ or outputs/trends/."""

    def __init__(self, outputs: Path, key: int | str):
        self.key = key
        self.root = Path(outputs) / str(key)
        self.layout = catalog.layout()

    @property
    def kind(self) -> str:
        return catalog.TRENDS if self.key == catalog.TRENDS else catalog.YEAR

    @property
    def label(self) -> str:
        return "历年对比" if self.kind == catalog.TRENDS else f"{self.key}年"

    def folder(self, what: str) -> Path:
        """One of the scope's own folders: runs, cache, sent, logs."""
        return self.root / getattr(self.layout, what)

    @property
    def current_link(self) -> Path:
        return self.root / self.layout.current

    def current(self) -> Path | None:
        """The folder of the last complete run, or None. `current` is a text file naming runs/<id>; a link
        (an older version's) or a folder (such a link copied without links) is read too."""
        pointer = self.current_link
        if pointer.is_symlink():
            target = pointer.resolve()
        elif pointer.is_file():
            target = self._pointed(pointer)
        elif pointer.is_dir():
            target = pointer  # an older version's link, copied as a folder: that run itself
        else:
            return None
        if target is not None and target.is_dir() and not (target / STAGING_MARK).exists():
            return target
        return None

    def _pointed(self, pointer: Path) -> Path | None:
        """The run folder a pointer file names: only a folder directly under runs/, whatever is written."""
        try:  # re-saved by an editor in another encoding: the first line is ASCII all the same
            first = pointer.read_bytes().decode("utf-8", "replace").lstrip("\ufeff").splitlines()[0].strip()
        except (OSError, IndexError):
            return None
        name = first.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        return self.folder("runs") / name if name not in ("", ".", "..") else None

    def sent_dirs(self) -> list[Path]:
        """The copies `freeze` kept of what was sent, oldest first."""
        root = self.folder("sent")
        return (
            sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
            if root.is_dir()
            else []
        )

    # --- lock -----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, progress=print, timeout: float | None = None):
        """Hold the scope's lock. If another run holds it, say so in Chinese and wait for it."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / self.layout.lock
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "另一个进程"
                progress(f"{self.label}正由另一个运行处理（{holder}），等待它结束后再继续……")
                if timeout is None:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # blocks until the other run ends (or dies)
                else:
                    start = time.monotonic()
                    while True:
                        try:
                            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            break
                        except OSError:
                            if time.monotonic() - start > timeout:
                                raise LockTimeout(
                                    f"{self.label}正由另一个运行处理（{holder}），等待超时"
                                ) from None
                            time.sleep(0.2)
                progress(f"另一个运行已结束，继续处理{self.label}")
            note = f"进程 {os.getpid()}，开始于 {dt.datetime.now():%Y-%m-%d %H:%M:%S}"
            os.ftruncate(fd, 0)
            os.pwrite(fd, note.encode("utf-8"), 0)
            yield self
        finally:
            os.close(fd)  # closing releases the lock; so does the death of the process

    # --- run folders ----------------------------------------------------------------------------------------

    def new_run(self) -> Path:
        """A new, empty run folder, marked as being made."""
        runs = self.folder("runs")
        runs.mkdir(parents=True, exist_ok=True)
        stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
        path = runs / stamp
        n = 2
        while path.exists():
            path = runs / f"{stamp}-{n}"
            n += 1
        path.mkdir()
        (path / STAGING_MARK).write_text("正在生成，尚未完成\n", encoding="utf-8")
        return path

    @staticmethod
    def is_staging(run_dir: Path | None) -> bool:
        return run_dir is not None and (Path(run_dir) / STAGING_MARK).exists()

    def promote(self, run_dir: Path, wait: bool = True) -> Callable[[], None]:
        """Make `run_dir` current in one step (the pointer file replaced by rename), then tidy up; returns
        `tidied()`, which waits for the tidy-up. Without `wait` the older runs are removed on a thread of
        their own while the caller goes on (3,000 units: 1,839 files, 0.3 s), and the caller waits for them
        before it lets go of the scope's lock."""
        previous = self._adopt_copied_current() or self.current()
        (run_dir / STAGING_MARK).unlink()
        tmp = self.root / f".{self.layout.current}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        rel = run_dir.relative_to(self.root).as_posix()
        tmp.write_text(f"{rel}\n{POINTER_NOTE}\n", encoding="utf-8")
        os.replace(tmp, self.current_link)
        self._links(run_dir)
        keep = {run_dir.name} | ({previous.name} if previous else set())
        if wait:
            self._tidy(keep)
            return lambda: None
        tidying = threading.Thread(target=self._tidy, args=(keep,), daemon=True)
        tidying.start()
        return tidying.join

    def _adopt_copied_current(self) -> Path | None:
        """`current` as a folder (an older version's link, copied without links): moved under runs/ as a run
        of its own, so that the pointer file can take its place. Returns it (the previous run), or None."""
        pointer = self.current_link
        if pointer.is_dir() and not pointer.is_symlink():
            runs = self.folder("runs")
            runs.mkdir(parents=True, exist_ok=True)
            moved = runs / f"{dt.datetime.now():%Y%m%d-%H%M%S}-{COPIED}"
            os.replace(pointer, moved)
            return moved if not (moved / STAGING_MARK).exists() else None
        return None

    def abandon(self, run_dir: Path) -> Path:
        """A run that failed: its folder is kept (renamed) for the analyst to look at; it never becomes
        current."""
        target = run_dir.with_name(run_dir.name + FAILED_SUFFIX)
        with contextlib.suppress(OSError):
            (run_dir / STAGING_MARK).unlink(missing_ok=True)
            os.replace(run_dir, target)
            return target
        return run_dir

    def clear_abandoned(self) -> list[Path]:
        """Folders of runs that were killed before they finished (only called under the lock): kept, renamed
        like a failed run's (the newest is kept by the next tidy-up), for their log. Returns them."""
        runs = self.folder("runs")
        if not runs.is_dir():
            return []
        current = self.current()
        killed = sorted(p for p in runs.iterdir() if (p / STAGING_MARK).exists() and p != current)
        kept = [self.abandon(p) for p in killed]
        for p in self.root.glob(f".{self.layout.current}.*"):
            p.unlink(missing_ok=True)
        return kept

    def _tidy(self, keep: set[str]) -> None:
        """Keep the current run and the one before it (a reader may still be on it); and the last failed
        run."""
        runs = self.folder("runs")
        failed = sorted(p.name for p in runs.iterdir() if p.name.endswith(FAILED_SUFFIX))
        keep = keep | set(failed[-1:])
        for p in runs.iterdir():
            if p.name not in keep and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)

    def _links(self, run_dir: Path) -> None:
        """Shortcuts the analyst opens: outputs/2013/report → runs/<id>/report, and so on for every top-level
        entry of the current run (but its own record and log). Nothing depends on them: where links cannot be
        made (a USB stick's file system) there are none. Folders and files in their place (an older version's
        outputs, or shortcuts a copy turned into folders) are moved into a run folder of their own (then
        tidied away like any old run)."""
        names = {p.name for p in run_dir.iterdir() if not p.name.startswith(".") and p.name not in RUN_OWN}
        runs_prefix = self.layout.runs + "/"
        legacy = None
        for name in sorted(names | set(LEGACY)):
            link = self.root / name
            target = f"{runs_prefix}{run_dir.name}/{name}"
            if (link.exists() or link.is_symlink()) and not link.is_symlink():
                if legacy is None:
                    legacy = self.folder("runs") / f"旧版-{dt.datetime.now():%Y%m%d-%H%M%S}"
                    legacy.mkdir(parents=True, exist_ok=True)
                os.replace(link, legacy / name)
            if name in names and (not link.is_symlink() or os.readlink(link) != target):
                tmp = self.root / f".{name}.link.{os.getpid()}"
                tmp.unlink(missing_ok=True)
                try:
                    os.symlink(target, tmp)
                except OSError:  # no links on this file system: the run is whole without them
                    continue
                os.replace(tmp, link)
        for link in self.root.iterdir():  # shortcuts to what the current run no longer has
            if link.is_symlink() and link.name not in names and link.name != self.layout.current:
                into = os.readlink(link)
                if into.startswith((self.layout.current + os.sep, runs_prefix)):
                    link.unlink()

    def copy_from_current(self, run_dir: Path, paths: list[str]) -> None:
        """Carry files of the current run into a new run (a step that did not need to run again)."""
        current = self.current()
        for rel in paths:
            src, dest = current / rel, run_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dest)
