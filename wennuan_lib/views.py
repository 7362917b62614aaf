"""What the notebooks show the analyst: tables with Chinese headings, problems highlighted."""

from __future__ import annotations

import pandas as pd

from .ingest import STATUS_LABELS, VALUE_LABELS
from .layouts import LAYOUT_LABELS

LOG_HEADINGS = {"file": "文件", "status_label": "处理结果", "reason": "说明", "unit": "单位", "layout": "格式"}
STATUS_COLOURS = {"missing": "#fde2c8", "unreadable": "#f8b4b4", "not_found": "#f8b4b4"}
APPROX_COLOUR = "#fff3b0"
LEFT = [{"selector": "th, td", "props": [("text-align", "left"), ("vertical-align", "top")]},
        {"selector": "th.row_heading", "props": [("white-space", "nowrap")]}]


def flag(series: pd.Series) -> pd.Series:
    """True/False columns, whether read from CSV (text) or fresh from ingest (bool)."""
    return series.astype(str) == "True"


def styled(frame: pd.DataFrame):
    return frame.style.set_table_styles(LEFT).hide(axis="index")


def ingest_overview(log: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One line per outcome: how many files, and which units."""
    counts = log["status"].map(STATUS_LABELS).value_counts()
    rows = [{"项目": "收件箱文件数", "数量": len(log)}]
    rows += [{"项目": label, "数量": int(counts.get(label, 0))} for label in STATUS_LABELS.values()]
    rows.append({"项目": "已读取统计表的单位", "数量": values["unit"].nunique() if len(values) else 0})
    unregistered = values.loc[~flag(values["registered"]), "unit"].unique() if len(values) else []
    rows.append({"项目": "不在单位名录中的单位", "数量": len(unregistered)})
    return styled(pd.DataFrame(rows))


def log_table(log: pd.DataFrame):
    frame = log[list(LOG_HEADINGS)].rename(columns=LOG_HEADINGS)
    colours = {"无法读取": "#f8b4b4", "已被替代": "#e0e0e0", "已略过": "#f0f0f0", "书面总结": "#dbeafe"}

    def colour(row):
        return [f"background-color: {colours.get(row['处理结果'], '')}"] * len(row)

    return styled(frame).apply(colour, axis=1)


def submissions_table(subs: pd.DataFrame) -> pd.DataFrame:
    headings = {"unit": "单位", "unit_type": "类型", "file": "文件", "status": "状态", "written_unit": "填报单位（原文）",
                "unit_how": "单位认定", "date": "填报日期", "person": "填报人", "phone": "联系电话", "layout": "格式"}
    frame = subs[list(headings)].rename(columns=headings)
    frame["状态"] = frame["状态"].map({"read": "有效", "superseded": "已被替代"})
    frame["格式"] = frame["格式"].map(LAYOUT_LABELS)
    return styled(frame)


def value_grid(values: pd.DataFrame, form=None):
    """Units as rows, items as columns; colour marks missing, unreadable and approximate blanks."""
    if values.empty:
        return values
    order = list(dict.fromkeys(values["item"]))
    units = list(dict.fromkeys(values["unit"]))
    shown = values["value"].where(values["status"] == "ok", values["status"].map(VALUE_LABELS))
    shown = shown.where(~flag(values["approx"]), "约" + values["value"])
    grid = pd.DataFrame({"unit": values["unit"], "item": values["item"], "shown": shown}).pivot(
        index="unit", columns="item", values="shown").reindex(index=units, columns=order)
    css = pd.DataFrame({"unit": values["unit"], "item": values["item"],
                        "css": values.apply(_cell_css, axis=1)}).pivot(
        index="unit", columns="item", values="css").reindex(index=units, columns=order)
    grid.index.name = "单位"
    grid.columns.name = "项目"
    return grid.style.apply(lambda _: css.values, axis=None).set_table_styles(LEFT)


def _cell_css(row) -> str:
    if row["status"] in STATUS_COLOURS:
        return f"background-color: {STATUS_COLOURS[row['status']]}"
    if str(row["approx"]) == "True":
        return f"background-color: {APPROX_COLOUR}"
    return ""


def problems(values: pd.DataFrame) -> pd.DataFrame:
    """Every blank that needs a second look: not filled in, unreadable, approximate or with a note."""
    mask = (values["status"] != "ok") | flag(values["approx"]) | (values["note"] != "")
    headings = {"unit": "单位", "item": "项目代码", "label": "项目", "status": "情况", "raw_text": "原文",
                "value": "读取值", "note": "说明", "file": "文件", "location": "位置"}
    frame = values.loc[mask, list(headings)].rename(columns=headings)
    frame["情况"] = frame["情况"].map(VALUE_LABELS)
    approx = flag(values.loc[mask, "approx"])
    frame.loc[approx & (frame["情况"] == "已填"), "情况"] = "约数，待确认"
    return styled(frame)


def summaries_table(summaries: pd.DataFrame) -> pd.DataFrame:
    frame = summaries.assign(excerpt=summaries["text"].str.slice(0, 80) + "…")
    headings = {"unit": "单位", "file": "文件", "chars": "字数", "excerpt": "开头"}
    return styled(frame[list(headings)].rename(columns=headings))
