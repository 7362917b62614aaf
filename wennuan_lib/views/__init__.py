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

from wennuan_lib.base import catalog, config
from wennuan_lib.check.findings import TOTALS_ACTION, _state, actions, sort_findings  # noqa: F401
from wennuan_lib.check.rules import AUDIT_ID, ERROR, SEVERITY_LABELS, TOTALS, is_open
from wennuan_lib.publish import feedback
from wennuan_lib.publish.narrative import official_number
from wennuan_lib.read.layouts import LAYOUT_LABELS
from wennuan_lib.read.parse import VALUE_LABELS, to_decimal
from wennuan_lib.vocab import (
    COLOURS,
    NOT_REPORTED,
    REPORTED,
    STATUS_LABELS,
    UNREADABLE,
    WAIVED,
    WHITE_TEXT,
)

ROW_LIMIT = 2000  # rows of one interactive table; the rest are in the CSV and the review workbook
GRID_UNITS = 200  # units of a unit × item grid
LIST_LIMIT = 12  # names in one line of an answer


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


def _names(names: list[str], limit: int = LIST_LIMIT) -> str:
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
    options: dict = {
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
        "classes": "display compact cell-border"
        + (" wn-wide" if wide else "")
        + (" wn-grid" if grid else ""),
        "order": [],
        "autoWidth": False,
        "columnDefs": [
            {"targets": [columns.index(c) for c in group], "className": css}
            for group, css in ((numeric, "wn-num"), (nowrap, "wn-nowrap"), (long, "wn-long"), (mid, "wn-mid"))
            if group
        ],
    }
    options["columnDefs"].append({"targets": "_all", "render": CELL})
    if grid or fixed:
        options.update(scrollX=True, fixedColumns={"left": max(fixed, 1)})
    if panes:
        options["layout"] = {"top1": "searchPanes"}
        options["searchPanes"] = {
            "columns": [columns.index(c) for c in panes],
            "cascadePanes": True,
            "layout": f"columns-{len(panes)}",
            "viewTotal": True,
            "dtOpts": {"order": []},
        }
    if len(frame) <= page and not panes:
        options["paging"] = False
    out = itables.to_html_datatable(body, **options)
    if cut > 0:
        out += (
            f"<p class='wn-note'>这里只列出前 {limit} 行，另有 {cut} 行未显示；全部见 {escape(whole)}。</p>"
        )
    return HTML(out)


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


# --- 01 读取 ------------------------------------------------------------------------------------------------


def ingest_answer(frames: dict) -> HTML:
    """What came in, and what could not be read (and from whom)."""
    log, values, subs = frames["ingest_log"], frames["values"], frames["submissions"]
    counts = log["status"].map(STATUS_LABELS).value_counts()
    made = "，".join(
        f"{label} {int(counts[label])} 个"
        for label in STATUS_LABELS.values()
        if counts.get(label, 0) and label != "已读取"
    )
    units = values["unit"].nunique() if len(values) else 0
    lines = [
        f"收件箱共 {len(log)} 个文件：读取统计表 {int(counts.get('已读取', 0))} 份（{units} 个单位）"
        + (f"，{made}" if made else "")
        + "。"
    ]
    rejected = log[log["status"] == "rejected"]
    if len(rejected):
        lines.append(
            f"<b>无法读取 {len(rejected)} 个文件</b>（请联系单位换一种格式重新报送）：<ul>"
            + "".join(
                f"<li>{escape(r['unit'] or '单位不明')}：「{escape(r['file'])}」{escape(r['reason'])}</li>"
                for r in rejected.head(LIST_LIMIT).to_dict("records")
            )
            + "</ul>"
            + (
                f"另有 {len(rejected) - LIST_LIMIT} 个，见下方读取日志。"
                if len(rejected) > LIST_LIMIT
                else ""
            )
        )
    else:
        lines.append("每个文件都已读取或说明了原因，没有无法读取的文件。")
    empty = log[(log["status"] == "read") & (log["status_label"] != STATUS_LABELS["read"])]
    if len(empty):
        lines.append(
            f"读到了统计表但没有一个数字：{_names(list(empty['unit']))}（{escape(empty['status_label'].iloc[0])}）"
        )
    if len(values):
        status = values["status"].value_counts()
        parts = [
            f"{VALUE_LABELS[s]} {int(status[s])} 项"
            for s in ("missing", "unreadable", "not_found")
            if status.get(s, 0)
        ]
        if int(values["approx"].sum()):
            parts.append(f"约数 {int(values['approx'].sum())} 项")
        if parts:
            lines.append(
                "读到的数字中：" + "，".join(parts) + "（见下方“需要核实的填写”，第02步逐条列为审核意见）"
            )
        unregistered = values.loc[~values["registered"], "unit"].unique().tolist()
        if unregistered:
            lines.append(
                f"不在单位名录中的单位：{_names(unregistered)}"
                "（请核实后加入 inputs/units.csv，或写成某个单位的别名）"
            )
    superseded = subs[subs["status"] == "superseded"]
    if len(superseded):
        lines.append(f"同一单位报了多份、以填报日期最新的为准：{_names(list(superseded['unit']))}")
    return answer("读到了什么，哪些读不了", lines)


def log_table(log: pd.DataFrame) -> HTML:
    kinds = {"rejected": "error", "superseded": "waived", "skipped": "waived", "summary": "ok"}
    order = {"rejected": 0, "read": 1, "summary": 2, "superseded": 3, "unpacked": 4, "skipped": 5}
    log = log.iloc[log["status"].map(order).fillna(9).argsort(kind="stable")]
    frame = pd.DataFrame(
        {
            "处理结果": [
                badge(label, kinds.get(s, "ok"), order.get(s, 9)) if s in kinds else escape(label)
                for s, label in zip(log["status"], log["status_label"], strict=True)
            ],
            "单位": log["unit"],
            "文件": log["file"],
            "说明": log["reason"],
            "格式": log["layout"].map(lambda v: LAYOUT_LABELS.get(v, v)),
        }
    )
    return table(
        frame,
        "log",
        html=("处理结果",),
        nowrap=("处理结果",),
        mid=("单位", "文件"),
        long=("说明",),
        wide=True,
        whole=catalog.file_name("ingest_log"),
    )


def submissions_table(subs: pd.DataFrame) -> HTML:
    headings = {
        "unit": "单位",
        "unit_type": "类型",
        "status": "状态",
        "date": "填报日期",
        "person": "填报人",
        "phone": "联系电话",
        "layout": "格式",
        "written_unit": "填报单位（原文）",
        "unit_how": "单位认定",
        "file": "文件",
    }
    frame = subs[list(headings)].rename(columns=headings)
    frame["状态"] = frame["状态"].map({"read": "有效", "superseded": "已被替代"})
    frame["格式"] = frame["格式"].map(lambda v: LAYOUT_LABELS.get(v, v))
    return table(frame, "subs", panes=("状态", "类型", "格式"), whole=catalog.file_name("submissions"))


def _grid_units(values: pd.DataFrame, attention: pd.Series) -> tuple[pd.DataFrame, str]:
    """At most GRID_UNITS units: those with something to look at first, then the others in their order."""
    units = list(dict.fromkeys(values["unit"]))
    if len(units) <= GRID_UNITS:
        return values, ""
    flagged = list(dict.fromkeys(values.loc[attention, "unit"]))
    keep = (flagged + [u for u in units if u not in set(flagged)])[:GRID_UNITS]
    rank = {u: k for k, u in enumerate(keep)}
    shown = values[values["unit"].isin(rank)]
    shown = shown.iloc[shown["unit"].map(rank).argsort(kind="stable")]
    note = (
        f"<p class='wn-note'>共 {len(units)} 个单位，这里显示 {GRID_UNITS} 个（有问题的单位在前）；"
        f"全部数据见 {catalog.file_name('values')} 和 {catalog.file_name('review_workbook')}。</p>"
    )
    return shown, note


def _grid(values: pd.DataFrame, cells: list[str], form, name: str) -> HTML:
    order = (
        [c for c in form.codes if c in set(values["item"])]
        if form is not None
        else list(dict.fromkeys(values["item"]))
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


def _cell(kind: str, text: str, hover: str) -> str:
    title = f" title='{escape(hover)}'" if hover else ""
    return (
        f"<span class='wn-c wn-{kind}'{title}>{escape(text)}</span>"
        if kind
        else (f"<span{title}>{escape(text)}</span>" if title else escape(text))
    )


def value_grid(values: pd.DataFrame, form=None) -> HTML:
    """Units as rows, items as columns (named, hover for the printed sentence); colour marks blanks not filled
    in, unreadable and approximate ones; hovering a marked cell shows what was written and where."""
    if values.empty:
        return HTML("<p>没有读到任何统计表。</p>")
    attention = (values["status"] != "ok") | values["approx"]
    values, note = _grid_units(values, attention)
    cells = []
    for r in values[["status", "approx", "value", "raw_text", "location", "note", "file"]].itertuples(
        index=False
    ):
        if r.status != "ok":
            kind, text = r.status, VALUE_LABELS[r.status]
        elif r.approx:
            kind, text = "approx", "约" + r.value
        else:
            cells.append(escape(r.value))
            continue
        hover = f"原文「{r.raw_text.strip()}」；{r.file} {r.location}" + (f"；{r.note}" if r.note else "")
        cells.append(_cell(kind, text, hover))
    grid = _grid(values, cells, form, "values_grid")
    key = legend(("未填", "missing"), ("无法识别 / 表中未找到", "unreadable"), ("约数", "approx"))
    return HTML(key.data + grid.data + note)


def problems(values: pd.DataFrame) -> HTML:
    """Every blank that needs a second look: not filled in, unreadable, approximate or with a note."""
    mask = (values["status"] != "ok") | values["approx"] | (values["note"] != "")
    rows = values[mask]
    what = rows["status"].map(VALUE_LABELS).where(rows["status"] != "ok", "有说明（如自动换算）")
    what = what.where(~(rows["approx"] & (rows["status"] == "ok")), "约数，待确认")
    frame = pd.DataFrame(
        {
            "情况": what,
            "单位": rows["unit"],
            "项目": rows["item"] + " " + rows["label"],
            "原文": rows["raw_text"],
            "读取值": rows["value"],
            "说明": rows["note"],
            "文件": rows["file"],
            "位置": rows["location"],
        }
    )
    return table(
        frame,
        "problems",
        panes=("情况", "单位"),
        nowrap=("情况",),
        mid=("单位", "项目"),
        long=("说明", "文件"),
        wide=True,
        whole=catalog.file_name("extracted"),
    )


def summaries_table(summaries: pd.DataFrame) -> HTML:
    frame = pd.DataFrame(
        {
            "单位": summaries["unit"],
            "文件": summaries["file"],
            "字数": summaries["chars"],
            "开头": summaries["text"].str.slice(0, 80) + "…",
        }
    )
    return table(
        frame,
        "summaries",
        numeric=("字数",),
        mid=("单位", "文件"),
        long=("开头",),
        wide=True,
        whole=catalog.file_name("summaries"),
    )


# --- 02 审核 ------------------------------------------------------------------------------------------------


def _who(issues: pd.DataFrame) -> pd.Series:
    """Whose finding: a unit's, the city total's (a consequence of the units' figures), or the analyst's own
    files."""
    return pd.Series(
        [
            "registers" if r == AUDIT_ID else ("totals" if u == TOTALS else "unit")
            for u, r in zip(issues["unit"], issues["rule"], strict=True)
        ],
        index=issues.index,
        dtype=object,
    )


def clean_answer(frames: dict) -> HTML:
    """What is wrong, and with whom."""
    issues = frames["issues"]
    state, who = _state(issues), _who(issues)
    n = state.value_counts()
    units_err = issues.loc[(state == ERROR) & (who == "unit"), "unit"]
    lines = [
        f"<b>必须修改 {int(n.get('error', 0))} 条</b>（{units_err.nunique()} 个单位），"
        f"请核实 {int(n.get('warning', 0))} 条（{issues.loc[state == 'warning', 'unit'].nunique()} 个单位），"
        f"已豁免 {int(n.get('waived', 0))} 条。"
    ]
    if len(units_err):
        top = units_err.value_counts(sort=False)
        top = top.iloc[(-top.to_numpy()).argsort(kind="stable")]
        shown = "、".join(f"{escape(u)} {c} 条" for u, c in top.head(LIST_LIMIT).items())
        lines.append(
            f"必须修改的意见最多的单位：{shown}" + (f" 等 {len(top)} 个单位" if len(top) > LIST_LIMIT else "")
        )
    totals = issues[(who == "totals") & (state == ERROR)]
    if len(totals):
        lines.append(
            f"{TOTALS} {len(totals)} 条（{'、'.join(escape(r) for r in totals['rule'])}）："
            "全市合计是各单位数字之和，"
            "这些不平衡是由各单位的数字推出的，没有人需要为此重新报送。改正有关单位的数字（更正登记）后会自动消失；"
            "核实后确实无法改正的，可以在 waivers.csv 中豁免。"
        )
    registers = issues[(who == "registers") & is_open(issues)]
    if len(registers):
        lines.append(
            f"<b>登记表本身有误 {len(registers)} 条</b>"
            "（不是单位的问题，请改正 corrections.csv / waivers.csv）："
            + "；".join(escape(m) for m in registers["message"].head(5))
        )
    lines.append("上年数据：" + ("已用于历史审核" if frames.get("has_previous") else "没有（未做历史审核）"))
    return answer("哪里有问题，是哪些单位", lines)


def _severity_badge(state: str) -> str:
    rank = {"error": 1, "warning": 2, "waived": 3}[state]
    return (
        badge(WAIVED if state == "waived" else SEVERITY_LABELS[state], state, rank)
        + f"<span class='wn-row-{state}'></span>"
    )


def findings_table(issues: pd.DataFrame, form=None, name: str = "findings") -> HTML:
    """Every finding, most serious first; filter panes by category, kind of check, rule, unit and item;
    search."""
    issues = sort_findings(issues)
    state = _state(issues)
    frame = pd.DataFrame(
        {
            "类别": [_severity_badge(s) for s in state],
            "审核类别": issues["check_type"],
            "规则": issues["rule"],
            "单位": issues["unit"],
            "项目": [item_name(form, c) for c in issues["item"]],
            "问题": issues["message"],
            "处理意见": actions(issues),
            "豁免理由": issues["waiver_reason"],
        }
    )
    return table(
        frame,
        name,
        html=("类别",),
        panes=("类别", "审核类别", "规则", "单位", "项目"),
        wide=True,
        nowrap=("类别", "审核类别", "规则"),
        mid=("单位", "项目", "豁免理由"),
        long=("问题", "处理意见"),
        whole=f"{catalog.file_name('issues')} 和 {catalog.file_name('review_workbook')}",
    )


def finding_grid(values: pd.DataFrame, issues: pd.DataFrame, form=None) -> HTML:
    """Units × items, each cell coloured by its worst open finding; hovering shows the findings and
    corrections."""
    worst: dict[tuple[str, str], str] = {}
    notes: dict[tuple[str, str], list[str]] = {}
    rank = {"waived": 0, "warning": 1, "error": 2}
    for unit, items, state, message in zip(
        issues["unit"].tolist(),
        issues["items"].tolist(),
        _state(issues).tolist(),
        issues["message"].tolist(),
        strict=True,
    ):
        for item in str(items).split("|"):
            if rank[state] >= rank.get(worst.get((unit, item), "waived"), -1):
                worst[(unit, item)] = state
            notes.setdefault((unit, item), []).append(message)
    attention = (
        pd.Series(
            [(u, i) in worst for u, i in zip(values["unit"], values["item"], strict=True)], index=values.index
        )
        | values["corrected"]
    )
    values, note = _grid_units(values, attention)
    cells = []
    for r in values[
        ["unit", "item", "status", "value", "corrected", "original_value", "correction_reason"]
    ].itertuples(index=False):
        text = r.value if r.status == "ok" else VALUE_LABELS[r.status]
        hover = list(notes.get((r.unit, r.item), []))
        kind = worst.get((r.unit, r.item), "")
        if r.corrected:
            text += "（更正）"
            hover.append(f"已更正：原值 {r.original_value or '未填'}，{r.correction_reason}")
            kind = kind or "corrected"
        cells.append(_cell(kind, text, "\n".join(hover)))
    grid = _grid(values, cells, form, "findings_grid")
    key = legend(
        ("必须修改", "error"), ("请核实", "warning"), (WAIVED, "waived"), ("已更正的数字", "corrected")
    )
    return HTML(key.data + grid.data + note)


def audit_table(audit: pd.DataFrame) -> HTML:
    if audit.empty:
        return HTML("<p class='wn-note'>更正登记表和豁免登记表中没有登记。</p>")
    results = {
        "applied": ("已应用", "ok"),
        "unmatched": ("未能应用（错误）", "error"),
        "duplicate": ("重复，只应用一次", "warning"),
    }
    frame = pd.DataFrame(
        {
            "结果": [badge(*results.get(s, (s, "waived"))) for s in audit["status"]],
            "登记表": audit["kind"] + "登记表",
            "行号": audit["line"],
            "登记的单位": audit["written_unit"],
            "对应单位": audit["unit"],
            "项目": audit["item"],
            "规则": audit["rule"],
            "原值": audit["original"],
            "更正值": audit["value"],
            "理由": audit["reason"],
            "说明": audit["message"],
        }
    )
    return table(
        frame,
        "audit",
        html=("结果",),
        nowrap=("结果", "登记表", "行号", "项目", "规则"),
        long=("理由", "说明"),
        mid=("登记的单位", "对应单位"),
        wide=True,
        whole=catalog.file_name("audit"),
    )


# --- 03 报送情况 --------------------------------------------------------------------------------------------

STATUS_LEGEND = (
    ("未报统计表", "not_reported"),
    ("已报但无法读取", "form_unreadable"),
    ("逾期", "late"),
    ("书面总结未报", "no_summary"),
    ("不在名录中", "unregistered"),
)


def _urgency(st: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [
            0
            if f == NOT_REPORTED
            else 1
            if f == UNREADABLE
            else 2
            if late == "逾期"
            else 3
            if s == "未报"
            else 4
            if not reg
            else 5
            for f, late, s, reg in zip(st["form"], st["late"], st["summary"], st["registered"], strict=True)
        ],
        index=st.index,
    )


def reconcile_answer(st: pd.DataFrame, feedback_files: list, issues: pd.DataFrame, folder=None) -> HTML:
    """Who is missing or late, and what goes back to whom (`folder`: where the analyst finds the feedback
    files, outputs/<年度>/feedback)."""
    expected = st[st["registered"]]
    lines = [
        f"应报 {len(expected)} 个单位：已报统计表 {int((expected['form'] == REPORTED).sum())} 个，"
        f"书面总结已报 {int((expected['summary'] == '已报').sum())} 个。"
    ]
    missing = st[st["form"] == NOT_REPORTED]
    lines.append(
        f"{badge('未报统计表', 'not_reported')} {len(missing)} 个：{_names(list(missing['unit'])) or '无'}"
        + ("（请催报）" if len(missing) else "")
    )
    late = st[st["late"] == "逾期"]
    lines.append(
        f"{badge('逾期', 'late')} {len(late)} 个："
        + (
            "、".join(
                f"{escape(u)}（{d}天）"
                for u, d in zip(
                    late["unit"].head(LIST_LIMIT), late["days_late"].head(LIST_LIMIT), strict=True
                )
            )
            or "无"
        )
        + (" 等" if len(late) > LIST_LIMIT else "")
    )
    bad = st[st["form"] == UNREADABLE]
    lines.append(
        f"{badge('已报但无法读取', 'form_unreadable')} {len(bad)} 个"
        + (
            "：请单位换一种格式重新报送<ul>"
            + "".join(
                f"<li>{escape(u)}：{escape(p)}</li>"
                for u, p in zip(
                    bad["unit"].head(LIST_LIMIT), bad["form_problem"].head(LIST_LIMIT), strict=True
                )
            )
            + "</ul>"
            if len(bad)
            else "：无"
        )
    )
    no_summary = expected[expected["summary"] == "未报"]
    lines.append(
        f"{badge('书面总结未报', 'no_summary')} {len(no_summary)} 个："
        f"{_names(list(no_summary['unit'])) or '无'}"
    )
    unregistered = st[~st["registered"]]
    if len(unregistered):
        lines.append(
            f"{badge('不在名录中', 'unregistered')}：{_names(list(unregistered['unit']))}"
            "（请核实后加入 inputs/units.csv）"
        )
    if feedback_files:
        where = escape(str(folder or feedback_files[0].parent))
        lines.append(
            f"<b>反馈表 {len(feedback_files)} 份</b>，在 <code>{where}</code>，"
            "每个有未解决审核意见的单位一份，可直接发给单位（见下表“反馈表”一列）。"
        )
    else:
        lines.append("没有需要发回单位的审核意见，没有生成反馈表。")
    who = _who(issues)
    open_ = is_open(issues)
    totals = int(((who == "totals") & open_).sum())
    registers = issues[(who == "registers") & open_]
    if totals:
        lines.append(f"{TOTALS}的 {totals} 条意见由各单位的数字推出，不发反馈表：单位的数字改正后自动消失。")
    if len(registers):
        lines.append(
            f"登记表中写错的单位「{'」「'.join(escape(u) for u in dict.fromkeys(registers['unit']))}」"
            "不是报送单位：请改正 corrections.csv / waivers.csv 中的那一行。"
        )
    return answer("谁没报、谁逾期，什么要发回给谁", lines)


def feedback_file_of(st: pd.DataFrame, issues: pd.DataFrame, feedback_files: list) -> dict[str, str]:
    """Each unit's feedback workbook among those the step made (named as feedback.write_all names them)."""
    made = {p.name for p in feedback_files}
    units = set(st.loc[st["form"] == REPORTED, "unit"])
    open_units = list(dict.fromkeys(issues.loc[is_open(issues) & issues["unit"].isin(units), "unit"]))
    return {
        u: f"{stem}.xlsx" for u, stem in feedback.file_names(open_units).items() if f"{stem}.xlsx" in made
    }


def status_table(
    st: pd.DataFrame, feedback_files: list | None = None, issues: pd.DataFrame | None = None
) -> HTML:
    """Every unit: what it sent, when, and what goes back to it; the units to chase first."""
    st = st.iloc[_urgency(st).argsort(kind="stable")]
    files = feedback_file_of(st, issues, feedback_files) if feedback_files and issues is not None else {}
    form = [
        badge(f, "not_reported" if f == NOT_REPORTED else "form_unreadable", 0 if f == NOT_REPORTED else 1)
        if f != REPORTED
        else escape(f)
        for f in st["form"]
    ]
    late = [
        badge(f"逾期 {d} 天" if d != "" else "逾期", "late") if v == "逾期" else escape(v)
        for v, d in zip(st["late"], st["days_late"], strict=True)
    ]
    summary = [badge("未报", "no_summary") if s == "未报" else escape(s) for s in st["summary"]]
    unit = [
        escape(u) + ("" if reg else " " + badge("不在名录中", "unregistered"))
        for u, reg in zip(st["unit"], st["registered"], strict=True)
    ]
    row = [
        f"<span class='wn-row-{k}'></span>" if k else ""
        for k in _urgency(st).map({0: "not_reported", 1: "form_unreadable", 2: "late"}).fillna("")
    ]
    frame = pd.DataFrame(
        {
            "单位": [u + r for u, r in zip(unit, row, strict=True)],
            "类型": st["unit_type"],
            "统计表": form,
            "填报日期": st["form_date"],
            "是否按时": late,
            "书面总结": summary,
            "必须修改": st["errors"],
            "请核实": st["warnings"],
            "已豁免": st["waived"],
            "反馈表": [files.get(u, "") for u in st["unit"]],
            "无法读取的文件及原因": st["form_problem"],
        }
    )
    board = table(
        frame,
        "status",
        html=("单位", "统计表", "是否按时", "书面总结"),
        panes=("类型", "统计表", "书面总结"),
        page=50,
        mid=("单位", "反馈表"),
        nowrap=("类型", "统计表", "填报日期", "是否按时", "书面总结"),
        long=("无法读取的文件及原因",),
        numeric=("必须修改", "请核实", "已豁免"),
        wide=True,
        whole=catalog.file_name("reporting_status"),
    )
    return HTML(legend(*STATUS_LEGEND).data + board.data)


def by_unit_table(table_: pd.DataFrame, st: pd.DataFrame) -> HTML:
    """Open findings per unit — units only: the city total and names mistyped in the registers are not
    units."""
    units = set(st["unit"])
    frame = table_[table_["unit"].isin(units)].rename(
        columns={"unit": "单位", "errors": "必须修改", "warnings": "请核实"}
    )
    frame = frame.iloc[
        (-frame["必须修改"].to_numpy() * 100000 - frame["请核实"].to_numpy()).argsort(kind="stable")
    ]
    return table(
        frame, "by_unit", numeric=("必须修改", "请核实"), whole=catalog.file_name("findings_by_unit")
    )


def by_rule_table(table_: pd.DataFrame) -> HTML:
    table_ = table_.iloc[table_["severity"].map({ERROR: 0}).fillna(1).argsort(kind="stable")]
    frame = pd.DataFrame(
        {
            "类别": [_severity_badge(s) for s in table_["severity"]],
            "规则": table_["rule"],
            "审核类别": table_["check_type"],
            "条数": table_["findings"],
            "单位数": table_["units"],
            "示例": table_["example"],
        }
    )
    return table(
        frame,
        "by_rule",
        html=("类别",),
        numeric=("条数", "单位数"),
        nowrap=("类别", "规则", "审核类别"),
        long=("示例",),
        wide=True,
    )


def unit_dossiers(
    values: pd.DataFrame,
    summaries: pd.DataFrame,
    key_items: list[str],
    checks: pd.DataFrame | None = None,
    limit: int = 100,
) -> HTML:
    """Each unit's written summary beside its key figures, for picking 典型经验. With `checks`
    (summary_checks: the figures a summary states, compared with the form), each figure the summary states is
    shown beside the form's, marked where they disagree."""
    verdicts = {"一致": "agree", "不一致": "disagree", "约数相符": "approx_agree"}
    parts = []
    groups = list(summaries.groupby("unit", sort=False))
    for unit, group in groups[:limit]:
        mine = values[(values["unit"] == unit) & values["item"].isin(key_items)]
        said = checks[checks["unit"] == unit] if checks is not None else None
        stated = {r["item"]: r for r in said.to_dict("records")} if said is not None else {}
        rows = []
        for r in mine.itertuples():
            check = stated.pop(r.item, None)
            rows.append(_dossier_row(r.item, r.label, r.value, r.measure, check, verdicts))
        rows += [
            _dossier_row(c["item"], c["label"], c["form_value"], "", c, verdicts) for c in stated.values()
        ]
        head = (
            "<tr><th>项目</th><th>统计表</th>" + ("<th>书面总结中</th>" if said is not None else "") + "</tr>"
        )
        flag = ""
        if said is not None and (said["verdict"] == "不一致").any():
            flag = " " + badge(
                f"书面总结与统计表有 {int((said['verdict'] == '不一致').sum())} 处不一致", "disagree"
            )
        text = "<br>".join(escape(t) for t in "\n\n".join(group["text"]).split("\n") if t.strip())
        parts.append(
            f"<h3>{escape(unit)}{flag}</h3><div style='display:flex;gap:24px;align-items:flex-start'>"
            f"<table style='flex:0 0 440px'>{head}{''.join(rows) or '<tr><td>未报统计表</td></tr>'}</table>"
            f"<div style='flex:1;line-height:1.7;max-height:320px;overflow:auto'>{text}</div></div>"
        )
    if len(groups) > limit:
        parts.append(
            f"<p class='wn-note'>共 {len(groups)} 个单位报送了书面总结，这里列出前 {limit} 个；"
            f"全文见 {catalog.file_name('summaries')}。</p>"
        )
    return HTML("".join(parts) or "<p>本年度没有单位报送书面总结材料。</p>")


def _dossier_row(item, label, value, measure, check, verdicts) -> str:
    cells = (
        f"<td>{escape(item)} {escape(label)}</td>"
        f"<td style='text-align:right'>{escape(value or '未填')} {escape(measure)}</td>"
    )
    if check is not None:
        kind = verdicts.get(check["verdict"], "waived")
        hover = f"{check['summary_file']}：……{check['summary_text']}……"
        cells += (
            f"<td title='{escape(hover)}'>{escape(check['summary_value'])} "
            f"{badge(check['verdict'], kind)}</td>"
        )
    elif verdicts is not None:
        cells += "<td></td>"
    return f"<tr>{cells}</tr>"


def summary_check_table(checks: pd.DataFrame) -> HTML:
    """The figures the units' summaries state against their forms, disagreements first."""
    order = {"不一致": 0, "约数相符": 1, "一致": 2}
    checks = checks.iloc[checks["verdict"].map(order).fillna(3).argsort(kind="stable")]
    kinds = {"一致": "agree", "不一致": "disagree", "约数相符": "approx_agree"}
    frame = pd.DataFrame(
        {
            "结果": [badge(v, kinds.get(v, "waived"), order.get(v, 3)) for v in checks["verdict"]],
            "单位": checks["unit"],
            "项目": checks["item"] + " " + checks["label"],
            "统计表": checks["form_value"],
            "书面总结": checks["summary_value"],
            "书面总结原文": checks["summary_text"],
            "书面总结文件": checks["summary_file"],
            "统计表位置": checks["form_location"],
        }
    )
    return table(
        frame,
        "summary_checks",
        html=("结果",),
        panes=("结果", "单位"),
        nowrap=("结果", "统计表", "书面总结"),
        mid=("单位", "项目"),
        long=("书面总结原文",),
        wide=True,
    )


# --- 04 书面总结 --------------------------------------------------------------------------------------------


def report_answer(reasons: pd.DataFrame, year, units=None) -> HTML:
    """Is the report final, and what blocks it (draft_reasons, grouped by kind, whatever kinds there are).
    `units`: the reporting units (a name outside them is the city total or a name mistyped in a register)."""
    if reasons.empty:
        return answer(
            "书面总结为<span class='wn-b wn-ok'>定稿</span>",
            [
                "没有未解决的“必须修改”意见和疑似填错的数字，书面总结各部分都已写好，引用的单位材料与原文一致。",
                f"报送后请封存：<code>{escape(config.program())} freeze --year {year}</code>",
            ],
        )
    lines = [f"还有 {len(reasons)} 个问题未解决，报告每页标“草稿”："]
    known = set(units) if units is not None else None
    for kind, group in reasons.groupby("kind", sort=False):
        named = [u for u in group["unit"] if u]
        mine = [u for u in named if known is None or u in known]
        who = f"，涉及 {_names(mine, 8)}" if mine else ""
        if TOTALS in named:
            who += f"；{TOTALS} {named.count(TOTALS)} 条（由各单位的数字推出，单位改正后自动消失）"
        other = [u for u in named if known is not None and u not in known and u != TOTALS]
        if other:
            who += f"；登记表中写错的单位 {_names(other, 4)}（请改正登记表）"
        example = "" if named else "：" + "；".join(escape(m) for m in group["message"].head(3))
        lines.append(f"<b>{escape(kind)}</b> {len(group)} 条{who}{example}")
    lines.append(
        f"改正后（更正、豁免写入 inputs/{year}/ 的登记表，或补写 narrative.md）重新运行："
        f"<code>{escape(config.program())} run --year {year}</code>"
    )
    return answer("书面总结为<span class='wn-b wn-error'>草稿</span>", lines)


def draft_table(reasons: pd.DataFrame, form=None) -> HTML:
    if reasons.empty:
        return HTML("<p>没有未解决的问题，报告为定稿。</p>")
    frame = pd.DataFrame(
        {
            "类别": reasons["kind"],
            "单位": reasons["unit"],
            "项目": [item_name(form, c) if c else "" for c in reasons["item"]],
            "问题": reasons["message"],
        }
    )
    return table(
        frame,
        "draft",
        panes=("类别",) if reasons["kind"].nunique() > 1 else (),
        wide=True,
        nowrap=("类别",),
        mid=("单位", "项目"),
        long=("问题",),
        whole=catalog.file_name("draft_reasons"),
    )


def _figure(value: str, measure: str) -> str:
    d = to_decimal(value)
    return "" if d is None else official_number(d, measure)


def totals_table(totals: pd.DataFrame) -> HTML:
    """The city totals as the report prints them (4094.80 万元, 22.0 %), Chinese names, figures
    right-aligned."""
    names = [
        f"{i} {lab}" if k == "item" else lab
        for i, k, lab in zip(totals["item"], totals["kind"], totals["label"], strict=True)
    ]
    m = totals["measure"]
    frame = pd.DataFrame(
        {
            "项目": names,
            "计量单位": m,
            "全市合计": [_figure(v, u) for v, u in zip(totals["value"], m, strict=True)],
            **{
                t: [_figure(v, u) for v, u in zip(totals[t], m, strict=True)]
                for t in ("市、区", "局(公司)", "直属")
            },
            "报送单位数": totals["units_reported"],
            "未填单位数": totals["units_missing"],
            "上年": [_figure(v, u) for v, u in zip(totals["previous"], m, strict=True)],
            "同比（%）": [_figure(v, "%") for v in totals["change_pct"]],
            "单位": totals["who"],
            "计算方法": totals["how"],
        }
    )
    kinds = {"item": "项目合计", "count": "报送单位数", "derived": "派生数字", "rank": "居前的单位"}
    frame.insert(0, "类别", totals["kind"].map(kinds).fillna(totals["kind"]))
    numeric = ("全市合计", "市、区", "局(公司)", "直属", "报送单位数", "未填单位数", "上年", "同比（%）")
    return table(
        frame,
        "totals",
        numeric=numeric,
        page=100,
        fixed=2,
        nowrap=("类别", "计量单位"),
        mid=("项目", "单位"),
        whole=catalog.file_name("totals"),
    )
