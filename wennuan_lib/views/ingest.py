"""What notebook 01 (读取) shows: what came in, what could not be read and from whom; the log, the units ×
items grid, the blanks to look at again, the forms and the written summaries."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from wennuan_lib.base import catalog
from wennuan_lib.read.layouts import LAYOUT_LABELS
from wennuan_lib.read.parse import VALUE_LABELS
from wennuan_lib.views.blocks import (
    LIST_LIMIT,
    answer,
    badge,
    grid_table,
    grid_units,
    legend,
    mark_cell,
    name_list,
    table,
)
from wennuan_lib.vocab import (
    READ,
    REJECTED,
    STATUS_LABELS,
    SUPERSEDED,
    file_label,
)


def ingest_answer(frames: dict) -> HTML:
    """What came in, and what could not be read (and from whom)."""
    log, values, subs = frames["ingest_log"], frames["values"], frames["submissions"]
    counts = log["status"].value_counts()
    made = "，".join(
        f"{text} {int(counts[code])} 个"
        for code, text in STATUS_LABELS.items()
        if counts.get(code, 0) and code != READ
    )
    units = values["unit"].nunique() if len(values) else 0
    lines = [
        f"收件箱共 {len(log)} 个文件：读取统计表 {int(counts.get(READ, 0))} 份（{units} 个单位）"
        + (f"，{made}" if made else "")
        + "。",
        _rejected_line(log[log["status"] == REJECTED]),
    ]
    empty = log[(log["status"] == READ) & (log["figures"] != "")]
    if len(empty):
        first = file_label(READ, empty["figures"].iloc[0])
        lines.append(f"读到了统计表但没有一个数字：{name_list(list(empty['unit']))}（{escape(first)}）")
    if len(values):
        lines += _values_lines(values)
    superseded = subs[subs["status"] == SUPERSEDED]
    if len(superseded):
        lines.append(f"同一单位报了多份、以填报日期最新的为准：{name_list(list(superseded['unit']))}")
    return answer("读到了什么，哪些读不了", lines)


def _rejected_line(rejected: pd.DataFrame) -> str:
    """The files that could not be read, whose and why (the first LIST_LIMIT of them)."""
    if rejected.empty:
        return "每个文件都已读取或说明了原因，没有无法读取的文件。"
    more = len(rejected) - LIST_LIMIT
    return (
        f"<b>无法读取 {len(rejected)} 个文件</b>（请联系单位换一种格式重新报送）：<ul>"
        + "".join(
            f"<li>{escape(r['unit'] or '单位不明')}：「{escape(r['file'])}」{escape(r['reason'])}</li>"
            for r in rejected.head(LIST_LIMIT).to_dict("records")
        )
        + "</ul>"
        + (f"另有 {more} 个，见下方读取日志。" if more > 0 else "")
    )


def _values_lines(values: pd.DataFrame) -> list[str]:
    """The blanks to look at again (not filled in, unreadable, approximate) and the units not in the
    registry."""
    lines = []
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
            f"不在单位名录中的单位：{name_list(unregistered)}"
            "（请核实后加入 inputs/units.csv，或写成某个单位的别名）"
        )
    return lines


def log_table(log: pd.DataFrame) -> HTML:
    kinds = {"rejected": "error", "superseded": "waived", "skipped": "waived", "summary": "ok"}
    order = {"rejected": 0, "read": 1, "summary": 2, "superseded": 3, "unpacked": 4, "skipped": 5}
    log = log.iloc[log["status"].map(order).fillna(9).argsort(kind="stable")]
    frame = pd.DataFrame(
        {
            "处理结果": [
                badge(text, kinds.get(s, "ok"), order.get(s, 9)) if s in kinds else escape(text)
                for s, text in zip(log["status"], map(file_label, log["status"], log["figures"]), strict=True)
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


def value_grid(values: pd.DataFrame, form=None) -> HTML:
    """Units as rows, items as columns (named, hover for the printed sentence); colour marks blanks not filled
    in, unreadable and approximate ones; hovering a marked cell shows what was written and where."""
    if values.empty:
        return HTML("<p>没有读到任何统计表。</p>")
    attention = (values["status"] != "ok") | values["approx"]
    values, note = grid_units(values, attention)
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
        cells.append(mark_cell(kind, text, hover))
    grid = grid_table(values, cells, form, "values_grid")
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
