"""Running the pipeline: a year's steps in order, then the trends across years.

Each step is done again only when something it reads changed (a raw file, a dataset an earlier step made, the
previous year's results, or the program itself) or its outputs are no longer whole; otherwise its outputs —
and its executed notebook — are carried over from the last run. A run is made in a new folder and switched to
when whole (see `runs`). When nothing changed, nothing is made: the kernel does not even start.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from wennuan_lib.base import catalog, progress
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


def read_record(run_dir: Path | None, scope: Scope) -> dict:
    return manifest.read_record(run_dir, scope)


def step_files(step: catalog.Step, run_dir: Path) -> dict[str, str]:
    """The files `step` made in a run folder, by path: datasets with their sha256,
    its executed notebook by name."""
    files: dict[str, str] = {}
    for ds in step.outputs:
        files.update(manifest.dataset_hashes(run_dir, ds))
    notebook = f"{catalog.dataset('notebooks').path}/{step.notebook}"
    if (run_dir / notebook).is_file():
        files[notebook] = ""
    return files


def _carry_files(recorded: dict, current: Path | None) -> dict[str, str] | None:
    """A step's files in the current run, if they are whole (every file there, hashes as recorded)."""
    files = recorded.get("files")
    if current is None or not isinstance(files, dict) or not any(k.endswith(".ipynb") for k in files):
        return None
    for rel, digest in files.items():
        path = current / rel
        if not path.is_file() or (digest and manifest.sha256(path) != digest):
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
    from wennuan_lib.run import (
        freeze,  # pandas (0.25 s): only when a run is sealed, never when nothing changed
    )

    form = None
    inputs = manifest.all_inputs(workspace, scope)
    if scope.kind == catalog.YEAR:
        form = load_form(workspace.year_config(scope.key)["form"])
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


def run_scope(
    workspace: Workspace, scope: Scope, console: progress.Console, kernel: Kernel, force: bool = False
) -> Outcome:
    """Every step of one scope (a year, or the trends), each only if it needs to run."""
    year = scope.key if scope.kind == catalog.YEAR else None
    steps = catalog.steps(scope.kind)
    outcome = Outcome(scope)
    with scope.locked(console):
        for killed in scope.clear_abandoned():
            console(
                f"{scope.label}上次的运行没有做完就被中断了（结果未采用，仍以再上一次的完整结果为准），"
                f"它的记录在 {killed}"
            )
        current = scope.current()
        old = read_record(current, scope)
        made: dict[str, str] = {}
        pending: list[str] = []
        staging: Path | None = None
        records: dict[str, dict] = {}
        try:
            for i, step in enumerate(steps, 1):
                head = f"[{scope.label} {i}/{len(steps)}] {step.label}"
                inputs = manifest.step_inputs(step, workspace, year, made)
                fp = manifest.fingerprint(step, inputs, year)
                files = None
                recorded = old.get("steps", {}).get(step.name, {})
                if not force and recorded.get("fingerprint") == fp and not recorded.get("missing"):
                    files = _carry_files(recorded, current)
                if files is not None:
                    made.update(files)
                    records[step.name] = {"fingerprint": fp, "ran": False, "inputs": inputs, "files": files}
                    outcome.carried.append(step.name)
                    if staging is None:
                        pending += list(files)
                    else:
                        scope.copy_from_current(staging, list(files))
                    console(f"{head}：输入没有变化，沿用上次的结果")
                    continue
                if staging is None:
                    kernel.start()  # it boots on the other core while this process goes on
                    if year is not None:  # the analyst's own files, before any submission is read
                        from wennuan_lib.check import analyst_files

                        console(f"{year}年" + analyst_files.describe(analyst_files.check(workspace, year)))
                    staging = scope.new_run()
                    scope.copy_from_current(staging, pending)
                console(f"{head}（{step.notebook}）…")
                start = time.perf_counter()
                params = {
                    "year": year,
                    "inputs_dir": str(workspace.inputs),
                    "outputs_dir": str(workspace.outputs),
                    "run_dir": str(staging),
                }
                with progress.Follow(staging / ".progress", console) as follow:
                    kernel.run(step, params, staging, follow.path)
                seconds = time.perf_counter() - start
                files = step_files(step, staging)
                made.update(files)
                records[step.name] = {
                    "fingerprint": fp,
                    "ran": True,
                    "seconds": round(seconds, 1),
                    "inputs": inputs,
                    "files": files,
                }
                outcome.ran.append(step.name)
                console(f"    完成，用时 {seconds:.1f} 秒")
                stop_point(f"after:{step.name}")
            if staging is None:
                try:
                    manifest.load(scope)
                    whole = True
                except manifest.ManifestError:
                    whole = False  # the run's own record was damaged: made again, with every step carried
                if whole and not (scope.kind == catalog.YEAR and old.get("sent", "") != _sent_state(scope)):
                    console(
                        f"{scope.label}：全部步骤都是最新的（输入与上次运行相同，结果完好），没有重新生成"
                    )
                    return outcome
                staging = (
                    scope.new_run()
                )  # only what was sent (or the run's record) changed: nothing is recomputed
                scope.copy_from_current(staging, pending)
            outcome.made_new = True
            (staging / ".progress").unlink(missing_ok=True)
            seal(workspace, scope, staging, records, console)
            stop_point("before:promote")
            scope.promote(staging)
        except BaseException as exc:
            if staging is not None:
                kept = scope.abandon(staging)
                if isinstance(exc, StepFailed):
                    raise StepFailed(str(exc).replace(str(staging), str(kept))) from None
            raise
    return outcome


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
