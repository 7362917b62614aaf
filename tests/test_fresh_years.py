"""Each year on its own inputs: what every kind of input makes stale, a year no other year's run can change,
and the difference from what was sent naming last year's changes (issue 20)."""

from wennuan_lib.base import catalog
from wennuan_lib.run import manifest
from wennuan_lib.run.workspace import Workspace

from .conftest import cli
from .fresh_workspace import ALL, code_of, copy3, output_hashes, run3, stale_now


def test_every_kind_of_input_makes_exactly_its_dependents_stale(three, tmp_path):
    """Each kind of input changed on a copy: `status`/`verify` name exactly the steps that read it, directly
    or through an earlier step or an earlier year (and nothing else); the program's own files (policy,
    forms, every module) are the key test above."""
    y = copy3(three, tmp_path)
    assert stale_now(y) == {} and manifest.verify(y.workspace, y.scope)[0]
    cases = [
        ("2013/corrections.csv", {2013: {"02_clean", "03_reconcile", "04_report"}, "trends": {"05_trends"}}),
        ("2013/waivers.csv", {2013: {"02_clean", "03_reconcile", "04_report"}, "trends": {"05_trends"}}),
        ("2013/narrative.md", {2013: {"04_report"}}),
        ("2013/year.yaml", {2013: ALL, "trends": {"05_trends"}}),
        ("2013/submissions/常熟市总工会.xlsx", {2013: ALL, "trends": {"05_trends"}}),
        ("units.csv", {2011: ALL, 2012: ALL, 2013: ALL, "trends": {"05_trends"}}),
        (
            "2012/corrections.csv",
            {
                2012: {"02_clean", "03_reconcile", "04_report"},
                2013: {"02_clean", "03_reconcile", "04_report"},  # 02 and 04 read 2012's results
                "trends": {"05_trends"},
            },
        ),
        ("2012/narrative.md", {2012: {"04_report"}}),
    ]
    for rel, expected in cases:
        path = y.inputs / rel
        before = path.read_bytes() if path.exists() else None
        path.write_bytes((before or b"") + (b"\n" if rel.endswith((".csv", ".md", ".yaml")) else b"\0"))
        assert stale_now(y) == expected, rel
        assert not manifest.verify(y.workspace, y.scope)[0] or 2013 not in expected, rel
        path.write_bytes(before) if before is not None else path.unlink()
    assert stale_now(y) == {}


def test_running_another_year_changes_nothing_in_this_year(three, tmp_path):
    """Issue 20 case 3: after `run --year 2011` the 2013 report's trend figure grew a year and
    `verify --year 2013` failed. Now 2013 shows every earlier year under inputs/ (made from their inputs),
    whichever were run."""
    y = copy3(three, tmp_path)
    before = output_hashes(y, 2013), y.scope.current()
    assert cli("verify", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs).returncode == 0
    run3(y, 2011, "--force")
    assert cli("verify", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs).returncode == 0
    assert "2013年：全部步骤都是最新的" in run3(y)
    assert (output_hashes(y, 2013), y.scope.current()) == before
    charts = sorted(p.name for p in y.path("charts").glob("*.png"))
    assert charts and manifest.verify(y.workspace, y.workspace.trends())[0]


def test_the_difference_after_freeze_names_a_change_from_last_year(three, tmp_path):
    """Issue 20 case 4: after 封存 of 2013 and a correction to 2012, the difference listed only this year's
    totals. It now names the 上年 and 同比 that changed, and why: 2012's corrections."""
    y = copy3(three, tmp_path)
    frozen = cli("freeze", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs)
    assert frozen.returncode == 0, frozen.stdout + frozen.stderr
    code = code_of(2012)
    (y.inputs / "2012" / "corrections.csv").write_text(
        f"unit,item,value,reason\n常熟市总工会,{code},999,电话确认\n", encoding="utf-8"
    )
    run3(y)
    text = y.path("sent_diff").read_text(encoding="utf-8")
    assert "的上年数（2012年）：已报送" in text and "同比" in text, text
    assert "原因：2012年的输入变了（inputs/2012/corrections.csv 是新增的）" in text, text


def test_which_earlier_years_a_year_shows_is_found_in_inputs(tmp_path):
    """The documented rule: every earlier year present under inputs/ (a folder with submissions/) among the
    catalog's `earlier_years` before it — whether or not it was ever run."""
    for year in (2006, 2008, 2009, 2011, 2013, 2014):
        (tmp_path / "inputs" / str(year) / "submissions").mkdir(parents=True)
    (tmp_path / "inputs" / "2012").mkdir()  # no inbox: not a year
    ws = Workspace(tmp_path / "inputs", tmp_path / "outputs")
    assert catalog.load().earlier_years == 4
    assert ws.earlier_years(2013) == [2009, 2011] and ws.earlier_years(2009) == [2006, 2008]
