"""Feedback workbooks as a unit's clerk reads them: one row per cell with its problems merged, the problem in
plain words first and rule codes last, a dated deadline, rows that show all their text; and the wording of the
findings a clerk is most often sent (a change from last year, a figure typed in 元)."""

import datetime as dt
import math
import re
import subprocess
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from wennuan_lib.base import catalog
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.textfiles import InputFileError
from wennuan_lib.check import rules
from wennuan_lib.publish import feedback, template
from wennuan_lib.run import manifest

from . import sample_data as sample
from .test_rules import clean_units, frame

UNIT = "常熟市总工会"
OTHER = "吴江区总工会"


def _values(form, unit=UNIT, figures=None):
    figures = figures or {}
    rows = []
    for k, item in enumerate(form.items):
        value = figures.get(item.code, "1")
        rows.append(
            {
                "unit": unit,
                "item": item.code,
                "value": "" if value is None else value,
                "status": "missing" if value is None else "ok",
                "raw_text": value or "",
                "location": f"统计表!D{k + 5}",
                "file": f"{unit}统计表.xlsx",
            }
        )
    return pd.DataFrame(rows)


def _finding(items, rule, severity, message, action="请核实"):
    return {
        "unit": UNIT,
        "item": items[0] if items else "",
        "items": "|".join(items),
        "rule": rule,
        "severity": severity,
        "message": message,
        "action": action,
        "waived": False,
    }


def _issues():
    return pd.DataFrame(
        [
            _finding(
                ["11A.1"],
                "H01",
                "warning",
                "11行“为农民工返乡争取经济补贴”78300万元 与上年（2012年 6.87万元）相差十倍以上，"
                "请核实计量单位（如万元填成了元）或位数是否填错",
                "请核实，或说明与上年相比变化较大的原因",
            ),
            _finding(
                ["11A.1", "10A.1"],
                "Y01",
                "warning",
                "11行“为农民工返乡争取经济补贴” 疑似按元填写：填了78300，"
                "按万元应约为7.83（本表金额的计量单位是万元），请核实",
                "请核实金额单位：本表金额一律以万元为单位",
            ),
            _finding(
                ["02A.2", "02A.1"],
                "P03",
                "error",
                "02行“其中困难农民工”12人 大于 02行“当地困难职工总数”10人：其中数不能大于总数",
                "请核对并修改相关数字",
            ),
            _finding(
                [],
                "D01",
                "warning",
                "报送文件「常熟市总工会统计表.xlsx」的填报日期「2月30日」无法识别",
                "请核实填报日期",
            ),
        ]
    )


def _rows(path):
    ws = openpyxl.load_workbook(path)["审核意见"]
    head = [c.value for c in ws[7]]
    return ws, head, [dict(zip(head, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=8)]


def _write(tmp_path, form, cfg=None, issues=None, values=None):
    cfg = {
        "year": 2013,
        "contact": "市总工会保障工作部",
        "phone": "65236564",
        "feedback_deadline": "2013-01-25",
        **(cfg or {}),
    }
    figures = {"11A.1": "78300", "02A.2": "12", "02A.1": "10"}
    return feedback.write_all(
        _issues() if issues is None else issues,
        _values(form, figures=figures) if values is None else values,
        form,
        cfg,
        tmp_path / "feedback",
        Artifacts(tmp_path / "cache", "feedback"),
    )


def test_problem_text_first_codes_last_one_row_per_cell(tmp_path, form):
    (path,) = _write(tmp_path, form)
    ws, head, rows = _rows(path)
    assert head[:3] == ["序号", "问题", "处理意见"] and head[-1] == "代码"
    widths = {h: ws.column_dimensions[chr(65 + k)].width for k, h in enumerate(head)}
    assert widths["代码"] <= 8 < widths["问题"]
    for r in rows:  # rule ids and item codes only in the last column
        assert not any(rule in str(r[h] or "") for rule in ("H01", "Y01", "P03", "D01") for h in head[:-1]), r
        assert not any(CODE.search(str(r[h] or "")) for h in head[1:-1]), r
    # must-fix rows first, then the whole form's finding in a row of its own, then the cells in the form's
    # order; the two findings on 11A.1 in one row
    assert [r["项目"] for r in rows] == [
        "02行“其中困难农民工”",
        "整份统计表",
        "11行“为农民工返乡争取经济补贴”",
    ]
    must, whole, slip = rows
    assert must["类别"] == "必须修改"
    assert must["位置"] == "“其中困难农民工”：统计表!D8\n“当地困难职工总数”：统计表!D7"
    assert must["代码"] == "02A.2\n02A.1\nP03"
    assert (
        slip["问题"].startswith("①11行") and "\n②11行" in slip["问题"] and slip["代码"] == "11A.1\nH01\nY01"
    )
    assert slip["处理意见"].startswith("①请核实") and "\n②请核实金额单位" in slip["处理意见"]
    place = f"统计表!D{form.codes.index('11A.1') + 5}"
    assert slip["填报的数字"] == "78300万元" and slip["位置"] == place  # 10A.1 is not named
    assert whole["填报的数字"] in ("", None) and whole["代码"] == "D01"
    intro = " ".join(str(c.value) for r in ws.iter_rows(max_row=6) for c in r if c.value)
    assert "共 3 处需要处理" in intro and "必须修改 1 处" in intro


def test_the_deadline_is_a_date(tmp_path, form):
    (path,) = _write(tmp_path, form)
    ws, _, _ = _rows(path)
    line = ws["A5"].value
    assert "请于2013年1月25日（星期五）前" in line and "尽快" not in line and "65236564" in line


def test_deadline_defaults_to_three_working_days_and_reads_what_the_analyst_types(tmp_path):
    friday, wednesday = dt.date(2013, 1, 25), dt.date(2013, 1, 23)
    assert feedback.deadline({"year": 2013}, friday) == dt.date(2013, 1, 30)  # Mon, Tue, Wed
    assert feedback.deadline({"year": 2013}, wednesday) == dt.date(2013, 1, 28)  # Thu, Fri, Mon
    assert feedback.deadline({"year": 2013, "feedback_deadline": ""}, friday) == dt.date(2013, 1, 30)
    for typed in ("2013-02-01", dt.date(2013, 2, 1), "2013年2月1日", "2013.2.1"):
        assert feedback.deadline({"year": 2013, "feedback_deadline": typed}, friday) == dt.date(2013, 2, 1)
    with pytest.raises(InputFileError) as err:
        feedback.deadline({"year": 2013, "feedback_deadline": "下周五"}, friday, tmp_path / "year.yaml")
    assert (
        "year.yaml" in str(err.value) and "feedback_deadline" in str(err.value) and "下周五" in str(err.value)
    )


def _needed_lines(text: str, width: float) -> int:
    """Lines a wrapped cell needs at the least: each typed line, a Chinese character two widths."""
    return sum(
        max(1, math.ceil(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) / width))
        for line in str(text).split("\n")
    )


def test_rows_are_high_enough_for_their_text(tmp_path, form):
    (path,) = _write(tmp_path, form)
    for ws in openpyxl.load_workbook(path).worksheets:
        top = 7 if ws.title == "审核意见" else 3
        for row in ws.iter_rows(min_row=top):
            height = ws.row_dimensions[row[0].row].height
            lines = max(
                _needed_lines(c.value or "", ws.column_dimensions[c.column_letter].width) for c in row
            )
            assert height is None or height >= 15 * lines, (ws.title, row[0].row, height, lines)


@pytest.mark.needs("soffice", "calc", "pdftotext")
def test_libreoffice_shows_every_line_of_every_cell(tmp_path, form):
    """As the clerk sees it: LibreOffice's PDF of the workbook holds the end of every line of every cell (a
    row too low for its text is clipped, and what is clipped is not in the PDF)."""
    (path,) = _write(tmp_path, form)
    pdf = tmp_path / "feedback.pdf"
    assert sample.convert_with_libreoffice(path, pdf, "pdf")
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    shown = re.sub(r"\s+", "", printed)
    assert shown
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows(min_row=4):
            for cell in row:
                for line in str(cell.value or "").split("\n"):
                    tail = re.sub(r"\s+", "", line)[-8:]
                    assert tail in shown, (ws.title, cell.coordinate, line)


def test_history_gives_a_percentage_only_for_a_plausible_pair(form):
    before = clean_units()
    now = {u: dict(v) for u, v in before.items()}
    before["单位1"]["11A.1"], now["单位1"]["11A.1"] = Decimal("52600"), Decimal("5.58")  # last year's slip
    before["单位2"]["04A.2"], now["单位2"]["04A.2"] = Decimal("12056"), Decimal("4125")  # a real fall
    before["单位3"]["11A.1"], now["单位3"]["11A.1"] = Decimal("6.87"), Decimal("78300")  # this year's slip
    out = rules.check_all(frame(now), form, previous=frame(before), previous_year=2012)
    hist = out[out["rule"] == "H01"].set_index(["unit", "item"])["message"]
    far = "与上年（2012年 52600万元）相差十倍以上，请核实计量单位（如万元填成了元）或位数是否填错"
    assert hist[("单位1", "11A.1")] == f"11行“为农民工返乡争取经济补贴”5.58万元 {far}"
    assert "%" not in hist[("单位3", "11A.1")] and "请核实计量单位" in hist[("单位3", "11A.1")]
    assert "比上年（2012年 12056户）下降 65.8%" in hist[("单位2", "04A.2")]


def test_yuan_slip_says_what_was_typed_and_what_it_is_in_wan(form):
    units = clean_units()
    units["单位3"]["11A.1"] = Decimal("78300")
    slip = rules.check_all(frame(units), form)
    slip = slip[(slip["rule"] == "Y01") & (slip["item"] == "11A.1")]
    assert len(slip) == 1
    assert "疑似按元填写：填了78300，按万元应约为7.83" in slip["message"].iloc[0]
    assert "倍" not in slip["message"].iloc[0]


def test_the_run_date_is_an_input_of_step_03_only_when_year_yaml_has_no_deadline(year_dir, monkeypatch):
    step = catalog.step("03_reconcile")
    monkeypatch.setattr(manifest, "run_date", lambda: dt.date(2013, 1, 23))
    first = manifest.step_inputs(step, year_dir.workspace, 2013, {})
    monkeypatch.setattr(manifest, "run_date", lambda: dt.date(2013, 1, 24))
    second = manifest.step_inputs(step, year_dir.workspace, 2013, {})
    assert first != second and manifest.fingerprint(step, first, 2013) != manifest.fingerprint(
        step, second, 2013
    )
    year_dir.year_config.write_text("feedback_deadline: 2013-01-30\n", encoding="utf-8")
    fixed = manifest.step_inputs(step, year_dir.workspace, 2013, {})
    monkeypatch.setattr(manifest, "run_date", lambda: dt.date(2013, 1, 23))
    assert fixed == manifest.step_inputs(step, year_dir.workspace, 2013, {})
    assert not any("2013-01-2" in v for v in fixed.values())
    other = catalog.step("02_clean")
    assert manifest.step_inputs(other, year_dir.workspace, 2013, {}) == manifest.step_inputs(
        other, year_dir.workspace, 2013, {}
    )


def test_step_03_counts_the_default_deadline_from_the_run_date(year_dir, form, monkeypatch):
    monkeypatch.setattr(manifest, "run_date", lambda: dt.date(2013, 1, 23))  # a Wednesday
    figures = {c: 1 for c in form.codes}
    figures.update({"02A.1": 10, "02A.2": 12})
    template.write(form, year_dir.inbox / "a.xlsx", values=figures, header={"unit": UNIT})
    year_dir.ingest()
    year_dir.clean()
    year_dir.reconcile()
    ws, _, rows = _rows(year_dir.root / "feedback" / f"{UNIT}.xlsx")
    assert "请于2013年1月28日（星期一）前" in ws["A5"].value
    assert any(r["项目"] == "02行“其中困难农民工”" and "P03" in r["代码"] for r in rows)


def test_a_register_line_the_analyst_must_mend_never_reaches_the_units_feedback(year_dir, form):
    """A line of corrections.csv that cannot be applied (two values for one item) is an error on the unit it
    names (A01), for the analyst: the unit's feedback carries its form's findings only, never the registers'
    lines and item codes."""
    figures = {c: 1 for c in form.codes}
    template.write(
        form, year_dir.inbox / "a.xlsx", values={**figures, "02A.1": 10, "02A.2": 12}, header={"unit": UNIT}
    )
    template.write(form, year_dir.inbox / "b.xlsx", values=figures, header={"unit": OTHER})
    (year_dir.inbox.parent / "corrections.csv").write_text(
        "unit,item,value,reason\n"
        + "".join(f"{u},04A.1,{v},电话核实\n" for u in (UNIT, OTHER) for v in (3, 4)),
        encoding="utf-8",
    )
    year_dir.ingest()
    issues = year_dir.clean()["issues"]
    a01 = issues[issues["rule"] == "A01"]
    assert set(a01["unit"]) == {UNIT, OTHER} and set(a01["severity"]) == {"error"}
    year_dir.reconcile()
    folder = year_dir.root / "feedback"
    for unit in (UNIT, OTHER):
        _, _, rows = _rows(folder / f"{unit}.xlsx")  # each has findings on its form too
        assert rows and not any("A01" in r["代码"] or "登记表" in str(r["问题"]) for r in rows), rows
    _, _, rows = _rows(folder / f"{UNIT}.xlsx")
    assert any("P03" in r["代码"] for r in rows)


CODE = re.compile(r"(?<![\d.])(?:\d\d[A-Z]|0\d)\.\d(?!\d)")  # 09A.1, 05.1 (not 91.1%)
FORMULA = re.compile(r"[≠÷×=+]")


def test_no_message_for_a_unit_holds_an_item_code_a_formula_or_a_median(sample_run):
    """What a clerk reads is in the form's own terms: the row and the item's words, the figures filled in and
    what to do; the codes stay in the last column, for when the clerk phones the analyst."""
    _, paths, frames, _ = sample_run
    issues = frames["issues"]
    mine = issues[(issues["unit"] != rules.TOTALS) & (issues["rule"] != rules.AUDIT_ID)]  # A01: the registers
    assert len(mine) > 50
    for text in [*mine["message"], *mine["action"]]:
        assert not CODE.search(text) and not FORMULA.search(text) and "中位数" not in text, text
    books = sorted((paths.root / "feedback").glob("*.xlsx"))
    assert len(books) > 20
    for path in books:
        for ws in openpyxl.load_workbook(path).worksheets:
            top = 7 if ws.title == "审核意见" else 3
            for row in ws.iter_rows(min_row=top + 1, values_only=True):
                for cell in row[1:-1]:  # 序号 … 类别 (审核意见), 项目 … 问题 (本单位数据): not the codes
                    text = str(cell or "")
                    assert not CODE.search(text) and not FORMULA.search(text), (path.name, text)
                    assert "中位数" not in text and "填错单位" not in text, (path.name, text)
    sums = mine[mine["rule"] == "S02"]["message"]
    assert sums.str.match(
        r"09行“为职工提供各项服务”应等于各项服务之和：您填的总数是\d+人次，四项服务之和是\d+人次"
    ).any()


def test_a_unit_whose_form_could_not_be_read_gets_feedback_naming_the_file(sample_run):
    _, paths, frames, _ = sample_run
    status = frames["reporting_status"]
    lost = status[status["form"] == "unreadable"]
    assert len(lost)
    for unit, problem in zip(lost["unit"], lost["form_problem"], strict=True):
        ws = openpyxl.load_workbook(paths.root / "feedback" / f"{unit}.xlsx")["审核意见"]
        text = "\n".join(str(c) for r in ws.iter_rows(values_only=True) for c in r if c)
        file = problem.split("」")[0].lstrip("「")
        assert file in text and "无法读取" in text and "请重新报送" in text and "Excel" in text, text


def test_a_blank_filled_with_see_attachment_reaches_the_unit_as_written(sample_run):
    """The clerk sees what the unit wrote (见附件) and that the figure is asked for — not "无法识别" and not
    "改填为一个数字" — in the feedback workbook's row for that blank."""
    _, paths, frames, _ = sample_run
    values = frames["values"]
    asked = values[(values["status"] == "unreadable") & values["raw_text"].str.contains("见附件")]
    assert len(asked)
    for unit, item in zip(asked["unit"], asked["item"], strict=True):
        ws = openpyxl.load_workbook(paths.root / "feedback" / f"{unit}.xlsx")["审核意见"]
        rows = [[str(c) if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
        head = next(r for r in rows if "填报的数字" in r)
        mine = [r for r in rows if item in r[-1] and "见附件" in r[head.index("问题")]]
        assert len(mine) == 1, (unit, item, rows)
        assert mine[0][head.index("填报的数字")] == "见附件（待补报）"
        assert mine[0][head.index("处理意见")] == "请把附件中的这个数字填入统计表的这一格后重新报送"
