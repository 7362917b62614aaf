"""The report's appendices: 附表1 the city totals by item and unit type, 附表2 each unit's key figures, 附表3
who sent what and when (grouped, for a province)."""

from __future__ import annotations

import pandas as pd

from wennuan_lib import vocab
from wennuan_lib.base import catalog
from wennuan_lib.check import aggregate
from wennuan_lib.form import Form
from wennuan_lib.publish import render
from wennuan_lib.read.parse import official_number, to_decimal
from wennuan_lib.read.units import UNIT_TYPES

MAX_TABLE_UNITS = 100  # units listed in the report's appendix; all of them are in 分单位明细表
NOT_LISTED = (
    "未列入报送单位名单"  # a unit that sent a form but is not in units.csv: not counted in the totals
)


def count(value) -> str:
    """A count of units as the table shows it ("" where there is none)."""
    return "" if value is None or pd.isna(value) or value == "" else str(int(value))


def number(value: str, measure: str) -> str:
    """A table cell: the figure in official style, without its measure."""
    d = to_decimal(value)
    return "" if d is None else official_number(d, measure)


CORRECTED, REVISED = (
    "*",
    "†",
)  # 附表2: a value the corrections register changed; one read from Word's revisions


def value_marks(values: pd.DataFrame) -> dict[tuple[str, str], str]:
    """{(unit, item): * or †} of the values corrected by the analyst or read from a Word revision."""
    out: dict[tuple[str, str], str] = {}
    for flag, mark in (("corrected", CORRECTED), ("revised", REVISED)):
        if flag not in values.columns:
            continue
        hit = values[values[flag].isin([True, "True"])]  # True, or "True" as a file reads it back
        for unit, code in zip(hit["unit"], hit["item"], strict=True):
            out[(unit, code)] = out.get((unit, code), "") + mark
    return out


def marks_note(marks: dict, asked: set, codes: list[str]) -> str:
    """附表2's note on its marks (only those that occur among its items)."""
    shown = {m for (_, c), ms in marks.items() if c in codes for m in ms}
    note = ""
    if CORRECTED in shown:
        note += f"标{CORRECTED}的数值已按更正登记表更正（原值见分单位明细表）。"
    if REVISED in shown:
        note += f"标{REVISED}的数值读自Word文件的修订记录（已接受修订），请单位确认为最终数字。"
    if any(c in codes for _, c in asked):
        note += f"“{aggregate.ATTACHED}”：单位在该栏填写“{aggregate.ATTACHED}”，数字待补报，未计入合计。"
    return note


def approx(row: dict, cell: str) -> str:
    """A total with approximate entries past the policy's share: 约… or …以上."""
    mark = row.get("approx", "")
    if not cell or not mark:
        return cell
    return mark + cell if mark == aggregate.ABOUT else cell + mark


def basis_note(form: Form, items: pd.DataFrame, has_previous: bool) -> str:
    """附表1's note: what each column adds up (口径), and the items whose basis is narrower than their own
    entries."""
    within = aggregate.wholes(form)
    example = next(iter(within.items()), None)
    note = "全市合计为报送单位名单中各单位有效数值（更正后）之和，未填的单位不计入"
    if example:
        note += f"；“其中”项只计同时填报了总数的单位（如{example[0]}只计填报了{example[1]}的单位）"
    if aggregate.pairs(form):
        note += "，包车（船、机）数与运送人次只计两项均填报的单位"
    note += "。"
    if has_previous:
        note += (
            "同比按可比口径计算：只比较两年均填报该项的单位（可比单位数），"
            "即（本年这些单位之和－可比上年）÷可比上年×100%；"
            "“上年合计”为按上年的报表（更正后）计算的全市合计。"
        )
    for row in items.to_dict("records"):
        if row.get("compare"):
            note += f"{row['item']} {row['compare']}，本年为「{row['label']}」。"
    marked = [r["item"] for r in items.to_dict("records") if r.get("approx")]
    if marked:
        note += f"标“约”或“以上”的合计含较多约数（{'、'.join(marked)}）。"
    return note


def tables(
    form: Form,
    totals: pd.DataFrame,
    values: pd.DataFrame,
    status: pd.DataFrame,
    has_previous: bool,
    no_yoy: dict[str, str] | None = None,
):
    """The three appendices. `no_yoy`: items whose change on last year is not given (key → why, in 附表1's
    note: a suspected slip in last year's total or in this year's comparable basis)."""
    return [
        _totals_table(form, totals, has_previous, no_yoy or {}),
        _key_figures_table(form, values),
        _status_table(status),
    ]


def _totals_table(
    form: Form, totals: pd.DataFrame, has_previous: bool, no_yoy: dict[str, str]
) -> render.Table:
    """附表1: each item's city total, by unit type, with its basis and (with last year) 同比 on the
    comparable basis."""
    items = totals[totals["kind"] == "item"]
    head = [vocab.CODE_HEADING, "项目", "单位", "全市合计", *UNIT_TYPES, "计入单位数", "未计入单位数"]
    if has_previous:
        head += ["上年合计", "可比单位数", "可比上年", vocab.CHANGE_HEADING]
    rows = []
    for row in items.to_dict("records"):
        m = row["measure"]
        cells = [
            row["item"],
            row["label"],
            m,
            approx(row, number(row["value"], m)),
            *(number(row[t], m) for t in UNIT_TYPES),
            count(row["units_reported"]),
            count(row["units_missing"]),
        ]
        if has_previous:
            if row.get("compare"):
                change = "不作比较"
            else:
                change = "—" if row["item"] in no_yoy else number(row["change_pct"], "%")
            cells += [
                number(row["previous"], m),
                count(row.get("units_comparable")),
                number(row.get("previous_comparable", ""), m),
                change,
            ]
        rows.append(cells)
    note = basis_note(form, items, has_previous)
    note += "".join(f"{code}的同比未计算：{why}。" for code, why in no_yoy.items() if form.codes.count(code))
    return render.Table(
        "全市送温暖活动统计汇总表",
        head,
        rows,
        [False] * 3 + [True] * (len(head) - 3),
        note,
        nowrap=[True, False, True] + [False] * (len(head) - 3),
    )


def _key_figures_table(form: Form, values: pd.DataFrame) -> render.Table:
    """附表2: each listed unit's key items, marked where corrected or read from a revision; past
    MAX_TABLE_UNITS units, those that raised the most."""
    key_items = list(form.policy.key_items["appendix"])
    wide = aggregate.unit_table(values, key_items)
    measures = [form.item(c).unit for c in key_items]
    marks, asked = value_marks(values), aggregate.attached(values)

    def cell(unit: str, code: str, value: str, m: str) -> str:
        if (unit, code) in asked:
            return aggregate.ATTACHED
        return (number(value, m) + marks.get((unit, code), "")) if number(value, m) else "未填"

    key_rows = [
        [
            unit,
            wide.attrs["types"][unit],
            *(cell(unit, c, v, m) for c, v, m in zip(key_items, row, measures, strict=True)),
        ]
        for unit, row in zip(wide.index, wide.itertuples(index=False), strict=True)
        if unit in wide.attrs["registered"]
    ]
    note = marks_note(marks, asked, key_items)
    if len(key_rows) > MAX_TABLE_UNITS:
        key_rows.sort(key=lambda r: -float(r[2]) if r[2] not in ("", "未填") else 0)
        note += (
            f"共{len(key_rows)}个单位，此处列出筹集慰问款物总额居前的{MAX_TABLE_UNITS}个，"
            "全部单位见分单位明细表。"
        )
        key_rows = key_rows[:MAX_TABLE_UNITS]
    return render.Table(
        "各单位主要数据",
        ["单位", "类型", *(f"{form.item(c).label}（{form.item(c).unit}）" for c in key_items)],
        key_rows,
        [False, False] + [True] * len(key_items),
        note,
        nowrap=[False, True] + [False] * len(key_items),
    )


def _status_table(status: pd.DataFrame) -> render.Table:
    """附表3: who sent what and when, a unit a row; past MAX_TABLE_UNITS units (a province), grouped."""
    records = status.to_dict("records")
    if len(records) > MAX_TABLE_UNITS:
        return _status_groups(records)
    st_rows = [
        [
            r["unit"]
            if r.get("registered", bool(r["unit_type"]))
            else f"{r['unit']}（{NOT_LISTED}，未计入合计）",
            r["unit_type"] or "—",
            vocab.label("reporting_status.form", r["form"]),
            r["form_date"],
            vocab.label("reporting_status.late", r["late"]),
            vocab.label("reporting_status.summary", r["summary"]),
        ]
        for r in records
    ]
    return render.Table(
        "各单位报送统计表和书面总结材料情况",
        ["单位", "类型", "统计表", "填报日期", "是否按时", "书面总结材料"],
        st_rows,
        [False] * 6,
        nowrap=[False, True, True, True, True, True],
    )


def _status_groups(records: list[dict]) -> render.Table:
    """附表3 of a province: units grouped by what they sent; a group's names, ten to a row, only if it is
    small."""
    groups: dict[str, list[str]] = {}
    for r in records:
        sent = vocab.label("reporting_status.form", r["form"])
        summary = vocab.label("reporting_status.summary", r["summary"])
        groups.setdefault(f"统计表{sent}、书面总结{summary}", []).append(r["unit"])
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
    return render.Table(
        "各单位报送统计表和书面总结材料情况",
        ["报送情况", "单位数", "单位"],
        st_rows,
        [False, True, False],
        f"超过{MAX_TABLE_UNITS}个单位的情况只列单位数；各单位的报送情况、填报日期和是否按时见 "
        f"{catalog.file_name('reporting_status')}。",
    )
