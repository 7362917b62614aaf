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
    # (step, read, what was loaded, bad caller, the columns asked for)
    loads: list[tuple[str, str, str | None, str | None, list | None]] = []

    def caller_problem() -> str | None:
        for frame in inspect.stack()[2:]:
            path = Path(frame.filename).as_posix()
            if "/wennuan_lib/steps/" in path or "/wennuan_lib/publish/" in path:
                return f"{path}:{frame.lineno}"
        return None

    real_table = store.load_table

    def load_table(ds, path, columns=None):
        loads.append((state["step"], state["read"], ds.name, caller_problem(), columns))
        return real_table(ds, path, columns)

    monkeypatch.setattr(store, "load_table", load_table)
    for key, fn in list(runner.LOADERS.items()):

        def loader(path, year, fn=fn, key=key):
            loads.append((state["step"], state["read"], f"loader:{key}", caller_problem(), None))
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
    for step_name, read, what, _, columns in loads:  # each load is of the read it was made for
        kind, _, base = read.rpartition(":")
        want = f"loader:{catalog.raw(base).loader}" if base in catalog.load().raw else base
        assert what == want, (step_name, read, what)
        # of the columns the catalog names for it, if it does (the steps above ran on them alone)
        assert columns == catalog.step(step_name).columns_of(read), (step_name, read, columns)
    assert {(s, r) for s, r, *_, c in loads if c} >= {
        ("04_report", "previous:values"),
        ("05_trends", "years:values"),
    }
    loaded = {(s, r) for s, r, *_ in loads}
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


@pytest.mark.parametrize("in_run", [True, False], ids=["run's kernel", "by hand"])
def test_a_file_a_step_parsed_is_taken_again_by_a_later_step_only_while_its_bytes_are_the_same(
    three, tmp_path, monkeypatch, in_run
):
    """In `run`'s kernel (config.RUN_KERNEL_ENV) a table or the registry an earlier step of the run parsed is
    taken again by a later step that reads the same bytes, instead of being parsed again (run/kept.py); step
    01's extracted, parsed as it was written, is not parsed by step 02 at all. What a step does to its inputs
    never reaches the next step, and a file changed between two steps is read as it is now."""
    from pandas.testing import assert_frame_equal

    from wennuan_lib.read import splice
    from wennuan_lib.read.units import Registry

    if in_run:
        monkeypatch.setenv(config.RUN_KERNEL_ENV, "1")
    else:
        monkeypatch.delenv(config.RUN_KERNEL_ENV, raising=False)
    y = copy3(three, tmp_path)
    staging = y.scope.new_run()  # as `run` makes it, here with the current run's files
    shutil.copytree(y.run, staging, dirs_exist_ok=True)
    parsed: list[str] = []  # each table or registry parsed from its file, by name
    real_table, real_registry = store.load_table, Registry.load

    def load_table(ds, path, columns=None):
        parsed.append(ds.name)
        return real_table(ds, path, columns)

    def registry(path):
        parsed.append("registry")
        return real_registry(path)

    monkeypatch.setattr(store, "load_table", load_table)
    monkeypatch.setattr(Registry, "load", staticmethod(registry))
    extracted = staging / catalog.dataset("extracted").path
    values = staging / catalog.dataset("values").path
    given = {}

    def step_01(inputs, p):  # writes extracted as step 01 does: its lines, and the table parsed from them
        ds = catalog.dataset("extracted")
        return runner.Made({"extracted": splice.parsed(ds, store.Rendered(extracted.read_bytes()))})

    def step_02(inputs, p):
        given["extracted"] = inputs["extracted"].copy()
        inputs["extracted"].loc[:, "value"] = "改过"  # a step changing its input in place
        return runner.Made({})

    def step_03(inputs, p):
        inputs["values"].loc[:, "value"] = "改过"
        return runner.Made({})

    def step_04(inputs, p):
        given["values"] = inputs["values"]
        return runner.Made({})

    run = (2013, y.inputs, y.outputs, staging)
    for name, fn in (("01_ingest", step_01), ("02_clean", step_02), ("03_reconcile", step_03)):
        runner.run_step(name, fn, *run)
    assert_frame_equal(given["extracted"], real_table(catalog.dataset("extracted"), extracted))
    runner.run_step("04_report", step_04, *run)
    # not 03's change; the columns step 04 declares, taken from the table 02 made (the counts below)
    part = catalog.step("04_report").columns_of("values")
    assert list(given["values"].columns) == part
    assert_frame_equal(given["values"], real_table(catalog.dataset("values"), values, part))

    runner.run_step("03_reconcile", step_03, *run)
    # the analyst's editor changes one figure of values.csv between steps 03 and 04: same length, other bytes
    text = values.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    row = next(k for k, line in enumerate(text) if k and ",01A.1," in line)
    fields = text[row].split(",")
    at = catalog.dataset("values").column_names.index("value")
    fields[at] = str(9 - int(fields[at][0])) + fields[at][1:]
    text[row] = ",".join(fields)
    values.write_text("".join(text), encoding="utf-8-sig")
    runner.run_step("04_report", step_04, *run)
    assert_frame_equal(given["values"], real_table(catalog.dataset("values"), values, part))  # as it is now
    # what was parsed, with `run`'s kernel: the registry by the first 01 and the second 03 (02, 03 and 04
    # took it); extracted never (step 01 handed it on); this year's values by each 03, and by the second 04
    # (the file had changed); last year's by 02 (taken by the first 04) and by the second 04 (the first was
    # the last step to read it: nothing was kept after it)
    counts = {n: parsed.count(n) for n in ("registry", "extracted", "values")}
    if in_run:
        assert counts == {"registry": 2, "extracted": 0, "values": 5}
    else:  # by hand, every step parses what it reads
        assert counts == {"registry": 6, "extracted": 1, "values": 7}


@pytest.mark.parametrize(
    "read,columns",
    [
        ("previous:values", ("unit", "no_such_column")),
        ("previous:totals", ("item",)),
        ("previous:values", ("item", "unit")),
    ],
    ids=["a column the table lacks", "a table the step does not read", "not in the table's order"],
)
def test_the_catalog_refuses_columns_it_cannot_load(read, columns):
    import dataclasses

    whole = catalog.load()
    steps = tuple(
        dataclasses.replace(s, columns=((read, columns),)) if s.name == "04_report" else s
        for s in whole.steps
    )
    with pytest.raises(catalog.CatalogError, match=f"04_report 的 columns 中「{read}」"):
        catalog._validate(dataclasses.replace(whole, steps=steps))
    catalog._validate(whole)  # as written, it passes
