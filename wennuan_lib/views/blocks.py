"""What the notebooks show the analyst: first the answer to the step's question in a few lines, then the
details as interactive tables.

The tables are itables (DataTables embedded in the notebook's output: sort, search, filter panes). They work
in JupyterLab and in the notebook saved as HTML with neither a server nor the internet: `interactive()` embeds
the library once per notebook (about 1 MB). Every table is bounded — at most ROW_LIMIT rows, a grid at most
GRID_UNITS units, the units that need attention first — so a province's 3,000 units still make a notebook of a
few MB; a note then says where the whole table is (the CSV and the review workbook).

Text from the units' files is escaped here (cells are HTML so that colours and hover text can be added).
"""

from __future__ import annotations

from html import escape

import itables
import pandas as pd
from IPython.display import HTML, display

from wennuan_lib.base import catalog
from wennuan_lib.vocab import COLOURS, WHITE_TEXT

ROW_LIMIT = 2000  # rows of one interactive table; the rest are in the CSV and the review workbook
GRID_UNITS = 200  # units of a unit × item grid
LIST_LIMIT = 12  # names in one line of an answer
# Characters of one line of a grid cell's hover text, and of a finding's line when it is on more than
# WIDE_FINDING items: it repeats in each of their cells (H02 on all 65 items lists every figure, 1,100
# characters: 105 MB of notebook at 200 units when whole).
HOVER_LINE = 120
HOVER_WIDE = 40
WIDE_FINDING = 6


CSS = """
.wn-answer { font-size: 14px; line-height: 1.8; margin: 4px 0 12px; }
.wn-answer b.wn-big { font-size: 16px; }
.wn-answer ul { margin: 2px 0 2px 1.2em; padding: 0; }
.wn-note { color: #555; font-size: 13px; }
.wn-b { display: inline-block; padding: 0 6px; border-radius: 3px; white-space: nowrap; }
.wn-legend .wn-b { margin-right: 10px; }
table.dataTable td, table.dataTable th { vertical-align: top; text-align: left !important; }
table.dataTable thead th { white-space: normal; }
table.dataTable.wn-wide td { white-space: normal; }
table.dataTable td.wn-nowrap, table.dataTable th.wn-nowrap { white-space: nowrap; }
table.dataTable td.wn-long { min-width: 16em; }
table.dataTable td.wn-mid { min-width: 8em; }
table.dataTable td.wn-num, table.dataTable th.wn-num { text-align: right !important; white-space: nowrap; }
table.dataTable.wn-grid thead th { min-width: 5.5em; max-width: 8em; font-size: 12.5px; }
table.dataTable.wn-grid thead th .wn-code { font-weight: normal; color: #555; font-size: 11.5px; }
table.dataTable.wn-grid td { text-align: right !important; white-space: nowrap; }
table.dataTable.wn-grid td:first-child { text-align: left !important; }
"""
CSS += "".join(
    f".wn-{name} {{ background: {colour};{' color: white;' if name in WHITE_TEXT else ''} }}\n"
    for name, colour in COLOURS.items()
)
# A cell holding a coloured mark takes its colour (where the browser knows :has, every current one does).
CSS += "".join(
    f"table.dataTable td:has(> .wn-c.wn-{name}) {{ background: {COLOURS[name]}; }}\n"
    for name in ("error", "warning", "waived", "missing", "unreadable", "not_found", "approx", "corrected")
)
CSS += "".join(
    f"table.dataTable tr:has(.wn-row-{name}) > td {{ background: {COLOURS[name]}40; }}\n"
    for name in ("error", "warning", "waived", "not_reported", "form_unreadable", "late")
)

LANGUAGE = {
    "search": "搜索：",
    "lengthMenu": "每页 _MENU_ 行",
    "info": "第 _START_–_END_ 行，共 _TOTAL_ 行",
    "infoEmpty": "没有符合条件的行",
    "infoFiltered": "（从 _MAX_ 行中筛选）",
    "zeroRecords": "没有符合条件的行",
    "emptyTable": "（无）",
    "paginate": {"first": "首页", "last": "末页", "next": "下一页", "previous": "上一页"},
    "searchPanes": {
        "title": {"_": "已选 %d 项筛选条件", "0": "点选下面的条件筛选（可多选）", "1": "已选 1 项筛选条件"},
        "clearMessage": "清除全部筛选",
        "collapse": {"0": "筛选", "_": "筛选（%d）"},
        "emptyPanes": "",
        "loadMessage": "正在加载筛选…",
        "showMessage": "全部展开",
        "collapseMessage": "全部收起",
        "count": "{total}",
        "countFiltered": "{shown}（{total}）",
    },
}


# --- building blocks ----------------------------------------------------------------------------------------


def interactive() -> None:
    """Embed the table library in this notebook (once, before the first table): no internet needed to read
    it."""
    itables.init_notebook_mode(all_interactive=False, connected=False)
    display(HTML(f"<style>{CSS}</style>"))


def badge(text: str, kind: str, key: int | None = None) -> str:
    """A coloured mark (`kind` a key of COLOURS); `key` makes a column sort by it rather than by its words."""
    order = f" data-k='{key}'" if key is not None else ""
    return f"<span class='wn-b wn-{kind}'{order}>{escape(text)}</span>"


# Every cell is HTML (text escaped here, marks and hover text added). DataTables and its filter panes would
# each take the text out of it their own way: the panes strip the tags, the search strips them only in columns
# it takes for HTML, and a column whose sort key is a number is taken for numbers, so that the text a pane
# offers and the text a row is searched by differ and a filter matches nothing. So one function gives every
# column of every table what each use needs: the HTML to display; the text as shown (tags taken out,
# entities read) to search and filter by; a mark's key (data-k) before that text to sort by (必须修改 before
# 请核实 before 已豁免), its own text otherwise.
CELL = itables.JavascriptFunction(
    r"""function (data, type) {
  if (type === 'display' || data === null || data === undefined) { return data; }
  var html = String(data);
  var text = html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ').trim();
  if (type === 'sort' || type === 'type') {
    var key = /data-k='(\d+)'/.exec(html);
    if (key) { return ('00000' + key[1]).slice(-6) + ' ' + text; }
  }
  return text;
}"""
)


def legend(*pairs: tuple[str, str]) -> HTML:
    """A line of coloured marks saying what each colour means: (text, kind)."""
    return HTML("<div class='wn-legend wn-note'>" + "".join(badge(t, k) for t, k in pairs) + "</div>")


def name_list(names: list[str], limit: int = LIST_LIMIT) -> str:
    names = list(dict.fromkeys(names))
    shown = "、".join(escape(n) for n in names[:limit])
    return shown + (f" 等 {len(names)} 个" if len(names) > limit else "")


def answer(title: str, lines: list[str]) -> HTML:
    """The answer to a notebook's question: a headline and a few lines (HTML, already escaped)."""
    items = "".join(f"<li>{line}</li>" for line in lines if line)
    return HTML(f"<div class='wn-answer'><b class='wn-big'>{title}</b><ul>{items}</ul></div>")


def _text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return escape(str(value))


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    html: tuple[str, ...] = (),
    panes: tuple[str, ...] = (),
    page: int = 20,
    wide: bool = False,
    grid: bool = False,
    fixed: int = 0,
    numeric: tuple[str, ...] = (),
    nowrap: tuple[str, ...] = (),
    long: tuple[str, ...] = (),
    mid: tuple[str, ...] = (),
    limit: int = ROW_LIMIT,
    whole: str = "",
    headers: dict[str, str] | None = None,
) -> HTML:
    """An interactive table. `html`: columns already holding HTML (everything else is escaped here); `panes`:
    columns offered as filter panes (click to filter, counts shown); `numeric`: right-aligned columns;
    `nowrap`: short columns kept on one line, `long` / `mid`: columns given room (messages, names); `headers`:
    HTML for column headings (item names with hover text). More than `limit` rows are cut, with a note naming
    `whole`, where all of them are."""
    cut = len(frame) - limit
    frame = frame.head(limit) if cut > 0 else frame
    body = pd.DataFrame(
        {c: (frame[c].astype(str) if c in html else frame[c].map(_text)) for c in frame.columns}
    )
    headers = headers or {}
    body.columns = [headers.get(c, escape(str(c))) for c in frame.columns]
    columns = list(frame.columns)
    widths = {"wn-num": numeric, "wn-nowrap": nowrap, "wn-long": long, "wn-mid": mid}
    options = _options(name, columns, page, widths, " wn-wide" * wide + " wn-grid" * grid)
    if grid or fixed:
        options.update(scrollX=True, fixedColumns={"left": max(fixed, 1)})
    if panes:
        options.update(_panes(columns, panes))
    if len(frame) <= page and not panes:
        options["paging"] = False
    out = itables.to_html_datatable(body, **options)
    if cut > 0:
        out += (
            f"<p class='wn-note'>这里只列出前 {limit} 行，另有 {cut} 行未显示；全部见 {escape(whole)}。</p>"
        )
    return HTML(out)


def _options(name: str, columns: list, page: int, widths: dict[str, tuple[str, ...]], classes: str) -> dict:
    """DataTables' options for every table: Chinese words, no index, every cell through CELL; `widths`: a CSS
    class → the columns that take it."""
    return {
        "table_id": f"wn_{name}",
        "allow_html": True,
        "connected": False,
        "display_logo_when_loading": False,
        "showIndex": False,
        "maxBytes": 0,
        "maxColumns": 0,
        "pageLength": page,
        "language": LANGUAGE,
        "lengthMenu": [10, 20, 50, 100, 500],
        "classes": "display compact cell-border" + classes,
        "order": [],
        "autoWidth": False,
        "columnDefs": [
            {"targets": [columns.index(c) for c in group], "className": css}
            for css, group in widths.items()
            if group
        ]
        + [{"targets": "_all", "render": CELL}],
    }


def _panes(columns: list, panes: tuple[str, ...]) -> dict:
    """Filter panes above the table for the columns `panes` (click to filter, counts shown, cascading)."""
    return {
        "layout": {"top1": "searchPanes"},
        "searchPanes": {
            "columns": [columns.index(c) for c in panes],
            "cascadePanes": True,
            "layout": f"columns-{len(panes)}",
            "viewTotal": True,
            "dtOpts": {"order": []},
        },
    }


def item_headers(form, codes: list[str]) -> dict[str, str]:
    """Column headings for items: the item's name and measure, its code below; hovering shows the printed
    sentence."""
    sentences = {code: line for line in form.layout for code in line.codes}
    out = {}
    for code in codes:
        item = form.item(code)
        line = sentences.get(code)
        hover = f"{code}：{item.label}（{item.unit}）"
        if line is not None:
            printed = line.text.replace("{" + code + "}", "【此处】")
            for other in line.codes:
                printed = printed.replace("{" + other + "}", "____")
            hover += f"\n表式第{line.row}行{line.letter}：{printed}"
        out[code] = (
            f"<span title='{escape(hover)}'>{escape(item.label)}<br>"
            f"<span class='wn-code'>{escape(code)}（{escape(item.unit)}）</span></span>"
        )
    return out


def item_name(form, code: str) -> str:
    """An item as the analyst reads it: its code and name ("（整份表）" for a finding on the whole form)."""
    if not code:
        return "（整份表）"
    return f"{code} {form.item(code).label}" if form is not None and code in form.codes else code


# --- units × items grids ------------------------------------------------------------------------------------


def grid_units(values: pd.DataFrame, attention: pd.Series) -> tuple[pd.DataFrame, str]:
    """At most GRID_UNITS units: those with something to look at first, then the others in their order."""
    units = list(dict.fromkeys(values["unit"]))
    if len(units) <= GRID_UNITS:
        return values, ""
    flagged = list(dict.fromkeys(values.loc[attention, "unit"]))
    first = set(flagged)
    keep = (flagged + [u for u in units if u not in first])[:GRID_UNITS]
    rank = {u: k for k, u in enumerate(keep)}
    shown = values[values["unit"].isin(rank)]
    shown = shown.iloc[shown["unit"].map(rank).argsort(kind="stable")]
    note = (
        f"<p class='wn-note'>共 {len(units)} 个单位，这里显示 {GRID_UNITS} 个（有问题的单位在前）；"
        f"全部数据见 {catalog.file_name('values')} 和 {catalog.file_name('review_workbook')}。</p>"
    )
    return shown, note


def grid_table(values: pd.DataFrame, cells: list[str], form, name: str) -> HTML:
    present = set(values["item"])
    order = (
        [c for c in form.codes if c in present] if form is not None else list(dict.fromkeys(values["item"]))
    )
    units = list(dict.fromkeys(values["unit"]))
    wide = (
        pd.DataFrame({"unit": values["unit"].to_numpy(), "item": values["item"].to_numpy(), "cell": cells})
        .pivot(index="unit", columns="item", values="cell")
        .reindex(index=units, columns=order)
        .fillna("")
    )
    frame = wide.reset_index().rename(columns={"unit": "单位"})
    frame["单位"] = frame["单位"].map(escape)
    headers = item_headers(form, order) if form is not None else {}
    return table(
        frame, name, html=tuple(frame.columns), grid=True, headers=headers, page=50, limit=GRID_UNITS
    )


def brief(text: str, size: int) -> str:
    """`text`, or its first `size` characters and "……"."""
    return text if len(text) <= size else text[:size] + "……"


def mark_cell(kind: str, text: str, hover: str) -> str:
    """A grid cell: its text, coloured by `kind`, with `hover` shown on pointing at it, each line cut to
    HOVER_LINE characters (the whole text is in the table the grid's note names)."""
    hover = "\n".join(brief(line, HOVER_LINE) for line in hover.split("\n"))
    title = f" title='{escape(hover)}'" if hover else ""
    return (
        f"<span class='wn-c wn-{kind}'{title}>{escape(text)}</span>"
        if kind
        else (f"<span{title}>{escape(text)}</span>" if title else escape(text))
    )
