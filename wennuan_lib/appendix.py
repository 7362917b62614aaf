"""The report's appendices: 附表1 the city totals by item and unit type, 附表2 each unit's key figures, 附表3
who sent what and when (grouped, for a province)."""

from __future__ import annotations

import pandas as pd

from . import aggregate, catalog, narrative, render
from .form import Form
from .parse import to_decimal
from .units import UNIT_TYPES

MAX_TABLE_UNITS = 100  # units listed in the report's appendix; all of them are in 分单位明细表
NOT_LISTED = (
    "未列入报送单位名单"  # a unit that sent a form but is not in units.csv: not counted in the totals
)


def number(value: str, measure: str) -> str:
    """A table cell: the figure in official style, without its measure."""
    d = to_decimal(value)
    return "" if d is None else narrative.official_number(d, measure)


def tables(
    form: Form,
    totals: pd.DataFrame,
    values: pd.DataFrame,
    status: pd.DataFrame,
    has_previous: bool,
    no_yoy: dict[str, str] | None = None,
):
    """The three appendices. `no_yoy`: items whose change on last year is not given (key → why,
    in 附表1's note)."""
    no_yoy = no_yoy or {}
    items = totals[totals["kind"] == "item"]
    head = ["代码", "项目", "单位", "全市合计", *UNIT_TYPES, "报送单位数", "未填单位数"]
    if has_previous:
        head += ["上年", "同比（%）"]
    rows = []
    for row in items.to_dict("records"):
        m = row["measure"]
        cells = [
            row["item"],
            row["label"],
            m,
            number(row["value"], m),
            *(number(row[t], m) for t in UNIT_TYPES),
            row["units_reported"],
            row["units_missing"],
        ]
        if has_previous:
            cells += [
                number(row["previous"], m),
                "—" if row["item"] in no_yoy else number(row["change_pct"], "%"),
            ]
        rows.append(cells)
    note = "合计为报送单位名单中各单位有效数值（更正后）之和；未填的单位不计入。"
    note += "".join(
        f"{code}的上年合计待核实（{why}），未计算同比。"
        for code, why in no_yoy.items()
        if form.codes.count(code)
    )
    t1 = render.Table(
        "全市送温暖活动统计汇总表",
        head,
        rows,
        [False] * 3 + [True] * (len(head) - 3),
        note,
        nowrap=[True, False, True] + [False] * (len(head) - 3),
    )
    key_items = list(form.policy.key_items["appendix"])
    wide = aggregate.unit_table(values, key_items)
    measures = [form.item(c).unit for c in key_items]
    key_rows = [
        [
            unit,
            wide.attrs["types"][unit],
            *(number(v, m) or "未填" for v, m in zip(row, measures, strict=True)),
        ]
        for unit, row in zip(wide.index, wide.itertuples(index=False), strict=True)
        if unit in wide.attrs["registered"]
    ]
    note = ""
    if len(key_rows) > MAX_TABLE_UNITS:
        key_rows.sort(key=lambda r: -float(r[2]) if r[2] not in ("", "未填") else 0)
        note = (
            f"共{len(key_rows)}个单位，此处列出筹集慰问款物总额居前的{MAX_TABLE_UNITS}个，"
            "全部单位见分单位明细表。"
        )
        key_rows = key_rows[:MAX_TABLE_UNITS]
    t2 = render.Table(
        "各单位主要数据",
        ["单位", "类型", *(f"{form.item(c).label}（{form.item(c).unit}）" for c in key_items)],
        key_rows,
        [False, False] + [True] * len(key_items),
        note,
        nowrap=[False, True] + [False] * len(key_items),
    )
    records = status.to_dict("records")
    if len(records) <= MAX_TABLE_UNITS:
        st_rows = [
            [
                r["unit"]
                if r.get("registered", bool(r["unit_type"]))
                else f"{r['unit']}（{NOT_LISTED}，未计入合计）",
                r["unit_type"] or "—",
                r["form"],
                r["form_date"],
                r["late"],
                r["summary"],
            ]
            for r in records
        ]
        t3 = render.Table(
            "各单位报送统计表和书面总结材料情况",
            ["单位", "类型", "统计表", "填报日期", "是否按时", "书面总结材料"],
            st_rows,
            [False] * 6,
            nowrap=[False, True, True, True, True, True],
        )
    else:  # a province: units grouped by what they sent; a group's names, ten to a row, only if it is small
        groups: dict[str, list[str]] = {}
        for r in records:
            groups.setdefault(f"统计表{r['form']}、书面总结{r['summary']}", []).append(r["unit"])
        st_rows = []
        for kind, names in sorted(groups.items()):
            if len(names) > MAX_TABLE_UNITS:
                st_rows.append(
                    [kind, str(len(names)), f"单位较多，名单见 {catalog.file_name('reporting_status')}"]
                )
                continue
            st_rows += [
                [kind if k == 0 else "", str(len(names)) if k == 0 else "", "、".join(names[k : k + 10])]
                for k in range(0, len(names), 10)
            ]
        t3 = render.Table(
            "各单位报送统计表和书面总结材料情况",
            ["报送情况", "单位数", "单位"],
            st_rows,
            [False, True, False],
            f"超过{MAX_TABLE_UNITS}个单位的情况只列单位数；各单位的报送情况、填报日期和是否按时见 "
            f"{catalog.file_name('reporting_status')}。",
        )
    return [t1, t2, t3]
