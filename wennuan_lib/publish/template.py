"""The project's own Excel template of the year's form, blank or filled.

It reads like the paper form (rows 01–11, letters, sentences); every blank is its own
input cell with data validation and an input message, and carries a defined name
(WN_01A_1 …) so that ingest finds each value by name wherever the cell has moved.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from wennuan_lib.base import store
from wennuan_lib.form import Form
from wennuan_lib.publish import xlsx

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
FONT = Font(name="宋体", size=11)
BOLD = Font(name="宋体", size=11, bold=True)
TITLE = Font(name="黑体", size=16, bold=True)
MAX_BLANKS = 4  # most blanks on one printed line (row 04C, 08C)
META_NAMES = ("WN_FORM_YEAR", "WN_FORM_VERSION")
# The notice prints Chinese punctuation; the form file keeps the seed's text (人,其中…) for the sentence
# matcher, which reads both. The template prints the Chinese form.
CHINESE_PUNCTUATION = str.maketrans({",": "，", ";": "；", ":": "：", "?": "？", "!": "！"})


def printed(text: str) -> str:
    """A label of the form as the template prints it:
    ASCII punctuation as the notice's Chinese punctuation."""
    return text.translate(CHINESE_PUNCTUATION)


def date_validation(form: Form) -> DataValidation:
    """填报日期 must be a date (it decides which of two versions is in force and whether a unit was late):
    within the year before and the year of the form when the form is a year's, else after 2000."""
    example = f"{form.form}-01-15" if form.form.isdigit() else "2013-01-15"
    if form.form.isdigit():
        year = int(form.form)
        dv = DataValidation(
            type="date",
            operator="between",
            formula1=f"DATE({year - 1},1,1)",
            formula2=f"DATE({year},12,31)",
            allow_blank=True,
        )
    else:
        dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True)
    dv.showInputMessage = dv.showErrorMessage = True
    dv.promptTitle = "填报日期"
    dv.prompt = f"请填写填报日期，例如 {example}"
    dv.errorTitle = "日期有误"
    dv.error = f"这里只能填写日期，例如 {example}（年-月-日）。"
    return dv


def _ref(ws, cell) -> str:
    return f"{quote_sheetname(ws.title)}!${cell.column_letter}${cell.row}"


def _input_cell(cell, value=None) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, even when it looks like a formula
    cell.fill = INPUT_FILL
    cell.border = BOX
    cell.font = FONT
    cell.alignment = Alignment(horizontal="center", vertical="center")
    cell.protection = Protection(locked=False)


def _label(cell, text, font=FONT, align=WRAP) -> None:
    cell.value = text
    if isinstance(text, str):
        cell.data_type = "s"
    cell.font = font
    cell.alignment = align


COLUMN_WIDTHS = [30, 12, 24, 12, 18, 12, 16, 12, 10]  # the sentence's columns: label, blank, label, …


@dataclass
class _Sheet:
    """The template's sheet being written: where the sentences start (`c0`) and end (`last_col`)."""

    wb: Workbook
    ws: Worksheet
    c0: int
    last_col: int

    def name(self, n: str, cell) -> None:
        """A defined name on `cell`: ingest finds the value by it wherever the cell has moved."""
        self.wb.defined_names[n] = DefinedName(n, attr_text=_ref(self.ws, cell))


def build(
    form: Form,
    *,
    values: dict | None = None,
    header: dict | None = None,
    sheet_title: str = "统计表",
    inserted_rows: dict[int, str] | None = None,
    remark_column: bool = False,
    sample: bool = False,
    draft: bool = False,
    notes: list[str] | None = None,
) -> Workbook:
    """The workbook of `form`, with `values` (code → number or text) and `header`
    (unit/date/person/phone) filled in when given. `draft`: the city's summary form while the report is a
    draft — （草稿） in the title row and 草稿 in every printed page's header and footer. `notes`: lines under
    the form's own note (the city's summary form), each across the form's width and wrapped in it.

    `inserted_rows` (line index → text) and `remark_column` reproduce what Excel does when a
    unit inserts rows or a column: the defined names follow the moved cells.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    c0 = 4 if remark_column else 3  # first column of the sentence
    sheet = _Sheet(wb, ws, c0, c0 + 2 * MAX_BLANKS)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 6
    if remark_column:
        ws.column_dimensions["C"].width = 14
    for k, w in enumerate(COLUMN_WIDTHS):
        ws.column_dimensions[get_column_letter(c0 + k)].width = w
    title = form.title + ("（示例数据）" if sample else "") + ("（草稿）" if draft else "")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=sheet.last_col)
    _label(ws.cell(1, 1), title, TITLE, CENTER)
    ws.row_dimensions[1].height = 30
    _header_rows(sheet, form, header or {})
    r = 4
    for k, text in enumerate(
        ["序号", "项目"] + (["备注"] if remark_column else []) + ["内容（在黄色格内填写）"]
    ):
        _label(ws.cell(r, k + 1), text, BOLD, CENTER)
    ws.merge_cells(start_row=r, start_column=c0, end_row=r, end_column=sheet.last_col)
    r = _form_lines(sheet, form, values or {}, inserted_rows or {}, remark_column, r)
    r += 2
    _label(ws.cell(r, 1), form.note)
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=sheet.last_col)
    _notes(sheet, notes or [], r + 2)
    for n, v in zip(META_NAMES, (form.form, form.version), strict=True):
        wb.defined_names[n] = DefinedName(n, attr_text=f'"{v}"')
    _protect_and_print(ws)
    if draft:
        mark_draft(ws)
    return wb


def _notes(sheet: _Sheet, lines: list[str], r: int) -> None:
    """Each line from row `r` on in a cell across the form's width, its breaks set to fit it: a line left to
    overflow to the right widens what the printout is fitted to (one page wide): the sample's form printed at
    three quarters of its size (its title 8.0 pt for 10.6). Later lines start under the line's words."""
    ws = sheet.ws
    width = sum(ws.column_dimensions[get_column_letter(c)].width for c in range(1, sheet.last_col + 1))
    for k, line in enumerate(lines):
        lead = re.match(r"\s*(注\d+：)?", line).group(0)  # its lines after the first start under its words
        width_of = xlsx.display_width(lead.strip())  # 注3： as wide as two ideographic spaces and one space
        indent = lead if not lead.strip() else "\u3000" * (width_of // 2) + " " * (width_of % 2)
        text = indent.join(
            xlsx.wrap_label(line[len(lead) :], width - xlsx.display_width(lead)).splitlines(keepends=True)
        )
        text = lead + text
        _label(ws.cell(r + k, 1), text)
        ws.merge_cells(start_row=r + k, start_column=1, end_row=r + k, end_column=sheet.last_col)
        ws.row_dimensions[r + k].height = 15 * xlsx.lines_of(text) + 2


def _header_rows(sheet: _Sheet, form: Form, header: dict) -> None:
    """Rows 2–3: unit, date (a validated date), person and phone, each an input cell with its name."""
    ws, c0 = sheet.ws, sheet.c0
    hdr = {h.key: h for h in form.header}
    spots = {
        "unit": (2, 1, 3, c0 + 2),
        "date": (2, c0 + 4, c0 + 5, c0 + 6),
        "person": (3, 1, 3, c0 + 2),
        "phone": (3, c0 + 4, c0 + 5, c0 + 6),
    }
    for key, (r, c_label, c_in, c_end) in spots.items():
        h = hdr[key]
        _label(ws.cell(r, c_label), h.label + "：", BOLD, Alignment(horizontal="right", vertical="center"))
        if c_label == 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        if c_end > c_in:
            ws.merge_cells(start_row=r, start_column=c_in, end_row=r, end_column=c_end)
        cell = ws.cell(r, c_in)
        _input_cell(cell, header.get(key))
        cell.alignment = Alignment(horizontal="left", vertical="center")
        if key == "date":
            cell.number_format = "yyyy-mm-dd"
            dv = date_validation(form)
            ws.add_data_validation(dv)
            dv.add(cell)
        sheet.name(h.name, cell)


def _blank_validations(ws) -> tuple[DataValidation, DataValidation]:
    """The validations of the blanks, with their input messages: (counts, money in 万元)."""
    count_dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    money_dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    for dv, what in ((count_dv, "整数"), (money_dv, "以万元为单位的数（可有小数）")):
        dv.showInputMessage = dv.showErrorMessage = True
        dv.promptTitle = "填写说明"
        dv.prompt = f"请填写{what}。没有的填0，不清楚的留空。"
        dv.errorTitle = "填写有误"
        dv.error = f"这里只能填写不小于0的{what}。"
        ws.add_data_validation(dv)
    return count_dv, money_dv


def _form_lines(
    sheet: _Sheet, form: Form, values: dict, inserted_rows: dict[int, str], remark_column: bool, r: int
) -> int:
    """The form's printed lines from the row after `r`: row number, letter, the sentence's labels and its
    blanks (input cells, validated, named); the last row written."""
    ws, c0, last_col = sheet.ws, sheet.c0, sheet.last_col
    count_dv, money_dv = _blank_validations(ws)
    last_col_width = sum(COLUMN_WIDTHS)  # a line without blanks spans the whole row
    prev_row = None
    for idx, line in enumerate(form.layout):
        r += 1
        if idx in inserted_rows:
            _label(ws.cell(r, c0), inserted_rows[idx])
            r += 1
        if line.row != prev_row:
            _label(ws.cell(r, 1), line.row, FONT, CENTER)
            prev_row = line.row
        if line.letter:
            _label(ws.cell(r, 2), f"（{line.letter}）", FONT, CENTER)
        if remark_column and line.codes:
            _input_cell(ws.cell(r, 3))
            ws.cell(r, 3).alignment = WRAP
        if not line.codes:
            ws.merge_cells(start_row=r, start_column=c0, end_row=r, end_column=last_col)
        lines = 2  # the row is as high as its longest label needs (rows 03(D), 03(E) never overlap)
        for k, part in enumerate(line.parts):
            cell = ws.cell(r, c0 + k)
            if k % 2 == 0:
                width = (
                    last_col_width if not line.codes else COLUMN_WIDTHS[k] if k < len(COLUMN_WIDTHS) else 10
                )
                text = xlsx.wrap_label(printed(part), width)
                lines = max(lines, xlsx.lines_of(text))
                _label(cell, text)
            else:
                item = form.item(part)
                _input_cell(cell, values.get(part))
                if item.is_money:
                    cell.number_format = "0.00##"
                    money_dv.add(cell)
                else:
                    count_dv.add(cell)
                sheet.name(item.name, cell)
        ws.row_dimensions[r].height = max(30, 15 * lines + 2)
    return r


def _protect_and_print(ws) -> None:
    """Labels locked (units may still insert rows and columns, e.g. a remark column); A4 landscape, one page
    wide, the heading row repeated, the panes frozen under it."""
    ws.protection = SheetProtection(
        sheet=True,
        formatCells=False,
        formatRows=False,
        formatColumns=False,
        insertRows=False,
        insertColumns=False,
        deleteRows=True,
        deleteColumns=True,
    )
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
    ws.freeze_panes = "A5"


def mark_draft(ws) -> None:
    """草稿 in red in the printed page's header, and a line in its footer saying it is not to be sent yet."""
    ws.oddHeader.right.text = "草稿"
    ws.oddHeader.right.color = "C00000"
    ws.oddHeader.right.size = 16
    ws.oddFooter.center.text = "草稿：书面总结尚未定稿，本表不能报送"
    ws.oddFooter.center.color = "C00000"


def workbook_bytes(wb: Workbook, macro_enabled: bool = False) -> bytes:
    """The workbook's bytes, with fixed document times so that equal content gives equal bytes."""
    stamp = dt.datetime(2000, 1, 1)
    wb.properties.created = wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return normalize_zip(buf.getvalue(), macro_enabled=macro_enabled)


def save(wb: Workbook, path: Path) -> Path:
    """Save atomically (see workbook_bytes)."""
    store.atomic_write_bytes(Path(path), workbook_bytes(wb, Path(path).suffix.lower() == ".xlsm"))
    return Path(path)


def normalize_zip(data: bytes, macro_enabled: bool = False) -> bytes:
    """Rewrite an OOXML zip with fixed entry times (and, for .xlsm, the macro-enabled type)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    body,
                )
            if macro_enabled and info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def write(form: Form, path: Path, **kwargs) -> Path:
    return save(build(form, **kwargs), path)
