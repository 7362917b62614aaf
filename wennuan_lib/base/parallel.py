"""Work on every core: a pool for many files, one forked process for one big job — and every such process dies
with the process that started it, so a killed run leaves nothing behind that keeps writing."""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import functools
import gc
import multiprocessing as mp
import os
import pickle
import signal
import threading
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def gc_paused():
    """Building a data layer makes hundreds of thousands of small objects that all live on; the cyclic
    garbage collector would re-scan the growing heap again and again. It is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def stderr_nowhere() -> None:
    """This process's standard error (file descriptor 2, where native code writes too) goes to the null
    device from now on, and no fault dump is written (faulthandler, when on — pytest turns it on — writes to
    a copy of the descriptor of its own)."""
    faulthandler.disable()
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 2)
    os.close(nowhere)


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies (kill -9 included). Elsewhere: nothing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before we asked
            os._exit(1)
    except (OSError, AttributeError):
        pass


_SHARED = (
    None  # what every job of the pool being started reads: inherited by the forked workers, never pickled
)


_done = 0
TRIM_EVERY = 25
CHUNK_MAX = 16  # jobs between giving freed memory back to the system


def give_back_memory() -> None:
    """Give the memory a worker has freed back to the system (glibc keeps it otherwise): a worker that parsed
    hundreds of workbooks grows by a hundred MB it no longer uses."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _worker_start() -> None:
    """A pool worker: dies with its parent; what it inherited from the parent is set aside from garbage
    collection (gc.freeze: collecting it would touch, and so copy, every inherited page)."""
    die_with_parent()
    _ASIDE.clear()  # its parent's, not its own
    gc.freeze()


def _with_shared(fn, job):
    global _done
    try:
        return fn(_SHARED, job)
    finally:
        _done += 1
        if _done % TRIM_EVERY == 0:
            # parsed workbooks leave reference cycles that a worker's rare full collections let pile up:
            # measured on 600 forms, 227 MB in one process without this, 95 MB with it
            gc.collect()
            give_back_memory()


def on_all_cores(fn, jobs: list, shared=None, apart: bool = False, each=None) -> list:
    """`fn(shared, job)` for every job: all cores for many jobs, in-process for a few (a worker pool costs
    more than it saves) unless `apart` (every job in a forked worker, even one: what may kill the process
    running it never runs in this one; where fork is not available, in-process). `shared` (the tables the
    jobs slice) reaches forked workers without being copied
    through a pipe: measured with 1,800 feedback workbooks, sending each job its slices of two tables cost
    more than making the workbooks. `each(n)`, if given, is called as the results come in, in order: the n-th
    is in (a step's progress: reading 3,000 files, it moves as they are read, not all at once at the end)."""
    global _SHARED
    workers = min(os.cpu_count() or 1, max(1, len(jobs) // 8))
    fork = "fork" in mp.get_all_start_methods()
    if not jobs or (workers < 2 and not (apart and fork)):
        return _collected((fn(shared, j) for j in jobs), each)
    # a worker holds a chunk's results until the chunk is done: small chunks keep 3,000 parsed forms from
    # piling up
    chunk = max(1, min(CHUNK_MAX, len(jobs) // (workers * 8)))
    if fork:
        _SHARED = shared
        _wait_for_set_aside()
        try:
            with ProcessPoolExecutor(
                workers, mp_context=mp.get_context("fork"), initializer=_worker_start
            ) as pool:
                return _collected(pool.map(functools.partial(_with_shared, fn), jobs, chunksize=chunk), each)
        finally:
            _SHARED = None
    with ProcessPoolExecutor(workers, initializer=die_with_parent) as pool:
        return _collected(pool.map(functools.partial(fn, shared), jobs, chunksize=chunk), each)


def _collected(results, each) -> list:
    """The results as a list, `each(n)` told as the n-th comes in (see on_all_cores)."""
    out = []
    for result in results:
        out.append(result)
        if each is not None:
            each(len(out))
    return out


def _child(fn) -> None:
    _worker_start()
    _or_exit(fn)


def _or_exit(fn):
    """`fn()`; if it fails, this forked process ends at once, saying nothing: its parent runs `fn` again and
    raises the error where the analyst sees it (in_background, _Made), or it is only not done."""
    try:
        return fn()
    except BaseException:
        os._exit(1)


def in_background(fn, again: bool = True):
    """Start `fn()` on another core (a forked process) and return `wait()`. If the process failed,
    `wait()` runs `fn()` here, so that the real error is raised where the analyst sees it — unless not
    `again` (what `fn` does depends on this process's state when it was forked, which may have changed since:
    it is then only not done). WENNUAN_SERIAL=1 runs everything here, in order (for profiling)."""
    if (
        (os.cpu_count() or 1) < 2
        or "fork" not in mp.get_all_start_methods()
        or os.environ.get("WENNUAN_SERIAL")
    ):
        fn()
        return lambda: None
    proc = mp.get_context("fork").Process(target=_child, args=(fn,))
    _wait_for_set_aside()
    proc.start()

    def wait() -> None:
        proc.join()
        if proc.exitcode != 0 and again:
            fn()

    return wait


def _child_bytes(fn, send) -> None:
    _worker_start()
    data = _or_exit(fn)
    send.send_bytes(data)
    send.close()


def bytes_in_background(fn):
    """Start `fn()` (which makes bytes) on another core and return `result()`, which waits for them (a
    `_Made`). If the process failed, `result()` runs `fn()` here, so that the real error is raised where the
    analyst sees it. WENNUAN_SERIAL=1 makes them here, at once."""
    if (
        (os.cpu_count() or 1) < 2
        or "fork" not in mp.get_all_start_methods()
        or os.environ.get("WENNUAN_SERIAL")
    ):
        data = fn()
        return lambda: data
    return _Made(fn)


class _Made:
    """The bytes a forked process is making: called, waits for them. They are taken as the process sends
    them, whatever this one is doing meanwhile (a large result would otherwise fill the pipe and hold the
    process until it is called: a product the run saves later, runner.save_later)."""

    def __init__(self, fn):
        context = mp.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        self._fn = fn
        self._proc = context.Process(target=_child_bytes, args=(fn, send))
        _wait_for_set_aside()
        self._proc.start()
        send.close()
        self.pid = self._proc.pid
        self._got: list = []
        self._reader = threading.Thread(target=self._drain, args=(receive,), daemon=True)
        self._reader.start()

    def _drain(self, receive) -> None:
        try:
            self._got.append(receive.recv_bytes())
        except EOFError:
            self._got.append(None)
        finally:
            receive.close()

    def ended(self) -> None:
        """Wait for the process. Once it has made the bytes, what they were made from (the step's tables) is
        let go: a product set aside (set_aside) would otherwise keep them in memory until the run saves it."""
        if self._reader.is_alive():
            # it is still at work: meanwhile, what this process freed since the fork goes back to the system
            # (step 04 waits for the PDF after writing the Word and the detail workbook: 3,000 units with a
            # previous year, the kernel at the run's peak 300 → 210 MiB). Trimming, not collecting: a
            # collection would write to every object's header, and so copy each page still shared with the
            # forked process
            give_back_memory()
        self._reader.join()
        if self._proc is not None:
            self._proc.join()
            if self._got[0] is not None and self._proc.exitcode == 0:
                self._fn = None
            self._proc = None

    def __call__(self) -> bytes:
        self.ended()
        return self._got[0] if self._fn is None else self._fn()


# the `bytes_in_background` results set aside (set_aside): their processes may still be running
_ASIDE: list = []


def set_aside(result) -> None:
    """`result` (a `bytes_in_background`) is no longer what the run waits for (runner.save_later): its process
    gives way to every other on the machine (nice 10), and the next process forked here waits for it to end
    first (`_wait_for_set_aside`)."""
    if not hasattr(result, "pid"):  # made here, at once
        return
    with contextlib.suppress(OSError):  # already ended
        os.setpriority(os.PRIO_PROCESS, result.pid, 10)
    _ASIDE.append(result)


def _wait_for_set_aside() -> None:
    """Before a fork: the processes set aside end first. Each holds this process's memory as it was when it
    was forked, which this one has since freed and reused: with the next step's workers beside it, the run
    would hold that memory twice (3,000 units, one file changed: 894 MiB of PSS at the peak without this
    wait, 722 with nothing set aside, 702 with it). It has had the next step's start to work in (its loading:
    1–2 s)."""
    if not _ASIDE:
        return
    while _ASIDE:
        _ASIDE.pop().ended()
    give_back_memory()  # what they were made from, let go


def aside_busy() -> bool:
    """Whether a process set aside (set_aside) is still making its bytes: another core is busy with it, and a
    process forked now would first wait for it to end (_wait_for_set_aside)."""
    return any(result._reader.is_alive() for result in _ASIDE)


def here_and_apart(fn, here, apart) -> tuple:
    """(`fn(here)`, `fn(apart)`): the second made by a forked process (pickled back) while this one makes the
    first — one job split in two, on two cores. If that process failed, the second is made here too. While a
    process set aside is still at work (aside_busy), both are made here: the other core is busy with it, and
    the fork would first wait for it to end (3,000 units, one file changed: step 04 waited 1.4 s for
    the review workbook with one core idle)."""
    if aside_busy():
        return fn(here), fn(apart)
    there = bytes_in_background(lambda: pickle.dumps(fn(apart), pickle.HIGHEST_PROTOCOL))
    mine = fn(here)
    return mine, pickle.loads(there())
