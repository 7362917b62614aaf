"""The form file holds FORM.md's items and the seed's sentences exactly."""

import re
from pathlib import Path

import pytest

from wennuan_lib import form as form_mod
from wennuan_lib import policy
from wennuan_lib.base import config
from wennuan_lib.form import load_form

FIXTURES = Path(__file__).resolve().parent / "fixtures"

FORM_MD_CODES = (
    "01A.1 01A.2 02A.1 02A.2 03A.1 03A.2 03B.1 03C.1 03D.1 03E.1 04A.1 04A.2 04B.1 04C.1 04C.2 04C.3\n"
    "04C.4 05.1 05A.1 05B.1 05C.1 05D.1 06.1 06A.1 06B.1 07A.1 07B.1 07B.2 07C.1 07D.1 07E.1 07F.1 07G.1 "
    "07H.1 07I.1\n"
    "08A.1 08A.2 08B.1 08B.2 08C.1 08C.2 08C.3 08C.4 09.1 09.2 09A.1 09A.2 09B.1 09B.2 09C.1 09C.2 09D.1 "
    "09D.2 10A.1\n"
    "10B.1 10B.2 10C.1 10C.2 10D.1 10D.2 10E.1 10E.2 10F.1 10F.2 10G.1 10H.1 11A.1"
).split()
MONEY = {"05.1", "05A.1", "05B.1", "05C.1", "05D.1", "06.1", "06A.1", "06B.1", "08C.2", "08C.4", "11A.1"}


def squeeze(s: str) -> str:
    return re.sub(r"[\s_\u3000]+", "", s)


def test_every_item_of_form_md_in_order_with_its_kind(form):
    assert form.codes == FORM_MD_CODES
    assert {i.code for i in form.items if i.is_money} == MONEY
    assert all(i.unit == "万元" for i in form.items if i.is_money)
    assert form.item("07I.1").unit == "对" and form.item("10F.1").unit == "架"


def test_every_sentence_is_the_seeds_text(form):
    seed = squeeze((FIXTURES / "seed_attachment.txt").read_text(encoding="utf-8"))
    for line in form.layout:
        assert squeeze("".join(line.literals)) in seed.replace("_", ""), line.text
        for lit in line.literals:
            assert squeeze(lit) in seed, lit


def test_every_blank_appears_once_in_the_layout(form):
    in_layout = [c for line in form.layout for c in line.codes]
    assert sorted(in_layout) == sorted(form.codes)


def test_every_property_of_a_form_and_of_its_lines_answers(form):
    """A property copied from Form onto Line (Line.year, Line.rules) raised AttributeError when asked."""
    for obj in (form, *form.layout):
        for name, attr in vars(type(obj)).items():
            if isinstance(attr, property):
                getattr(obj, name)
    assert form.year == 2013 and form.layout[0].codes == ["01A.1", "01A.2"]


def test_header_fields_and_rules_are_data(form):
    assert [h.label for h in form.header] == ["填报单位", "填报日期", "填报人", "联系电话"]
    checks = {r.check for r in form.rules}
    assert "05.1 == 05A.1 + 05B.1 + 05C.1 + 05D.1" in checks and "04C.3 <= 04C.2" in checks
    assert all(r.severity in ("error", "warning") and r.message for r in form.rules)
    codes_in_rules = {c for r in form.rules for c in re.findall(r"\d\d[A-Z]?\.\d", r.check)}
    assert codes_in_rules <= set(form.codes)


def test_a_new_year_is_a_copy_and_edit(tmp_path, monkeypatch):
    src = (config.FORMS_DIR / "2013.yaml").read_text(encoding="utf-8")
    (tmp_path / "2014.yaml").write_text(
        src.replace('form: "2013"', 'form: "2014"').replace("2013年元旦", "2014年元旦"), encoding="utf-8"
    )
    monkeypatch.setattr(config, "FORMS_DIR", tmp_path)
    form_mod.load_form.cache_clear()
    try:
        f = form_mod.load_form(2014)
        assert f.form == "2014" and f.layout[11].text.startswith("2014年元旦")
    finally:
        form_mod.load_form.cache_clear()


def test_policy_is_shared_and_resolved_to_each_years_codes():
    f11, f13 = load_form(2011), load_form(2013)
    assert f11.policy.version == f13.policy.version
    assert [r.id for r in f11.rules] == [r.id for r in f13.rules]  # one list of checks for every year
    slips11 = {c.item for c in f11.policy.yuan_slip.checks}
    assert "11B.1" in slips11 and "11A.1" not in slips11  # 2011's subsidy is 11B.1 (concept 11A.1)
    assert f11.policy.charts.transport_all == "10A.1"
    assert f11.title == "2011年全市工会送温暖活动统计表" and f11.layout[7].text.startswith("2011年元旦")


def test_a_year_overrides_one_policy_entry(tmp_path, monkeypatch):
    src = (config.FORMS_DIR / "2013.yaml").read_text(encoding="utf-8")
    message = form_mod.load_form(2013).policy.rule("W02").message
    override = '\npolicy:\n  rules.W02: {check: "06.1 <= 1.5 * 05.1"}\n'
    (tmp_path / "2014.yaml").write_text(
        src.replace('form: "2013"', 'form: "2014"') + override, encoding="utf-8"
    )
    (tmp_path / "2015.yaml").write_text(
        src.replace('form: "2013"', 'form: "2015"') + '\npolicy:\n  rules.W99: {check: "06.1 <= 05.1"}\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(config, "FORMS_DIR", tmp_path)
    form_mod.load_form.cache_clear()
    try:
        f = form_mod.load_form(2014)
        assert f.policy.rule("W02").check == "06.1 <= 1.5 * 05.1"
        assert f.policy.rule("W02").message == message
        with pytest.raises(ValueError, match="W99"):
            form_mod.load_form(2015)
    finally:
        form_mod.load_form.cache_clear()


def test_a_check_on_an_item_the_year_lacks_is_left_out():
    raw = policy.raw_policy()
    raw["rules"].append({"id": "X01", "check": "10H.1 <= 10A.1", "severity": "warning", "message": "{left}"})
    resolved = policy.resolve(raw, lambda c: None if c == "10H.1" else c)
    assert "X01" not in [r.id for r in resolved.rules]
    assert any("10H.1" in d for d in resolved.dropped)
