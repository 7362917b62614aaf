"""Summary against form: the figures a unit's 书面总结材料 states, held against its 统计表
(never a source of values)."""

import docx
import openpyxl
import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.check import rules, summary_check
from wennuan_lib.publish import template

UNIT = "市教育工会"
SUMMARY = "市教育工会送温暖活动书面总结.docx"


def _values(form, figures: dict):
    rows = []
    for k, item in enumerate(form.items):
        value = figures.get(item.code, "1")
        rows.append(
            {
                "unit": UNIT,
                "unit_type": "局(公司)",
                "item": item.code,
                "value": value or "",
                "status": "ok" if value else "missing",
                "corrected": False,
                "file": "市教育工会送温暖统计表.docx",
                "location": f"表1第{k + 2}行第5列",
            }
        )
    return pd.DataFrame(rows)


def _check(form, text: str, figures: dict):
    summaries = pd.DataFrame([{"unit": UNIT, "file": SUMMARY, "text": text}])
    return summary_check.check(summaries, _values(form, figures), form)


def test_a_clear_disagreement_is_a_warning_naming_both_numbers_and_where_they_are(form):
    checks, findings = _check(form, "活动期间，各级工会干部走访职工家庭77户，确保关怀送到。", {"04A.2": "65"})
    assert checks.columns.tolist() == catalog.dataset("summary_checks").column_names
    row = checks.iloc[0]
    assert (row["item"], row["form_value"], row["summary_value"], row["verdict"]) == (
        "04A.2",
        "65",
        "77",
        "differ",
    )
    assert row["summary_text"].endswith("走访职工家庭77户") and row["summary_file"] == SUMMARY
    assert (
        row["form_location"] == f"「市教育工会送温暖统计表.docx」表1第{form.codes.index('04A.2') + 2}行第5列"
    )
    (f,) = findings
    assert (f["unit"], f["item"], f["rule"], f["severity"]) == (
        UNIT,
        "04A.2",
        rules.SUMMARY_ID,
        rules.WARNING,
    )
    for part in ("65户", "走访职工家庭77户", SUMMARY, "市教育工会送温暖统计表.docx", row["form_location"]):
        assert part in f["message"], part
    assert f["check_type"] == "提示性审核" and f["action"]


def test_agreeing_rounded_and_approximate_figures_are_silent(form):
    text = (
        "走访企业约500家，慰问困难家庭总数2.85万户。共筹集慰问款物4423万元，其中工会投入120万元；"
        "为农民工返乡争取经济补贴78300元。走访职工家庭500余户。"
    )
    figures = {
        "04A.1": "498",
        "04C.1": "28476",
        "05.1": "4423.12",
        "05B.1": "120",
        "11A.1": "7.83",
        "04A.2": "540",
    }
    checks, findings = _check(form, text, figures)
    assert not findings
    got = {r.item: (r.summary_value, r.approx, r.verdict) for r in checks.itertuples()}
    assert got == {
        "04A.1": ("500", True, "approx"),
        "04C.1": ("28500", False, "approx"),
        "05.1": ("4423", False, "approx"),
        "05B.1": ("120", False, "match"),
        "11A.1": ("7.83", False, "match"),
        "04A.2": ("500", True, "approx"),
    }


def test_approximate_words_do_not_excuse_a_wide_gap_nor_rounding_an_exact_number(form):
    checks, findings = _check(form, "走访企业约500家，走访职工家庭496户。", {"04A.1": "420", "04A.2": "479"})
    assert checks.set_index("item")["verdict"].to_dict() == {"04A.1": "differ", "04A.2": "differ"}
    assert [f["item"] for f in findings] == ["04A.1", "04A.2"]


def test_figures_that_cannot_be_told_apart_or_compared_are_left_alone(form):
    text = (
        "建档困难职工家庭3000户，其中困难农民工800户。去年走访企业450家，比上年增加20家。"
        "慰问困难劳模12户。全年帮扶5000人次。"
    )
    checks, findings = _check(form, text, {"03A.2": "700", "04C.3": "700", "04A.1": "498", "04C.4": None})
    assert checks.empty and not findings  # 其中困难农民工…户 is on two rows; last year; a blank; no cue


def _summary_docx(path, unit, lines):
    document = docx.Document()
    document.add_heading(f"{unit}2013年元旦春节送温暖活动工作总结", 1)
    for line in lines:
        document.add_paragraph(line)
    document.save(path)


def test_a_unit_whose_summary_disagrees_gets_a_warning_in_its_feedback_and_keeps_its_figures(year_dir, form):
    figures = {c: 1 for c in form.codes}
    figures.update({"04A.1": 479, "04A.2": 65})
    template.write(form, year_dir.inbox / "统计表.xlsx", values=figures, header={"unit": "吴中区总工会"})
    _summary_docx(
        year_dir.inbox / "吴中区总工会送温暖工作总结.docx",
        "吴中区总工会",
        [
            "按照市总工会通知要求，吴中区总工会扎实开展送温暖活动。",
            "一、深入走访。活动期间，各级工会干部走访企业496家，走访职工家庭65户，确保关怀送到困难职工身边。",
        ],
    )
    year_dir.ingest()
    year_dir.clean()
    year_dir.reconcile()
    values = year_dir.load("values").set_index("item")["value"]
    assert (values["04A.1"], values["04A.2"]) == ("479", "65")  # the summary is never a source of values
    checks = year_dir.load("summary_checks")
    assert checks.set_index("item")["verdict"].to_dict() == {"04A.1": "differ", "04A.2": "match"}
    issues = year_dir.load("issues")
    t01 = issues[issues["rule"] == rules.SUMMARY_ID]
    assert t01[["unit", "item"]].values.tolist() == [["吴中区总工会", "04A.1"]]
    ws = openpyxl.load_workbook(year_dir.root / "feedback" / "吴中区总工会.xlsx")["审核意见"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=8)]
    row = next(r for r in rows if r[3] == "04行“走访企业”")
    assert "479家" in row[1] and "走访企业496家" in row[1] and "吴中区总工会送温暖工作总结.docx" in row[1]


def test_every_disagreement_the_sample_plants_is_found_and_no_agreeing_pair_is_flagged(sample_run):
    truth, _, frames, _ = sample_run
    issues, checks = frames["issues"], frames["summary_checks"]
    planted = set(truth.summary_disagree)
    assert {("市教育工会", "04A.2"), ("吴中区总工会", "04A.1")} <= planted  # as issue 12 saw them
    t01 = issues[issues["rule"] == rules.SUMMARY_ID]
    assert set(zip(t01["unit"], t01["item"], strict=True)) == planted
    wrong = checks[checks["verdict"] == "differ"]
    assert set(zip(wrong["unit"], wrong["item"], strict=True)) == planted
    right = checks[checks["verdict"] != "differ"]
    assert set(zip(right["unit"], right["item"], strict=True)) == set(truth.summary_agree)
    assert len(truth.summary_agree) > 3 * len(planted)  # mostly agreeing
