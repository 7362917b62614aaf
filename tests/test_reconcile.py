"""Corrections, waivers, reporting status and feedback, on the sample year and on small cases."""

import shutil

import openpyxl
import pandas as pd

from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.store import write_csv
from wennuan_lib.publish import feedback, template

from .conftest import ROOT, Year

KINDS = {"强制性审核", "提示性审核", "历史审核"}


def test_sample_year_shows_every_kind_of_finding(sample_run, form):
    _, _, frames, _ = sample_run
    issues = frames["issues"]
    rule_ids = {r.id for r in form.rules}
    seen = set(issues["rule"])
    assert set(issues["check_type"]) == KINDS
    for needed in ["N01", "N02", "N04", "A01", "M01", "Y01", "O01", "H01"]:
        assert needed in seen, needed
    assert {r[0] for r in rule_ids if r} <= {r[0] for r in seen}  # part/sum/pair/plausibility all present
    assert (issues["waived"] == True).any()  # noqa: E712


def test_every_broken_figure_is_flagged_with_its_item_and_clean_units_raise_no_error(sample_run):
    truth, _, frames, _ = sample_run
    issues = frames["issues"]
    found = set(zip(issues["unit"], issues["rule"], issues["item"]))
    for unit, rule, item in truth.broken:
        assert (unit, rule, item) in found, (unit, rule, item)
    broken_units = {u for u, *_ in truth.broken}
    read = frames["read_values"]
    unreadable = set(read.loc[read["status"] == "unreadable", "unit"])
    for unit, year in truth.wrong_year.items():  # a unit on another year's form: one must-fix finding
        f01 = issues[(issues["unit"] == unit) & (issues["rule"] == "F01")]
        assert len(f01) == 1 and f"使用了{year}年的表式" in f01["message"].iloc[0]
    clean_units = set(truth.values) - broken_units - unreadable - set(truth.wrong_year)
    errors = issues[(issues["severity"] == "error") & issues["unit"].isin(clean_units)]
    assert errors.empty, errors["message"].tolist()


def test_corrections_change_exactly_what_they_should(sample_run):
    truth, _, frames, _ = sample_run
    values, read = frames["values"], frames["read_values"]
    changed = values[values["corrected"] == True]  # noqa: E712
    assert {(u, i) for u, i in zip(changed["unit"], changed["item"], strict=True)} == set(truth.corrected)
    for (unit, item), value in truth.corrected.items():
        row = values[(values["unit"] == unit) & (values["item"] == item)].iloc[0]
        assert row["value"] == str(value.normalize()) and row["original_value"] != row["value"]
        before = read[(read["unit"] == unit) & (read["item"] == item)].iloc[0]
        assert row["original_value"] == before["value"]
    untouched = values[values["corrected"] != True]  # noqa: E712
    merged = untouched.merge(read, on=["unit", "item"], suffixes=("", "_read"))
    assert (merged["value"] == merged["value_read"]).all()


def test_a_corrected_figure_no_longer_raises_its_finding(sample_run):
    truth, _, frames, _ = sample_run
    unit = next(u for (u, i) in truth.corrected if i == "05.1")
    issues = frames["issues"]
    assert issues[(issues["unit"] == unit) & (issues["rule"] == "S01")].empty
    audit = frames["audit"]
    line = audit[(audit["unit"] == unit) & (audit["kind"] == "correction")].iloc[0]
    assert line["status"] == "applied" and line["original"] != line["value"]


def test_waiver_marks_the_finding_and_is_audited(sample_run):
    truth, _, frames, _ = sample_run
    issues = frames["issues"]
    for unit, rule in truth.waived:
        rows = issues[(issues["unit"] == unit) & (issues["rule"] == rule)]
        assert len(rows) and rows["waived"].all() and (rows["waiver_reason"] != "").all()
    waived = issues[issues["waived"] == True]  # noqa: E712
    assert set(zip(waived["unit"], waived["rule"])) == set(truth.waived)


def test_unmatched_correction_is_an_error_not_silence(sample_run):
    truth, _, frames, _ = sample_run
    audit = frames["audit"]
    unmatched = audit[audit["status"] == "unmatched"]
    assert len(unmatched) == truth.unmatched_corrections
    assert "姑苏区总工汇" in unmatched["message"].iloc[0]
    a01 = frames["issues"][frames["issues"]["rule"] == "A01"]
    assert len(a01) == 1 and a01["severity"].iloc[0] == "error" and "第4行" in a01["message"].iloc[0]


def test_reporting_status_lists_missing_late_unknown_and_both_parts(sample_run):
    truth, _, frames, _ = sample_run
    st = frames["reporting_status"].set_index("unit")
    assert sorted(st.index[st["form"] == "missing"]) == sorted(
        set(truth.not_reported) - set(truth.sent_unreadable)
    )
    assert sorted(st.index[st["form"] == "unreadable"]) == sorted(truth.sent_unreadable)  # sent a scan
    assert all(st.loc[u, "form_problem"] for u in truth.sent_unreadable)
    assert sorted(st.index[st["late"] == "late"]) == truth.late and len(truth.late) >= 1
    unknown = st[st["registered"] == False]  # noqa: E712
    assert list(unknown.index) == ["苏州市物流行业工会联合会"]
    summaries = {f.unit for f in truth.files if f.status == "summary"}
    assert set(st.index[st["summary"] == "reported"]) == summaries
    assert set(st["summary"]) == {"reported", "missing"}


def test_feedback_files_open_and_name_the_right_cells(sample_run):
    truth, paths, frames, _ = sample_run
    folder = paths.root / "feedback"
    values = frames["values"]
    unit, rule, item = next(b for b in truth.broken if b[1] == "P03")
    wb = openpyxl.load_workbook(folder / f"{unit}.xlsx")
    ws = wb["审核意见"]
    head = [c.value for c in ws[7]]
    rows = [dict(zip(head, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=8)]
    row = next(r for r in rows if rule in r["代码"].split("\n"))  # one row per cell, its problems merged
    locs = values[(values["unit"] == unit) & values["item"].isin(["02A.2", "02A.1"])].set_index("item")[
        "location"
    ]
    assert row["位置"].split("\n") == [
        f"“其中困难农民工”：{locs['02A.2']}",
        f"“当地困难职工总数”：{locs['02A.1']}",
    ]
    assert row["类别"] == "必须修改" and row["项目"] == "02行“其中困难农民工”"
    assert "大于 02行“当地困难职工总数”" in row["问题"] and row["代码"].startswith("02A.2\n02A.1\n")
    assert [r["项目"] for r in rows].count(row["项目"]) == 1
    sheet_text = " ".join(str(c.value) for r in ws.iter_rows(max_row=6) for c in r if c.value)
    assert unit in sheet_text and "65236564" in sheet_text and "示例数据" in sheet_text
    data = wb["本单位数据"]
    codes = [r[-1].value for r in data.iter_rows(min_row=4)]  # the codes last, for the analyst
    assert codes[:3] == ["01A.1", "01A.2", "02A.1"] and len(codes) == 67
    assert [r[0].value for r in data.iter_rows(min_row=4, max_row=6)] == ["01行", "01行", "02行"]
    open_units = set(frames["issues"].loc[frames["issues"]["waived"] == False, "unit"]) & set(values["unit"])  # noqa: E712
    status = frames["reporting_status"]
    unreadable = set(status.loc[status["form"] == "unreadable", "unit"])
    assert unreadable  # the sample's scanned form
    assert {p.stem for p in folder.glob("*.xlsx")} == open_units | unreadable


def _one_unit_year(year_dir, form, values, corrections=None, waivers=None, header_unit="常熟市总工会"):
    template.write(form, year_dir.inbox / "a.xlsx", values=values, header={"unit": header_unit})
    if corrections is not None:
        write_csv(
            pd.DataFrame(corrections, columns=["unit", "item", "value", "reason"]),
            year_dir.year_inputs / "corrections.csv",
        )
    if waivers is not None:
        write_csv(
            pd.DataFrame(waivers, columns=["unit", "rule", "reason"]), year_dir.year_inputs / "waivers.csv"
        )
    year_dir.ingest()
    out = year_dir.clean()
    out.update(year_dir.reconcile())
    return out


def _corrected_02a2(year_dir, form, value: str, **more):
    """One unit (常熟, by its alias) whose 02A.2 (12) is corrected to `value`."""
    vals = {c: 1 for c in form.codes}
    vals.update({"02A.1": 10, "02A.2": 12, "03E.1": 9, "03A.1": 5})
    correction = {"unit": "常熟", "item": "02A.2", "value": value, "reason": "电话确认"}
    return _one_unit_year(year_dir, form, vals, corrections=[correction], **more)


def test_correction_by_alias_and_waiver_by_rule(year_dir, form):
    out = _corrected_02a2(
        year_dir, form, "8", waivers=[{"unit": "常熟市总工会", "rule": "W04", "reason": "已核实"}]
    )
    v = out["values"].set_index("item")
    assert (v.loc["02A.2", "value"], v.loc["02A.2", "original_value"]) == ("8", "12")
    rules = set(out["issues"]["rule"])
    assert "P03" not in rules
    w04 = out["issues"][(out["issues"]["rule"] == "W04") & (out["issues"]["unit"] == "常熟市总工会")]
    assert w04["waived"].tolist() == [True]
    assert list(out["audit"]["status"]) == ["applied", "applied"]


def test_a_correction_written_as_an_approximation_stays_one(year_dir, form):
    """The unit said on the phone 约8: the value is corrected to 8 and kept approximate, as the unit's own 约8
    would be — the total says 约 when such entries weigh in it, and the register's audit line says so."""
    out = _corrected_02a2(year_dir, form, "约8")
    v = out["values"].set_index("item")
    assert (
        v.loc["02A.2", "value"] == "8"
        and bool(v.loc["02A.2", "approx"])
        and bool(v.loc["02A.2", "corrected"])
    )
    assert "→ 8 人（约数）" in out["audit"]["message"].iloc[0]
    totals = year_dir.report()["totals"].set_index("item")
    assert totals.loc["02A.2", "approx"] == "约"


def test_bad_correction_lines_are_reported(year_dir, form):
    out = _one_unit_year(
        year_dir,
        form,
        {c: 1 for c in form.codes},
        corrections=[
            {"unit": "常熟市总工会", "item": "99X.1", "value": "1", "reason": ""},
            {"unit": "常熟市总工会", "item": "01A.1", "value": "见附件", "reason": ""},
            {"unit": "不存在的工会", "item": "01A.1", "value": "5", "reason": ""},
        ],
        waivers=[{"unit": "常熟市总工会", "rule": "S09", "reason": ""}],
    )
    audit = out["audit"]
    assert list(audit["status"]) == ["unmatched"] * 4
    assert out["issues"]["rule"].tolist().count("A01") == 4
    assert (out["values"]["corrected"] == False).all()  # noqa: E712


def test_without_previous_year_no_history_check(year_dir, form):
    out = _one_unit_year(year_dir, form, {c: 1 for c in form.codes})
    assert out["has_previous"] is False and "H01" not in set(out["issues"]["rule"])


def test_wrong_header_in_corrections_file_is_named(year_dir, form):
    template.write(form, year_dir.inbox / "a.xlsx", values={"01A.1": 1}, header={"unit": "常熟市总工会"})
    (year_dir.year_inputs / "corrections.csv").write_text("单位,项目,数值\n", encoding="utf-8")
    year_dir.ingest()
    try:
        year_dir.clean()
    except ValueError as exc:
        assert "corrections.csv" in str(exc) and "unit" in str(exc)
    else:
        raise AssertionError("a corrections file with a wrong header must be an error")


def test_run_over_the_committed_sample_writes_every_output(tmp_path):
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    for year in (2012, 2013):
        paths = Year(tmp_path / "inputs", tmp_path / "outputs", year)
        paths.ingest()
        paths.clean()
        paths.reconcile()
    for name in (
        "values",
        "issues",
        "audit",
        "totals",
        "reporting_status",
        "findings_by_unit",
        "findings_by_rule",
    ):
        assert paths.path(name).exists()
    issues = paths.load("issues")
    assert {"unit", "item", "rule", "severity", "message"} <= set(issues.columns)
    assert "H01" in set(issues["rule"])


def test_another_seed_flags_every_broken_figure_and_no_clean_unit(other_seed):
    truths, _, read, issues = other_seed
    truth = truths[2013]
    found = set(zip(issues["unit"], issues["rule"], issues["item"]))
    assert all(b in found for b in truth.broken)
    clean_units = (
        set(truth.values)
        - {u for u, *_ in truth.broken}
        - set(read.loc[read["status"] == "unreadable", "unit"])
    )
    clean_units -= set(truth.wrong_year)
    assert issues[(issues["severity"] == "error") & issues["unit"].isin(clean_units)].empty


def test_a_feedback_workbook_comes_from_the_cache_only_when_its_unit_did_not_change(
    sample_run, tmp_path, form, monkeypatch
):
    """Workbooks are kept by the hash of their unit's findings and figures: unchanged units are copied, a
    changed unit's workbook is made again, and a damaged or planted cache entry is never passed on."""
    _, paths, _, _ = sample_run
    issues, values = paths.load("issues"), paths.load("values")
    cfg = paths.workspace.year_config(2013)
    cache = Artifacts(tmp_path / "cache", "feedback")
    first = feedback.write_all(issues, values, form, cfg, tmp_path / "a", cache)
    pristine = {p.name: p.read_bytes() for p in first}
    made = []
    real = feedback._build
    monkeypatch.setattr(feedback, "_build", lambda shared, job: made.append(job[0]) or real(shared, job))
    again = feedback.write_all(issues, values, form, cfg, tmp_path / "b", cache)
    assert not made and {p.name: p.read_bytes() for p in again} == pristine
    victim = sorted(cache.folder.rglob("*"))[-1]
    victim.write_bytes(victim.read_bytes()[:-10] + b"PLANTED!!!")  # a damaged or planted entry
    unit = issues.loc[issues["severity"] == "error", "unit"].iloc[0]
    changed = values.copy()
    changed.loc[(changed["unit"] == unit) & (changed["item"] == "01A.1"), "value"] = "1"
    third = feedback.write_all(issues, changed, form, cfg, tmp_path / "c", cache)
    assert unit in made and len(made) <= 2
    assert {p.name: p.read_bytes() for p in third if unit not in p.name} == {
        k: v for k, v in pristine.items() if unit not in k
    }
    for p in third:
        openpyxl.load_workbook(p)  # whole workbooks


def test_a_suspected_slip_is_waived_item_by_item(form):
    """A waiver of a slip rule (O02) without an item would waive the unit's slips on every item — also one a
    revised form brought after the analyst checked the first: it is not applied, and says which lines to
    write. A line naming the item waives that item only; another rule may still be waived for all items."""
    from wennuan_lib.check import corrections
    from wennuan_lib.read.units import Registry

    unit = "吴江区总工会"
    findings = pd.DataFrame(
        [
            {"unit": unit, "rule": "O02", "item": "11A.1"},
            {"unit": unit, "rule": "O02", "item": "08C.2"},
            {"unit": unit, "rule": "W04", "item": "03E.1"},
            {"unit": unit, "rule": "W04", "item": "03D.1"},
        ]
    )
    registry = Registry.load(ROOT / "inputs" / "units.csv")

    def waive(*lines):
        table = pd.DataFrame(lines, columns=["unit", "rule", "item", "reason"])
        out, audit = corrections.apply_waivers(findings, table, registry, form.policy.slip_rules)
        return dict(zip(out["rule"] + " " + out["item"], out["waived"], strict=True)), audit

    waived, audit = waive((unit, "O02", "", "已核实"), (unit, "W04", "", "已核实"))
    assert waived == {"O02 11A.1": False, "O02 08C.2": False, "W04 03E.1": True, "W04 03D.1": True}
    assert (
        audit[0]["status"] == "unmatched"
        and "吴江区总工会,O02,11A.1,（理由）；吴江区总工会,O02,08C.2" in (audit[0]["message"])
    )
    waived, audit = waive(("吴江", "O02", "11A.1", "电话确认确为9.51万元的十倍"))
    assert waived["O02 11A.1"] and not waived["O02 08C.2"] and audit[0]["status"] == "applied"
    _, audit = waive((unit, "O02", "09.1", "已核实"))
    assert audit[0]["status"] == "unmatched" and "没有规则 O02 在 09.1 上的审核意见" in audit[0]["message"]
