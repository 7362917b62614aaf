"""Run a year's pipeline: each step is a notebook, executed by papermill with the year's paths.

The notebooks call the library (ingest, clean, reconcile, report) and show the analyst what came
out; the executed copies are kept under outputs/<year>/notebooks/. The four notebooks share one
kernel (started once, its variables cleared between notebooks). After the steps, the run writes its
manifest and compares with any report already sent (step 04 has rebuilt outputs/trends/).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import config

PROGRESS_MARK = "进度｜"


class PipelineError(Exception):
    """A step failed; the message is Chinese."""


class _Progress:
    """The kernel's stdout, as papermill passes it on: progress lines reach the analyst's terminal."""

    def __init__(self, progress):
        self.progress = progress

    def write(self, text: str) -> None:
        for line in str(text).splitlines():
            if PROGRESS_MARK in line:
                self.progress("    " + line.split(PROGRESS_MARK, 1)[1])

    def flush(self) -> None:
        pass


def report_progress(message: str) -> None:
    """Called from library code inside a notebook: shown in the terminal when `run` is executing."""
    if os.environ.get("WENNUAN_PROGRESS"):
        print(PROGRESS_MARK + message, flush=True)


class Kernel:
    """One Jupyter kernel for all the notebooks of a run: it starts, and imports the library, once.

    Before each notebook the kernel's variables are cleared (`%reset -f`) and its cell counter
    restarts at 1, so every executed notebook reads as if it had a kernel of its own.
    """

    # Before each notebook: no variables left from the one before, cells numbered from 1.
    RESET = ("get_ipython().run_line_magic('reset', '-f')\n"
             "import gc; gc.collect()\n"
             "get_ipython().execution_count = 1")

    def __init__(self, progress=print):
        self.progress = progress
        self.km = None
        self.sockets = None

    def __enter__(self) -> Kernel:
        import tempfile

        from jupyter_client.kernelspec import NoSuchKernel
        from jupyter_client.manager import AsyncKernelManager
        from traitlets.config import Config

        # Local IPC sockets in a private temporary folder: nothing listens on the network, and the
        # socket files never land in the project (they would be relative to the working directory).
        self.sockets = tempfile.mkdtemp(prefix="wennuan-kernel-")
        kernel_config = Config()
        kernel_config.KernelManager.transport = "ipc"
        kernel_config.KernelManager.ip = os.path.join(self.sockets, "ipc")
        self.km = AsyncKernelManager(kernel_name=config.KERNEL_NAME, config=kernel_config)
        try:
            self.km.kernel_spec  # noqa: B018 - raises NoSuchKernel before anything starts
        except NoSuchKernel as exc:
            self.__exit__()
            raise PipelineError(f"找不到Jupyter内核「{config.KERNEL_NAME}」，请先运行 bash setup.sh") from exc
        os.environ["WENNUAN_PROGRESS"] = "1"  # inherited by the kernel: per-file progress lines
        return self

    def __exit__(self, *exc) -> None:
        import shutil

        from jupyter_core.utils import run_sync

        os.environ.pop("WENNUAN_PROGRESS", None)
        if self.km is not None and self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)
        self.km = None
        if self.sockets:
            shutil.rmtree(self.sockets, ignore_errors=True)

    def _fresh(self) -> None:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(self.RESET)])
        NotebookClient(nb, km=self.km, startup_timeout=60).execute()

    def run(self, name: str, paths: config.YearPaths) -> None:
        import papermill as pm

        self._fresh()
        src = config.NOTEBOOKS_DIR / name
        paths.notebooks.mkdir(parents=True, exist_ok=True)
        executed = paths.notebooks / f".{Path(name).stem}.running.ipynb"  # renamed into place when the step has finished
        try:
            pm.execute_notebook(
                str(src), str(executed),
                parameters={"year": paths.year, "inputs_dir": str(paths.inputs), "outputs_dir": str(paths.outputs)},
                kernel_name=config.KERNEL_NAME, cwd=str(config.NOTEBOOKS_DIR), progress_bar=False,
                stdout_file=_Progress(self.progress), km=self.km, request_save_on_cell_execute=False,
            )
        except pm.PapermillExecutionError as exc:
            os.replace(executed, paths.notebooks / name)  # keep the failed notebook for the analyst to read
            raise PipelineError(
                f"步骤 {name} 运行出错：{exc.ename}: {exc.evalue}\n"
                f"详见已执行的笔记本：{paths.notebooks / name}"
            ) from exc
        else:
            os.replace(executed, paths.notebooks / name)


def on_all_cores(fn, jobs: list) -> list:
    """All cores for many files; in-process for a few (a worker pool costs more than it saves)."""
    workers = min(os.cpu_count() or 1, max(1, len(jobs) // 8))
    if workers < 2:
        return [fn(j) for j in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, jobs, chunksize=max(1, len(jobs) // (workers * 8))))


def in_background(fn):
    """Start `fn()` on another core (a forked process) and return `wait()`. If the process failed,
    `wait()` runs `fn()` here, so that the real error is raised where the analyst sees it.
    WENNUAN_SERIAL=1 runs everything here, in order (for profiling)."""
    import multiprocessing as mp

    if (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods() or os.environ.get("WENNUAN_SERIAL"):
        fn()
        return lambda: None
    proc = mp.get_context("fork").Process(target=fn)
    proc.start()

    def wait() -> None:
        proc.join()
        if proc.exitcode != 0:
            fn()

    return wait


def clear_leftovers(paths: config.YearPaths) -> None:
    """Temporary files of a run that was killed: they never replaced anything, so they can go."""
    import shutil

    if not paths.year_outputs.is_dir():
        return
    for p in paths.year_outputs.rglob(".*"):
        if "sent" in p.relative_to(paths.year_outputs).parts:
            continue
        if p.is_dir() and p.name.endswith((".new", ".old", ".tmp")):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file() and p.name.count(".") >= 2:
            p.unlink(missing_ok=True)


def run_year(paths: config.YearPaths, progress=print, with_previous: bool = True, kernel: Kernel | None = None) -> None:
    """All steps of one year, from its raw inputs (and the previous year's results, for 同比 and history).
    `kernel`: one already started (run_all passes its own, so that every year uses the same one)."""
    import contextlib
    import time

    from . import freeze, manifest

    if not paths.inbox.is_dir():
        raise PipelineError(f"找不到{paths.year}年的收件箱：{paths.inbox}")
    with contextlib.ExitStack() as stack:
        kernel = kernel or stack.enter_context(Kernel(progress))
        previous = config.year_paths(paths.year - 1, paths.inputs, paths.outputs)
        if with_previous and previous.inbox.is_dir() and not (previous.data / "values.csv").exists():
            progress(f"上年（{previous.year}年）尚未处理：先处理上年，以便做历史审核和同比")
            run_year(previous, progress, kernel=kernel)
            progress(f"继续处理 {paths.year} 年")
        clear_leftovers(paths)
        n = len(config.PIPELINE_NOTEBOOKS)
        for i, name in enumerate(config.PIPELINE_NOTEBOOKS, 1):
            start = time.perf_counter()
            progress(f"[{paths.year}年 {i}/{n}] {config.STEP_LABELS.get(name, name)}（{name}）…")
            kernel.run(name, paths)
            progress(f"    完成，用时 {time.perf_counter() - start:.1f} 秒")
    freeze.compare(paths)
    manifest.write(paths)


def run_all(inputs=None, outputs=None, progress=print) -> list[int]:
    """Every year present under inputs/, in order, so that each year's history checks see the year before."""
    years = config.years_present(config.year_paths(2000, inputs, outputs).inputs)
    if not years:
        raise PipelineError("inputs/ 下没有任何年度的收件箱（inputs/<年度>/submissions/）")
    with Kernel(progress) as kernel:
        for year in years:
            run_year(config.year_paths(year, inputs, outputs), progress, with_previous=False, kernel=kernel)
    return years
