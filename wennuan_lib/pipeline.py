"""Run a year's pipeline: each step is a notebook, executed by papermill with the year's paths.

The notebooks call the library (ingest, clean, reconcile, report) and show the analyst what came
out; the executed copies are kept under outputs/<year>/notebooks/. After the steps, the run writes
its manifest, compares with any report already sent, and rebuilds outputs/trends/.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from . import config

PROGRESS_MARK = "进度｜"


class PipelineError(Exception):
    """A step failed; the message is Chinese."""


class _Progress(logging.Handler):
    """Per-file progress printed inside a kernel reaches the analyst's terminal."""

    def __init__(self, progress):
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record):
        for line in str(record.getMessage()).splitlines():
            if PROGRESS_MARK in line:
                self.progress("    " + line.split(PROGRESS_MARK, 1)[1])


def report_progress(message: str) -> None:
    """Called from library code inside a notebook: shown in the terminal when `run` is executing."""
    if os.environ.get("WENNUAN_PROGRESS"):
        print(PROGRESS_MARK + message, flush=True)


def run_notebook(name: str, paths: config.YearPaths, progress=print) -> None:
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from traitlets.config import Config

    # Local IPC sockets: nothing listens on the network, and ipykernel stays quiet about it.
    kernel_config = Config()
    kernel_config.KernelManager.transport = "ipc"
    src = config.NOTEBOOKS_DIR / name
    paths.notebooks.mkdir(parents=True, exist_ok=True)
    executed = paths.notebooks / f".{Path(name).stem}.running.ipynb"  # renamed into place when the step has finished
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = _Progress(progress)
    logger.addHandler(handler)
    os.environ["WENNUAN_PROGRESS"] = "1"
    try:
        pm.execute_notebook(
            str(src), str(executed),
            parameters={"year": paths.year, "inputs_dir": str(paths.inputs), "outputs_dir": str(paths.outputs)},
            kernel_name=config.KERNEL_NAME, cwd=str(config.NOTEBOOKS_DIR), progress_bar=False,
            log_output=True, config=kernel_config,
        )
    except NoSuchKernel as exc:
        raise PipelineError(f"找不到Jupyter内核「{config.KERNEL_NAME}」，请先运行 bash setup.sh") from exc
    except pm.PapermillExecutionError as exc:
        os.replace(executed, paths.notebooks / name)  # keep the failed notebook for the analyst to read
        raise PipelineError(
            f"步骤 {name} 运行出错：{exc.ename}: {exc.evalue}\n"
            f"详见已执行的笔记本：{paths.notebooks / name}"
        ) from exc
    else:
        os.replace(executed, paths.notebooks / name)
    finally:
        logger.removeHandler(handler)
        os.environ.pop("WENNUAN_PROGRESS", None)


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


def run_year(paths: config.YearPaths, progress=print, with_previous: bool = True) -> None:
    """All steps of one year, from its raw inputs (and the previous year's results, for 同比 and history)."""
    import time

    from . import freeze, manifest, trends

    if not paths.inbox.is_dir():
        raise PipelineError(f"找不到{paths.year}年的收件箱：{paths.inbox}")
    previous = config.year_paths(paths.year - 1, paths.inputs, paths.outputs)
    if with_previous and previous.inbox.is_dir() and not (previous.data / "values.csv").exists():
        progress(f"上年（{previous.year}年）尚未处理：先处理上年，以便做历史审核和同比")
        run_year(previous, progress)
        progress(f"继续处理 {paths.year} 年")
    clear_leftovers(paths)
    n = len(config.PIPELINE_NOTEBOOKS)
    for i, name in enumerate(config.PIPELINE_NOTEBOOKS, 1):
        start = time.perf_counter()
        progress(f"[{paths.year}年 {i}/{n}] {config.STEP_LABELS.get(name, name)}（{name}）…")
        run_notebook(name, paths, progress)
        progress(f"    完成，用时 {time.perf_counter() - start:.1f} 秒")
    freeze.compare(paths)
    manifest.write(paths)
    trends.build(paths.inputs, paths.outputs)


def run_all(inputs=None, outputs=None, progress=print) -> list[int]:
    """Every year present under inputs/, in order, so that each year's history checks see the year before."""
    years = config.years_present(config.year_paths(2000, inputs, outputs).inputs)
    if not years:
        raise PipelineError("inputs/ 下没有任何年度的收件箱（inputs/<年度>/submissions/）")
    for year in years:
        run_year(config.year_paths(year, inputs, outputs), progress, with_previous=False)
    return years
