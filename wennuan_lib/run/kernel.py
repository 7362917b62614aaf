"""Executing the step notebooks with papermill, in one Jupyter kernel for the whole run.

The kernel starts once — and only when a step has something to do. Before each notebook its variables are
cleared (`%reset -f`) and its cell counter restarts at 1, so every executed notebook reads as if it had a
kernel of its own. The kernel dies with the run (kill -9 included), so nothing keeps writing after a run was
stopped. papermill, nbclient and jupyter_client are imported here only, when a kernel is needed: together they
take about half a second to import (see below).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

from wennuan_lib.base import catalog, config
from wennuan_lib.base.progress import ENV
from wennuan_lib.errors import WennuanError, from_text
from wennuan_lib.read import convert
from wennuan_lib.run import manifest


class StepFailed(WennuanError):
    """A step's notebook raised; the message is Chinese and names the notebook to read."""


class _CellFailed(RuntimeError):
    """Code the run itself ran in the kernel (Kernel._cell) raised `ename`: `evalue`."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(f"{ename}: {evalue}")
        self.ename, self.evalue = ename, evalue


PRINTED_TIMEOUT = 120  # seconds a kernel has to say what Kernel.printed asks (a summary: 1 s at 3,000 units)


class Kernel:
    # Before each notebook: no variable left from the one before (not even in the output cache), cells
    # numbered from 1. Not %reset: it collects garbage twice, 0.3 s a notebook; the frames go when their
    # names do.
    RESET = (
        "_ip = get_ipython()\n"
        "for _k in [k for k in _ip.user_ns if not k.startswith('_') and k not in _ip.user_ns_hidden]:\n"
        "    _ip.user_ns.pop(_k)\n"
        "_ip.history_manager.reset(new_session=True)\n"
        "_ip.user_ns.update({'_': '', '__': '', '___': ''})\n"
        "_ip.execution_count = 1\n"
        "_ip.user_ns.pop('_k', None)\n"
        "del _ip\n"
        # the step before left its tables' memory free but held by the allocator: give it back, so that the
        # PDF's worker forked from this kernel does not start from the ingest step's high-water mark
        "import gc as _gc; _gc.collect(); del _gc\n"
        "from wennuan_lib.base.parallel import give_back_memory as _g; _g(); del _g"
    )
    START = (
        "import os; os.environ['WENNUAN_IN_KERNEL'] = '1'; del os\n"
        "from wennuan_lib.base.parallel import die_with_parent; die_with_parent(); del die_with_parent"
    )
    # What the steps import, loaded while the run is still hashing its inputs (the kernel is another process,
    # so this overlaps); the PDF's worker is forked from the kernel and finds WeasyPrint loaded too.
    # The kernel runs it silently, so an import that fails here would go unseen: `warm` finds the modules
    # itself, and tests/test_scale.py checks that every step module is loaded by it.
    WARM = "from wennuan_lib.run.kernel import warm; warm(); del warm"

    def __init__(self):
        self.km = None
        self.kc = None
        self.sockets = None
        self.started = self.ready = False
        self.converted: Path | None = None  # the early conversion's folder (convert_early)
        self.conversions: list = []  # the early conversions (convert.EarlyConversion), one per year

    def __enter__(self) -> Kernel:
        return self

    def start(self) -> None:
        """Launch the kernel and have it load the library, without waiting: the first step waits for it.
        Called from the main thread (the kernel is bound to die with it)."""
        if self.started:
            return
        # jupyter_client and traitlets: 0.05 s to import; `run` with nothing to do never starts a kernel
        from jupyter_client.kernelspec import NoSuchKernel
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync
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
        # no IPython history: every cell the steps run would be written to ~/.ipython's SQLite file (one
        # commit each, shared by every run on the machine), which nothing ever reads back
        run_sync(self.km.start_kernel)(extra_arguments=["--HistoryManager.enabled=False"])
        self.started = True
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.execute(self.START + "\n" + self.WARM, silent=True, store_history=False)

    def convert_early(self, files: list[tuple[Path, str]]) -> None:
        """LibreOffice converts `files` (the inbox's legacy files step 01 will read, see convert.early_files)
        now, while the kernel starts; step 01 takes the copies (convert.py). After start()."""
        # a folder of its own for each year of the run (another year's conversion may still be writing)
        folder = Path(self.sockets) / f"converted-{len(list(Path(self.sockets).glob('converted-*')))}"
        early = convert.start_early(files, folder)
        if early is not None:
            self.conversions.append(early)
        self.converted = folder if early is not None else None

    def __exit__(self, *exc) -> None:
        if exc[0] is not None and self.started:
            # a step interrupted (Ctrl-C, SIGTERM, SIGHUP: cli._Stopped) leaves its cell's wait pending on the
            # event loop: cancelled and collected here (nbclient turns the cancel into DeadKernelError), or it
            # would fail once the kernel is gone and asyncio would print that traceback at exit
            import asyncio

            from jupyter_core.utils import ensure_event_loop

            loop = ensure_event_loop()
            if pending := asyncio.all_tasks(loop):
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            import subprocess

            from jupyter_core.utils import run_sync  # 0.01 s; only when a kernel was started

            # shutdown_kernel kills the kernel, then looks every 0.1 s whether it has died: it is killed and
            # waited for here first (the local provisioner's process), so that it finds it dead at once —
            # this method 0.11 → 0.04 s at the end of every run
            process = getattr(self.km.provisioner, "process", None)
            if isinstance(process, subprocess.Popen):
                process.kill()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass  # shutdown_kernel waits and warns as it always has
            run_sync(self.km.shutdown_kernel)(now=True)
        self.km = None
        for early in self.conversions:  # still converting only when the run was interrupted
            early.stop()
        if self.sockets:
            shutil.rmtree(self.sockets, ignore_errors=True)

    def _cell(self, code: str) -> None:
        """Run `code` in the kernel, outside any notebook, and wait until it is done (see `_execute`)."""
        content = self._execute(code)
        if content["status"] != "ok":
            raise _CellFailed(str(content.get("ename")), str(content.get("evalue")))

    def printed(self, code: str) -> str | None:
        """What `code` prints in the kernel, without its last line break; None when the kernel is not ready
        (no step ran) or the code failed (the caller then does it itself, where its error is seen)."""
        if not self.ready:
            return None
        out: list[str] = []

        def hook(msg) -> None:
            if msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                out.append(msg["content"]["text"])

        try:  # a kernel that died or hangs after the steps: not waited for forever
            content = self._execute(code, hook, PRINTED_TIMEOUT)
        except (TimeoutError, RuntimeError):
            return None
        return "".join(out).removesuffix("\n") if content["status"] == "ok" else None

    def _execute(self, code: str, output_hook=lambda _msg: None, timeout: float | None = None) -> dict:
        """The reply's content once the kernel has run `code` (its outputs to `output_hook`). Not through
        nbclient's NotebookClient.execute: for the time of its notebook that takes SIGINT and SIGTERM over
        (Ctrl-C then no longer stopped the run, which went on to the end) and sets SIGTERM back to its default
        after."""
        from jupyter_core.utils import run_sync  # 0.01 s, loaded by start(): see there

        reply = run_sync(self.kc.execute_interactive)(
            code, store_history=False, allow_stdin=False, output_hook=output_hook, timeout=timeout
        )
        return reply["content"]

    def save_later(self) -> None:
        """Wait for the files the steps left to be saved when made (runner.save_later: products no step reads,
        made on another core while the next step ran) and have them saved: the run's steps' files are then
        whole. One that failed fails as its step would have."""
        if not self.ready:
            return
        try:
            self._cell("from wennuan_lib.run.runner import save_later as _s; _s(); del _s")
        except _CellFailed as exc:
            if exc.ename == StepFailed.__name__:  # already in the step's words (runner.save_later)
                raise StepFailed(exc.evalue) from None
            raise

    def run(self, step: catalog.Step, params: dict, run_dir: Path, progress_file: Path | None = None) -> Path:
        """Execute notebooks/<step>.ipynb with `params`; the executed copy goes into the run's folder. The
        step's progress lines go to `progress_file` (see progress.py), never into the notebook."""
        import nbformat.sign  # noqa: F401 - trust()'s, loaded while the kernel boots, not after step 01
        import papermill as pm  # 0.17 s to import (0.07 s on top of nbclient); only when a step runs

        self.start()
        if not self.ready:  # the first step waits for the kernel to have booted and loaded the library
            from jupyter_core.utils import run_sync  # 0.01 s, loaded by start(): see there

            run_sync(self.kc.wait_for_ready)(timeout=60)
            self.ready = True
        where = (
            f"os.environ[{ENV!r}] = {str(progress_file)!r}"
            if progress_file
            else f"os.environ.pop({ENV!r}, None)"
        )
        # the inputs this command has hashed, so that the step does not hash them again (manifest.HASHES_ENV)
        hashes = manifest.share_hashes(Path(self.sockets) / "input-hashes.json")
        where += f"; os.environ[{manifest.HASHES_ENV!r}] = {str(hashes)!r}"
        # the steps run one after another here: products no step reads are saved when made, while the next
        # step runs (runner.save_later); a file a step parsed is kept for the next that reads it (kept)
        where += f"; os.environ[{config.RUN_KERNEL_ENV!r}] = '1'"
        # the legacy files LibreOffice has been converting since the kernel started (convert_early)
        where += (
            f"; os.environ[{convert.ENV!r}] = {str(self.converted)!r}"
            if self.converted
            else f"; os.environ.pop({convert.ENV!r}, None)"
        )
        self._cell(self.RESET + f"\nimport os; {where}; del os")
        src = config.NOTEBOOKS_DIR / step.notebook
        executed = run_dir / step.executed
        executed.parent.mkdir(parents=True, exist_ok=True)
        done = None  # the executed notebook, as papermill wrote it
        try:
            _SharedClientEngine.client = self.kc
            done = pm.execute_notebook(
                str(src),
                str(executed),
                parameters=params,
                kernel_name=config.KERNEL_NAME,
                engine_name=_engine(),
                cwd=str(config.NOTEBOOKS_DIR),
                progress_bar=False,
                km=self.km,
                request_save_on_cell_execute=False,
                log_output=False,
            )
        except pm.PapermillExecutionError as exc:
            raise StepFailed(failure(step, exc.ename, exc.evalue, executed)) from None
        except OSError as exc:  # papermill writing the notebook (a full disk): its error names no file
            if exc.filename:
                raise
            raise OSError(exc.errno, exc.strerror, str(executed)) from exc
        finally:
            trust(done if done is not None else executed)  # opened in JupyterLab, the notebook is trusted
        return executed


def trust(notebook) -> None:
    """Sign an executed notebook for this user's Jupyter, as `jupyter trust` does: `notebook` the node
    papermill returned (the content it wrote: signing it spares reading the file back), or the file (a step
    that failed). JupyterLab shows a notebook's HTML and runs its scripts (the interactive tables of
    views/) only when the notebook is trusted: when its signature, an HMAC of its content with this user's
    Jupyter secret, is in the user's signature database (nbformat.sign.NotebookNotary). A notebook carries no
    signature of its own, so the run signs each one it executes. A copy (a step carried into the next run)
    has the same content and stays trusted; a notebook changed by anything else is not. Never fails a run: a
    notebook that could not be signed (no home folder to write, a locked database) opens untrusted, with
    static tables, and Lab says so. Signed once: nothing reads the signature back here (`tests/test_lab.py`
    checks the files the way Lab does)."""
    try:
        import nbformat
        from nbformat.sign import NotebookNotary

        if not isinstance(notebook, nbformat.NotebookNode):
            notebook = nbformat.read(str(notebook), as_version=nbformat.NO_CONVERT)
        with NotebookNotary() as notary:
            notary.sign(notebook)
    except Exception:  # noqa: BLE001 - trust is a convenience of the review, never a reason to fail a run
        pass


def warm() -> None:
    """Load what the steps import: the libraries behind the report, every module of wennuan_lib.steps and
    wennuan_lib.views (found, not listed)."""
    import gc
    import importlib
    import pkgutil

    from wennuan_lib.base.parallel import gc_paused

    # what the imports make lives as long as the kernel: no collection walks it meanwhile (gc_paused; this
    # function 1.35 → 1.16 s of CPU, medians of 6 alternated pairs)
    with gc_paused():
        import docx  # noqa: F401 - loaded ahead, see Kernel.WARM
        import openpyxl  # noqa: F401
        import pandas  # noqa: F401

        from wennuan_lib.publish.render import load_weasyprint

        load_weasyprint()

        for package in ("wennuan_lib.steps", "wennuan_lib.views"):
            for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
                importlib.import_module(f"{package}.{module.name}")
    # everything loaded so far lives as long as the kernel: set aside from garbage collection (gc.freeze), so
    # that the collections the steps' own objects set off no longer walk the libraries' millions of objects
    gc.freeze()


def failure(step: catalog.Step, ename: str, evalue: str, notebook: Path) -> str:
    """A step's error in Chinese: the program's own errors are Chinese already; a failed write (a full disk, a
    read-only folder) says so; any other is named as a fault."""
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in str(evalue))
    what = (
        str(evalue)
        if chinese
        else (
            from_text(ename, str(evalue), notebook.parent.parent)
            or f"程序内部错误（{ename}: {evalue}），请把下面的笔记本发给维护人员"
        )
    )
    return f"第{step.name[:2].lstrip('0')}步（{step.label}）出错：{what}\n出错的笔记本：{notebook}"


class _SharedClientEngine:
    """papermill's nbclient engine, executing with the run's one kernel client. Each new client costs at least
    0.2 s (jupyter_client waits that long for IOPub to go quiet whenever one connects), paid twice per
    notebook otherwise."""

    client = None


@functools.cache
def _engine() -> str:
    """Register (once per process, through papermill's public `register`) and name the papermill engine that
    uses the shared client."""
    # papermill: 0.17 s to import, only when a step runs (see Kernel.run)
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    name = "wennuan-shared-client"

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs = {
                k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")
            }
            client = PapermillNotebookClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            client.kc = _SharedClientEngine.client
            return client.execute()

    papermill_engines.register(name, Engine)
    return name
