"""What notebook 02 (审核) shows: what is wrong and with whom; every finding, the units × items grid coloured
by its worst finding, and what became of each line of the registers."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from wennuan_lib.base import catalog
from wennuan_lib.check.findings import _state, actions, sort_findings
from wennuan_lib.check.rules import AUDIT_ID, ERROR, SEVERITY_LABELS, TOTALS, is_open
from wennuan_lib.read.parse import VALUE_LABELS
from wennuan_lib.views.blocks import (
    HOVER_WIDE,
    LIST_LIMIT,
    WIDE_FINDING,
    answer,
    badge,
    brief,
    grid_table,
    grid_units,
    item_name,
    legend,
    mark_cell,
    table,
)
from wennuan_lib.vocab import (
    WAIVED,
    label,
    shown,
)


def whose(issues: pd.DataFrame) -> pd.Series:
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
    state, who = _state(issues), whose(issues)
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


def severity_badge(state: str) -> str:
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
            "类别": [severity_badge(s) for s in state],
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
        on = str(items).split("|")
        line = message if len(on) <= WIDE_FINDING else brief(message, HOVER_WIDE)
        for item in on:
            if rank[state] >= rank.get(worst.get((unit, item), "waived"), -1):
                worst[(unit, item)] = state
            notes.setdefault((unit, item), []).append(line)
    attention = (
        pd.Series(
            [(u, i) in worst for u, i in zip(values["unit"], values["item"], strict=True)], index=values.index
        )
        | values["corrected"]
    )
    values, note = grid_units(values, attention)
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
        cells.append(mark_cell(kind, text, "\n".join(hover)))
    grid = grid_table(values, cells, form, "findings_grid")
    key = legend(
        ("必须修改", "error"), ("请核实", "warning"), (WAIVED, "waived"), ("已更正的数字", "corrected")
    )
    whole = (
        "<p class='wn-note'>悬停提示里较长的意见只显示开头；"
        f"全文见上面的审核意见清单和 {catalog.file_name('review_workbook')}。</p>"
    )
    return HTML(key.data + whole + grid.data + note)


def audit_table(audit: pd.DataFrame) -> HTML:
    if audit.empty:
        return HTML("<p class='wn-note'>更正登记表和豁免登记表中没有登记。</p>")
    results = {"applied": "ok", "unmatched": "error", "duplicate": "warning"}
    frame = pd.DataFrame(
        {
            "结果": [badge(label("audit.status", s), results.get(s, "waived")) for s in audit["status"]],
            "登记表": shown(audit["kind"], "audit.kind") + "登记表",
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
