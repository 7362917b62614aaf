"""Never stale: a step reads only what the catalog declares, every cached product and every skipped step is
keyed on the whole program, and what JupyterLab adds to a notebook is not a change of program."""

import json
import shutil

import openpyxl
import pytest

from wennuan_lib.base import artifacts, catalog, config
from wennuan_lib.check import rules
from wennuan_lib.form import load_form
from wennuan_lib.publish import feedback
from wennuan_lib.read import cache
from wennuan_lib.run import context as steps
from wennuan_lib.run import manifest, pipeline, runner
from wennuan_lib.run.workspace import Workspace
from wennuan_lib.steps import clean

from .conftest import ROOT, Year, cli
from .fresh_workspace import copy3, run3, stale_now
from .test_feedback import _issues, _values


def _step_without(name: str, read: str) -> catalog.Step:
    st = catalog.step(name)
    return catalog.Step(st.name, st.label, st.scope, tuple(r for r in st.reads if r != read))


def test_a_step_reading_what_it_does_not_declare_fails(tmp_path):
    """Issue 20 case 1: step 03's workbook read `audit` while 03's reads left it out, so a change to it did
    not re-run 03. Now any read outside `reads:` fails, in tests and runs alike."""
    ws = Workspace(ROOT / "inputs", tmp_path / "outputs")
    ctx = steps.StepContext(_step_without("03_reconcile", "audit"), ws, tmp_path / "run", 2013)
    with pytest.raises(steps.UndeclaredRead, match="audit"):
        ctx.load("audit")
    clean = steps.StepContext(catalog.step("02_clean"), ws, tmp_path / "run", 2013)
    for read in (
        lambda: clean.raw("narrative"),  # 04's, not 02's
        lambda: clean.load("reporting_status"),  # a later step's dataset
        lambda: clean.other_year(2011, "values"),  # 02 reads last year's, not every year's
        lambda: clean.other_year(2012, "issues"),
        lambda: clean.run_date,
        lambda: clean.path("totals") and clean.path("feedback"),  # 03 writes the feedback, not 02
    ):
        with pytest.raises(steps.UndeclaredRead):
            read()
    assert clean.cfg["year"] == 2013 and clean.registry.names  # what it declares it gets


def test_the_declared_reads_are_what_the_steps_read(sample_years):
    """The shared sample run (every notebook, in the kernel) went through the guard: reaching here means no
    step read anything undeclared. And what the catalog declares is each step's whole input: every dataset
    a step reads was made by an earlier step of the same scope."""
    order = [s.name for s in catalog.steps()]
    for st in catalog.steps():
        for read in st.reads:
            kind, _, name = read.rpartition(":")
            if kind or name in catalog.load().raw:
                continue
            producer = catalog.dataset(name).producer
            assert order.index(producer) < order.index(st.name), (st.name, read)
    assert catalog.dataset("audit").name in catalog.step("03_reconcile").reads


@pytest.fixture
def program_copy(tmp_path, monkeypatch):
    """The package and the notebooks copied to a temporary folder and made the program's own, so that a
    test can change them (the checkout is never written)."""
    package, notebooks = tmp_path / "wennuan_lib", tmp_path / "notebooks"
    shutil.copytree(config.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(config.NOTEBOOKS_DIR, notebooks, ignore=shutil.ignore_patterns("conftest.py"))
    monkeypatch.setattr(config, "PACKAGE_DIR", package)
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", notebooks)

    def fresh():
        artifacts.code_hash.cache_clear()
        manifest.code_fingerprint.cache_clear()
        return artifacts.code_hash(), manifest.code_fingerprint()

    yield package, notebooks, fresh
    artifacts.code_hash.cache_clear()
    manifest.code_fingerprint.cache_clear()


def test_a_change_in_any_file_of_the_library_changes_every_key(program_copy, tmp_path):
    """Issue 20 case 2: the code part of each cache key was a hand-written list of modules. Now it is
    derived: a change in any module, form, policy or template changes the key of every cached product
    (extractions, feedback, workbooks, charts, report formats) and the fingerprint of every step."""
    package, _, fresh = program_copy
    ws = Workspace(ROOT / "inputs", tmp_path / "outputs")
    namespaces = ("feedback", "detail_workbook", "charts", "report_formats")

    def keys():
        fresh()
        ctxs = [steps.StepContext(catalog.step("04_report"), ws, tmp_path / "run", 2013)]
        salts = {n: ctxs[0].cache(n).salt for n in namespaces}
        salts["extractions"] = cache.Cache(tmp_path / "cache", load_form(2013)).store.salt
        fps = {s.name: manifest.fingerprint(s, {}, 2013) for s in catalog.steps()}
        return salts, fps

    files = artifacts.library_files()
    assert {
        "check/rules.py",
        "publish/feedback.py",
        "policy.yaml",
        "forms/2013.yaml",
        "templates/report.html.j2",
    } <= {p.relative_to(package).as_posix() for p in files}
    before = keys()
    for path in files:
        data = path.read_bytes()
        path.write_bytes(data + b"\n")
        salts, fps = keys()
        path.write_bytes(data)
        changed = [n for n in salts if salts[n] == before[0][n]] + [s for s in fps if fps[s] == before[1][s]]
        assert not changed, (path.name, changed)
    assert keys() == before


def test_a_feedback_workbook_never_comes_from_the_cache_with_old_words(program_copy, tmp_path, monkeypatch):
    """Issue 20 case 2 as the analyst saw it: a severity word changed in rules.py, step 03 re-ran, and every
    feedback workbook came back from the cache with the old word."""
    package, _, fresh = program_copy
    fresh()
    form = load_form(2013)
    values, issues = _values(form, figures={"02A.2": "12", "02A.1": "10"}), _issues()
    ws = Workspace(ROOT / "inputs", tmp_path / "outputs")
    ctx = steps.StepContext(catalog.step("03_reconcile"), ws, tmp_path / "run", 2013)
    cfg = {"year": 2013, "feedback_deadline": "2014-01-20"}

    def workbook_text(folder):
        (path,) = feedback.write_all(issues, values, form, cfg, folder, ctx.cache("feedback"))
        sheet = openpyxl.load_workbook(path)["审核意见"]
        return " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)

    old = workbook_text(tmp_path / "a")
    word = rules.SEVERITY_LABELS["error"]
    source = (package / "check" / "rules.py").read_text(encoding="utf-8")
    assert f'"{word}"' in source
    (package / "check" / "rules.py").write_text(
        source.replace(f'"{word}"', '"务必修改"', 1), encoding="utf-8"
    )
    monkeypatch.setitem(rules.SEVERITY_LABELS, "error", "务必修改")  # what the changed module would say
    fresh()
    new = workbook_text(tmp_path / "b")
    assert "务必修改" in new and "务必修改" not in old  # made again with the new word, not from the cache


def test_what_lab_adds_to_a_notebook_is_not_a_change_of_program(program_copy):
    """Issue 26 case 3: opening or saving a notebook in Lab (checkpoints, outputs, metadata) re-ran every
    year. Only what the pipeline runs counts: each cell's kind, tags and source."""
    _, notebooks, fresh = program_copy
    before = fresh()
    path = notebooks / "02_clean.ipynb"
    original = path.read_text(encoding="utf-8")
    nb = json.loads(original)
    (notebooks / ".ipynb_checkpoints").mkdir()
    (notebooks / ".ipynb_checkpoints" / "02_clean-checkpoint.ipynb").write_text(original, encoding="utf-8")
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb["metadata"]["language_info"].update({"version": "3.11.2", "mimetype": "text/x-python"})
    for k, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{k}"
        if cell["cell_type"] == "code":
            cell["execution_count"] = k
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "已执行\n"}]
            cell["metadata"]["scrolled"] = True
            cell["metadata"]["execution"] = {"iopub.status.busy": "2026-01-05T10:00:00Z"}
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=2), encoding="utf-8")
    assert fresh() == before
    nb["cells"][1]["source"] = "".join(nb["cells"][1]["source"]) + "\nprint('改过')"
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=2), encoding="utf-8")
    assert fresh()[1] != before[1]  # a change of what runs is a change of program


def test_a_notebook_saved_in_lab_does_not_rerun_anything(sample_years, program_copy, tmp_path):
    """The saved notebook (with its checkpoint) beside an unchanged year: `run` carries every step."""
    _, notebooks, fresh = program_copy
    results, _, _ = sample_years
    _, year = results[2013]
    shutil.copytree(year.inputs, tmp_path / "inputs")
    shutil.copytree(year.outputs, tmp_path / "outputs", symlinks=True)
    y = Year(tmp_path / "inputs", tmp_path / "outputs", 2013)
    path = notebooks / "04_report.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    (notebooks / ".ipynb_checkpoints").mkdir()
    shutil.copy(path, notebooks / ".ipynb_checkpoints" / "04_report-checkpoint.ipynb")
    nb["metadata"]["widgets"] = {"state": {}}
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    fresh()

    class NoKernel:
        def start(self):
            raise AssertionError("a kernel was started: something was run again")

    lines = []
    outcome = pipeline.run_scope(y.workspace, y.scope, lines.append, NoKernel())
    assert outcome.ran == [] and not outcome.made_new, lines


def test_a_changed_correction_order_remakes_the_review_workbook(three, tmp_path):
    """Issue 20 case 1: two lines of corrections.csv swapped; step 02 re-ran and audit.csv changed, but
    step 03 kept the old 审核数据.xlsx (its 更正与豁免 sheet with the old line numbers) and `verify` said
    consistent."""
    y = copy3(three, tmp_path)
    lines = (y.year_inputs / "corrections.csv").read_text(encoding="utf-8").splitlines()
    (y.year_inputs / "corrections.csv").write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n", "utf-8")
    predicted = stale_now(y)[2013]
    assert predicted == {"02_clean", "03_reconcile", "04_report"}
    out = run3(y).split("[2013年 1/4]")[-1]
    ran = {s.name for s in catalog.steps(catalog.YEAR) if f"（{s.notebook}）" in out}
    assert {"02_clean", "03_reconcile"} <= ran <= predicted  # 04 is carried: what it reads did not change
    sheet = openpyxl.load_workbook(y.path("review_workbook"))["更正与豁免"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    head = next(k for k, r in enumerate(rows) if "行号" in r)
    line, unit = rows[head].index("行号"), rows[head].index("对应单位")
    assert {r[unit]: r[line] for r in rows[head + 1 :] if r[unit]} == {"太仓市总工会": 2, "常熟市总工会": 3}
    assert stale_now(y) == {} and manifest.verify(y.workspace, y.scope) == (True, [])


def test_a_notebook_run_by_hand_makes_the_later_steps_out_of_date(three, tmp_path):
    """Issue 26 case 2: 02_clean run alone from Lab (papermill, run_dir=None) made a mixed run that `status`
    called consistent. Now status names 03 and 04 as out of date, and the next `run` redoes them only."""
    import papermill as pm

    y = copy3(three, tmp_path)
    (y.year_inputs / "waivers.csv").write_text("unit,rule,reason\n常熟市总工会,P03,已电话核实\n", "utf-8")
    assert cli("status", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs).returncode == 0
    pm.execute_notebook(
        str(config.NOTEBOOKS_DIR / "02_clean.ipynb"),
        str(tmp_path / "02_clean.ipynb"),
        parameters={
            "year": 2013,
            "inputs_dir": str(y.inputs),
            "outputs_dir": str(y.outputs),
            "run_dir": None,
        },
        kernel_name=config.KERNEL_NAME,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    assert stale_now(y) == {2013: {"03_reconcile", "04_report"}, "trends": {"05_trends"}}
    status = cli("status", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs).stdout
    assert "输入与输出：不一致" in status and "第3步（报送情况与反馈）的结果已过期" in status, status
    out = run3(y)
    assert "[2013年 2/4] 更正与审核：输入没有变化" in out and "（03_reconcile.ipynb）" in out
    assert (
        stale_now(y) == {}
        and "输入与输出：一致"
        in cli("status", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs).stdout
    )


def test_lab_cannot_run_a_step_before_its_earlier_steps_nor_rerun_an_executed_notebook(three, tmp_path):
    """Issue 26 case 6: 02_clean for a year before 01 gave a pandas traceback and a -未完成 folder; an edited
    year in an executed notebook was silently replaced by the injected one."""
    y = copy3(three, tmp_path)
    shutil.copytree(ROOT / "inputs" / "2013", y.inputs / "2014", ignore=shutil.ignore_patterns("submissions"))
    (y.inputs / "2014" / "submissions").mkdir()
    with pytest.raises(steps.RunRefused, match="run --year 2014"):
        runner.run_step("02_clean", clean.run, 2014, y.inputs, y.outputs)
    assert not (y.outputs / "2014" / "runs").exists() or not any((y.outputs / "2014" / "runs").iterdir())
    with pytest.raises(steps.RunRefused, match="notebooks/02_clean.ipynb"):
        runner.run_step("02_clean", clean.run, 2013, y.inputs, y.outputs, run_dir=y.run)
    assert steps.RunRefused("x")._render_traceback_() == ["没有运行：x"]


def test_a_notebook_run_by_hand_on_last_years_stale_results_is_not_called_up_to_date(three, tmp_path):
    """02_clean run by hand for 2013 after 2012's corrections changed reads 2012's results as they are (only
    `run` remakes 2012 first): its record says so, and `status` does not call it up to date."""
    y = copy3(three, tmp_path)
    (y.inputs / "2012" / "corrections.csv").write_text("unit,item,value,reason\n", encoding="utf-8")
    y.clean()
    lines = manifest.stale(y.workspace, y.scope)
    assert any("第2步（更正与审核）运行时2012年的结果还没有生成或不是最新的" in line for line in lines), lines
    assert not manifest.verify(y.workspace, y.scope)[0]
