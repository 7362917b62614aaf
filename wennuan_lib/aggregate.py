"""City totals from the values in force: per item, per unit type, derived figures, leading units.

The totals table is the reporting layer's single source: every figure the 书面总结 states is a row here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from .form import Form
from .parse import format_value, to_decimal
from .units import UNIT_TYPES

TOTAL_COLUMNS = [
    "item",
    "kind",
    "label",
    "measure",
    "value",
    *UNIT_TYPES,
    "units_reported",
    "units_missing",
    "previous",
    "change_pct",
    "who",
    "how",
]


def in_totals(values: pd.DataFrame) -> pd.Series:
    """Which rows count towards the city totals: units in the registry (an unregistered unit is
    counted once the analyst adds it to inputs/units.csv)."""
    return values["registered"].astype(bool)


def item_sums(values: pd.DataFrame) -> dict[str, dict]:
    """The sums the city totals are made of (see `_sums`), over the units that count: made once per step,
    for the rules (`city_totals`) and the totals table (`build_totals`) alike."""
    return _sums(values[in_totals(values)])


def city_totals(sums: dict[str, dict], codes: list[str]) -> dict[str, Decimal | None]:
    """{code: sum over the registered units that filled it in}; None where no unit did."""
    return {code: sums[code]["total"] if code in sums else None for code in codes}


def _nothing() -> dict:
    return {"total": None, "types": {}, "filled": 0, "rows": 0}


def _sums(counted: pd.DataFrame) -> dict[str, dict]:
    """Per item code, in one pass: total, sum per unit type, units filled and units that left it blank."""
    out: dict[str, dict] = {}
    for code, unit_type, value in zip(
        counted["item"].tolist(), counted["unit_type"].tolist(), counted["value"].tolist(), strict=True
    ):
        acc = out.setdefault(code, _nothing())
        acc["rows"] += 1
        d = to_decimal(value)
        if d is not None:
            acc["filled"] += 1
            acc["total"] = d if acc["total"] is None else acc["total"] + d
            acc["types"][unit_type] = acc["types"].get(unit_type, Decimal(0)) + d
    return out


def _q(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def change_pct(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or not before:
        return None
    change = _q((now - before) / before * 100, 1)
    return abs(change) if change == 0 else change  # a fall rounding to nothing is 0.0, never -0.0


def definition(d, form: Form) -> str:
    """A derived figure's definition in words:
    发放款物（06.1）÷ 慰问困难家庭总数（04C.1）× 10000（万元折合为元）."""

    def name(code: str) -> str:
        return f"{form.item(code).label.removeprefix('其中')}（{code}）"

    text = " + ".join(name(c) for c in d.num)
    if not d.den:
        return text
    text = (f"（{text}）" if len(d.num) > 1 else text) + f" ÷ {name(d.den)}"
    if d.factor != 1:
        money = [form.item(c).is_money for c in d.num]
        text += f" × {d.factor}" + ("（万元折合为元）" if all(money) and d.factor == 10000 else "")
    if d.measure == "%":
        text += " × 100%"
    return text


def build_totals(
    values: pd.DataFrame,
    form: Form,
    expected_units: list[str],
    summary_units: set[str],
    previous: pd.DataFrame | None = None,
    sums: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """Every figure of the report, one row each (`sums`: `item_sums(values)`, if already made)."""
    counted = values[in_totals(values)]
    sums = _sums(counted) if sums is None else sums
    prev = {} if previous is None else dict(zip(previous["item"], previous["value"], strict=True))
    rows = []
    totals: dict[str, Decimal | None] = {}
    for item in form.items:
        acc = sums.get(item.code) or _nothing()
        total, filled, blank = acc["total"], acc["filled"], acc["rows"] - acc["filled"]
        totals[item.code] = total
        by_type = {t: format_value(acc["types"].get(t)) for t in UNIT_TYPES}
        before = to_decimal(prev.get(item.code, ""))
        rows.append(
            {
                "item": item.code,
                "kind": "item",
                "label": item.label,
                "measure": item.unit,
                "value": format_value(total),
                **by_type,
                "units_reported": filled,
                "units_missing": blank,
                "previous": format_value(before),
                "change_pct": format_value(change_pct(total, before)),
                "who": "",
                "how": f"{filled}个单位合计" + (f"，{blank}个单位未填" if blank else ""),
            }
        )
    reported = sorted(set(counted["unit"]))
    counts = [
        ("units_expected", "应报单位", len(expected_units), "单位名录中的单位"),
        ("units_reported", "已报送统计表的单位", len(reported), "名录中已报统计表的单位"),
        (
            "units_not_reported",
            "未报送统计表的单位",
            len(set(expected_units) - set(reported)),
            "名录中未报统计表的单位",
        ),
        (
            "units_summary",
            "报送书面总结材料的单位",
            len(summary_units & set(expected_units)),
            "名录中已报书面总结的单位",
        ),
    ]
    for key, label, n, how in counts:
        before = to_decimal(prev.get(key, ""))
        rows.append(
            {
                "item": key,
                "kind": "count",
                "label": label,
                "measure": "个",
                "value": str(n),
                "previous": format_value(before),
                "change_pct": format_value(change_pct(Decimal(n), before)),
                "how": how,
            }
        )
    spec = form.policy.report
    for d in spec.derived:
        parts = [totals.get(c) for c in d.num]
        num = (
            sum((p for p in parts if p is not None), Decimal(0))
            if any(p is not None for p in parts)
            else None
        )
        value = None
        if d.den:
            den = totals.get(d.den)
            if num is not None and den:
                ratio = num / den * Decimal(d.factor)
                value = _q(ratio * 100, 1) if d.measure == "%" else _q(ratio, 0)
        else:
            value = num
        before = to_decimal(prev.get(d.key, ""))
        rows.append(
            {
                "item": d.key,
                "kind": "derived",
                "label": d.label,
                "measure": d.measure,
                "value": format_value(value),
                "previous": format_value(before),
                "change_pct": format_value(change_pct(value, before)) if d.measure != "%" else "",
                "how": definition(d, form),
            }
        )
    top_n = spec.top
    for code in spec.rankings:
        mine = counted[counted["item"] == code]
        mine = mine.assign(d=[to_decimal(v) for v in mine["value"]])
        mine = mine[mine["d"].notna()].sort_values(["d", "unit"], ascending=[False, True])
        for rank, row in enumerate(mine.head(top_n).itertuples(), 1):
            rows.append(
                {
                    "item": f"top.{code}.{rank}",
                    "kind": "rank",
                    "label": f"{form.item(code).label}第{rank}位",
                    "measure": form.item(code).unit,
                    "value": format_value(row.d),
                    "who": row.unit,
                    "how": f"{row.unit} 的 {code}",
                }
            )
    frame = pd.DataFrame(rows, columns=TOTAL_COLUMNS)
    for col in ("units_reported", "units_missing"):
        frame[col] = [str(int(x)) if pd.notna(x) and x != "" else "" for x in frame[col]]
    return frame.fillna("")


def unit_table(values: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Units as rows (in the order of the values table), item codes as columns, the values as written there
    ("" where none). attrs: "types" unit → unit type, "registered" the registered units."""
    first = values.drop_duplicates("unit")
    wide = values.pivot(index="unit", columns="item", values="value").reindex(
        index=first["unit"], columns=codes
    )
    wide = wide.fillna("")
    wide.attrs = {
        "types": dict(zip(first["unit"], first["unit_type"], strict=True)),
        "registered": set(first.loc[in_totals(first), "unit"]),
    }
    return wide
