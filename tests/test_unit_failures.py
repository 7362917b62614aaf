"""Issue 25.1: a failure while checking (step 02) or writing (step 03) what one unit sent stays with that
unit — a must-fix finding or a named line naming the unit and its file — and the other units' results are
complete. Each failure is made deterministically: a check made to raise for one unit in a real step run."""

import pandas as pd

from wennuan_lib.check import rules, summary_check
from wennuan_lib.publish import template

BAD, GOOD = "常熟市总工会", ["太仓市总工会", "昆山市总工会"]


def _inbox(form, year_dir):
    for k, unit in enumerate([BAD, *GOOD]):
        values = {code: 10 + k for code in form.codes[:6]}
        values[form.codes[0]] = 1  # a part larger than its whole somewhere, so the form's rules find things
        template.write(form, year_dir.inbox / f"{unit}.xlsx", values=values, header={"unit": unit})
    year_dir.ingest()


def _others(issues: pd.DataFrame) -> list[tuple]:
    rows = issues[issues["unit"] != BAD]
    return sorted(zip(rows["unit"], rows["rule"], rows["items"], rows["message"], strict=True))


def test_a_check_that_breaks_on_one_units_data_is_that_units_must_fix_finding(form, year_dir, monkeypatch):
    _inbox(form, year_dir)
    before = year_dir.clean()["issues"]
    assert len(_others(before)) > 0
    real_rules, real_slips = rules.check_form_rules, rules.check_yuan_slips

    def breaks_on_bad(unit, *args, **kwargs):
        if unit == BAD:
            raise ZeroDivisionError("made in the test")
        return real_rules(unit, *args, **kwargs)

    def slips(units, *args, **kwargs):
        if BAD in units:
            raise KeyError("made in the test")
        return real_slips(units, *args, **kwargs)

    monkeypatch.setattr(rules, "check_form_rules", breaks_on_bad)
    monkeypatch.setattr(rules, "check_yuan_slips", slips)
    issues = year_dir.clean()["issues"]  # the year goes on
    failed = issues[issues["rule"] == rules.CHECK_FAILED_ID]
    assert set(failed["unit"]) == {BAD} and len(failed) == 2
    assert (failed["severity"] == rules.ERROR).all()  # the report stays a draft: BAD is not checked
    for message in failed["message"]:
        assert f"「{BAD}.xlsx」" in message and "程序出错" in message and "其他单位不受影响" in message
    assert any("表内关系" in m and "ZeroDivisionError" in m for m in failed["message"])
    assert any("金额单位" in m and "KeyError" in m for m in failed["message"])
    assert "人工核对" in failed["action"].iloc[0] and "重新报送" in failed["action"].iloc[0]
    assert _others(issues) == _others(before)  # the other units' findings are complete and unchanged
    mine = issues[(issues["unit"] == BAD) & (issues["rule"] != rules.CHECK_FAILED_ID)]
    assert len(mine) > 0  # BAD's other checks (its blanks) still ran


def test_a_summary_that_breaks_its_check_is_that_summarys_finding(form, monkeypatch):
    values = pd.DataFrame(
        [
            {"unit": u, "unit_type": "市、区", "item": form.codes[0], "value": "5", "status": "ok"}
            | {"file": f"{u}.xlsx", "location": "B3", "corrected": False}
            for u in [BAD, *GOOD]
        ]
    )
    summaries = pd.DataFrame(
        {"unit": [BAD, *GOOD], "file": [f"{u}总结.docx" for u in [BAD, *GOOD]], "text": ["x", "y", "z"]}
    )
    real = summary_check.read_summary

    def breaks(text, *args, **kwargs):
        if text == "x":
            raise IndexError("made in the test")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(summary_check, "read_summary", breaks)
    _rows, findings = summary_check.check(summaries, values, form)
    assert [f["unit"] for f in findings] == [BAD]
    assert "「常熟市总工会总结.docx」" in findings[0]["message"] and "书面总结" in findings[0]["message"]
    assert findings[0]["rule"] == rules.CHECK_FAILED_ID and findings[0]["severity"] == rules.ERROR


def test_a_unit_whose_feedback_workbook_cannot_be_made_is_named_and_the_others_are_made(
    form, year_dir, monkeypatch
):
    from wennuan_lib.publish import feedback
    from wennuan_lib.run import report_summary

    _inbox(form, year_dir)
    year_dir.clean()
    real = feedback.build

    def breaks_on_bad(unit, *args, **kwargs):
        if unit == BAD:
            raise ValueError("All strings must be XML compatible")  # as a writer refusing a unit's text
        return real(unit, *args, **kwargs)

    monkeypatch.setattr(feedback, "build", breaks_on_bad)
    made = year_dir.reconcile()["feedback_files"]  # the year goes on
    assert sorted(p.name for p in made) == sorted(f"{u}.xlsx" for u in GOOD)
    assert all(p.exists() and p.stat().st_size > 0 for p in made)
    summary = report_summary.run_summary(year_dir.workspace, year_dir.year)
    line = next(x for x in summary.splitlines() if "反馈表未能生成" in x)
    assert f"{BAD}（报来的「{BAD}.xlsx」）" in line and "审核结果汇总表" in line, line
    assert "反馈表 2 份" in summary
    monkeypatch.setattr(feedback, "build", real)
    made = year_dir.reconcile()["feedback_files"]  # not cached: made once the writer can
    assert f"{BAD}.xlsx" in {p.name for p in made}
    assert "反馈表未能生成" not in report_summary.run_summary(year_dir.workspace, year_dir.year)
