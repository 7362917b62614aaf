"""Steps do no I/O of their own (issue 23 item 3): the runner loads what a step declares in catalog.yaml,
calls
the step with it, and saves what the step returns."""

import ast
import inspect
import shutil
from pathlib import Path

import pytest

from wennuan_lib.base import catalog, config, store
from wennuan_lib.run import runner
from wennuan_lib.run.kernel import Kernel, StepFailed
from wennuan_lib.steps import clean, ingest, reconcile, report, trends

from .fresh_workspace import copy3
from .test_scale import _notebook

STEP_FUNCTIONS = {
    "01_ingest": ingest.run,
    "02_clean": clean.run,
    "03_reconcile": reconcile.run,
    "04_report": report.run,
    "05_trends": trends.run,
}
STEPS_DIR = config.PACKAGE_DIR / "steps"

# what a step may not call: the context's loaders and savers, and any reading or writing of files
FORBIDDEN_CALLS = {
    "load",
    "raw",
    "previous",
    "other_year",
    "earlier_years",
    "save",
    "path",
    "open",
    "read_csv",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "load_table",
    "save_table",
    "atomic_write_bytes",
    "open_step",
}
FORBIDDEN_MODULES = {"wennuan_lib.base.store", "wennuan_lib.run.context"}


def _own_memory(call: ast.Call) -> bool:
    """open("/proc/self/…"): the process reading its own memory use (ingest's memory limit), not data."""
    first = call.args[0] if call.args else None
    return isinstance(first, ast.Constant) and str(first.value).startswith("/proc/self/")


def _forbidden(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in FORBIDDEN_CALLS and not _own_memory(node):
                found.append(f"line {node.lineno}: {name}()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "store":
            found.append(f"line {node.lineno}: store.{node.attr}")
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {f"{module}.{a.name}" for a in node.names} | {module}
            if names & FORBIDDEN_MODULES:
                found.append(f"line {node.lineno}: from {module} import …")
        if isinstance(node, ast.Import) and {a.name for a in node.names} & FORBIDDEN_MODULES:
            found.append(f"line {node.lineno}: import …")
    return found


def test_no_step_module_loads_or_saves_anything_itself():
    """Every module under wennuan_lib/steps/: no loader, saver or file call, no import of the store or the
    step context — a step gets its inputs from the runner and returns what it makes."""
    modules = sorted(STEPS_DIR.glob("*.py"))
    assert {p.stem for p in modules} >= {"ingest", "clean", "reconcile", "report", "trends"}
    bad = {p.name: _forbidden(ast.parse(p.read_text(encoding="utf-8"))) for p in modules}
    assert not {k: v for k, v in bad.items() if v}, bad


def test_the_static_check_catches_a_step_that_loads():
    """The check above is not blind: each way a step could read or write by itself is caught."""
    for source in (
        "def run(ctx):\n    return ctx.load('values')\n",
        "def run(ctx):\n    return ctx.raw('corrections')\n",
        "def run(inputs, p):\n    return open('x').read()\n",
        "def run(inputs, p):\n    return open(p.paths['waivers']).read()\n",
        "from wennuan_lib.base import store\n",
        "from wennuan_lib.base.store import load_table\n",
        "def run(inputs, p):\n    return p.paths['narrative'].read_text()\n",
        "import pandas as pd\ndef run(inputs, p):\n    return pd.read_csv('x.csv')\n",
    ):
        assert _forbidden(ast.parse(source)), source


def test_every_step_function_takes_inputs_and_params_only():
    for name, fn in STEP_FUNCTIONS.items():
        assert list(inspect.signature(fn).parameters) == ["inputs", "p"], name


def test_every_raw_file_has_one_loader():
    for raw in catalog.load().raw.values():
        assert raw.loader in runner.LOADERS, raw.name


def test_every_load_goes_through_the_runner_and_is_a_declared_read(three, tmp_path, monkeypatch):
    """A year's steps (2013, with 2012's and 2011's results there) and the trends, run through the runner with
    every loader instrumented: each load happened while the runner loaded a declared read, never while a
    step ran and never from a step's or a writer's code; and what the runner loaded is exactly each step's
    `reads:` in catalog.yaml (so the catalog and the loads cannot drift)."""
    y = copy3(three, tmp_path)
    state = {"read": None, "step": None}
    loads: list[tuple[str, str, str | None, str | None]] = []  # (step, read, what was loaded, bad caller)

    def caller_problem() -> str | None:
        for frame in inspect.stack()[2:]:
            path = Path(frame.filename).as_posix()
            if "/wennuan_lib/steps/" in path or "/wennuan_lib/publish/" in path:
                return f"{path}:{frame.lineno}"
        return None

    real_table = store.load_table

    def load_table(ds, path, columns=None):
        loads.append((state["step"], state["read"], ds.name, caller_problem()))
        return real_table(ds, path, columns)

    monkeypatch.setattr(store, "load_table", load_table)
    for key, fn in list(runner.LOADERS.items()):

        def loader(path, year, fn=fn, key=key):
            loads.append((state["step"], state["read"], f"loader:{key}", caller_problem()))
            return fn(path, year)

        monkeypatch.setitem(runner.LOADERS, key, loader)
    real_load = runner._load

    def one_read(ctx, read):
        state["read"] = read
        try:
            return real_load(ctx, read)
        finally:
            state["read"] = None

    monkeypatch.setattr(runner, "_load", one_read)
    given: dict[str, set[str]] = {}
    for name, fn in STEP_FUNCTIONS.items():

        def step(inputs, p, fn=fn, name=name):
            given[name] = set(inputs)
            state["read"] = "(inside the step)"
            try:
                return fn(inputs, p)
            finally:
                state["read"] = None

        state["step"] = name
        year = None if name == "05_trends" else 2013
        result = runner.run_step(name, step, year, y.inputs, y.outputs)
        assert set(result.inputs) == set(catalog.step(name).reads), name

    assert {n: given[n] for n in STEP_FUNCTIONS} == {n: set(catalog.step(n).reads) for n in STEP_FUNCTIONS}
    assert not [x for x in loads if x[1] is None or x[1] == "(inside the step)"], "a load outside the runner"
    assert not [x for x in loads if x[3]], [x for x in loads if x[3]]
    for step_name, read, what, _ in loads:  # each load is of the read it was made for
        kind, _, base = read.rpartition(":")
        want = f"loader:{catalog.raw(base).loader}" if base in catalog.load().raw else base
        assert what == want, (step_name, read, what)
    loaded = {(s, r) for s, r, _, _ in loads}
    for name in STEP_FUNCTIONS:  # every declared read that is a file was loaded (run_date is the day)
        files = {r for r in catalog.step(name).reads if not r.startswith("run_date:")}
        assert {r for s, r in loaded if s == name} == files, name


def test_the_runner_refuses_a_dataset_the_step_does_not_make(three, tmp_path):
    y = copy3(three, tmp_path)
    before = y.scope.current()

    def wrong(inputs, p):
        return runner.Made({"totals": inputs["values"]})  # 02's, not 03's

    with pytest.raises(runner.UndeclaredWrite, match="totals"):
        runner.run_step("03_reconcile", wrong, 2013, y.inputs, y.outputs)
    assert y.scope.current() == before  # nothing became current


def test_the_runner_saves_what_the_step_returns_through_the_catalog(three, tmp_path):
    """Tables typed as the catalog says, files as bytes, folders made of exactly the files returned; a file
    given as a callable is made while the others are saved."""
    y = copy3(three, tmp_path)
    old = y.load("reporting_status")

    def step(inputs, p):
        status = old.copy()
        status["errors"] = 7
        return runner.Made(
            {
                "reporting_status": status,
                "findings_by_unit": y.load("findings_by_unit"),
                "findings_by_rule": y.load("findings_by_rule"),
                "review_workbook": lambda: b"workbook",
                "feedback": {"甲.xlsx": b"a", "乙.xlsx": b"b"},
            },
            {"note": "shown"},
        )

    result = runner.run_step("03_reconcile", step, 2013, y.inputs, y.outputs)
    assert (y.load("reporting_status")["errors"] == 7).all()
    assert y.load("reporting_status")["registered"].dtype == bool
    assert y.path("review_workbook").read_bytes() == b"workbook" == result.outputs["review_workbook"]
    assert sorted(p.name for p in y.path("feedback").iterdir()) == ["乙.xlsx", "甲.xlsx"]
    assert [p.name for p in result.files("feedback")] == ["甲.xlsx", "乙.xlsx"]
    assert result.outputs["note"] == "shown" and result.raw("year_config") == y.year_config


def test_a_product_no_step_reads_is_saved_when_made_while_the_run_goes_on(three, tmp_path, monkeypatch):
    """In `run`'s kernel a product no step reads (审核数据.xlsx, the report's files), made on another core, is
    saved when made, while the run goes on with the next step; the run waits for it before recording itself
    (Kernel.save_later). One that fails says so as its step would have: in Chinese, naming the step and its
    notebook — here a full disk."""
    y = copy3(three, tmp_path)
    release = tmp_path / "release"
    staging = y.scope.new_run()  # as `run` makes it, with the current run's files (steps 01–02's among them)
    shutil.copytree(y.run, staging, dirs_exist_ok=True)
    workbook = staging / catalog.dataset("review_workbook").path
    before = workbook.read_bytes()
    step_03 = (
        "from pathlib import Path\n"
        "import time\n"
        "from wennuan_lib.base.parallel import bytes_in_background\n"
        "from wennuan_lib.run import runner\n"
        "from wennuan_lib.steps import reconcile\n"
        f"release = Path({str(release)!r})\n"
        "def made():  # the workbook's bytes, once the test lets them be made (in 60 s: the step waited)\n"
        "    end = time.monotonic() + 60\n"
        "    while not release.exists() and time.monotonic() < end:\n"
        "        time.sleep(0.01)\n"
        "    return release.read_bytes() if release.exists() else b'made while the step waited'\n"
        "def full():\n"
        "    raise OSError(28, 'No space left on device', str(release))\n"
        "def step(inputs, p):\n"
        "    made_ = reconcile.run(inputs, p)\n"
        "    made_.datasets['review_workbook'] = bytes_in_background(MAKE)\n"
        "    return made_\n"
        "runner.run_step('03_reconcile', step, year, inputs_dir, outputs_dir, run_dir)"
    )
    params = "year = 0\ninputs_dir = None\noutputs_dir = None\nrun_dir = None"
    books = {}
    for how in ("made", "full"):
        books[how] = tmp_path / how
        books[how].mkdir()
        _notebook(books[how] / "03_reconcile.ipynb", params, step_03.replace("MAKE", how))
    run = {"year": 2013, "inputs_dir": str(y.inputs), "outputs_dir": str(y.outputs), "run_dir": str(staging)}
    with Kernel() as kernel:
        monkeypatch.setattr(config, "NOTEBOOKS_DIR", books["made"])
        kernel.run(catalog.step("03_reconcile"), run, staging)
        assert workbook.read_bytes() == before  # the step's notebook has ended; its workbook is not made yet
        release.write_bytes(b"workbook")
        kernel.save_later()
        assert workbook.read_bytes() == b"workbook"  # made and saved before save_later returned

        monkeypatch.setattr(config, "NOTEBOOKS_DIR", books["full"])
        kernel.run(catalog.step("03_reconcile"), run, staging)  # the notebook ends; the failure comes later
        with pytest.raises(StepFailed) as caught:
            kernel.save_later()
        said = str(caught.value)
        assert said.startswith("第3步（报送情况与反馈）出错：磁盘空间不足") and str(release) in said
        assert said.endswith(f"出错的笔记本：{staging / 'notebooks' / '03_reconcile.ipynb'}")
        assert "Traceback" not in said and "OSError" not in said
        kernel.save_later()  # nothing is left waiting
    assert workbook.read_bytes() == b"workbook"
