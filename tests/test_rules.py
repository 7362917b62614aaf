"""Every rule fires on a seeded case and stays silent on clean data."""

import random
from decimal import Decimal

import pandas as pd
import pytest

from wennuan_lib.check import rules
from wennuan_lib.read.parse import format_value

from . import sample_data as sample


def clean_units(n: int = 8) -> dict[str, dict]:
    return {f"单位{k}": sample.unit_values(random.Random(k), 20_000 + 7_000 * k, "市、区") for k in range(n)}


def frame(units: dict, types: str = "市、区") -> pd.DataFrame:
    rows = []
    for unit, vals in units.items():
        for code, v in vals.items():
            rows.append(
                {
                    "unit": unit,
                    "unit_type": types,
                    "item": code,
                    "value": format_value(v),
                    "status": "ok" if v is not None else "missing",
                    "approx": False,
                    "raw_text": "",
                    "note": "",
                }
            )
    return pd.DataFrame(rows)


def test_clean_data_raises_nothing(form):
    findings = rules.check_all(frame(clean_units()), form)
    assert findings.empty, findings["message"].tolist()


def violate(check: rules.Check, vals: dict) -> None:
    """Change the figures so that exactly this check fails."""
    if check.op == "~":
        vals[check.left[0][1]], vals[check.right[0][1]] = Decimal(2), Decimal(0)
        return
    right = rules._side_value(check.right, vals)
    left = rules._side_value(check.left, vals)
    code = check.left[0][1]
    if check.op == "<=":
        vals[code] += right - left + Decimal(5)
    elif check.op == "==":
        vals[code] += Decimal(5)


@pytest.mark.parametrize(
    "rule_id", [r.id for r in __import__("wennuan_lib.form", fromlist=["x"]).load_form(2013).rules]
)
def test_every_form_rule_fires_on_a_seeded_case(form, rule_id):
    rule = next(r for r in form.rules if r.id == rule_id)
    check = rules.parse_check(rule.check)
    vals = dict(clean_units(1)["单位0"])
    for _, code in check.left + check.right:  # a pair rule needs a non-zero charter to break
        vals[code] = vals[code] or Decimal(10)
    vals_ok = dict(vals)
    if check.op == "~":
        vals_ok[check.left[0][1]] = vals_ok[check.right[0][1]] = Decimal(10)
    assert not [f for f in rules.check_form_rules("单位0", "", vals_ok, form) if f["rule"] == rule_id]
    violate(check, vals)
    fired = [f for f in rules.check_form_rules("单位0", "", vals, form) if f["rule"] == rule_id]
    assert len(fired) == 1
    f = fired[0]
    assert f["item"] == check.left[0][1] and f["severity"] == rule.severity
    # in the form's own terms: the rows as printed, never the codes (they are in the finding's items)
    assert not any(code in f["message"] for _, code in check.left + check.right)
    assert f["items"].split("|") == check.codes
    assert any(f"{code[:2]}行" in f["message"] for _, code in check.left + check.right)
    if len(check.left) == 1:
        assert form.item(check.left[0][1]).label in f["message"]


def test_sum_message_quotes_the_figures(form):
    vals = dict(clean_units(1)["单位0"])
    vals.update(
        {
            "05A.1": Decimal("100"),
            "05B.1": Decimal("400"),
            "05C.1": Decimal("40"),
            "05D.1": Decimal("9.19"),
            "05.1": Decimal("599.19"),
        }
    )
    f = next(f for f in rules.check_form_rules("u", "", vals, form) if f["rule"] == "S01")
    assert f["message"] == (  # in the form's own terms: the row, what was filled in, what to do
        "05行“筹集慰问款物总额”应等于各项来源之和：您填的总额是599.19万元，四项来源之和是549.19万元，"
        "请核对后改正其中之一"
    )


def test_sums_tolerate_wan_yuan_rounding(form):
    vals = dict(clean_units(1)["单位0"])
    vals["05.1"] = vals["05A.1"] + vals["05B.1"] + vals["05C.1"] + vals["05D.1"] + Decimal("0.01")
    assert not [f for f in rules.check_form_rules("u", "", vals, form) if f["rule"] == "S01"]
    vals["05.1"] += Decimal("0.01")
    assert [f for f in rules.check_form_rules("u", "", vals, form) if f["rule"] == "S01"]


def test_a_missing_item_never_fails_a_rule_but_raises_its_own_warning(form):
    units = clean_units()
    units["单位0"]["05B.1"] = None
    units["单位0"]["05.1"] += 50  # would break the sum 05.1 = 05A.1 + … if 05B.1 were there
    findings = rules.check_all(frame(units), form)
    mine = findings[findings["unit"] == "单位0"]
    assert list(mine["rule"]) == [rules.MISSING_ID] and mine["item"].iloc[0] == "05B.1"
    assert mine["severity"].iloc[0] == "warning" and "未填" in mine["message"].iloc[0]


def test_parts_filled_in_that_already_exceed_the_total_break_the_sum_whatever_the_blank(form):
    vals = dict(clean_units(1)["单位0"])
    vals.update({"05.1": Decimal(1), "05A.1": Decimal(100), "05B.1": Decimal(50), "05C.1": Decimal(20)})
    vals["05D.1"] = None
    fired = [f for f in rules.check_form_rules("u", "", vals, form) if f["rule"] == "S01"]
    assert len(fired) == 1 and fired[0]["severity"] == "error"
    assert fired[0]["message"] == (
        "05行“筹集慰问款物总额”应等于各项来源之和：您填的总额是1万元，四项来源之和是170万元"
        "（05行“其他收入”未填），请核对后改正其中之一"
    )
    vals["05.1"] = Decimal(200)  # the blank may make up the rest: nothing to say but the blank itself
    assert not [f for f in rules.check_form_rules("u", "", vals, form) if f["rule"] == "S01"]
    vals.update({"06.1": Decimal(5), "06A.1": None, "06B.1": Decimal(9)})  # W03: 06A.1 + 06B.1 <= 06.1
    fired = [f for f in rules.check_form_rules("u", "", vals, form) if f["rule"] == "W03"]
    assert len(fired) == 1 and "（06行“向困难劳模发放”未填）" in fired[0]["message"]


def test_yuan_for_wan_slip_is_a_warning_naming_the_item(form):
    units = clean_units()
    units["单位3"]["11A.1"] = units["单位3"]["11A.1"] * 10000
    findings = rules.check_all(frame(units), form)
    slip = findings[findings["rule"] == "Y01"]
    assert list(zip(slip["unit"], slip["item"])) == [("单位3", "11A.1")]
    assert slip["severity"].iloc[0] == "warning" and "元" in slip["message"].iloc[0]


def test_yuan_slip_as_share_of_the_total(form):
    units = clean_units()
    units["单位2"]["05C.1"] = units["单位2"]["05.1"] * 500
    slip = rules.check_all(frame(units), form)
    slip = slip[slip["rule"] == "Y01"]
    assert ("单位2", "05C.1") in set(zip(slip["unit"], slip["item"]))


def test_peer_outlier(form):
    units = clean_units()
    units["单位5"]["02A.1"] = units["单位5"]["01A.1"] * Decimal("0.4")
    units["单位5"]["02A.2"] = Decimal(0)
    out = rules.check_all(frame(units), form)
    out = out[out["rule"] == "O01"]
    assert ("单位5", "02A.1") in set(zip(out["unit"], out["item"]))
    assert set(out["unit"]) == {"单位5"}


def test_money_per_household_range(form):
    units = clean_units()
    units["单位1"]["04C.1"] = units["单位1"]["04C.1"] * 40
    units["单位1"]["04C.2"] = units["单位1"]["04C.3"] = units["单位1"]["04C.4"] = Decimal(0)
    out = rules.check_all(frame(units), form)
    assert ("单位1", "05.1") in set(
        zip(out.loc[out["rule"] == "M01", "unit"], out.loc[out["rule"] == "M01", "item"])
    )


def test_history_change_beyond_half_with_a_floor(form):
    before = clean_units()
    now = {u: dict(v) for u, v in before.items()}
    now["单位4"]["04A.2"] = before["单位4"]["04A.2"] * 3
    now["单位6"]["04B.1"] = before["单位6"]["04B.1"] + 3  # small numbers don't cry wolf
    before["单位6"]["04B.1"] = Decimal(2)
    now["单位6"]["04B.1"] = Decimal(9)
    out = rules.check_all(frame(now), form, previous=frame(before), previous_year=2012)
    hist = out[out["rule"] == "H01"]
    assert list(zip(hist["unit"], hist["item"])) == [("单位4", "04A.2")]
    assert "2012年" in hist["message"].iloc[0] and "增长" in hist["message"].iloc[0]
    assert hist["check_type"].iloc[0] == "历史审核"


def test_approximate_and_unreadable_blanks(form):
    df = frame(clean_units(2))
    df.loc[0, ["approx", "raw_text"]] = [True, "约500"]
    df.loc[1, ["status", "value", "raw_text", "note"]] = ["unreadable", "", "见附件", "不是数字"]
    out = rules.check_all(df, form)
    assert out.loc[out["rule"] == rules.APPROX_ID, "item"].tolist() == [df.loc[0, "item"]]
    un = out[out["rule"] == rules.UNREADABLE_ID]
    assert un["severity"].tolist() == ["error"] and "见附件" in un["message"].iloc[0]


def test_a_blank_pointing_to_an_attachment_asks_for_the_figure_on_the_form(form):
    """A blank reading "见附件" is not a misread number: the unit is asked to put the figure on the form,
    and told a figure left in an attachment is not counted; any other text is asked to be a number."""
    df = frame(clean_units(3))
    first, second = (df.index[df["unit"] == u][0] for u in df["unit"].unique()[:2])
    df.loc[first, ["status", "value", "raw_text", "note"]] = ["unreadable", "", "详见附件 ", "不是数字"]
    df.loc[second, ["status", "value", "raw_text", "note"]] = ["unreadable", "", "不详", "不是数字"]
    un = rules.check_all(df, form).set_index("unit").loc[lambda f: f["rule"] == rules.UNREADABLE_ID]
    attached, unclear = un.loc[df.loc[first, "unit"]], un.loc[df.loc[second, "unit"]]
    assert "附件里的数字不计入全市合计" in attached["message"] and "无法识别" not in attached["message"]
    assert attached["action"] == "请把附件中的这个数字填入统计表的这一格后重新报送"
    assert "无法识别为数字" in unclear["message"] and unclear["action"] == "请改填为一个数字"


def test_rules_run_on_the_city_totals(form):
    units = clean_units(3)
    totals = {c: sum((u[c] for u in units.values()), Decimal(0)) for c in form.codes}
    totals["09.1"] += 7
    out = rules.check_all(frame(units), form, totals=totals)
    assert out.loc[out["unit"] == rules.TOTALS, "rule"].tolist() == ["S02"]


def test_bad_rule_text_is_a_clear_error():
    with pytest.raises(ValueError, match="审核规则"):
        rules.parse_check("05.1 = 05A.1")
