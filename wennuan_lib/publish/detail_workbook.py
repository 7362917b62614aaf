"""分单位明细表 (the detail workbook): every unit's figures, units as rows and items as columns, with the
subtotals by unit type and the city total — for the province and for printing. Written with XlsxWriter (see
xlsx.py): a province has thousands of units."""

from __future__ import annotations

import pandas as pd

from wennuan_lib.check import aggregate
from wennuan_lib.form import Form
from wennuan_lib.publish import xlsx
from wennuan_lib.publish.appendix import NOT_LISTED
from wennuan_lib.read.parse import to_decimal
from wennuan_lib.read.units import UNIT_TYPES

PAPER_A4 = 9  # XlsxWriter's paper code for A4
MONEY_FORMAT, COUNT_FORMAT = "0.00", "0"
UNIT_WIDTH, TYPE_WIDTH, ITEM_WIDTH = 30, 9, 11
ITEMS_PER_PAGE = 9  # item columns on one landscape A4 page beside the repeated unit column, still readable
ROWS_PER_PAGE = 40  # rows on one page at that size
BLANKS = {"missing": "未填", "unreadable": "无法识别", "not_found": "表中未找到"}  # as the report writes them
DRAFT_FOOTER = "草稿：书面总结尚未定稿，本表不能报送"
RED = "C00000"


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # '&' starts a code in a page header


def print_setup(ws, title: str, draft: bool, items: int, rows: int) -> None:
    """Landscape A4, fitted to as many pages wide as readable columns need and as many tall as the rows need;
    the unit and type columns and the header row on every printed page; title, page numbers and 草稿 in the
    page header and footer. `rows`: the sheet's rows, the title's included."""
    ws.set_landscape()
    ws.set_paper(PAPER_A4)
    ws.fit_to_pages(max(1, -(-items // ITEMS_PER_PAGE)), max(1, -(-rows // ROWS_PER_PAGE)))
    ws.repeat_columns(0, 1)
    ws.repeat_rows(2)
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.75)
    # no size code before the title: '&12' followed by the year's digits would read as a font size of 122013
    header = f"&C{_header_text(title)}" + (f"&R&14&K{RED}草稿" if draft else "")
    footer = "&C第 &P 页，共 &N 页" + (f"&L&K{RED}{DRAFT_FOOTER}" if draft else "")
    ws.set_header(header, {"margin": 0.3})
    ws.set_footer(footer, {"margin": 0.3})
    # the title is in every page's header: the printout starts at the table's header row
    ws.print_area(2, 0, rows - 1, items + 1)


def detail_workbook(
    form: Form, values: pd.DataFrame, totals: pd.DataFrame, cfg: dict, draft: bool = False
) -> bytes:
    """分单位明细表: units as rows, items as columns, subtotals by unit type and the city total; set up for
    printing (see print_setup); money in 0.00, a blank the unit left written out as the report writes it
    (未填); a unit not in the registry named as the report's appendix names it.
    `draft`: the report is still a draft — （草稿） in the title row, 草稿 in the page header and a footer
    saying the table is not to be sent."""
    # its rows let go as they are written: it is made in the kernel while the PDF is laid out on the other
    # core, and at 3,000 units the whole sheet in memory is some 50 MB more at the run's highest point
    book = xlsx.Book(rows_as_written=True)
    ws = book.sheet("分单位明细")
    bold = book.style(bold=True)
    head = book.style(bold=True, bg_color="#DDEBF7", text_wrap=True, valign="top")
    blank = book.style(font_color="#808080", align="right")
    formats = {
        (money, strong): book.style(
            num_format=MONEY_FORMAT if money else COUNT_FORMAT, **({"bold": True} if strong else {})
        )
        for money in (True, False)
        for strong in (True, False)
    }
    ws.set_column(0, 0, UNIT_WIDTH)
    wrapped = book.style(text_wrap=True)  # at the bottom, beside the figures
    ws.set_column(1, 1, TYPE_WIDTH)
    ws.set_column(2, len(form.items) + 1, ITEM_WIDTH)
    ws.freeze_panes(3, 2)
    title = f"{cfg['year']}年送温暖活动统计表分单位明细" + ("（示例数据）" if cfg.get("sample") else "")
    title += "（草稿）" if draft else ""
    rows = 3 + values["unit"].nunique() + len(UNIT_TYPES) + 1
    print_setup(ws, title, draft, len(form.items), rows)
    xlsx.cell(
        ws, 0, 0, title, book.style(bold=True, font_size=14, **({"font_color": f"#{RED}"} if draft else {}))
    )
    # each heading broken where it fits its column, never before a closing bracket (包机运送（人次\n）)
    heads = [
        "单位",
        "类型",
        *(xlsx.wrap_label(f"{i.code}\n{i.label}（{i.unit}）", ITEM_WIDTH) for i in form.items),
    ]
    ws.set_row(2, max(90, 15 * max(xlsx.lines_of(h) for h in heads) + 4))
    for c, text in enumerate(heads):
        xlsx.cell(ws, 2, c, text, head)
    wide = aggregate.unit_table(values, [i.code for i in form.items])
    styles = {"wrapped": wrapped, "blank": blank, "bold": bold, **formats}
    r = _unit_rows(ws, form, values, wide, styles)
    _total_rows(ws, form, totals, r, styles)
    return book.bytes()


def _unit_rows(ws, form: Form, values: pd.DataFrame, wide: pd.DataFrame, styles: dict) -> int:
    """A row per unit from row 3: its name (a unit not in the registry said so), type and figures, a blank
    written out; the row after the last."""
    codes = [i.code for i in form.items]
    numbers = pd.to_numeric(values["value"], errors="coerce")
    numbers = (
        values.assign(value=numbers)
        .pivot(index="unit", columns="item", values="value")
        .reindex(index=wide.index, columns=wide.columns)
    )
    if "status" in values:
        blanks = values.pivot(index="unit", columns="item", values="status").reindex(
            index=wide.index, columns=codes
        )
        blanks = blanks.fillna("missing").to_numpy().tolist()
    else:
        blanks = [["missing"] * len(codes)] * len(wide.index)
    kinds = [item.is_money for item in form.items]
    r = 3
    for unit, row, states in zip(wide.index, numbers.to_numpy().tolist(), blanks, strict=True):
        listed = unit in wide.attrs["registered"]
        name = unit + ("" if listed else f"（{NOT_LISTED}，未计入合计）")
        lines = -(-xlsx.display_width(name) // (UNIT_WIDTH - 1))
        xlsx.cell(ws, r, 0, name, styles["wrapped"] if lines > 1 else None)
        if lines > 1:  # LibreOffice does not fit a row to its text when it opens a workbook
            ws.set_row(r, 15 * lines)
        xlsx.cell(ws, r, 1, wide.attrs["types"][unit])
        for c, (v, money, state) in enumerate(zip(row, kinds, states, strict=True), 2):
            if v != v:  # NaN: nothing readable there
                xlsx.cell(ws, r, c, BLANKS.get(state, "未填"), styles["blank"])
            else:
                xlsx.cell(ws, r, c, v if money else int(v), styles[money, False])
        r += 1
    return r


def _total_rows(ws, form: Form, totals: pd.DataFrame, r: int, styles: dict) -> None:
    """From row `r`: the subtotal of each unit type and the city total, as the totals table has them."""
    items = totals[totals["kind"] == "item"].set_index("item")
    for label, column in [*((f"小计：{t}", t) for t in UNIT_TYPES), ("全市合计", "value")]:
        xlsx.cell(ws, r, 0, label, styles["bold"])
        for c, item in enumerate(form.items, 2):
            d = to_decimal(items.loc[item.code, column])
            if d is not None:
                xlsx.cell(ws, r, c, float(d) if item.is_money else int(d), styles[item.is_money, True])
        r += 1
