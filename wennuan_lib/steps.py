"""What a step works with: its year, the run folder it writes, and every dataset through the catalog.

A notebook opens its step with `open_step(...)`. Run by `python -m wennuan_lib run`, the notebook is given the
run's new folder (`run_dir`) and writes into it; the run switches to it when every step is done. Run by itself
(in JupyterLab, or by nbval), the notebook makes a run of its own: a new folder holding a copy of the current
results, this step done again in it, then switched to — so the current results are always a whole set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from functools import cached_property
from pathlib import Path

from . import catalog, manifest, pipeline, progress, store
from .artifacts import Artifacts, code_hash
from .form import load_form, translate
from .runs import STAGING_MARK, Scope
from .units import Registry
from .workspace import Workspace


class StepContext:
    """One step of one scope (a year, or the trends across years), writing into `run_dir`."""

    def __init__(self, step: catalog.Step, workspace: Workspace, run_dir: Path, year: int | None = None):
        self.step = step
        self.workspace = workspace
        self.run_dir = Path(run_dir)
        self.year = int(year) if year is not None else None
        self.scope: Scope = workspace.scope(self.year if step.scope == catalog.YEAR else catalog.TRENDS)

    # --- what every step starts from, loaded once -----------------------------------------------------------

    @cached_property
    def cfg(self) -> dict:
        return self.workspace.year_config(self.year)

    @cached_property
    def form(self):
        return load_form(self.cfg["form"])

    @cached_property
    def run_date(self) -> dt.date:
        """The day this step runs (step 03 counts the feedback deadline from it when year.yaml gives none)."""
        return manifest.run_date()

    @cached_property
    def registry(self):
        return Registry.load(self.raw("registry"))

    # --- files ----------------------------------------------------------------------------------------------

    def raw(self, name: str) -> Path:
        return self.workspace.raw(name, self.year)

    def path(self, name: str) -> Path:
        """Where a dataset of this run lives (its folder is made)."""
        ds = catalog.dataset(name)
        path = self.run_dir / ds.path
        (path if ds.kind == "folder" else path.parent).mkdir(parents=True, exist_ok=True)
        return path

    def load(self, name: str, columns: list[str] | None = None):
        ds = catalog.dataset(name)
        return store.load_table(ds, self.run_dir / ds.path, columns)

    def save(self, name: str, frame) -> Path:
        return store.save_table(frame, catalog.dataset(name), self.path(name))

    def other_year(self, year: int, name: str, columns: list[str] | None = None):
        """Another year's dataset from its current run (None if that year has not been run)."""
        current = self.workspace.scope(year).current()
        ds = catalog.dataset(name)
        if current is None or not (current / ds.path).exists():
            return None
        return store.load_table(ds, current / ds.path, columns)

    def previous(self, name: str):
        """The previous year's dataset, keyed by this year's codes (joined by concept); None if not run."""
        return self.translated(self.year - 1, name)

    def translated(self, year: int, name: str):
        frame = self.other_year(year, name)
        if frame is None:
            return None
        return translate(frame, load_form(self.workspace.year_config(year)["form"]), self.form)

    def earlier_years(self, name: str) -> dict[int, object]:
        """Every earlier year's dataset present, keyed by this year's codes."""
        out = {}
        for year in self.workspace.years():
            if year < self.year and (frame := self.translated(year, name)) is not None:
                out[year] = frame
        return out

    def cache(self, namespace: str, *code_modules: str):
        return Artifacts(
            self.scope.folder("cache"), namespace, code_hash(*code_modules) if code_modules else ""
        )

    def progress(self, message: str, done: int | None = None, total: int | None = None) -> None:
        progress.report(message, done, total)


@contextlib.contextmanager
def open_step(step: str, year: int | None = None, inputs_dir=None, outputs_dir=None, run_dir=None):
    """The context a notebook's step works in (see the module's docstring)."""
    st = catalog.step(step)
    workspace = Workspace(inputs_dir, outputs_dir)
    if run_dir is not None and Scope.is_staging(Path(run_dir)):
        yield StepContext(st, workspace, Path(run_dir), year)
        return
    scope = workspace.scope(int(year) if st.scope == catalog.YEAR else catalog.TRENDS)
    with scope.locked(print):
        scope.clear_abandoned()
        new = scope.new_run()
        current = scope.current()
        if current is not None:
            for item in current.iterdir():
                if item.name == STAGING_MARK:
                    continue
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, new / item.name)
        ctx = StepContext(st, workspace, new, year)
        try:
            yield ctx
        except BaseException:
            scope.abandon(new)
            raise
        pipeline.finish_standalone(ctx)
        scope.promote(new)
