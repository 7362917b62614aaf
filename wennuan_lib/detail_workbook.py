"""分单位明细表 (the detail workbook): every unit's figures, units as rows and items as columns, with the subtotals by
unit type and the city total — for the province and for printing."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import aggregate, template
from .form import Form
from .parse import to_decimal
from .units import UNIT_TYPES


def unit_table(values: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Units as rows (in the order of the values table), item codes as columns, the values as written there
    ("" where none). attrs: "types" unit → unit type, "registered" the registered units."""
    first = values.drop_duplicates("unit")
    wide = values.pivot(index="unit", columns="item", values="value").reindex(index=first["unit"], columns=codes)
    wide = wide.fillna("")
    wide.attrs = {"types": dict(zip(first["unit"], first["unit_type"], strict=True)),
                  "registered": set(first.loc[aggregate.in_totals(first), "unit"])}
    return wide


PAPER_A4 = "9"  # openpyxl Worksheet.PAPERSIZE_A4
MONEY_FORMAT, COUNT_FORMAT = "0.00", "0"
UNIT_WIDTH, TYPE_WIDTH, ITEM_WIDTH = 26, 9, 11
ITEMS_PER_PAGE = 9  # item columns on one landscape A4 page beside the repeated unit column, still readable
ROWS_PER_PAGE = 40  # rows on one page at that size
BLANKS = {"missing": "未填", "unreadable": "无法识别", "not_found": "表中未找到"}  # as the report writes them


def print_setup(ws, title: str, draft: bool, items: int, rows: int) -> None:
    """Landscape A4, fitted to as many pages wide as readable columns need and as many tall as the rows need; the
    unit and type columns and the header row on every printed page; title, page numbers and 草稿 in the page
    header and footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = max(1, -(-items // ITEMS_PER_PAGE))
    ws.page_setup.fitToHeight = max(1, -(-rows // ROWS_PER_PAGE))
    ws.print_title_cols = "A:B"
    ws.print_title_rows = "3:3"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.center.text = title
    ws.oddHeader.center.size = 12
    if draft:
        ws.oddHeader.right.text = "草稿"
        ws.oddHeader.right.size = 14
        ws.oddHeader.right.color = "C00000"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    # the title is in every page's header: the printout starts at the table's header row
    ws.print_area = f"A3:{get_column_letter(items + 2)}{rows}"


def detail_workbook(form: Form, values: pd.DataFrame, totals: pd.DataFrame, cfg: dict, draft: bool = False) -> bytes:
    """分单位明细表: units as rows, items as columns, subtotals by unit type and the city total; set up for printing
    (see print_setup); money in 0.00, a blank the unit left written out as the report writes it (未填).
    `draft`: the report is still a draft — （草稿） in the title row and 草稿 in the page header.
    Written row by row (openpyxl's write-only mode): a province has thousands of units."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("分单位明细")
    bold, head = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    blank_font, right = Font(color="808080"), Alignment(horizontal="right")

    def cell(value, **style):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text is text, never a live formula (a unit's name may start with '=')
        for key, v in style.items():
            setattr(c, key, v)
        return c

    def figure(value, money: bool, **style):
        return cell(value, number_format=MONEY_FORMAT if money else COUNT_FORMAT, **style)

    ws.column_dimensions["A"].width = UNIT_WIDTH
    ws.column_dimensions["B"].width = TYPE_WIDTH
    for k in range(3, len(form.items) + 3):
        ws.column_dimensions[get_column_letter(k)].width = ITEM_WIDTH
    ws.freeze_panes = "C4"
    mark = "（示例数据）" if cfg.get("sample") else ""
    title = f"{cfg['year']}年送温暖活动统计表分单位明细"
    print_setup(ws, title + mark + ("（草稿）" if draft else ""), draft, len(form.items),
                3 + values["unit"].nunique() + len(UNIT_TYPES) + 1)
    ws.append([cell(title + mark + ("（草稿）" if draft else ""), font=Font(bold=True, size=14))])
    ws.append([])
    ws.row_dimensions[3].height = 90
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.append([cell("单位", font=bold, fill=head, alignment=wrap), cell("类型", font=bold, fill=head, alignment=wrap),
               *(cell(f"{i.code}\n{i.label}（{i.unit}）", font=bold, fill=head, alignment=wrap) for i in form.items)])
    codes = [i.code for i in form.items]
    wide = unit_table(values, codes)
    numbers = pd.to_numeric(values["value"], errors="coerce")
    numbers = (values.assign(value=numbers).pivot(index="unit", columns="item", values="value")
               .reindex(index=wide.index, columns=wide.columns))
    if "status" in values:
        blanks = values.pivot(index="unit", columns="item", values="status").reindex(index=wide.index, columns=codes)
        blanks = blanks.fillna("missing").to_numpy().tolist()
    else:
        blanks = [["missing"] * len(codes)] * len(wide.index)
    kinds = [item.is_money for item in form.items]
    for unit, row, states in zip(wide.index, numbers.to_numpy().tolist(), blanks, strict=True):
        registered = unit in wide.attrs["registered"]
        ws.append([cell(unit + ("" if registered else "（不在名录，未计入合计）")), cell(wide.attrs["types"][unit]),
                   *(cell(BLANKS.get(state, "未填"), font=blank_font, alignment=right) if v != v
                     else figure(v if money else int(v), money)
                     for v, money, state in zip(row, kinds, states, strict=True))])
    items = totals[totals["kind"] == "item"].set_index("item")
    for label, column in [*((f"小计：{t}", t) for t in UNIT_TYPES), ("全市合计", "value")]:
        row = [cell(label, font=bold), None]
        for item in form.items:
            d = to_decimal(items.loc[item.code, column])
            row.append(None if d is None else figure(float(d) if item.is_money else int(d), item.is_money, font=bold))
        ws.append(row)
    return template.workbook_bytes(wb)
