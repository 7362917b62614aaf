"""The review workbook (审核数据, see the catalog): the run's data for people, beside the CSVs for programs
(which stay English-keyed and unchanged).

Sheets: 审核意见 (most serious first), 报送情况, 数值 (units × items, the item's name over its code),
需核实的数值 (the blanks not filled in, unreadable, approximate, corrected or with a note, with what the unit
wrote and where), 更正与豁免 (and 书面总结对照 when that dataset exists). Chinese headers, item codes as text
(05.1 stays 05.1 in Excel and Calc), 是/否 for flags, figures as numbers (money in 0.00), header rows frozen,
filters on, column widths fitted to the content. Written with XlsxWriter (see xlsx.py; measured at 3,000
units, 450,000 cells: openpyxl's write-only mode 5.0 s, XlsxWriter 2.6 s. A long sheet of every value, 3.6
million cells, took a minute, hence units × items); the same data give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wennuan_lib.base.store import atomic_write_bytes
from wennuan_lib.check.findings import actions, sort_findings
from wennuan_lib.check.rules import SEVERITY_LABELS, is_open
from wennuan_lib.publish import xlsx
from wennuan_lib.read.parse import VALUE_LABELS, to_decimal
from wennuan_lib.vocab import COLOURS, shown

TEXT, CODE, INT, NUMBER, FLAG = "text", "code", "int", "number", "flag"
MONEY_FORMAT, COUNT_FORMAT = "0.00", "0"
MAX_WIDTH, MIN_WIDTH = 60, 6
PAPER_A4 = 9  # XlsxWriter's paper code for A4
HEADER = {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"}
# Cells the analyst should see at a glance: the same colours as the notebooks.
MARKS = {
    "未报": "not_reported",
    "已报但无法读取": "form_unreadable",
    "逾期": "late",
    "必须修改": "error",
    "请核实": "warning",
    "未填": "missing",
    "无法识别": "unreadable",
    "表中未找到": "not_found",
    "未能应用（错误）": "error",
    "不一致": "disagree",
}


FILLS = {text: COLOURS[kind].upper() for text, kind in MARKS.items()}
APPROX, CORRECTED = COLOURS["approx"].upper(), COLOURS["corrected"].upper()


def _blank(value) -> bool:
    """No value: None, "", NaN or pandas' NA (a whole-number column with a gap)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value) or value == ""


def _flag(value) -> str:
    return "是" if bool(value) else "否"


def attention_sheet(values: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """The blanks that need a second look — not filled in, unreadable, approximate, corrected or with a note —
    with what the unit wrote and where."""
    rows = values[
        (values["status"] != "ok") | values["approx"] | values["corrected"] | (values["note"] != "")
    ]
    what = rows["status"].map(VALUE_LABELS).fillna(rows["status"])
    what = what.where(~(rows["approx"] & (rows["status"] == "ok")), "约数")
    frame = pd.DataFrame(
        {
            "单位": rows["unit"],
            "项目代码": rows["item"],
            "项目": rows["label"],
            "计量单位": rows["measure"],
            "情况": what,
            "数值": rows["value"],
            "约数": rows["approx"].map(_flag),
            "已更正": rows["corrected"].map(_flag),
            "原值": rows["original_value"],
            "更正理由": rows["correction_reason"],
            "原文": rows["raw_text"],
            "文件": rows["file"],
            "位置": rows["location"],
            "说明": rows["note"],
            "来自Word修订": rows["revised"].map(_flag),
        }
    )
    frame.attrs["money"] = (rows["measure"] == "万元").to_numpy()
    kinds = {"项目代码": CODE, "数值": NUMBER, "原值": NUMBER}
    return [(c, kinds.get(c, TEXT)) for c in frame.columns], frame


def findings_sheet(issues: pd.DataFrame, form) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    issues = sort_findings(issues)
    open_ = is_open(issues)
    frame = pd.DataFrame(
        {
            "类别": issues["severity"].map(SEVERITY_LABELS).fillna(issues["severity"]),
            "状态": open_.map({True: "待处理", False: "已豁免"}),
            "审核类别": issues["check_type"],
            "规则": issues["rule"],
            "单位": issues["unit"],
            "类型": issues["unit_type"],
            "项目代码": issues["item"],
            "项目": [form.item(c).label if c in form.codes else "" for c in issues["item"]],
            "涉及项目": issues["items"].str.replace("|", "、", regex=False),
            "问题": issues["message"],
            "处理意见": actions(issues),
            "已豁免": issues["waived"].map(_flag),
            "豁免理由": issues["waiver_reason"],
        }
    )
    return [(c, CODE if c in ("项目代码", "涉及项目") else TEXT) for c in frame.columns], frame


def status_sheet(st: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "单位": st["unit"],
            "类型": st["unit_type"],
            "在名录中": st["registered"].map(_flag),
            "统计表": shown(st["form"], "reporting_status.form"),
            "统计表文件": st["form_file"],
            "填报日期": st["form_date"],
            "是否按时": shown(st["late"], "reporting_status.late"),
            "逾期天数": st["days_late"],
            "书面总结": shown(st["summary"], "reporting_status.summary"),
            "书面总结文件": st["summary_files"],
            "必须修改": st["errors"],
            "请核实": st["warnings"],
            "已豁免": st["waived"],
            "无法读取的文件及原因": st["form_problem"],
        }
    )
    ints = {"逾期天数", "必须修改", "请核实", "已豁免"}
    return [(c, INT if c in ints else TEXT) for c in frame.columns], frame


def audit_sheet(audit: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "登记表": shown(audit["kind"], "audit.kind") + "登记表",
            "行号": audit["line"],
            "登记的单位": audit["written_unit"],
            "对应单位": audit["unit"],
            "项目代码": audit["item"],
            "规则": audit["rule"],
            "原值": audit["original"],
            "更正值": audit["value"],
            "理由": audit["reason"],
            "结果": shown(audit["status"], "audit.status"),
            "说明": audit["message"],
        }
    )
    return [(c, INT if c == "行号" else CODE if c == "项目代码" else TEXT) for c in frame.columns], frame


def checks_sheet(checks: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "单位": checks["unit"],
            "项目代码": checks["item"],
            "项目": checks["label"],
            "统计表": checks["form_value"],
            "书面总结": checks["summary_value"],
            "约数": checks["approx"].map(_flag),
            "结果": shown(checks["verdict"], "summary_checks.verdict"),
            "书面总结原文": checks["summary_text"],
            "书面总结文件": checks["summary_file"],
            "统计表位置": checks["form_location"],
        }
    )
    return [
        (c, CODE if c == "项目代码" else NUMBER if c in ("统计表", "书面总结") else TEXT)
        for c in frame.columns
    ], frame


def _number(text, money: bool):
    d = to_decimal(text) if isinstance(text, str) else None
    if d is None:
        return None if _blank(text) else str(text)
    if money:
        return float(d)
    return int(d) if d == d.to_integral_value() else float(d)


def _numbers(texts: list, money: list[bool]) -> list:
    """`_number` of each text, each distinct (text, money) converted once: figures repeat (0, 1, 2 …) over
    200,000 cells at 3,000 units."""
    made: dict = {}
    out = []
    for text, is_money in zip(texts, money, strict=True):
        if isinstance(text, str):
            key = (text, is_money)
            if (v := made.get(key, made)) is made:
                v = made[key] = _number(text, is_money)
        else:
            v = _number(text, is_money)
        out.append(v)
    return out


def _texts(column: pd.Series) -> list[str]:
    """Each value as the text a cell shows: a blank (see `_blank`) is ""."""
    return [v if v.__class__ is str else "" if _blank(v) else str(v) for v in column.tolist()]


def _print_setup(ws, header_rows: int) -> None:
    """For screen first; printed: landscape A4, every page keeps the header rows."""
    ws.repeat_rows(0, header_rows - 1)
    ws.set_landscape()
    ws.set_paper(PAPER_A4)


def _write_sheet(book: xlsx.Book, title: str, columns: list[tuple[str, str]], frame: pd.DataFrame) -> None:
    ws = book.sheet(title)
    money = frame.attrs.get("money")
    shown = {name: _texts(frame[name]) for name, _ in columns}
    for k, (name, _) in enumerate(columns):
        texts = list(dict.fromkeys(shown[name]))[:20000]
        widest = max([xlsx.display_width(name) + 2] + [xlsx.display_width(t) for t in texts])
        ws.set_column(k, k, min(MAX_WIDTH, max(MIN_WIDTH, widest + 2)))
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, len(frame), len(columns) - 1)
    _print_setup(ws, 1)
    header = book.style(**HEADER)
    for k, (name, _) in enumerate(columns):
        xlsx.cell(ws, 0, k, name, header)
    fills = {text: book.style(bg_color=colour) for text, colour in FILLS.items()}
    money_fmt, count_fmt, decimal_fmt = (
        book.style(num_format=f) for f in (MONEY_FORMAT, COUNT_FORMAT, "0.##")
    )
    is_money = [bool(m) for m in money] if money is not None else [False] * len(frame)
    # each column's cells (value, format) made at once, then written row by row as before (XlsxWriter numbers
    # shared strings in the order they are written: the same order gives the same bytes)
    made = []
    for name, kind in columns:
        if kind == NUMBER:
            numbers = _numbers(frame[name].tolist(), is_money)
            formats = [
                None
                if v is None or v.__class__ is str
                else (money_fmt if m else decimal_fmt if v.__class__ is float else count_fmt)
                for v, m in zip(numbers, is_money, strict=True)
            ]
            made.append(list(zip(numbers, formats, strict=True)))
        elif kind == INT:
            made.append([(None if _blank(v) else int(v), None) for v in frame[name].tolist()])
        else:  # text stays text: 05.1 is not 5.1, =… is not a formula
            made.append([(t, fills.get(t)) for t in shown[name]])
    cell = xlsx.cell
    for r, row in enumerate(zip(*made, strict=True), 1):
        for k, (value, fmt) in enumerate(row):
            cell(ws, r, k, value, fmt)


def _grid_cells(values: pd.DataFrame, units: pd.DataFrame, codes: list[str], form):
    """The 数值 grid's cells (row, column, status, figure, money, approx, corrected) in the order they are
    written."""
    # every (unit, item) cell at once (200,000 at 3,000 units): its row and column, the last row of a pair
    # given twice, in the grid's order (unit by unit, item by item, as the cells are written)
    row_of = pd.Index(units["unit"]).get_indexer(values["unit"])
    col_of = pd.Index(codes).get_indexer(values["item"])
    cells = pd.DataFrame(
        {
            "r": row_of,
            "k": col_of,
            **{c: values[c].to_numpy() for c in ("value", "status", "approx", "corrected")},
        }
    )
    cells = (
        cells[cells["k"] >= 0].drop_duplicates(["r", "k"], keep="last").sort_values(["r", "k"], kind="stable")
    )
    is_money = [form.item(c).is_money for c in codes]
    money = [is_money[k] for k in cells["k"].tolist()]
    status = cells["status"].tolist()
    numbers = _numbers(
        [v if s == "ok" else "" for v, s in zip(cells["value"].tolist(), status, strict=True)], money
    )
    at = cells[["r", "k"]].to_numpy()
    return iter(
        zip(
            at[:, 0].tolist(),
            at[:, 1].tolist(),
            status,
            numbers,
            money,
            cells["approx"].tolist(),
            cells["corrected"].tolist(),
            strict=True,
        )
    )


def _values_grid(book: xlsx.Book, values: pd.DataFrame, form) -> None:
    """数值: one row per unit, one column per item — the item's name over its code (text), money in 0.00; a
    blank written out (未填 …), approximate figures and corrected ones coloured as in the notebooks."""
    ws = book.sheet("数值")
    present = set(values["item"].unique())
    codes = [c for c in form.codes if c in present]
    units = values.drop_duplicates("unit")
    ws.set_column(0, 0, min(MAX_WIDTH, max([10] + [xlsx.display_width(u) + 2 for u in units["unit"]])))
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 8)
    for k, code in enumerate(codes, 3):
        ws.set_column(k, k, min(16, max(9, xlsx.display_width(form.item(code).label) // 2 + 2)))
    ws.freeze_panes(2, 3)
    ws.autofilter(1, 0, len(units) + 1, len(codes) + 2)
    _print_setup(ws, 2)
    ws.set_row(0, 60)
    wrapped, plain = book.style(**HEADER), book.style(**{k: v for k, v in HEADER.items() if k != "text_wrap"})
    for k, text in enumerate(
        ["单位", "类型", "在名录中", *(f"{form.item(c).label}（{form.item(c).unit}）" for c in codes)]
    ):
        xlsx.cell(ws, 0, k, text, wrapped)
    for k, text in enumerate(["代码", "", "", *codes]):
        xlsx.cell(ws, 1, k, text, wrapped if k < 3 else plain)
    fills = {text: book.style(bg_color=colour) for text, colour in FILLS.items()}
    money_fmt, count_fmt = book.style(num_format=MONEY_FORMAT), book.style(num_format=COUNT_FORMAT)
    marked = {
        (fmt, fill): book.style(num_format=fmt, bg_color=fill)
        for fmt in (MONEY_FORMAT, COUNT_FORMAT)
        for fill in (APPROX, CORRECTED)
    }
    grid = _grid_cells(values, units, codes, form)
    cell, nxt = xlsx.cell, next(grid, None)
    for r, (unit, utype, registered) in enumerate(
        zip(units["unit"], units["unit_type"], units["registered"], strict=True)
    ):
        cell(ws, r + 2, 0, unit)
        cell(ws, r + 2, 1, utype or None)
        cell(ws, r + 2, 2, _flag(registered))
        while nxt is not None and nxt[0] == r:
            _, k, status, number, m, approx, corrected = nxt
            if status != "ok":
                text = VALUE_LABELS.get(status, status)
                cell(ws, r + 2, k + 3, text, fills.get(text, fills["未填"]))
            else:
                number_format = MONEY_FORMAT if m else COUNT_FORMAT
                fill = CORRECTED if corrected else APPROX if approx else None
                fmt = marked[number_format, fill] if fill else (money_fmt if m else count_fmt)
                cell(ws, r + 2, k + 3, number, fmt)
            nxt = next(grid, None)


def build(
    values: pd.DataFrame,
    issues: pd.DataFrame,
    status: pd.DataFrame,
    audit: pd.DataFrame,
    form,
    checks: pd.DataFrame | None = None,
) -> bytes:
    """The workbook's bytes."""
    book = xlsx.Book()
    for title, (columns, frame) in [
        ("审核意见", findings_sheet(issues, form)),
        ("报送情况", status_sheet(status)),
    ]:
        _write_sheet(book, title, columns, frame)
    _values_grid(book, values, form)
    sheets = [("需核实的数值", attention_sheet(values)), ("更正与豁免", audit_sheet(audit))]
    if checks is not None:
        sheets.append(("书面总结对照", checks_sheet(checks)))
    for title, (columns, frame) in sheets:
        _write_sheet(book, title, columns, frame)
    return book.bytes()


def write(
    path: Path,
    values: pd.DataFrame,
    issues: pd.DataFrame,
    status: pd.DataFrame,
    audit: pd.DataFrame,
    form,
    checks: pd.DataFrame | None = None,
) -> None:
    """Step 03 writes it (the catalog's review_workbook) from the run's data, which it is given."""
    atomic_write_bytes(path, build(values, issues, status, audit, form, checks))
