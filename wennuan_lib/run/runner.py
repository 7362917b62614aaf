"""The runner: a step does no I/O of its own (as in Kedro's runner).

A notebook hands the runner its step's function (`run_step("02_clean", clean.run, year, …)`: run/ sits below
steps/ and never imports them). The runner opens the step (`context.open_step`: a run's staging folder, or a
run of its own when the notebook is run by hand), loads EVERY read the catalog declares for the step into a
read-only mapping, calls `fn(inputs, params)`, and saves what the step returns through the catalog. A step
can therefore read nothing its `reads:` does not declare — it only ever sees the mapping — and the declared
reads, which key the skip rule and the manifest, are its reads.

What the mapping holds, by the catalog's words:

* a dataset of this run (`values`) → its DataFrame;
* `previous:<name>` → last year's DataFrame as last year made it (its own codes; `params.translated` keys it
  by this year's codes), or None when last year has no results;
* `years:<name>` → {year: DataFrame} of the other years with results: a year's earlier years it shows, or,
  for the trends, every year under inputs/ (`years:year_config` → {year: settings});
* a raw file → what its loader (`loader:` in catalog.yaml, one per raw entry, `LOADERS` below) makes of it;
* `run_date:year_config` → the day of the run.

A step returns `Made`: its datasets (tables as DataFrames; files as bytes, or a callable giving the bytes — a
future, `parallel.bytes_in_background`, when the step makes them on another core; folders as {file name:
bytes}), and what its notebook shows besides. A dataset the step does not produce in the catalog is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from wennuan_lib.base import catalog, config, parallel, progress, store
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.files import write_new
from wennuan_lib.base.hooks import stop_point
from wennuan_lib.check import corrections
from wennuan_lib.form import Form, load_form, translate
from wennuan_lib.publish import narrative
from wennuan_lib.read.units import Registry
from wennuan_lib.run import kept
from wennuan_lib.run.context import StepContext, UndeclaredRead, open_step


class UndeclaredWrite(UndeclaredRead):
    """A step returned a dataset it does not produce in catalog.yaml (a bug in the program)."""


# --- the loaders of the raw files: catalog.yaml names one for each raw entry (`loader:`) -----------------


def _folder(path: Path, year: int | None) -> Path:
    # The inbox is the step's own partitioned input (one file per unit, archives inside): step 01 is handed
    # its folder and lists it; every other raw file is loaded here.
    return path


def _corrections(path: Path, year: int | None) -> pd.DataFrame:
    return corrections.load_table(path, corrections.CORRECTION_COLUMNS)


def _waivers(path: Path, year: int | None) -> pd.DataFrame:
    return corrections.load_table(path, corrections.WAIVER_COLUMNS)


def _registry(path: Path, year: int | None) -> Registry:
    return Registry.load(path)


def _year_config(path: Path, year: int | None) -> dict:
    from wennuan_lib.base import config

    return config.read_year_config(path, year)


def _analyst_text(path: Path, year: int | None) -> narrative.AnalystFile:
    return narrative.AnalystFile.load(path)


LOADERS: dict[str, Callable[[Path, int | None], Any]] = {
    "folder": _folder,
    "corrections_table": _corrections,
    "waivers_table": _waivers,
    "registry": _registry,
    "year_config": _year_config,
    "analyst_text": _analyst_text,
}


# Raw files whose parse a later step of the run takes again while their bytes are the same (kept): the
# registry (3,000 units: about 0.15 s a parse, and every step reads it), read-only by its nature
KEPT_LOADERS = {"registry"}


def load_raw(name: str, path: Path, year: int | None):
    """A raw file through the loader catalog.yaml declares for it."""
    loader = catalog.raw(name).loader
    if loader not in LOADERS:
        raise catalog.CatalogError(
            f"catalog.yaml 中 raw 的「{name}」声明的 loader「{loader}」不存在"
            f"（应为 {'、'.join(LOADERS)} 之一）"
        )
    return LOADERS[loader](path, year)


# --- what a step is given and what it gives back ------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """What a step works with besides its inputs: its year and the settings loaded for it (cfg, form,
    registry, the run's date), the forms of the other years it reads, and where its caches live (speed only,
    never a source of truth). `paths` are the raw files' paths, to name them in messages — never to load."""

    step: str
    year: int | None
    cfg: dict | None
    form: Form | None
    registry: Registry | None
    run_date: dt.date | None
    forms: Mapping[int, Form]
    paths: Mapping[str, Path]
    cache_dir: Path

    def form_of(self, year: int) -> Form:
        """The form another year's results were made with (to read them by concept)."""
        return self.forms[year]

    def translated(self, frame: pd.DataFrame | None, year: int) -> pd.DataFrame | None:
        """Another year's frame keyed by this year's codes (joined by concept); None stays None."""
        return None if frame is None else translate(frame, self.forms[year], self.form)

    def cache(self, namespace: str) -> Artifacts:
        """A kind of cached product, keyed on the whole program (see `artifacts.code_hash`) besides what the
        caller hashes of its data."""
        return Artifacts(self.cache_dir, namespace)

    @staticmethod
    def progress(message: str, done: int | None = None, total: int | None = None) -> None:
        progress.report(message, done, total)


@dataclass
class Made:
    """What a step returns: `datasets` it produces (saved by the runner through the catalog) and what its
    notebook `shown` besides (figures, the report object …), never saved."""

    datasets: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """What a notebook has after its step: what it was given, what it made, and where that was saved."""

    step: str
    inputs: Mapping[str, Any]
    params: Params
    outputs: dict[str, Any]  # the step's datasets and what it shows, by name
    saved: dict[str, Path]  # dataset → where the runner saved it
    scope_root: Path  # outputs/<year>/ (or outputs/trends/): the analyst's shortcuts lead into the run

    @property
    def form(self) -> Form | None:
        return self.params.form

    @property
    def year(self) -> int | None:
        return self.params.year

    def files(self, name: str) -> list[Path]:
        """Where the files of a folder dataset the step made were saved."""
        return [self.saved[name] / n for n in self.outputs.get(name, {})]

    def raw(self, name: str) -> Path:
        """The path of a raw file the step declares, to show it (the decision form writes the analyst's
        tables there), never to load it."""
        return self.params.paths[name]


# --- loading ----------------------------------------------------------------------------------------------


def load_inputs(ctx: StepContext) -> dict[str, Any]:
    """Every read the catalog declares for the step, loaded (see the module's docstring)."""
    out: dict[str, Any] = {}
    for read in ctx.step.reads:
        out[read] = _load(ctx, read)
    kept.only_for(ctx.run_dir, ctx.later_reads)  # what no later step reads is let go
    return out


def _load(ctx: StepContext, read: str):
    kind, _, name = read.rpartition(":")
    workspace, year = ctx.workspace, ctx.year
    columns = ctx.step.columns_of(read)  # only those the catalog says the step uses, when it says
    if kind == "run_date":
        return ctx.run_date
    if kind == "previous":
        return ctx.other_year(year - 1, name, columns)
    if kind == "years":
        years = workspace.years() if year is None else workspace.earlier_years(year)
        if name in catalog.load().raw:
            return {y: load_raw(name, workspace.raw(name, y), y) for y in years}
        frames = {y: ctx.other_year(y, name, columns) for y in years}
        return {y: f for y, f in frames.items() if f is not None}
    if name in catalog.load().raw:
        path = workspace.raw(name, year)
        if catalog.raw(name).loader in KEPT_LOADERS and path.is_file():
            parse = functools.partial(load_raw, name, year=year)
            return kept.parsed(path, parse, name, ctx.run_dir, name in ctx.later_reads)
        return load_raw(name, path, year)
    return ctx.load(name, columns)


def make_params(ctx: StepContext, inputs: Mapping[str, Any]) -> Params:
    cfg = inputs.get("year_config")
    form = load_form(cfg["form"]) if cfg is not None else None
    forms: dict[int, Form] = {}
    configs = inputs.get("years:year_config") or {}
    for read, value in inputs.items():
        kind, _, _name = read.rpartition(":")
        years = [ctx.year - 1] if kind == "previous" and value is not None else []
        years += list(value) if kind == "years" else []
        for y in years:
            if y not in forms:
                forms[y] = load_form((configs.get(y) or ctx.workspace.year_config(y))["form"])
    paths = {read: ctx.workspace.raw(read, ctx.year) for read in ctx.step.reads if read in catalog.load().raw}
    return Params(
        ctx.step.name,
        ctx.year,
        cfg,
        form,
        inputs.get("registry"),
        inputs.get("run_date:year_config"),
        MappingProxyType(forms),
        MappingProxyType(paths),
        ctx.scope.folder("cache"),
    )


# --- saving -----------------------------------------------------------------------------------------------


def save_outputs(ctx: StepContext, made: Made) -> dict[str, Path]:
    """Save what the step made, each through the catalog: tables typed, files and folders written whole and
    atomically; a file given as a callable (a future: the step makes it on another core) last, when made."""
    wrong = [
        n
        for n in made.datasets
        if n not in catalog.load().datasets or catalog.dataset(n).producer != ctx.step.name
    ]
    if wrong:
        raise UndeclaredWrite(
            f"步骤 {ctx.step.name} 返回了「{'、'.join(wrong)}」，但 catalog.yaml 中它们不由这一步生成。"
            "这是程序的错误：请在 catalog.yaml 的 datasets 中为这一步声明它们"
        )
    saved: dict[str, Path] = {}
    later = [n for n, v in made.datasets.items() if callable(v)]
    for name, value in made.datasets.items():
        if name in later:
            continue
        ds = catalog.dataset(name)
        path = saved[name] = ctx.path(name)
        if ds.is_table and isinstance(value, store.Rendered):  # lines spliced from an earlier run, as written
            store.atomic_write_bytes(path, value.data)
            if value.frame is not None and name in ctx.later_reads:  # parsed by the step: the next takes it
                kept.put(path, value.data, value.frame, name, ctx.run_dir)
        elif ds.is_table:
            store.save_table(value, ds, path)
        elif ds.kind == "folder":
            _save_folder(path, value)
        else:
            store.atomic_write_bytes(path, value)
    stop_point(f"in:{ctx.step.name}")  # tests: a run killed while files are still being made elsewhere
    for name in later:  # futures: bytes the step is making on another core
        saved[name] = ctx.path(name)
        if config.in_run_kernel() and not catalog.read_by_a_step(name) and catalog.later_steps(ctx.step):
            # a product no step reads: saved when made, while `run` goes on with the next step. Not the last
            # step's: its notebook's views would meanwhile touch, and so copy, the memory the process making
            # it shares with the kernel (3,000 units: about 100 MiB more at the run's peak)
            _LATER.append((ctx.step, saved[name], made.datasets[name], ctx.run_dir))
            parallel.set_aside(made.datasets[name])  # the next step goes first
            continue
        made.datasets[name] = made.datasets[name]()  # the notebook is shown the bytes
        store.atomic_write_bytes(saved[name], made.datasets[name])
    return saved


# (step, path, future, run folder): the files `save_outputs` left to be saved when made (in `run`'s kernel)
_LATER: list[tuple[catalog.Step, Path, Callable[[], bytes], Path]] = []


def save_later() -> None:
    """Save the files the steps of this run left to be made on another core (see `save_outputs`), each when it
    is made. `run` calls it after its last step, before it records the run: a step's files are then whole.
    A file that cannot be made or saved fails as its step would have, in the same words."""
    while _LATER:
        step, path, future, run_dir = _LATER.pop(0)
        try:
            store.atomic_write_bytes(path, future())
        except Exception as exc:
            from wennuan_lib.run.kernel import StepFailed, failure  # the words of a step's failure

            _LATER.clear()
            raise StepFailed(failure(step, type(exc).__name__, str(exc), run_dir / step.executed)) from exc


def _save_folder(folder: Path, files: Mapping[str, bytes]) -> None:
    """A folder dataset is the step's files and nothing else (what an earlier run left is removed). Written
    straight into the new folder: it is in the run's staging folder, which no reader sees until the whole run
    is switched to."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in files.items():
        write_new(folder / name, data)


# --- the door ---------------------------------------------------------------------------------------------


def run_step(
    step: str,
    fn: Callable[[Mapping[str, Any], Params], Made],
    year: int | None = None,
    inputs_dir=None,
    outputs_dir=None,
    run_dir=None,
) -> Result:
    """Run one step: open it (see `context.open_step` for the rules of a run by hand), load what it declares,
    call `fn(inputs, params)`, save what it made."""
    with open_step(step, year, inputs_dir, outputs_dir, run_dir) as ctx:
        inputs = MappingProxyType(load_inputs(ctx))
        params = make_params(ctx, inputs)
        made = fn(inputs, params)
        saved = save_outputs(ctx, made)
        return Result(step, inputs, params, {**made.datasets, **made.shown}, saved, ctx.scope.root)
