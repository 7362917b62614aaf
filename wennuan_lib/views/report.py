"""What notebook 04 (书面总结) shows: is the report final, and what blocks it; the city totals as the report
prints them."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from wennuan_lib.base import catalog, config
from wennuan_lib.check.rules import TOTALS
from wennuan_lib.read.parse import official_number, to_decimal
from wennuan_lib.views.blocks import (
    answer,
    item_name,
    name_list,
    table,
)
from wennuan_lib.vocab import label, shown


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
        who = f"，涉及 {name_list(mine, 8)}" if mine else ""
        if TOTALS in named:
            who += f"；{TOTALS} {named.count(TOTALS)} 条（由各单位的数字推出，单位改正后自动消失）"
        other = [u for u in named if known is not None and u not in known and u != TOTALS]
        if other:
            who += f"；登记表中写错的单位 {name_list(other, 4)}（请改正登记表）"
        example = "" if named else "：" + "；".join(escape(m) for m in group["message"].head(3))
        lines.append(f"<b>{escape(label('draft_reasons.kind', kind))}</b> {len(group)} 条{who}{example}")
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
            "类别": shown(reasons["kind"], "draft_reasons.kind"),
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
