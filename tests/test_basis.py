"""Issue 19: every derived figure on a stated basis. Ground truth: a small made-up pair of years, the expected
figures computed here by plain arithmetic over the units that count, never by the code under test."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import jinja2
import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from wennuan_lib.check import aggregate, rules
from wennuan_lib.form import load_form, translate
from wennuan_lib.publish import appendix, charts, draft, narrative
from wennuan_lib.steps import report

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
                    "status": "ok" if figures.get(item.code) else "missing",
                    "note": "",
                    "revised": False,
                    "corrected": False,
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
    assert said == "4000元（按2个单位计算，乙区总工会未填慰问困难家庭总数）"


def test_approximate_entries_make_the_total_about_or_at_least():
    """ "100余万元" is a lower bound: a total it weighs in is "…以上"; an entry written 约 makes it "约…";
    a small share of approximations leaves the figure plain and listed in its definition."""
    now = {"甲区总工会": {"05.1": "100"}, "乙区总工会": {"05.1": "50"}, "丙区总工会": {"05.1": "30"}}
    share = F13.policy.report.basis.approx_share
    t = totals(values(now, approx={("甲区总工会", "05.1"): "100余万元"}))
    assert Decimal(100) / Decimal(180) > Decimal(str(share))
    assert row(t, "05.1")["approx"] == "以上"
    assert plain(narrative.Figures(t, F13).fig("05.1")) == "180.00万元以上"
    t = totals(values(now, approx={("甲区总工会", "05.1"): "约100万元", ("乙区总工会", "05.1"): "50多万元"}))
    assert plain(narrative.Figures(t, F13).fig("05.1")) == "约180.00万元"
    big = {"甲区总工会": {"05.1": "1000"}, "乙区总工会": {"05.1": "2"}}
    t = totals(values(big, approx={("乙区总工会", "05.1"): "约2万元"}))
    assert Decimal(2) / Decimal(1002) <= Decimal(str(share))
    r = row(t, "05.1")
    assert r["approx"] == "" and "含约数1项（乙区总工会）" in r["how"]
    assert plain(narrative.Figures(t, F13).fig("05.1")) == "1002.00万元"


def test_an_indicator_reworded_between_the_forms_is_not_compared_unless_the_policy_says_so():
    """2012's 07A.1 counted 十七届六中全会 meetings, 2013's 十八大 meetings."""
    assert F12.item("07A.1").label != F13.item("07A.1").label
    now = {"甲区总工会": {"07A.1": "10"}, "乙区总工会": {"07A.1": "5"}}
    then = {"甲区总工会": {"07A.1": "8"}, "乙区总工会": {"07A.1": "4"}}
    t = totals(values(now), values(then, F12), before_form=F12)
    r = row(t, "07A.1")
    assert r["change_pct"] == "" and r["compare"].startswith("口径不同，不作比较")
    assert F12.item("07A.1").label in r["compare"]
    assert plain(narrative.Figures(t, F13).yoy("07A.1")) == "，与上年口径不同，不作比较"
    t1 = appendix.tables(F13, t, values(now), pd.DataFrame(columns=["unit"]), True)[0]
    cells = dict(zip(t1.headings, next(c for c in t1.rows if c[0] == "07A.1"), strict=True))
    assert cells["同比（%）"] == "不作比较" and "07A.1 口径不同，不作比较" in t1.note
    # the federation decides the two measure the same thing: compared, on the comparable basis
    basis = dataclasses.replace(F13.policy.report.basis, same_concept=("07A.1",))
    report = dataclasses.replace(F13.policy.report, basis=basis)
    same = dataclasses.replace(F13, policy=dataclasses.replace(F13.policy, report=report))
    t = totals(values(now, same), values(then, F12), same, F12)
    assert Decimal(row(t, "07A.1")["change_pct"]) == pct(Decimal(15), Decimal(12))
    assert plain(narrative.Figures(t, same).yoy("07A.1")) == "，同比增长25.0%"


def test_appendix_1_carries_the_comparable_previous_year_and_the_unit_counts():
    now = {"甲区总工会": {"05.1": "100"}, "乙区总工会": {"05.1": "50"}, "丙区总工会": {"05.1": "30"}}
    then = {"甲区总工会": {"05.1": "90"}, "乙区总工会": {}, "丙区总工会": {"05.1": "25"}}
    t = totals(values(now), values(then))
    t1 = appendix.tables(F13, t, values(now), pd.DataFrame(columns=["unit"]), True)[0]
    cells = dict(zip(t1.headings, next(c for c in t1.rows if c[0] == "05.1"), strict=True))
    assert cells["全市合计"] == "180.00" and cells["计入单位数"] == "3"
    assert cells["上年合计"] == "115.00" and cells["可比单位数"] == "2" and cells["可比上年"] == "115.00"
    assert cells["同比（%）"] == str(pct(Decimal(130), Decimal(115)))
    assert "可比口径" in t1.note
    # the column is what last year's forms add up to now, which differs from what was sent when they changed
    # after the seal: the note does not call it the published figure
    assert "上年公布" not in t1.note and "“上年合计”为按上年的报表（更正后）计算的全市合计" in t1.note


def test_a_ranking_counts_a_unit_whose_total_is_blank_by_its_parts_and_says_so():
    now = {
        "甲区总工会": {"05.1": "300"},
        "乙区总工会": {"05A.1": "500", "05B.1": "400"},
        "丙区总工会": {"05.1": "200"},
    }
    t = totals(values(now))
    top = narrative.Figures(t, F13).top("05.1")
    assert [u["name"] for u in top] == ["乙区总工会", "甲区总工会", "丙区总工会"]
    assert plain(top[0]["fig"]) == "900.00万元" and top[0]["note"] == "，未填筹集慰问款物总额，按各分项之和计"


def _issues(rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    """Findings (unit, item, rule, waived)."""
    return pd.DataFrame(
        [
            {"unit": u, "item": i, "items": i, "rule": r, "severity": "warning", "waived": w}
            for u, i, r, w in rows
        ],
        columns=["unit", "item", "items", "rule", "severity", "waived"],
    )


def _said(t: pd.DataFrame, code: str) -> narrative.Narrative:
    f = narrative.Figures(t, F13)
    text = f"走访职工家庭{f.fig(code)}{f.yoy(code)}。"
    return narrative.Narrative("", "", "", "", [narrative.Section("一", [narrative.Block("para", text)])], [])


def test_a_yoy_whose_direction_turns_without_the_units_with_open_findings_keeps_the_report_a_draft():
    """园区's 2012 走访 has an open warning (three times its 2013): with it the city falls, else rises."""
    now = {"甲区总工会": {"04A.2": "110"}, "乙区总工会": {"04A.2": "110"}, "园区工会": {"04A.2": "100"}}
    then = {"甲区总工会": {"04A.2": "100"}, "乙区总工会": {"04A.2": "100"}, "园区工会": {"04A.2": "300"}}
    t = totals(values(now), values(then))
    stated = pct(Decimal(320), Decimal(500))
    without = pct(Decimal(220), Decimal(200))
    assert Decimal(row(t, "04A.2")["change_pct"]) == stated == Decimal("-36.0") and without == Decimal("10.0")
    last_year = _issues([("园区工会", "04A.2", "H01", False)])
    found = draft.unsteady(_said(t, "04A.2"), t, F13, 2013, values(now), values(then), _issues([]), last_year)
    assert len(found) == 1 and found[0]["kind"] == draft.DIRECTION and found[0]["unit"] == "园区工会"
    message = found[0]["message"]
    assert "“走访职工家庭320户，同比下降36.0%”" in message and "园区工会（2012年规则H01）" in message
    assert (
        "计入它们同比下降36.0%" in message and "不计入它们（两年均填报的其余2个单位）同比增长10.0%" in message
    )
    # waived (confirmed by the unit): the direction no longer hangs on an unchecked figure
    waived = _issues([("园区工会", "04A.2", "H01", True)])
    assert draft.unsteady(_said(t, "04A.2"), t, F13, 2013, values(now), values(then), None, waived) == []
    # an open finding this year that does not turn the direction: no reason
    mild = _issues([("甲区总工会", "04A.2", "H01", False)])
    assert draft.unsteady(_said(t, "04A.2"), t, F13, 2013, values(now), values(then), mild, None) == []
    reasons = draft.added(pd.DataFrame(columns=["kind", "unit", "item", "message"]), found)
    assert list(reasons["kind"]) == [draft.DIRECTION]


def test_a_unit_whose_figures_repeat_last_years_on_several_items_is_asked_to_confirm():
    spec = F13.policy.repeats
    copied = {"08A.1": "57", "08A.2": "20", "08C.3": "11", "10H.1": "2", "05.1": "12.5", "10F.1": "0"}
    then = {"抄录区总工会": dict(copied), "认真区总工会": dict(copied)}
    now = {
        "抄录区总工会": {**copied, "05.1": "13.1"},  # four non-zero figures as last year's, a zero too
        "认真区总工会": {
            **copied,
            "08A.1": "58",
            "08C.3": "12",
            "10H.1": "3",
        },  # one left (08A.2), and the zero
    }
    found = rules.check_all(values(now), F13, values(then), 2012)
    mine = found[found["rule"] == spec.id]
    same = [
        c
        for c in F13.codes
        if now["抄录区总工会"].get(c, "0") != "0" and now["抄录区总工会"][c] == then["抄录区总工会"][c]
    ]
    assert len(same) == 4 >= spec.min_items
    assert list(mine["unit"]) == ["抄录区总工会"] and mine.iloc[0]["severity"] == "warning"
    assert mine.iloc[0]["items"].split("|") == same
    assert mine.iloc[0]["message"].startswith("4项数字与2012年完全相同（08行“为权益受损职工开展维权”57名；")
    assert "照抄" in mine.iloc[0]["action"]


def _render(template: str, t: pd.DataFrame) -> str:
    f = narrative.Figures(t, F13)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    names = ("fig", "yoy", "top", "has", "some", "top_n", "label")
    text = env.from_string(template).render(year=2013, **{n: getattr(f, n) for n in names})
    return plain(re.sub(r"\s+", "", text))


def test_one_count_of_units_reported_unreadable_and_not_reported():
    expected = ["甲区总工会", "乙区总工会", "水利工会", "科技学院工会"]
    now = values({"甲区总工会": {"05.1": "1"}, "乙区总工会": {"05.1": "2"}})
    t = aggregate.build_totals(now, F13, expected, {"甲区总工会"}, unreadable={"水利工会"})
    read = set(now["unit"])
    states = [aggregate.form_state(u, read, {"水利工会"}) for u in expected]
    counts = {r["item"]: int(r["value"]) for r in t[t["kind"] == "count"].to_dict("records")}
    assert counts["units_sent"] == states.count("reported") + states.count("unreadable") == 3
    assert (
        counts["units_reported"] == 2
        and counts["units_unreadable"] == 1
        and counts["units_not_reported"] == 1
    )
    first = _render(F13.policy.report.basic, t).split("。")[1]
    assert (
        first
        == "全市应报单位4个，已报送统计表3个（其中1个无法读取，未计入汇总），未报1个，报送书面总结材料1个"
    )
    everyone = aggregate.build_totals(now, F13, ["甲区总工会", "乙区总工会"], set())
    assert _render(F13.policy.report.basic, everyone).split("。")[1] == (
        "全市应报单位2个，已报送统计表2个，报送书面总结材料0个"
    )


def test_see_attachment_is_asked_for_not_blank_and_appendix_2_marks_corrected_and_revised_values():
    now = values({"甲区总工会": {"05.1": "100"}, "乙区总工会": {}, "丙区总工会": {"05.1": "30"}})
    at = (now["unit"] == "乙区总工会") & (now["item"] == "05.1")
    now.loc[at, ["raw_text", "status"]] = ["见附件", "unreadable"]
    now.loc[(now["unit"] == "甲区总工会") & (now["item"] == "05.1"), "corrected"] = True
    now.loc[(now["unit"] == "丙区总工会") & (now["item"] == "05.1"), "revised"] = True
    t = totals(now)
    assert row(t, "05.1")["basis"] == "乙区总工会填写“见附件”，待补报"
    assert (
        plain(narrative.Figures(t, F13).fig("05.1"))
        == "130.00万元（2个单位合计，乙区总工会填写“见附件”，待补报）"
    )
    t2 = appendix.tables(F13, t, now, pd.DataFrame(columns=["unit"]), False)[1]
    column = t2.headings.index(f"{F13.item('05.1').label}（万元）")
    cells = {r[0]: r[column] for r in t2.rows}
    assert cells == {"甲区总工会": "100.00*", "乙区总工会": "见附件", "丙区总工会": "30.00†"}
    assert "标*的数值已按更正登记表更正" in t2.note and "标†的数值读自Word文件的修订记录" in t2.note
    assert "“见附件”" in t2.note


def test_the_same_basis_twice_in_a_row_is_said_once():
    now = {
        "甲区总工会": {"05.1": "100", "05A.1": "40", "05B.1": "60"},
        "乙区总工会": {"05A.1": "10", "05B.1": "5"},
    }
    t = totals(values(now))
    text = _render('{{ fig("share_05A.1") }}，{{ fig("share_05B.1") }}', t)
    assert text == "40.0%（按1个单位计算，乙区总工会未填筹集慰问款物总额），60.0%（口径同上）"


def test_the_city_summary_form_notes_the_checks_its_totals_fail(tmp_path):
    """05.1 ≠ Σ sources at city level because a unit filled only the total: the 汇总统计表 says so."""
    now = values(
        {
            "甲区总工会": {"05.1": "100", "05A.1": "40", "05B.1": "60", "05C.1": "0", "05D.1": "0"},
            "乙区总工会": {"05.1": "20"},
        }
    )
    t = totals(now)
    city = aggregate.printed(t, F13.codes)
    assert city["05.1"] == 120 and sum(city[c] for c in ("05A.1", "05B.1", "05C.1", "05D.1")) == 100
    found = rules.check_all(now, F13, totals=city)
    notes = report.city_notes(found)
    assert any("05行" in n and "乙区总工会" in n and "请核对" not in n for n in notes), notes
    data = report.summary_form(F13, t, {"city_unit": "苏州市总工会"}, dt.date(2013, 1, 20), notes=notes)
    cells = [  # a note's line breaks (wrapped within the form's width) and the indent after them left out
        re.sub(r"\n\s*", "", c.value)
        for r in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows()
        for c in r
        if isinstance(c.value, str)
    ]
    assert all(n in cells for n in notes) and notes[0].startswith("注1：全市合计 ")
    # with the totals: first which totals leave out a unit that reported (what the prose says beside each
    # figure, and the form's cells cannot), then the checks, numbered on
    noted = report.city_notes(found, t)
    assert noted[0] == "注1：合计只含填了该项的单位，以下各项有单位未填或所填未计入："
    assert "    05A.1 政府拨款：1个单位合计，乙区总工会未填" in noted
    assert noted[-1] == notes[0].replace("注1：", "注2：")


def test_the_trend_chart_says_which_years_figure_leaves_a_unit_out():
    """2012: 园区 left 筹集 blank, so the chart's 2012 筹集 is drawn under its 发放; the note says why."""
    t12 = totals(values({"甲区总工会": {"05.1": "10", "06.1": "9"}, "园区工会": {"06.1": "30"}}))
    t13 = totals(
        values({"甲区总工会": {"05.1": "12", "06.1": "11"}, "园区工会": {"05.1": "40", "06.1": "35"}})
    )
    cov = report.coverage({2012: t12, 2013: t13})
    assert cov == {2012: {"05.1": "1个单位合计（园区工会未填）"}, 2013: {}}
    note = charts.coverage_note(cov, [("05.1", "筹集慰问款物"), ("06.1", "发放款物")])
    assert note == "\n注：2012年筹集慰问款物为1个单位合计（园区工会未填）。"


def test_buses_and_riders_count_only_the_units_whose_pair_matches():
    """Three buses that carried nobody, and riders with no bus count, are in neither figure."""
    now = {
        "甲区总工会": {"10D.1": "16", "10D.2": "820"},
        "乙区总工会": {"10D.1": "3", "10D.2": "0"},
        "丙区总工会": {"10D.1": "0", "10D.2": "0"},
        "丁区总工会": {"10D.2": "40"},
    }
    t = totals(values(now))

    def matched(f):
        return "10D.1" in f and "10D.2" in f and (Decimal(f["10D.1"]) > 0) == (Decimal(f["10D.2"]) > 0)

    units = [u for u, f in now.items() if matched(f)]
    for code in ("10D.1", "10D.2"):
        assert Decimal(row(t, code)["value"]) == sum(Decimal(now[u][code]) for u in units), code
    assert row(t, "10D.1")["value"] == "16" and row(t, "10D.2")["value"] == "820"
    said = plain(narrative.Figures(t, F13).fig("10D.1"))
    assert said == "16辆（2个单位合计，丁区总工会未填；乙区总工会所填包汽车与汽车运送不配套，未计入）"
    assert plain(narrative.Figures(t, F13).fig("10D.2")) == (
        "820人次（2个单位合计，丁区总工会未填包汽车，所填数字未计入；乙区总工会所填汽车运送与包汽车不配套，未计入）"
    )


def test_the_sources_chart_gives_the_prose_shares_and_says_their_basis(monkeypatch):
    """丙 filled 05A.1 but not 05.1: the bar is all three units' 110, its share 33.3 % over 甲 and 乙 (as the
    prose says), not 110 of the bars' sum; the chart's note says what its percentages are over."""
    now = {
        "甲区总工会": {"05.1": "100", "05A.1": "40", "05B.1": "60"},
        "乙区总工会": {"05.1": "50", "05A.1": "10", "05B.1": "40"},
        "丙区总工会": {"05A.1": "60"},
    }
    t = totals(values(now))
    drawn = {}

    def finish(fig, ax, name, title, note, folder, **kw):
        drawn[name] = ([x.get_text() for x in ax.texts], note)
        return charts.Chart(name, title, None, 150.0, 9.0, b"")

    monkeypatch.setattr(charts, "finish", finish)
    charts.make_all(t, values(now), {}, 2013, True, None, F13.policy.charts)
    labels, note = drawn["sources"]
    assert (
        labels[-1].strip()
        == "110.00万元（33.3%）"
        == f" 110.00万元（{row(t, 'share_05A.1')['value']}%）".strip()
    )
    assert note.startswith("括号内为占筹集慰问款物总额的比重，按同时填报该项与总额的单位计算（同正文）。\n")
    assert note.endswith("数据来源：各单位报送（示例数据）")


FIGURE = st.one_of(st.none(), st.just(Decimal(0)), st.decimals(min_value=1, max_value=99, places=0))
UNITS = st.sampled_from(["甲", "乙", "丙", "丁", "戊"])
YEAR = st.dictionaries(UNITS, st.fixed_dictionaries({c: FIGURE for c in ("a", "b", "w")}))


@settings(max_examples=300, deadline=None)
@given(now=YEAR, before=YEAR, leave_out=st.sets(st.sampled_from(["甲", "乙"])))
def test_the_comparable_basis_is_every_unit_that_counts_in_both_years(now, before, leave_out):
    """可比口径 over the units that count in both years (a 其中 counts with its whole filled, a pair when both
    halves are zero or both are not), in this year's order, less those left out; the figures over them."""
    for m in (
        aggregate.Measure(("a",)),
        aggregate.Measure(("a",), needs=("w",)),
        aggregate.Measure(("a",), needs=("w", "b"), paired=("b",)),
        aggregate.Measure(("a", "b"), "w", factor=10000),
    ):
        assert m.members(now) == [u for u, vals in now.items() if m.counts(vals)]
        want = [u for u in now if u in before and m.counts(now[u]) and m.counts(before[u])]
        want = [u for u in want if u not in leave_out]
        both, this, last = aggregate.comparable(m, now, before, leave_out)
        assert both == want
        assert (this, last) == (m.of(now, want), m.of(before, want))
