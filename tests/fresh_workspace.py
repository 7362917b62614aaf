"""A small workspace of three years shared by the tests of issue 20 and 26 (test_fresh*.py)."""

import shutil
from pathlib import Path

from wennuan_lib.form import load_form
from wennuan_lib.publish import template
from wennuan_lib.run import manifest

from .conftest import ROOT, Year, cli, made_once, shared_fixture

UNITS = ["常熟市总工会", "太仓市总工会"]
CORRECTIONS = "unit,item,value,reason\n常熟市总工会,{code},77,电话确认\n太仓市总工会,{code},88,电话确认\n"


def code_of(year: int) -> str:
    """An item every year's form has (the first money item)."""
    return next(i.code for i in load_form(year).items if i.is_money)


@shared_fixture
def three(tmp_path_factory, worker_id):
    """2011–2013, two units' forms each, the sample's registry and year settings, two corrections in 2013;
    then `run --year 2013` as the analyst types it (which processes 2011 and 2012 first). Made once for all
    workers; tests copy it."""
    return made_once(tmp_path_factory, worker_id, "three", _three)


def _three(root: Path) -> Path:
    inputs = root / "inputs"
    shutil.copy(ROOT / "inputs" / "units.csv", inputs.mkdir() or inputs / "units.csv")
    for year in (2011, 2012, 2013):
        inbox = inputs / str(year) / "submissions"
        inbox.mkdir(parents=True)
        shutil.copy(ROOT / "inputs" / str(year) / "year.yaml", inputs / str(year) / "year.yaml")
        form = load_form(year)
        for k, unit in enumerate(UNITS):
            figures = {c: (k + 1) * (year - 2009) for c in form.codes}
            template.write(form, inbox / f"{unit}.xlsx", values=figures, header={"unit": unit})
    (inputs / "2013" / "corrections.csv").write_text(CORRECTIONS.format(code=code_of(2013)), encoding="utf-8")
    out = cli("run", "--year", 2013, "--inputs", inputs, "--outputs", root / "outputs")
    assert out.returncode == 0, out.stdout + out.stderr
    return root


def copy3(three, tmp_path) -> Year:
    shutil.copytree(three / "inputs", tmp_path / "inputs")
    shutil.copytree(three / "outputs", tmp_path / "outputs", symlinks=True)
    return Year(tmp_path / "inputs", tmp_path / "outputs", 2013)


def run3(y: Year, year: int = 2013, *extra):
    out = cli("run", "--year", year, "--inputs", y.inputs, "--outputs", y.outputs, *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def stale_now(y: Year) -> dict:
    """Which steps of each scope are out of date now, by year (or 'trends')."""
    out = {}
    for key in (2011, 2012, 2013, "trends"):
        scope = y.workspace.scope(key)
        names = {name for name, _, _ in manifest.stale_steps(y.workspace, scope)}
        if names:
            out[key] = names
    return out


def output_hashes(y: Year, year: int) -> dict:
    return manifest.load(y.workspace.scope(year))["outputs"]


ALL = {"01_ingest", "02_clean", "03_reconcile", "04_report"}
