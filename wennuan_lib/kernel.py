"""Executing the step notebooks with papermill, in one Jupyter kernel for the whole run.

The kernel starts once — and only when a step has something to do. Before each notebook its variables are
cleared (`%reset -f`) and its cell counter restarts at 1, so every executed notebook reads as if it had a kernel
of its own. The kernel dies with the run (kill -9 included), so nothing keeps writing after a run was stopped.
papermill, nbclient and jupyter_client are imported here only, when a kernel is needed: together they take
about half a second to import (see below).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import catalog, config

# jsonschema (imported by nbformat) builds an IRI grammar from rfc3987_syntax at import — about 1.3 s — for a
# string format no notebook uses. When that module is unavailable jsonschema simply skips the format; so it is
# made unavailable in this process (measured: papermill's import 1.1–2.0 s → 0.25–0.5 s).
sys.modules.setdefault("rfc3987_syntax", None)


class StepFailed(Exception):
    """A step's notebook raised; the message is Chinese and names the notebook to read."""


class Kernel:
    RESET = ("get_ipython().run_line_magic('reset', '-f')\n"
             "import gc; gc.collect()\n"
             "get_ipython().history_manager.reset(new_session=True)\n"  # cell numbers restart without a clash
             "get_ipython().execution_count = 1")
    START = ("import os; os.environ['WENNUAN_IN_KERNEL'] = '1'; del os\n"
             "from wennuan_lib.parallel import die_with_parent; die_with_parent(); del die_with_parent")

    def __init__(self):
        self.km = None
        self.sockets = None
        self.started = False

    def __enter__(self) -> Kernel:
        return self

    def _start(self) -> None:
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
            raise StepFailed(f"找不到Jupyter内核「{config.KERNEL_NAME}」，请先运行 bash setup.sh") from exc
        self.started = True
        self._cell(self.START)

    def __exit__(self, *exc) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None and self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)
        self.km = None
        if self.sockets:
            shutil.rmtree(self.sockets, ignore_errors=True)

    def _cell(self, code: str) -> None:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        NotebookClient(nb, km=self.km, startup_timeout=60).execute()

    def run(self, step: catalog.Step, params: dict, run_dir: Path) -> Path:
        """Execute notebooks/<step>.ipynb with `params`; the executed copy goes into the run's folder."""
        import papermill as pm

        if not self.started:
            self._start()
        self._cell(self.RESET)
        src = config.NOTEBOOKS_DIR / step.notebook
        folder = run_dir / catalog.dataset("notebooks").path
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / step.notebook
        try:
            pm.execute_notebook(str(src), str(executed), parameters=params, kernel_name=config.KERNEL_NAME,
                                cwd=str(config.NOTEBOOKS_DIR), progress_bar=False, km=self.km,
                                request_save_on_cell_execute=False, log_output=False)
        except pm.PapermillExecutionError as exc:
            raise StepFailed(_failure(step, exc.ename, exc.evalue, executed)) from None
        return executed


def _failure(step: catalog.Step, ename: str, evalue: str, notebook: Path) -> str:
    """A step's error in Chinese: the program's own errors are Chinese already; a failed write (a full disk, a
    read-only folder) says so; any other is named as a fault."""
    from .errors import from_text

    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in str(evalue))
    what = str(evalue) if chinese else (from_text(ename, str(evalue))
                                        or f"程序内部错误（{ename}: {evalue}），请把下面的笔记本发给维护人员")
    return f"第{step.name[:2].lstrip('0')}步（{step.label}）出错：{what}\n出错的笔记本：{notebook}"
