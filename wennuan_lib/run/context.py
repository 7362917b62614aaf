"""Where a step runs: its year, the run folder it writes, and the guarded loading of what it declares.

The runner (`runner.py`) opens each step with `open_step(...)` and loads the step's reads through its
`StepContext`; the step itself never sees the context. Run by `python -m wennuan_lib run`, the notebook is
given the run's new folder (`run_dir`) and writes into it; the run switches to it when every step is done. Run
by itself (in JupyterLab, or by nbval), the notebook makes a run of its own: a new folder holding a copy of
the current results, this step done again in it, then switched to — so the current results are always a whole
set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from functools import cached_property
from pathlib import Path

from wennuan_lib.base import catalog, store
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.errors import WennuanError
from wennuan_lib.form import load_form
from wennuan_lib.read.units import Registry
from wennuan_lib.run import kept, manifest, pipeline
from wennuan_lib.run.runs import STAGING_MARK, Scope
from wennuan_lib.run.workspace import Workspace


class UndeclaredRead(catalog.CatalogError):
    """A step asked for something its `reads:` in catalog.yaml does not declare (a bug in the program: the
    skip rule and the cache keys would not see it change)."""


class StepContext:
    """One step of one scope (a year, or the trends across years), writing into `run_dir`.

    It hands the step what the catalog's `reads:` declare and nothing else: anything undeclared is an
    `UndeclaredRead`, in tests and in runs alike, so that the declared reads — which key the skip rule and
    the manifest — are the reads. The step's own outputs can be read back once it has written them."""

    def __init__(self, step: catalog.Step, workspace: Workspace, run_dir: Path, year: int | None = None):
        self.step = step
        self.workspace = workspace
        self.run_dir = Path(run_dir)
        self.year = int(year) if year is not None else None
        self.scope: Scope = workspace.scope(self.year if step.scope == catalog.YEAR else catalog.TRENDS)
        self._written: set[str] = set()
        self.standalone = False  # run by itself (a notebook in JupyterLab), not by `run`
        self.missing: set[int] = set()  # other years under inputs/ whose results were missing or out of date
        self._checked: set[int] = set()

    def _declared(self, read: str) -> None:
        if read not in self.step.reads:
            raise UndeclaredRead(
                f"步骤 {self.step.name} 读取了「{read}」，但 catalog.yaml 中它的 reads 没有声明。"
                "这是程序的错误：请在 catalog.yaml 的 steps 中为该步骤声明它"
                "（否则它变化时这一步不会重新运行）"
            )

    def _other_year(self, year: int, name: str) -> None:
        if self.year is not None and year == self.year - 1 and f"previous:{name}" in self.step.reads:
            return
        if self.year is not None and year >= self.year:
            self._declared(f"later:{name}")  # no step reads a later year's results
        self._declared(f"years:{name}")

    # --- what every step starts from, loaded once -----------------------------------------------------------

    @cached_property
    def cfg(self) -> dict:
        self._declared("year_config")
        return self.workspace.year_config(self.year)

    @cached_property
    def form(self):
        return load_form(self.cfg["form"])

    @cached_property
    def run_date(self) -> dt.date:
        """The day this step runs (step 03 counts the feedback deadline from it when year.yaml gives none)."""
        self._declared("run_date:year_config")
        return manifest.run_date()

    @cached_property
    def registry(self):
        return Registry.load(self.raw("registry"))

    # --- files ----------------------------------------------------------------------------------------------

    def raw(self, name: str) -> Path:
        self._declared(name)
        return self.workspace.raw(name, self.year)

    def path(self, name: str) -> Path:
        """Where a dataset this step makes is written (its folder is made)."""
        ds = catalog.dataset(name)
        if ds.producer != self.step.name:
            raise UndeclaredRead(
                f"步骤 {self.step.name} 不生成「{name}」（catalog.yaml 中它由 {ds.producer} 生成）"
            )
        self._written.add(name)
        path = self.run_dir / ds.path
        (path if ds.kind == "folder" else path.parent).mkdir(parents=True, exist_ok=True)
        return path

    def load(self, name: str, columns: list[str] | None = None):
        """A dataset the step declares (made by an earlier step of this run), or one it has written itself."""
        ds = catalog.dataset(name)
        if name not in self._written:
            self._declared(name)
        return self._table(ds, self.run_dir / ds.path, columns)

    def _table(self, ds: catalog.Dataset, path: Path, columns: list[str] | None):
        """`store.load_table`, or the table an earlier step of this run parsed from the same bytes (kept)."""
        return kept.parsed(
            path,
            lambda path: store.load_table(ds, path, columns),
            ds.name,
            self.run_dir,
            ds.name in self.later_reads,
            tuple(columns or ()),
        )

    @cached_property
    def later_reads(self) -> set[str]:
        """The datasets and raw files the steps after this one in its scope read (what `kept` keeps)."""
        return catalog.names_read(catalog.later_steps(self.step))

    def other_year(self, year: int, name: str, columns: list[str] | None = None):
        """Another year's dataset from its current run (None if that year has not been run)."""
        self._other_year(year, name)
        current = self.workspace.scope(year).current()
        ds = catalog.dataset(name)
        if current is None or not (current / ds.path).exists():
            if year in self.workspace.years():
                self._missing(year)
            return None
        if self.standalone and year not in self._checked:  # `run` brings every earlier year up to date first
            self._checked.add(year)
            if manifest.stale(self.workspace, self.workspace.scope(year), current):
                self.missing.add(year)
        return self._table(ds, current / ds.path, columns)

    def _missing(self, year: int) -> None:
        """Another year present under inputs/ has no results: `run` processes earlier years first, so in a
        run this is a failure; a notebook run by hand goes on and its record says what was missing (`status`
        and `verify` name it, and the next `run` does the step again)."""
        if not self.standalone:
            raise pipeline.PipelineError(
                f"{year}年的结果还没有生成，{self.step.name} 需要它："
                f"请运行 {self.workspace.command('run', '--year', self.year or year)}"
            )
        self.missing.add(year)

    def cache(self, namespace: str) -> Artifacts:
        """A kind of cached product, keyed on the whole program (see `artifacts.code_hash`) besides what the
        caller hashes of its data."""
        return Artifacts(self.scope.folder("cache"), namespace)


class RunRefused(WennuanError):
    """A notebook that cannot do its step here; the Chinese message says what to run instead."""

    def _render_traceback_(self) -> list[str]:  # IPython (JupyterLab) shows this instead of a traceback
        return [f"没有运行：{self}"]


@contextlib.contextmanager
def open_step(step: str, year: int | None = None, inputs_dir=None, outputs_dir=None, run_dir=None):
    """The context a notebook's step works in (see the module's docstring).

    Run by hand (run_dir=None), the step goes through the same rules as in `run`: the earlier steps of its
    year must be up to date (else a Chinese message names the command, before any folder is made), it is
    recorded in the new run with what it read, and the later steps it makes out of date are named (`status`
    and `verify` say so too, and the next `run` redoes them). An executed notebook — its run folder given by
    the run that made it — is a record: running it again is refused with a message, never a new run made
    with parameters the analyst did not choose."""
    st = catalog.step(step)
    workspace = Workspace(inputs_dir, outputs_dir)
    manifest.forget_hashes()  # a kernel lives long: the inputs may have been edited since its last step
    if run_dir is not None and Scope.is_staging(Path(run_dir)):
        yield StepContext(st, workspace, Path(run_dir), year)
        return
    if run_dir is not None:
        raise RunRefused(
            f"这是 {run_dir} 那次运行已执行的笔记本（参数由那次运行写入：year = {year}），只供查看，"
            "在这里修改参数或重新运行都不会生效。要处理某一年，请在终端运行："
            f"{workspace.command('run', '--year', year if year is not None else '<年度>')}；"
            f"要在 JupyterLab 里单独重做这一步，请打开 notebooks/{st.notebook}，"
            "改好第一个单元格中的 year 再运行"
        )
    scope = workspace.scope(int(year) if st.scope == catalog.YEAR else catalog.TRENDS)
    with scope.locked(print):
        scope.clear_abandoned()
        current = scope.current()
        _earlier_steps_ready(st, workspace, scope, current)
        new = scope.new_run()
        if current is not None:
            for item in current.iterdir():
                if item.name == STAGING_MARK:
                    continue
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, new / item.name)
        ctx = StepContext(st, workspace, new, year)
        ctx.standalone = True
        try:
            yield ctx
        except BaseException:
            scope.abandon(new)
            raise
        out_of_date = pipeline.finish_standalone(ctx)
        scope.promote(new)
    if out_of_date:
        again = workspace.command("run", *(["--year", year] if st.scope == catalog.YEAR else ["--all"]))
        print(
            f"{st.notebook} 已重做并记入当前结果。以下结果因此或因其他原因已过期，"
            f"请在终端运行 {again} 更新（只重做过期的步骤）：\n  " + "\n  ".join(out_of_date)
        )


def _earlier_steps_ready(st: catalog.Step, workspace: Workspace, scope: Scope, current: Path | None) -> None:
    """Refuse (before any folder is made) a step whose earlier steps have not run or are out of date."""
    order = catalog.steps(st.scope)
    earlier = order[: order.index(st)]
    if not earlier:
        return
    again = workspace.command("run", *(["--year", scope.key] if st.scope == catalog.YEAR else ["--all"]))
    if current is None:
        raise RunRefused(
            f"{scope.label}还没有{manifest.step_label(earlier[-1])}的结果，{st.notebook} 无法运行。"
            f"请先在终端运行 {again}，或在 JupyterLab 中依次运行 "
            + "、".join(f"notebooks/{s.notebook}" for s in earlier)
        )
    names = {s.name for s in earlier}
    lines = [
        line
        for name, why, line in manifest.stale_steps(workspace, scope, current)
        if name in names and why != "missing"
    ]
    if lines:
        raise RunRefused(
            f"{st.notebook} 要读取前面步骤的结果，但它们不是最新的："
            + "；".join(lines)
            + f"。请先在终端运行 {again}"
        )
