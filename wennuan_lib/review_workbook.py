"""The review workbook (审核数据, see the catalog): the run's data for people, beside the CSVs for programs (which
stay English-keyed and unchanged).

Sheets: 审核意见 (most serious first), 报送情况, 数值 (units × items, the item's name over its code), 需核实的数值 (the
blanks not filled in, unreadable, approximate, corrected or with a note, with what the unit wrote and where), 更正与豁免
(and 书面总结对照 when that dataset exists). Chinese headers, item codes as text (05.1 stays 05.1 in Excel and Calc),
是/否 for flags, figures as numbers (money in 0.00), header rows frozen, filters on, column widths fitted to the
content. Written row by row (openpyxl's write-only mode; measured at 3,000 units: a long sheet of every value, 3.6
million cells, took a minute — the units × items sheet is 200,000); the same data give the same bytes.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import catalog, template
from .ingest import VALUE_LABELS
from .parse import to_decimal
from .rules import SEVERITY_LABELS, is_open
from .store import atomic_write_bytes
from .views import COLOURS, actions, sort_findings

TEXT, CODE, INT, NUMBER, FLAG = "text", "code", "int", "number", "flag"
MONEY_FORMAT, COUNT_FORMAT = "0.00", "0"
MAX_WIDTH, MIN_WIDTH = 60, 6
PAPER_A4 = "9"  # openpyxl Worksheet.PAPERSIZE_A4
HEADER_FONT, HEADER_FILL = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="top")
AUDIT_RESULTS = {"applied": "已应用", "unmatched": "未能应用（错误）", "duplicate": "重复，只应用一次"}
# Cells the analyst should see at a glance: the same colours as the notebooks.
MARKS = {"未报": "not_reported", "已报但无法读取": "form_unreadable", "逾期": "late", "必须修改": "error",
         "请核实": "warning", "未填": "missing", "无法识别": "unreadable", "表中未找到": "not_found",
         "未能应用（错误）": "error", "不一致": "disagree"}


def _fill(kind: str) -> PatternFill:
    return PatternFill("solid", fgColor=COLOURS[kind].lstrip("#").upper())


FILLS = {text: _fill(kind) for text, kind in MARKS.items()}
APPROX, CORRECTED = _fill("approx"), _fill("corrected")


def _width(text: str) -> int:
    """Display width of a cell's text: a Chinese character is two columns wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _blank(value) -> bool:
    """No value: None, "", NaN or pandas' NA (a whole-number column with a gap)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value) or value == ""


def _flag(value) -> str:
    return "是" if bool(value) else "否"


def attention_sheet(values: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """The blanks that need a second look — not filled in, unreadable, approximate, corrected or with a note — with
    what the unit wrote and where."""
    rows = values[(values["status"] != "ok") | values["approx"] | values["corrected"] | (values["note"] != "")]
    what = rows["status"].map(VALUE_LABELS).fillna(rows["status"])
    what = what.where(~(rows["approx"] & (rows["status"] == "ok")), "约数")
    frame = pd.DataFrame({
        "单位": rows["unit"], "项目代码": rows["item"], "项目": rows["label"], "计量单位": rows["measure"],
        "情况": what, "数值": rows["value"], "约数": rows["approx"].map(_flag), "已更正": rows["corrected"].map(_flag),
        "原值": rows["original_value"], "更正理由": rows["correction_reason"], "原文": rows["raw_text"],
        "文件": rows["file"], "位置": rows["location"], "说明": rows["note"],
        "来自Word修订": rows["revised"].map(_flag),
    })
    frame.attrs["money"] = (rows["measure"] == "万元").to_numpy()
    kinds = {"项目代码": CODE, "数值": NUMBER, "原值": NUMBER}
    return [(c, kinds.get(c, TEXT)) for c in frame.columns], frame


def findings_sheet(issues: pd.DataFrame, form) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    issues = sort_findings(issues)
    open_ = is_open(issues)
    frame = pd.DataFrame({
        "类别": issues["severity"].map(SEVERITY_LABELS).fillna(issues["severity"]),
        "状态": open_.map({True: "待处理", False: "已豁免"}), "审核类别": issues["check_type"], "规则": issues["rule"],
        "单位": issues["unit"], "类型": issues["unit_type"], "项目代码": issues["item"],
        "项目": [form.item(c).label if c in form.codes else "" for c in issues["item"]],
        "涉及项目": issues["items"].str.replace("|", "、", regex=False), "问题": issues["message"],
        "处理意见": actions(issues), "已豁免": issues["waived"].map(_flag), "豁免理由": issues["waiver_reason"],
    })
    return [(c, CODE if c in ("项目代码", "涉及项目") else TEXT) for c in frame.columns], frame


def status_sheet(st: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.DataFrame({
        "单位": st["unit"], "类型": st["unit_type"], "在名录中": st["registered"].map(_flag), "统计表": st["form"],
        "统计表文件": st["form_file"], "填报日期": st["form_date"], "是否按时": st["late"], "逾期天数": st["days_late"],
        "书面总结": st["summary"], "书面总结文件": st["summary_files"], "必须修改": st["errors"], "请核实": st["warnings"],
        "已豁免": st["waived"], "无法读取的文件及原因": st["form_problem"],
    })
    ints = {"逾期天数", "必须修改", "请核实", "已豁免"}
    return [(c, INT if c in ints else TEXT) for c in frame.columns], frame


def audit_sheet(audit: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.DataFrame({
        "登记表": audit["kind"] + "登记表", "行号": audit["line"], "登记的单位": audit["written_unit"],
        "对应单位": audit["unit"], "项目代码": audit["item"], "规则": audit["rule"], "原值": audit["original"],
        "更正值": audit["value"], "理由": audit["reason"],
        "结果": audit["status"].map(AUDIT_RESULTS).fillna(audit["status"]), "说明": audit["message"],
    })
    return [(c, INT if c == "行号" else CODE if c == "项目代码" else TEXT) for c in frame.columns], frame


def checks_sheet(checks: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.DataFrame({
        "单位": checks["unit"], "项目代码": checks["item"], "项目": checks["label"], "统计表": checks["form_value"],
        "书面总结": checks["summary_value"], "约数": checks["approx"].map(_flag), "结果": checks["verdict"],
        "书面总结原文": checks["summary_text"], "书面总结文件": checks["summary_file"], "统计表位置": checks["form_location"],
    })
    return [(c, CODE if c == "项目代码" else NUMBER if c in ("统计表", "书面总结") else TEXT) for c in frame.columns], frame


def _number(text, money: bool):
    d = to_decimal(text) if isinstance(text, str) else None
    if d is None:
        return None if _blank(text) else str(text)
    if money:
        return float(d)
    return int(d) if d == d.to_integral_value() else float(d)


def _write_sheet(wb: Workbook, title: str, columns: list[tuple[str, str]], frame: pd.DataFrame) -> None:
    ws = wb.create_sheet(title)
    money = frame.attrs.get("money")
    names = [c for c, _ in columns]
    widths = []
    for name, _ in columns:
        texts = frame[name].map(lambda v: "" if _blank(v) else str(v)).drop_duplicates()
        widest = max([_width(name) + 2] + [_width(t) for t in texts.head(20000)])
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, widest + 2)))
    for k, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(k)].width = width
    ws.freeze_panes = "B2"
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    ws.print_title_rows = "1:1"  # for screen first; printed, every page keeps the header row
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4

    def header(text):
        c = WriteOnlyCell(ws, value=text)
        c.font, c.fill, c.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
        return c

    ws.append([header(n) for n in names])
    kinds = [kind for _, kind in columns]
    rows = frame.itertuples(index=False, name=None)
    for k, row in enumerate(rows):
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            is_money = bool(money[k]) if money is not None else False
            if kind == NUMBER:
                v = _number(value, is_money)
                c = WriteOnlyCell(ws, value=v)
                if isinstance(v, str):
                    c.data_type = "s"
                elif v is not None:
                    c.number_format = MONEY_FORMAT if is_money else ("0.##" if isinstance(v, float) else COUNT_FORMAT)
            elif kind == INT:
                c = WriteOnlyCell(ws, value=None if _blank(value) else int(value))
            else:
                text = "" if _blank(value) else str(value)
                c = WriteOnlyCell(ws, value=text or None)
                if text:
                    c.data_type = "s"  # text stays text: 05.1 is not 5.1, =… is not a formula
                    if text in FILLS:
                        c.fill = FILLS[text]
            cells.append(c)
        ws.append(cells)


def _values_grid(wb: Workbook, values: pd.DataFrame, form) -> None:
    """数值: one row per unit, one column per item — the item's name over its code (text), money in 0.00; a blank
    written out (未填 …), approximate figures and corrected ones coloured as in the notebooks."""
    ws = wb.create_sheet("数值")
    codes = [c for c in form.codes if c in set(values["item"])]
    units = values.drop_duplicates("unit")
    ws.column_dimensions["A"].width = min(MAX_WIDTH, max([10] + [_width(u) + 2 for u in units["unit"]]))
    ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 10, 8
    for k, code in enumerate(codes, 4):
        ws.column_dimensions[get_column_letter(k)].width = min(16, max(9, _width(form.item(code).label) // 2 + 2))
    ws.freeze_panes = "D3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(codes) + 3)}{len(units) + 2}"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4

    def header(text, wrap=True):
        c = WriteOnlyCell(ws, value=text)
        c.data_type = "s"
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        if wrap:
            c.alignment = HEADER_ALIGN
        return c

    ws.row_dimensions[1].height = 60
    ws.append([header("单位"), header("类型"), header("在名录中"),
               *(header(f"{form.item(c).label}（{form.item(c).unit}）") for c in codes)])
    ws.append([header("代码"), header(""), header(""), *(header(c, wrap=False) for c in codes)])
    money = [form.item(c).is_money for c in codes]
    cells = {(u, i): r for u, i, r in zip(values["unit"], values["item"],
                                          values[["value", "status", "approx", "corrected"]].itertuples(index=False),
                                          strict=True)}
    for unit, utype, registered in zip(units["unit"], units["unit_type"], units["registered"], strict=True):
        name = WriteOnlyCell(ws, value=unit)
        name.data_type = "s"
        row = [name, utype or None, _flag(registered)]
        for code, is_money in zip(codes, money, strict=True):
            r = cells.get((unit, code))
            if r is None:
                row.append(None)
                continue
            if r.status != "ok":
                c = WriteOnlyCell(ws, value=VALUE_LABELS.get(r.status, r.status))
                c.data_type = "s"
                c.fill = FILLS.get(c.value, FILLS["未填"])
            else:
                c = WriteOnlyCell(ws, value=_number(r.value, is_money))
                c.number_format = MONEY_FORMAT if is_money else COUNT_FORMAT
                if r.corrected:
                    c.fill = CORRECTED
                elif r.approx:
                    c.fill = APPROX
            row.append(c)
        ws.append(row)


def build(values: pd.DataFrame, issues: pd.DataFrame, status: pd.DataFrame, audit: pd.DataFrame, form,
          checks: pd.DataFrame | None = None) -> bytes:
    """The workbook's bytes."""
    wb = Workbook(write_only=True)
    for title, (columns, frame) in [("审核意见", findings_sheet(issues, form)), ("报送情况", status_sheet(status))]:
        _write_sheet(wb, title, columns, frame)
    _values_grid(wb, values, form)
    sheets = [("需核实的数值", attention_sheet(values)), ("更正与豁免", audit_sheet(audit))]
    if checks is not None:
        sheets.append(("书面总结对照", checks_sheet(checks)))
    for title, (columns, frame) in sheets:
        _write_sheet(wb, title, columns, frame)
    return template.workbook_bytes(wb)


def write(ctx, values: pd.DataFrame, issues: pd.DataFrame, status: pd.DataFrame) -> None:
    """Step 03 writes it (the catalog's review_workbook) from the run's data."""
    checks = ctx.load("summary_checks") if "summary_checks" in catalog.load().datasets else None
    atomic_write_bytes(ctx.path("review_workbook"), build(values, issues, status, ctx.load("audit"), ctx.form, checks))
