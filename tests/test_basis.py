"""Issue 19: every derived figure on a stated basis. Ground truth: a small made-up pair of years, the expected
figures computed here by plain arithmetic over the units that count, never by the code under test."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from wennuan_lib import aggregate, narrative
from wennuan_lib.form import load_form, translate

F13, F12 = load_form("2013"), load_form("2012")
TYPE = "市、区"


def values(units: dict[str, dict[str, str]], form=F13, approx: dict | None = None) -> pd.DataFrame:
    """A values table: every unit has a row for every item of `form` (blank unless given); `approx`:
    {(unit, code): raw text} for the entries written as approximations."""
    approx = approx or {}
    rows = []
    for unit, figures in units.items():
        for item in form.items:
            raw = approx.get((unit, item.code), figures.get(item.code, ""))
            rows.append(
                {
                    "unit": unit,
                    "unit_type": TYPE,
                    "registered": True,
                    "item": item.code,
                    "label": item.label,
                    "value": figures.get(item.code, ""),
                    "approx": (unit, item.code) in approx,
                    "raw_text": raw,
                }
            )
    return pd.DataFrame(rows)


def totals(now: pd.DataFrame, before: pd.DataFrame | None = None, form=F13, before_form=F13) -> pd.DataFrame:
    units = list(dict.fromkeys(now["unit"]))
    if before is None:
        return aggregate.build_totals(now, form, units, set())
    then = aggregate.build_totals(before, before_form, units, set())
    return aggregate.build_totals(
        now,
        form,
        units,
        set(),
        translate(then, before_form, form),
        previous_values=translate(before, before_form, form),
    )


def plain(text: str) -> str:
    return narrative.TOKEN.sub(lambda m: m.group(2), text)


def pct(now: Decimal, then: Decimal) -> Decimal:
    return ((now - then) / then * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def row(frame: pd.DataFrame, key: str) -> dict:
    return frame.set_index("item").loc[key].to_dict()


def test_yoy_is_on_the_units_that_filled_the_item_in_both_years_and_says_so():
    """园区 left 05.1 blank last year: 同比 compares only the units that filled it in both years."""
    now = {"甲区总工会": {"05.1": "100"}, "乙区总工会": {"05.1": "50"}, "丙区总工会": {"05.1": "30"}}
    then = {"甲区总工会": {"05.1": "90"}, "乙区总工会": {}, "丙区总工会": {"05.1": "25"}}
    t = totals(values(now), values(then))
    both = [u for u in now if then[u].get("05.1") and now[u].get("05.1")]
    a = sum(Decimal(now[u]["05.1"]) for u in both)
    b = sum(Decimal(then[u]["05.1"]) for u in both)
    r = row(t, "05.1")
    assert Decimal(r["value"]) == Decimal(180)  # the city total is still every unit's
    assert Decimal(r["change_pct"]) == pct(a, b) == Decimal("13.0")  # not 180 against 115 (+56.5 %)
    assert (r["units_comparable"], r["units_previous"], r["units_reported"]) == ("2", "2", "3")
    assert Decimal(r["previous"]) == Decimal(115) and Decimal(r["previous_comparable"]) == b
    text = plain(narrative.Figures(t, F13).yoy("05.1"))
    assert text == "，按可比口径（两年均填报的2个单位）计算，同比增长13.0%"


def test_yoy_on_every_unit_says_no_basis_and_a_fall_is_a_fall():
    now = {"甲区总工会": {"04A.2": "80"}, "乙区总工会": {"04A.2": "20"}}
    then = {"甲区总工会": {"04A.2": "100"}, "乙区总工会": {"04A.2": "25"}}
    t = totals(values(now), values(then))
    expected = pct(Decimal(100), Decimal(125))
    assert Decimal(row(t, "04A.2")["change_pct"]) == expected == Decimal("-20.0")
    assert plain(narrative.Figures(t, F13).yoy("04A.2")) == "，同比下降20.0%"


def test_a_figure_that_leaves_out_units_says_how_many_it_adds_up_and_who_did_not_fill_it():
    now = {"甲区总工会": {"03A.1": "300"}, "乙区总工会": {"03A.1": "200"}, "昆山市总工会": {}}
    t = totals(values(now))
    r = row(t, "03A.1")
    assert Decimal(r["value"]) == Decimal(500) and r["units_reported"] == "2"
    assert r["left_out"] == "昆山市总工会"
    assert plain(narrative.Figures(t, F13).fig("03A.1")) == "500户（2个单位合计，昆山市总工会未填）"
    full = {"甲区总工会": {"03A.1": "300"}, "乙区总工会": {"03A.1": "200"}}
    assert plain(narrative.Figures(totals(values(full)), F13).fig("03A.1")) == "500户"


def test_a_qizhong_counts_only_the_units_that_filled_its_whole():
    """昆山 filled 其中困难农民工 but left the 已建档 total blank: its 3048 is not in the 其中."""
    now = {
        "甲区总工会": {"03A.1": "300", "03A.2": "100"},
        "乙区总工会": {"03A.1": "200", "03A.2": "50"},
        "昆山市总工会": {"03A.2": "3048"},
    }
    t = totals(values(now))
    whole = [u for u, f in now.items() if f.get("03A.1")]
    expected = sum(Decimal(now[u]["03A.2"]) for u in whole)
    r = row(t, "03A.2")
    assert Decimal(r["value"]) == expected == Decimal(150)
    assert Decimal(r["value"]) <= Decimal(row(t, "03A.1")["value"])
    assert plain(narrative.Figures(t, F13).fig("03A.2")) == (
        "150户（2个单位合计，昆山市总工会未填已建档困难职工家庭，所填数字未计入）"
    )


def test_a_share_is_over_the_units_that_filled_both_parts():
    """A unit that filled the sources but not 05.1 is in neither the numerator nor the denominator."""
    now = {
        "甲区总工会": {"05.1": "100", "05A.1": "40", "06.1": "90", "04C.1": "300"},
        "乙区总工会": {"05.1": "50", "05A.1": "10", "06.1": "45"},
        "丙区总工会": {"05A.1": "60", "06.1": "70", "04C.1": "100"},
    }
    t = totals(values(now))
    both = [u for u, f in now.items() if f.get("05.1") and f.get("05A.1")]
    share = sum(Decimal(now[u]["05A.1"]) for u in both) / sum(Decimal(now[u]["05.1"]) for u in both) * 100
    assert Decimal(row(t, "share_05A.1")["value"]) == share.quantize(Decimal("0.1")) == Decimal("33.3")
    households = [u for u, f in now.items() if f.get("04C.1") and f.get("06.1")]
    per = (
        sum(Decimal(now[u]["06.1"]) for u in households)
        * 10000
        / sum(Decimal(now[u]["04C.1"]) for u in households)
    )
    per = per.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert Decimal(row(t, "per_household")["value"]) == per == 4000
    said = plain(narrative.Figures(t, F13).fig("per_household"))
    assert said == "4000元（按2个单位计算，乙区总工会未填慰问困难家庭总数，所填数字未计入）"
