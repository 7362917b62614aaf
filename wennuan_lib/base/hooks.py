"""Deterministic places to stop a run, for the tests of a killed, paused or concurrent run (and of a freeze
killed before it publishes)."""

import os
import signal
import time
from pathlib import Path

STOP_ENV = "WENNUAN_STOP_AT"  # tests: stop the run (kill -9 itself) at a named point, e.g. "after:02_clean"
PAUSE_ENV = "WENNUAN_PAUSE_AT"  # tests: hold the run at a named point until a file appears


def stop_point(name: str) -> None:
    """Deterministic places to stop, for the tests of a killed or a concurrent run:
    WENNUAN_STOP_AT=<name> kills the run there with SIGKILL (inside the kernel — WENNUAN_IN_KERNEL — the run
    is the kernel's parent: it is killed first); WENNUAN_PAUSE_AT=<name>:<file> waits there until <file>
    exists."""
    if os.environ.get(STOP_ENV) == name:
        if os.environ.get("WENNUAN_IN_KERNEL"):
            os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
    pause = os.environ.get(PAUSE_ENV, "")
    if pause.startswith(name + ":"):
        release = Path(pause[len(name) + 1 :])
        Path(str(release) + ".waiting").write_text(str(os.getpid()), encoding="utf-8")
        while not release.exists():
            time.sleep(0.05)
