"""Run a year's pipeline: each step is a notebook, executed by papermill with the year's paths.

The notebooks call the library (ingest, …) and show the analyst what came out; the
executed copies are kept under outputs/<year>/notebooks/.
"""

from __future__ import annotations

import logging

from . import config


class PipelineError(Exception):
    """A step failed; the message is Chinese."""


def run_notebook(name: str, paths: config.YearPaths, log_output: bool = False) -> None:
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from traitlets.config import Config

    # Local IPC sockets: nothing listens on the network, and ipykernel stays quiet about it.
    kernel_config = Config()
    kernel_config.KernelManager.transport = "ipc"
    src = config.NOTEBOOKS_DIR / name
    paths.notebooks.mkdir(parents=True, exist_ok=True)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    try:
        pm.execute_notebook(
            str(src), str(paths.notebooks / name),
            parameters={"year": paths.year, "inputs_dir": str(paths.inputs), "outputs_dir": str(paths.outputs)},
            kernel_name=config.KERNEL_NAME, cwd=str(config.NOTEBOOKS_DIR), progress_bar=False,
            log_output=log_output, config=kernel_config,
        )
    except NoSuchKernel as exc:
        raise PipelineError(f"找不到Jupyter内核「{config.KERNEL_NAME}」，请先运行 bash setup.sh") from exc
    except pm.PapermillExecutionError as exc:
        raise PipelineError(
            f"步骤 {name} 运行出错：{exc.ename}: {exc.evalue}\n"
            f"详见已执行的笔记本：{paths.notebooks / name}"
        ) from exc


def run_year(paths: config.YearPaths, progress=print) -> None:
    if not paths.inbox.is_dir():
        raise PipelineError(f"找不到{paths.year}年的收件箱：{paths.inbox}")
    previous = config.year_paths(paths.year - 1, paths.inputs, paths.outputs)
    if previous.inbox.is_dir() and not (previous.data / "values.csv").exists():
        progress(f"上年（{previous.year}年）尚未处理：先处理上年，以便做历史审核")
        run_year(previous, progress)
        progress(f"继续处理 {paths.year} 年")
    for i, name in enumerate(config.PIPELINE_NOTEBOOKS, 1):
        progress(f"[{paths.year}年 {i}/{len(config.PIPELINE_NOTEBOOKS)}] 运行 {name} …")
        run_notebook(name, paths)
