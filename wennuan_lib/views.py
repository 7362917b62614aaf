"""What the notebooks show the analyst: tables with Chinese headings, problems highlighted."""

from __future__ import annotations

import pandas as pd

from . import catalog
from .ingest import STATUS_LABELS, VALUE_LABELS
from .layouts import LAYOUT_LABELS
from .rules import is_open

LOG_HEADINGS = {"file": "文件", "status_label": "处理结果", "reason": "说明", "unit": "单位", "layout": "格式"}
STATUS_COLOURS = {"missing": "#fde2c8", "unreadable": "#f8b4b4", "not_found": "#f8b4b4"}
APPROX_COLOUR = "#fff3b0"
LEFT = [{"selector": "th, td", "props": [("text-align", "left"), ("vertical-align", "top")]},
        {"selector": "th.row_heading", "props": [("white-space", "nowrap")]}]


def styled(frame: pd.DataFrame, limit: int = 500):
    """A table for the notebook: text escaped (a unit's cell may hold markup), long tables cut."""
    if len(frame) > limit:
        frame = frame.head(limit)
    return frame.style.set_table_styles(LEFT).hide(axis="index").format(escape="html") \
        .format_index(escape="html", axis=1)


def ingest_overview(log: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One line per outcome: how many files, and which units."""
    counts = log["status"].map(STATUS_LABELS).value_counts()
    rows = [{"项目": "收件箱文件数", "数量": len(log)}]
    rows += [{"项目": label, "数量": int(counts.get(label, 0))} for label in STATUS_LABELS.values()]
    rows.append({"项目": "已读取统计表的单位", "数量": values["unit"].nunique() if len(values) else 0})
    unregistered = values.loc[~values["registered"], "unit"].unique() if len(values) else []
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


MAX_GRID_UNITS = 200  # a unit × item grid beyond this is for the CSV, not the screen


def first_units(values: pd.DataFrame) -> pd.DataFrame:
    units = list(dict.fromkeys(values["unit"]))
    if len(units) <= MAX_GRID_UNITS:
        return values
    print(f"共 {len(units)} 个单位，这里只显示前 {MAX_GRID_UNITS} 个；全部数据见 {catalog.file_name('values')}")
    return values[values["unit"].isin(set(units[:MAX_GRID_UNITS]))]


def value_grid(values: pd.DataFrame, form=None):
    """Units as rows, items as columns; colour marks missing, unreadable and approximate blanks."""
    if values.empty:
        return values
    values = first_units(values)
    order = list(dict.fromkeys(values["item"]))
    units = list(dict.fromkeys(values["unit"]))
    shown = values["value"].where(values["status"] == "ok", values["status"].map(VALUE_LABELS))
    shown = shown.where(~values["approx"], "约" + values["value"])
    grid = pd.DataFrame({"unit": values["unit"], "item": values["item"], "shown": shown}).pivot(
        index="unit", columns="item", values="shown").reindex(index=units, columns=order)
    css = pd.DataFrame({"unit": values["unit"], "item": values["item"],
                        "css": values.apply(_cell_css, axis=1)}).pivot(
        index="unit", columns="item", values="css").reindex(index=units, columns=order)
    grid.index.name = "单位"
    grid.columns.name = "项目"
    return grid.style.apply(lambda _: css.values, axis=None).set_table_styles(LEFT).format(escape="html") \
        .format_index(escape="html", axis=0).format_index(escape="html", axis=1)


def _cell_css(row) -> str:
    if row["status"] in STATUS_COLOURS:
        return f"background-color: {STATUS_COLOURS[row['status']]}"
    if row["approx"]:
        return f"background-color: {APPROX_COLOUR}"
    return ""


def problems(values: pd.DataFrame) -> pd.DataFrame:
    """Every blank that needs a second look: not filled in, unreadable, approximate or with a note."""
    mask = (values["status"] != "ok") | values["approx"] | (values["note"] != "")
    headings = {"unit": "单位", "item": "项目代码", "label": "项目", "status": "情况", "raw_text": "原文",
                "value": "读取值", "note": "说明", "file": "文件", "location": "位置"}
    frame = values.loc[mask, list(headings)].rename(columns=headings)
    frame["情况"] = frame["情况"].map(VALUE_LABELS)
    approx = values.loc[mask, "approx"]
    frame.loc[approx & (frame["情况"] == "已填"), "情况"] = "约数，待确认"
    return styled(frame)


def summaries_table(summaries: pd.DataFrame) -> pd.DataFrame:
    frame = summaries.assign(excerpt=summaries["text"].str.slice(0, 80) + "…")
    headings = {"unit": "单位", "file": "文件", "chars": "字数", "excerpt": "开头"}
    return styled(frame[list(headings)].rename(columns=headings))


# --- step 02 / 03: findings, corrections, reporting status -------------------------------------------

SEVERITY_CSS = {"error": "background-color: #f8b4b4", "warning": "background-color: #fff3b0",
                "waived": "background-color: #e0e0e0"}
FINDING_HEADINGS = {"unit": "单位", "item": "项目", "rule": "规则", "check_type": "审核类别", "severity": "类别",
                    "message": "问题", "action": "处理意见", "waived": "已豁免", "waiver_reason": "豁免理由"}


def findings_summary(issues: pd.DataFrame):
    """How many findings of each kind, open and waived."""
    waived = ~is_open(issues)
    frame = issues.assign(状态=waived.map({True: "已豁免", False: "待处理"}),
                          类别=issues["severity"].map({"error": "必须修改", "warning": "请核实"}))
    table = frame.pivot_table(index=["check_type", "类别"], columns="状态", values="rule", aggfunc="count",
                              fill_value=0).reset_index().rename(columns={"check_type": "审核类别"})
    return styled(table)


def findings_table(issues: pd.DataFrame, severity: str | None = None, unit: str | None = None,
                   rule: str | None = None, include_waived: bool = True):
    """The findings, filtered: severity 'error'/'warning', a unit's name, a rule id."""
    mask = pd.Series(True, index=issues.index)
    if severity:
        mask &= issues["severity"] == severity
    if unit:
        mask &= issues["unit"].str.contains(unit, regex=False)
    if rule:
        mask &= issues["rule"] == rule
    if not include_waived:
        mask &= is_open(issues)
    frame = issues.loc[mask, list(FINDING_HEADINGS)].copy()
    frame["severity"] = frame["severity"].map({"error": "必须修改", "warning": "请核实"})
    frame["waived"] = frame["waived"].map({True: "是", False: ""})
    css = [SEVERITY_CSS["waived"] if w else SEVERITY_CSS[s]
           for s, w in zip(issues.loc[mask, "severity"], issues.loc[mask, "waived"], strict=True)]
    frame = frame.rename(columns=FINDING_HEADINGS).reset_index(drop=True)
    return styled(frame).apply(lambda row: [css[row.name]] * len(row), axis=1)


def finding_grid(values: pd.DataFrame, issues: pd.DataFrame):
    """Units × items, each cell coloured by its worst open finding (red: 必须修改, yellow: 请核实, grey: 已豁免)."""
    worst: dict[tuple[str, str], str] = {}
    rank = {"waived": 0, "warning": 1, "error": 2}
    for unit, items, severity, waived in zip(issues["unit"].tolist(), issues["items"].tolist(), issues["severity"].tolist(),
                                             issues["waived"], strict=True):
        level = "waived" if waived else severity
        for item in str(items).split("|"):
            if rank[level] >= rank.get(worst.get((unit, item), "waived"), -1):
                worst[(unit, item)] = level
    values = first_units(values)
    order = list(dict.fromkeys(values["item"]))
    units = list(dict.fromkeys(values["unit"]))
    shown = values["value"].where(values["status"] == "ok", values["status"].map(VALUE_LABELS))
    shown = shown.where(~values["corrected"], shown + "（更正）")
    grid = pd.DataFrame({"unit": values["unit"], "item": values["item"], "shown": shown}).pivot(
        index="unit", columns="item", values="shown").reindex(index=units, columns=order)
    css = pd.DataFrame([[SEVERITY_CSS.get(worst.get((u, i)), "") for i in order] for u in units],
                       index=units, columns=order)
    grid.index.name, grid.columns.name = "单位", "项目"
    return grid.style.apply(lambda _: css.values, axis=None).set_table_styles(LEFT).format(escape="html") \
        .format_index(escape="html", axis=0).format_index(escape="html", axis=1)


def audit_table(audit: pd.DataFrame):
    headings = {"kind": "类型", "line": "登记表行号", "written_unit": "登记的单位", "unit": "对应单位", "item": "项目",
                "rule": "规则", "original": "原值", "value": "更正值", "reason": "理由", "status": "结果", "message": "说明"}
    frame = audit[list(headings)].rename(columns=headings)
    frame["结果"] = frame["结果"].map({"applied": "已应用", "unmatched": "未匹配（错误）"})
    return styled(frame).apply(
        lambda row: ["background-color: #f8b4b4" if row["结果"].startswith("未匹配") else ""] * len(row), axis=1)


def status_table(status: pd.DataFrame):
    headings = {"unit": "单位", "unit_type": "类型", "form": "统计表", "form_date": "填报日期", "late": "是否按时",
                "days_late": "逾期天数", "summary": "书面总结", "errors": "必须修改", "warnings": "请核实",
                "waived": "已豁免", "registered": "在名录中", "form_problem": "无法读取的文件及原因"}
    headings = {k: v for k, v in headings.items() if k in status}
    frame = status[list(headings)].rename(columns=headings)
    frame["在名录中"] = frame["在名录中"].map({True: "是", False: "否（请核实）"})

    def colour(row):
        if row["统计表"] == "未报":
            return ["background-color: #f8b4b4"] * len(row)
        if row["统计表"] == "已报但无法读取":
            return ["background-color: #fdba74"] * len(row)
        if row["在名录中"] != "是":
            return ["background-color: #dbeafe"] * len(row)
        if row["是否按时"] == "逾期" or row["书面总结"] == "未报":
            return ["background-color: #fff3b0"] * len(row)
        return [""] * len(row)

    return styled(frame).apply(colour, axis=1)


def unit_dossiers(values: pd.DataFrame, summaries: pd.DataFrame, key_items: list[str]) -> str:
    """Each unit's written summary beside its key figures (HTML), for picking 典型经验."""
    import html

    parts = []
    for unit, group in list(summaries.groupby("unit", sort=False))[:100]:
        mine = values[(values["unit"] == unit) & values["item"].isin(key_items)]
        rows = "".join(f"<tr><td>{html.escape(r.item)}</td><td>{html.escape(r.label)}</td>"
                       f"<td style='text-align:right'>{html.escape(r.value or '未填')} {html.escape(r.measure)}</td></tr>"
                       for r in mine.itertuples())
        text = "<br>".join(html.escape(t) for t in "\n\n".join(group["text"]).split("\n") if t.strip())
        parts.append(
            f"<h3>{html.escape(unit)}</h3><div style='display:flex;gap:24px;align-items:flex-start'>"
            f"<table style='flex:0 0 360px'>{rows or '<tr><td>未报统计表</td></tr>'}</table>"
            f"<div style='flex:1;line-height:1.7'>{text}</div></div>")
    return "".join(parts) or "<p>本年度没有单位报送书面总结材料。</p>"


def by_unit_table(table: pd.DataFrame):
    return styled(table.rename(columns={"unit": "单位", "errors": "必须修改", "warnings": "请核实"}))


def by_rule_table(table: pd.DataFrame):
    frame = table.assign(severity=table["severity"].map({"error": "必须修改", "warning": "请核实"}))
    return styled(frame.rename(columns={"rule": "规则", "check_type": "审核类别", "severity": "类别", "findings": "条数",
                                        "units": "单位数", "example": "示例"}))


def draft_table(items: list[str]):
    if not items:
        return styled(pd.DataFrame({"说明": ["没有未解决的问题，报告为定稿。"]}))
    return styled(pd.DataFrame({"序号": range(1, len(items) + 1), "未解决的问题": items}))


def totals_table(totals: pd.DataFrame):
    headings = {"item": "项目", "label": "名称", "measure": "单位", "value": "全市合计", "市、区": "市、区",
                "局(公司)": "局(公司)", "直属": "直属", "units_reported": "报送单位数", "units_missing": "未填单位数",
                "previous": "上年", "change_pct": "同比（%）", "who": "单位", "how": "计算方法"}
    return styled(totals[list(headings)].rename(columns=headings))
