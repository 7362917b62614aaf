"""Legacy Word, RTF and OpenDocument text files converted to .docx by LibreOffice (its start-up costs about a
second), and that conversion started early: while the run's kernel starts, the command converts the inbox's
own legacy files that step 01 will read, and step 01 takes the copies made of the files as they still are.

The hand-over is a folder in the kernel's private temporary folder (`ENV` names it in the kernel):
`claimed.json` lists the files the command converts (path → size, modification time, inode when copied),
written before step 01 can start; the command holds a lock on `lock` until `done.json` (path → the .docx
made) is written. Step 01 converts itself every file not claimed, or changed since; for the others it waits
on the lock, as it would wait for its own LibreOffice.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from wennuan_lib.base.files import atomic_write_bytes
from wennuan_lib.base.parallel import die_with_parent
from wennuan_lib.errors import ReadError
from wennuan_lib.read import inbox, sniff

# Needing LibreOffice's conversion to .docx first (one batched run, see convert_docs).
CONVERTED_KINDS = {sniff.WORD97: ".doc", sniff.RTF: ".rtf", sniff.ODT: ".odt"}
ENV = "WENNUAN_CONVERTED"
CLAIMED, DONE, LOCK = "claimed.json", "done.json", "lock"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


class Conversion:
    """One LibreOffice run converting legacy Word and RTF copies to .docx, started and not yet waited for: the
    other files of the inbox are read meanwhile (LibreOffice's start-up costs seconds)."""

    def __init__(self, paths: list[Path], folder: Path, kinds: dict[Path, str] | None = None):
        self.proc = None
        self.copies: dict[Path, Path] = {}
        exe = soffice()
        if not exe or not paths:
            return
        folder.mkdir(parents=True, exist_ok=True)
        for k, path in enumerate(paths):
            suffix = CONVERTED_KINDS.get((kinds or {}).get(path, sniff.WORD97), ".doc")
            src = folder / f"f{k:06d}{suffix}"
            shutil.copyfile(path, src)
            self.copies[path] = src
        profile = folder / "profile"
        cmd = [
            exe,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx",
            "--outdir",
            str(folder),
            *[str(c) for c in self.copies.values()],
        ]
        self.timeout = 60 + 10 * len(paths)
        # LibreOffice dies with the process that started it (a killed run leaves no converter behind; the
        # program it spawns may finish its one conversion, into this private folder, and exit). A group of its
        # own: stop() ends that program too.
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(folder)},
            preexec_fn=die_with_parent,
            process_group=0,
        )

    def stop(self) -> None:
        """LibreOffice and the program it spawned ended now, if still converting (a run interrupted: its
        folder is about to be removed, which they would otherwise fill again)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group has ended
        self.proc.wait()

    def wait(self) -> dict[Path, Path]:
        """{original: converted} for the files that converted."""
        if self.proc is not None:
            try:
                self.proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return {
            orig: src.with_suffix(".docx")
            for orig, src in self.copies.items()
            if src.with_suffix(".docx").exists()
        }


def convert_docs(paths: list[Path], folder: Path, kinds: dict[Path, str] | None = None) -> dict[Path, Path]:
    """Legacy Word and RTF files converted to .docx by one LibreOffice run (its start-up costs seconds);
    copies are converted, never the raw files. `kinds`: each path's sniffed kind (default Word 97).
    Returns {original: converted} for those that converted."""
    return Conversion(paths, folder, kinds).wait()


def _stat(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


# ---- in the command: started while the kernel starts ----


def early_files(inbox_dir: Path, known: Callable[[Path], bool]) -> list[tuple[Path, str]]:
    """The inbox's own legacy Word, RTF and OpenDocument text files ((path, kind) each; neither litter nor an
    archive's members) whose extraction step 01 does not hold already (`known`): what it would give
    LibreOffice."""
    out = []
    for entry in inbox.walk(inbox_dir):
        if entry.skip or inbox.litter_reason(Path(entry.name)) is not None:
            continue
        try:  # a file that cannot be opened now is step 01's to name
            kind = sniff.kind(entry.path)
            if kind in CONVERTED_KINDS and not known(entry.path):
                out.append((entry.path, kind))
        except (ReadError, OSError):
            continue
    return out


def start_early(files: list[tuple[Path, str]], folder: Path) -> EarlyConversion | None:
    """Convert `files` ((path, sniffed kind) each) into `folder` on a thread of this process, claimed at once
    (see the module's docstring); None when there is nothing to convert or no LibreOffice."""
    if not files or not soffice():
        return None
    stats = {str(p): _stat(p) for p, _ in files}
    lock = conversion = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / LOCK, "w")  # noqa: SIM115 - held by the thread until done.json is written
        fcntl.flock(lock, fcntl.LOCK_EX)
        conversion = Conversion([p for p, _ in files], folder / "work", dict(files))
        atomic_write_bytes(folder / CLAIMED, json.dumps(stats, ensure_ascii=False).encode("utf-8"))
    except OSError:  # a file gone meanwhile, a full disk: nothing is claimed, step 01 converts what it reads
        if conversion is not None and conversion.proc is not None:
            conversion.proc.kill()
            conversion.proc.wait()
        if lock is not None:
            lock.close()
        return None

    def finish() -> None:
        try:
            made = conversion.wait()
            done = {str(p): str(docx) for p, docx in made.items()}
            atomic_write_bytes(folder / DONE, json.dumps(done, ensure_ascii=False).encode("utf-8"))
        except OSError:
            pass  # no done.json: step 01 converts the files itself, each as it reads it
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    thread = EarlyConversion(conversion, finish)
    thread.start()
    return thread


class EarlyConversion(threading.Thread):
    """The thread that waits for the early conversion and records what it made (start_early)."""

    def __init__(self, conversion: Conversion, finish: Callable[[], None]):
        super().__init__(target=finish, name="wennuan-convert", daemon=True)
        self.conversion = conversion

    def stop(self) -> None:
        """LibreOffice ended now if still converting (Conversion.stop): the run is over or interrupted."""
        self.conversion.stop()


# ---- in step 01 ----


def _folder() -> Path | None:
    folder = os.environ.get(ENV)
    return Path(folder) if folder else None


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def claimed(paths: list[Path]) -> set[Path]:
    """Those of `paths` the command is converting, copied as they still are (same size, time and inode)."""
    folder = _folder()
    if folder is None:
        return set()
    stats = _json(folder / CLAIMED)
    return {p for p in paths if str(p) in stats and stats[str(p)] == _stat(p)}


def ended() -> bool:
    """Whether the command's conversion has ended (its lock is free), or there is none: what it converted is
    then taken at once."""
    folder = _folder()
    if folder is None or not (folder / LOCK).is_file():
        return True
    with open(folder / LOCK) as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def taken(paths: set[Path]) -> dict[Path, Path]:
    """{original: converted} of the claimed `paths`, once the command's conversion has ended (waited for on
    its lock); a file it could not convert is left out, as a failed conversion of step 01's own."""
    folder = _folder()
    if folder is None or not paths:
        return {}
    with open(folder / LOCK) as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        done = _json(folder / DONE)
    return {p: Path(done[str(p)]) for p in paths if str(p) in done and Path(done[str(p)]).is_file()}
