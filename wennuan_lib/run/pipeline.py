"""Running the pipeline: a year's steps in order, then the trends across years.

Each step is done again only when something it reads changed (a raw file, a dataset an earlier step made, the
previous year's results, or the program itself) or its outputs are no longer whole; otherwise its outputs —
and its executed notebook — are carried over from the last run. A run is made in a new folder and switched to
when whole (see `runs`). When nothing changed, nothing is made: the kernel does not even start.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from wennuan_lib.base import artifacts, catalog, parallel, progress
from wennuan_lib.base.files import atomic_write_bytes
from wennuan_lib.base.hooks import PAUSE_ENV, STOP_ENV, stop_point  # noqa: F401 (pipeline.stop_point)
from wennuan_lib.errors import WennuanError
from wennuan_lib.form import load_form
from wennuan_lib.run import manifest
from wennuan_lib.run.kernel import Kernel, StepFailed
from wennuan_lib.run.runs import Scope
from wennuan_lib.run.workspace import Workspace


class PipelineError(WennuanError):
    """The run cannot go on; the message is Chinese."""


@dataclass
class Outcome:
    scope: Scope
    ran: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    made_new: bool = False  # a new run folder became current
    summary: str | None = None  # what it found (report_summary.run_summary), when the kernel could say it


def read_record(run_dir: Path | None, scope: Scope) -> dict:
    return manifest.read_record(run_dir, scope)


def step_files(step: catalog.Step, run_dir: Path, products: bool = True) -> dict[str, str]:
    """The files `step` made in a run folder, by path: datasets with their sha256, its executed notebook by
    name; without the datasets no step reads unless `products` (`run` hashes them once they are saved,
    product_files)."""
    files = _hashes(step, run_dir, lambda ds: products or catalog.read_by_a_step(ds.name))
    if (run_dir / step.executed).is_file():
        files[step.executed] = ""
    return files


def product_files(step: catalog.Step, run_dir: Path) -> dict[str, str]:
    """The files of `step`'s datasets no step reads, with their sha256: those `step_files(…, products=False)`
    leaves out."""
    return _hashes(step, run_dir, lambda ds: not catalog.read_by_a_step(ds.name))


def _hashes(step: catalog.Step, run_dir: Path, which) -> dict[str, str]:
    files: dict[str, str] = {}
    for ds in step.outputs:
        if which(ds):
            files.update(manifest.dataset_hashes(run_dir, ds, written=True))
    return files


def _carry_files(recorded: dict, current: Path | None) -> dict[str, str] | None:
    """A step's files in the current run, if they are whole (every file there, hashes as recorded)."""
    files = recorded.get("files")
    if current is None or not isinstance(files, dict) or not any(k.endswith(".ipynb") for k in files):
        return None
    for rel, digest in files.items():
        path = current / rel
        if not path.is_file() or (digest and manifest.input_hash(path) != digest):
            return None
    return files


def _sent_state(scope: Scope) -> str:
    sent = scope.sent_dirs()
    return sent[-1].name if sent else ""


def seal(
    workspace: Workspace, scope: Scope, run_dir: Path, steps: dict, console: progress.Console | None
) -> None:
    """The run's own files, once its steps are done: the difference from the report that was sent, the
    manifest, the run record and the log."""
    form = None
    inputs = manifest.all_inputs(workspace, scope)
    if scope.kind == catalog.YEAR:
        form = load_form(workspace.year_config(scope.key)["form"])
        if scope.sent_dirs():  # the difference from what was sent: pandas (0.25 s), only then
            from wennuan_lib.run import freeze

            freeze.compare(scope, run_dir, inputs)
    manifest.write(scope, run_dir, inputs, form)
    record = {
        "run": run_dir.name,
        "code": manifest.code_fingerprint(),
        "sent": _sent_state(scope),
        "steps": steps,
    }
    ds = catalog.dataset("run_record" if scope.kind == catalog.YEAR else "trend_run_record")
    atomic_write_bytes(
        run_dir / ds.path, (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    )
    if console is not None:
        log = catalog.dataset("run_log" if scope.kind == catalog.YEAR else "trend_run_log")
        console.write_log(run_dir / log.path)


def finish_standalone(ctx) -> list[str]:
    """After a notebook ran its step by itself (in JupyterLab): record the step in the run's manifest and run
    record — its inputs, and any other year's results it found missing — and say which steps are now out of
    date (the later steps read what this one remade: `status` and `verify` say so, and the next `run` redoes
    them)."""
    scope, run_dir = ctx.scope, ctx.run_dir
    steps = read_record(run_dir, scope).get("steps", {})
    inputs = manifest.step_inputs(ctx.step, ctx.workspace, ctx.year, manifest.made_in(run_dir, scope))
    steps[ctx.step.name] = {
        "fingerprint": manifest.fingerprint(ctx.step, inputs, ctx.year),
        "ran": True,
        "how": "单独运行笔记本",
        "inputs": inputs,
        "files": step_files(ctx.step, run_dir),
    }
    if ctx.missing:
        steps[ctx.step.name]["missing"] = sorted(ctx.missing)
    seal(ctx.workspace, scope, run_dir, steps, None)
    return manifest.stale(ctx.workspace, scope, run_dir)


@dataclass
class StepPlan:
    """What a run does with one step: carry its files over from the current run (`carried`), or run it."""

    step: catalog.Step
    fingerprint: str
    inputs: dict[str, str]
    carried: dict[str, str] | None  # the step's files in the current run, whole and made from these inputs


@dataclass
class Plan:
    """Which steps of a scope are carried over from the current run and which must run, by fingerprint. A
    step's fingerprint covers the files the steps before it made, so the steps are planned in order, each
    once the steps before it are carried or done (`made`); `records` are the run record's steps."""

    workspace: Workspace
    scope: Scope
    force: bool = False
    current: Path | None = None
    old: dict = field(default_factory=dict)  # the current run's record
    made: dict[str, str] = field(default_factory=dict)
    records: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def of(cls, workspace: Workspace, scope: Scope, force: bool = False) -> Plan:
        current = scope.current()
        return cls(workspace, scope, force, current, read_record(current, scope))

    @property
    def year(self) -> int | None:
        return self.scope.key if self.scope.kind == catalog.YEAR else None

    def decide(self, step: catalog.Step) -> StepPlan:
        """Carried when it read the same (fingerprint) and its files in the current run are whole; `force`
        runs every step."""
        inputs = manifest.step_inputs(step, self.workspace, self.year, self.made)
        fp = manifest.fingerprint(step, inputs, self.year)
        files = None
        recorded = self.old.get("steps", {}).get(step.name, {})
        if not self.force and recorded.get("fingerprint") == fp and not recorded.get("missing"):
            files = _carry_files(recorded, self.current)
        return StepPlan(step, fp, inputs, files)

    def done(self, planned: StepPlan, files: dict[str, str], seconds: float | None = None) -> None:
        """A step carried (`seconds` None) or run: its files are what the later steps read."""
        self.made.update(files)
        record: dict = {"fingerprint": planned.fingerprint, "ran": seconds is not None}
        if seconds is not None:
            record["seconds"] = round(seconds, 1)
        self.records[planned.step.name] = {**record, "inputs": planned.inputs, "files": files}

    def saved_later(self, step: catalog.Step, files: dict[str, str]) -> None:
        """A step that ran: the files of its products, saved after its notebook ended (Kernel.save_later)."""
        self.made.update(files)
        self.records[step.name]["files"].update(files)

    def nothing_to_make(self) -> bool:
        """With every step carried: whether the current run stands as it is — its own record whole and (a
        year) what was sent unchanged since."""
        try:
            manifest.load(self.scope)
        except manifest.ManifestError:
            return False  # the run's own record was damaged: made again, with every step carried
        return not (self.scope.kind == catalog.YEAR and self.old.get("sent", "") != _sent_state(self.scope))


class _Staging:
    """The new run folder, made when the first step must run (or only the run's record must be made
    again); until then the files carried over wait in `pending`."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.path: Path | None = None
        self.pending: list[str] = []

    def carry(self, files: dict[str, str]) -> None:
        if self.path is None:
            self.pending += list(files)
        else:
            self.scope.copy_from_current(self.path, list(files))

    def open(self) -> Path:
        self.path = self.scope.new_run()
        self.scope.copy_from_current(self.path, self.pending)
        return self.path

    def abandon(self, exc: BaseException) -> None:
        """After a failure or a stop: the folder is kept aside (never current); a failed step's message
        names it where it was kept."""
        if self.path is None:
            return
        kept = self.scope.abandon(self.path)
        if isinstance(exc, StepFailed):
            raise StepFailed(str(exc).replace(str(self.path), str(kept))) from None


def run_scope(
    workspace: Workspace, scope: Scope, console: progress.Console, kernel: Kernel, force: bool = False
) -> Outcome:
    """Every step of one scope (a year, or the trends), each only if it needs to run: plan (carried or run,
    by fingerprint) → run (the steps that must, in a new run folder) → seal (the run's record; the folder
    becomes current). When nothing changed, no folder is made and the kernel is not started."""
    outcome = Outcome(scope)
    with scope.locked(console):
        for killed in scope.clear_abandoned():
            console(
                f"{scope.label}上次的运行没有做完就被中断了（结果未采用，仍以再上一次的完整结果为准），"
                f"它的记录在 {killed}"
            )
        manifest.recall_digests(scope.folder("cache"), trust=not force)
        plan = Plan.of(workspace, scope, force)
        staging = _Staging(scope)
        try:
            _run_steps(plan, staging, console, kernel, outcome)
            if staging.path is None:
                if plan.nothing_to_make():
                    console(
                        f"{scope.label}：全部步骤都是最新的（输入与上次运行相同，结果完好），没有重新生成"
                    )
                    for line in _sent_damage(scope):
                        console(f"{scope.label}：{line}")
                    manifest.keep_digests(scope.folder("cache"))
                    return outcome
                staging.open()  # only what was sent (or the run's record) changed: nothing is recomputed
            outcome.made_new = True
            (staging.path / ".progress").unlink(missing_ok=True)
            seal(workspace, scope, staging.path, plan.records, console)
            stop_point("before:promote")
            tidied = scope.promote(staging.path, wait=False)  # the older runs removed meanwhile
            try:
                if scope.kind == catalog.YEAR:
                    outcome.summary = _summary(workspace, scope.key, kernel)
                artifacts.prune(scope.folder("cache"))  # what an older program cached can never be used again
                manifest.keep_digests(scope.folder("cache"))
            finally:
                tidied()
        except BaseException as exc:
            staging.abandon(exc)
            raise
    return outcome


def _sent_damage(scope) -> list[str]:
    """The newest sent copy of a year, if it changed after sealing (what a later difference compares with
    is then not what was sent): said by a run that has nothing to make too."""
    sent = scope.sent_dirs() if scope.kind == catalog.YEAR else []
    if not sent:
        return []
    from wennuan_lib.run import freeze  # pandas (0.27 s): only in a year that was frozen

    return freeze.doubt(sent[-1])


def _run_steps(
    plan: Plan, staging: _Staging, console: progress.Console, kernel: Kernel, outcome: Outcome
) -> None:
    """Each step in order, carried or run; the kernel starts and the run folder is made at the first step
    that must run."""
    scope, year = plan.scope, plan.year
    steps = catalog.steps(scope.kind)
    for i, step in enumerate(steps, 1):
        head = f"[{scope.label} {i}/{len(steps)}] {step.label}"
        planned = plan.decide(step)
        if planned.carried is not None:
            plan.done(planned, planned.carried)
            outcome.carried.append(step.name)
            staging.carry(planned.carried)
            console(f"{head}：输入没有变化，沿用上次的结果")
            continue
        if staging.path is None:
            _begin(plan, step, staging, console, kernel)
        console(f"{head}（{step.notebook}）…")
        start = time.perf_counter()
        params = {
            "year": year,
            "inputs_dir": str(plan.workspace.inputs),
            "outputs_dir": str(plan.workspace.outputs),
            "run_dir": str(staging.path),
        }
        with progress.Follow(staging.path / ".progress", console) as follow:
            kernel.run(step, params, staging.path, follow.path)
        # what papermill held of the executed notebook (3,000 units: 20 MiB) goes back to the system before
        # the next step's processes start beside this one
        parallel.give_back_memory()
        seconds = time.perf_counter() - start
        plan.done(planned, step_files(step, staging.path, products=False), seconds)  # the rest: below
        outcome.ran.append(step.name)
        console(f"    完成，用时 {seconds:.1f} 秒")
        stop_point(f"after:{step.name}")
    if outcome.ran:  # the products the steps made on another core, saved as they were made
        kernel.save_later()
        for step in steps:
            if step.name in outcome.ran:
                plan.saved_later(step, product_files(step, staging.path))


def _summary(workspace: Workspace, year: int, kernel: Kernel) -> str | None:
    """What the year's new run found (report_summary.run_summary), said by the kernel, where pandas is
    loaded: this process never loads it (0.25 s after the last step; 50 MiB held beside the kernel and its
    workers, the run's peak memory). None when no kernel is running or it could not say."""
    return kernel.printed(
        "from wennuan_lib.run.report_summary import run_summary as _s\n"
        "from wennuan_lib.run.workspace import Workspace as _W\n"
        f"print(_s(_W({str(workspace.inputs)!r}, {str(workspace.outputs)!r}), {int(year)}))\n"
        "del _s, _W"
    )


def _begin(
    plan: Plan, step: catalog.Step, staging: _Staging, console: progress.Console, kernel: Kernel
) -> None:
    """Before the first step that must run: the kernel starts, LibreOffice converts the inbox's legacy files
    (when `step` reads the inbox), the analyst's own files are checked and the run folder is made."""
    year = plan.year
    # the analyst's files are read on another core: what reading them loads (pandas: 42 MiB) stays out of
    # this process, which waits through every step beside the kernel and its workers (the run's peak memory)
    checked = None
    if year is not None:
        checked = parallel.bytes_in_background(functools.partial(_analyst_files, plan.workspace, year))
    kernel.start()  # it boots on the other core while this process goes on
    if year is not None and "inbox" in step.reads:  # LibreOffice's start-up too
        kernel.convert_early(_early_files(plan, year))
    if checked is not None:  # before any submission is read
        console(f"{year}年" + checked().decode("utf-8"))
    staging.open()


def _analyst_files(workspace: Workspace, year: int) -> bytes:
    """The progress line naming the analyst's files of `year` and the encoding each was read in; a file that
    cannot be used raises textfiles.InputFileError."""
    from wennuan_lib.check import analyst_files  # pandas

    return analyst_files.describe(analyst_files.check(workspace, year)).encode("utf-8")


def _early_files(plan: Plan, year: int) -> list:
    """The inbox's legacy files the step that reads it will give LibreOffice: those whose extraction is not
    in the year's cache (keyed as that step keys it: the form, the file's bytes, the program)."""
    from wennuan_lib.read import cache, convert  # pandas, the form: only when step 01 is to run

    try:
        form = load_form(plan.workspace.year_config(year)["form"])
        extractions = cache.Cache(plan.scope.folder("cache"), form)
        return convert.early_files(
            plan.workspace.raw("inbox", year),
            lambda path: extractions.has(extractions.key(path, manifest.input_hash(path))),
        )
    except (WennuanError, OSError):  # a year.yaml, a form or an inbox that step 01 names, as it always has
        return []


def run_year(
    workspace: Workspace,
    year: int,
    console: progress.Console,
    kernel: Kernel,
    force: bool = False,
    with_previous: bool = True,
) -> list[Outcome]:
    """One year, then the trends. Every earlier year under inputs/ is brought up to date first (processed if
    it never was, checked — a fraction of a second — if nothing changed): this year's history checks, 同比
    and trend figure read their results, which must be those of their inputs now and of this program (a unit
    renamed in units.csv would otherwise be two units), whichever years were run before on this machine.
    `force` applies to this year alone."""
    manifest.forget_hashes()
    inbox = workspace.raw("inbox", year)
    if not inbox.is_dir():
        raise PipelineError(f"找不到{year}年的收件箱：{inbox}（请把各单位报送的文件放在这里）")
    outcomes = []
    earlier = [y for y in workspace.years() if y < year]
    if with_previous and earlier:
        if workspace.scope(year - 1).current() is None and year - 1 in earlier:
            console(f"上年（{year - 1}年）尚未处理：先处理上年，以便做历史审核和同比")
        console(
            f"先核对往年（{'、'.join(map(str, earlier))}年）的结果是否最新"
            "（本年的历史审核、同比和历年对比以它们为准）"
        )
        remade = []
        for y in earlier:
            outcome = run_scope(workspace, workspace.scope(y), console, kernel)
            outcomes.append(outcome)
            if outcome.ran:
                remade.append(y)
        if remade:
            console(f"往年（{'、'.join(map(str, remade))}年）已按现在的输入重新处理；继续处理 {year} 年")
    outcomes.append(run_scope(workspace, workspace.scope(year), console, kernel, force))
    done = tuple(earlier if with_previous else []) + (year,)
    outcomes += run_trends(workspace, console, kernel, force, done)
    return outcomes


def run_trends(
    workspace: Workspace,
    console: progress.Console,
    kernel: Kernel,
    force: bool = False,
    done: tuple[int, ...] = (),
) -> list[Outcome]:
    """The trends across every year under inputs/, when there are at least two and every one has up-to-date
    results — those brought up to date by this command (`done`), the others checked — else the trends are
    left as they are (and `status`/`verify` of the trends say they are out of date)."""
    years = workspace.years()
    if len(years) < 2:
        console("历年对比：inputs/ 下的年度不足两个，暂不生成")
        return []
    behind = [
        y
        for y in years
        if y not in done
        and (workspace.scope(y).current() is None or manifest.stale(workspace, workspace.scope(y)))
    ]
    if behind:
        console(
            f"历年对比：{'、'.join(map(str, behind))}年还没有按现在的输入处理，历年对比暂不更新"
            f"（运行 {workspace.command('run', '--all')} 一并更新）"
        )
        return []
    return [run_scope(workspace, workspace.trends(), console, kernel, force)]


def run_all(
    workspace: Workspace, console: progress.Console, kernel: Kernel, force: bool = False
) -> list[Outcome]:
    """Every year under inputs/, in order (each year's history checks see the year before),
    then the trends."""
    manifest.forget_hashes()
    years = workspace.years()
    if not years:
        raise PipelineError(f"{workspace.inputs} 下没有任何年度的收件箱（inputs/<年度>/submissions/）")
    outcomes = [run_scope(workspace, workspace.scope(y), console, kernel, force) for y in years]
    return outcomes + run_trends(workspace, console, kernel, force, tuple(years))
