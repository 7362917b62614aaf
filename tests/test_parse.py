"""One test per rule of FORM.md's table 'What a blank's text means'."""

from decimal import Decimal

import pytest

from wennuan_lib.parse import MISSING, OK, UNREADABLE, format_value, parse_blank


@pytest.mark.parametrize("text", ["", "   ", "\u3000\u3000", "____", " _ _ ", None])
def test_empty_spaces_underscores_are_missing_not_zero(text):
    p = parse_blank(text)
    assert p.status == MISSING and p.value is None


@pytest.mark.parametrize("text", ["0", "无", "没有", "零", "—", "-", "/", "／", "——", " 0 "])
def test_zero_words(text):
    p = parse_blank(text)
    assert (p.status, p.value) == (OK, Decimal(0))


@pytest.mark.parametrize("text", ["12,345", "12，345", "１２３４５", " 12345 ", "１２，３４５"])
def test_separators_and_full_width_digits(text):
    assert parse_blank(text).value == Decimal(12345)


def test_wan_in_a_count_blank():
    assert parse_blank("1.2万").value == Decimal(12000)
    assert parse_blank("3万").value == Decimal(30000)


def test_wan_in_a_money_blank_is_the_unit_itself():
    assert parse_blank("1.2万", money=True).value == Decimal("1.2")
    assert parse_blank("3.5万元", money=True).value == Decimal("3.5")


@pytest.mark.parametrize("text", ["约500", "500余", "500多", "大约500", "500左右", "近500"])
def test_approximate_values_keep_a_mark(text):
    p = parse_blank(text)
    assert (p.value, p.approx) == (Decimal(500), True)


def test_exact_value_is_not_approximate():
    assert parse_blank("500").approx is False


@pytest.mark.parametrize("text,value", [("一百二十", 120), ("四十", 40), ("两千", 2000), ("十", 10)])
def test_chinese_numerals(text, value):
    assert parse_blank(text).value == Decimal(value)


@pytest.mark.parametrize("text", ["3.5", "３．５", "3.50", " 3.5 "])
def test_money_decimals(text):
    assert parse_blank(text, money=True).value == Decimal("3.5")


@pytest.mark.parametrize(
    "text,value",
    [
        ("120人", 120),
        ("共120人", 120),
        ("为120", 120),
        ("120 户", 120),
        ("约1.2万人", 12000),
        ("500余人次", 500),
    ],
)
def test_unit_word_and_filler_words(text, value):
    assert parse_blank(text).value == Decimal(value)


def test_yuan_in_a_money_blank_is_converted_and_noted():
    p = parse_blank("35000元", money=True)
    assert p.value == Decimal("3.5") and "万元" in p.note


@pytest.mark.parametrize("text", ["见附件", "不详", "12 34", "12,34", "-5", "一点二万", "120（含外地30）"])
def test_text_that_is_not_one_number_is_unreadable_never_guessed(text):
    p = parse_blank(text)
    assert p.status == UNREADABLE and p.value is None and p.note


def test_a_count_must_be_whole():
    p = parse_blank("3.5")
    assert p.status == UNREADABLE and "整数" in p.note


def test_numbers_stored_by_excel():
    assert parse_blank(12345.0).value == Decimal(12345)
    assert parse_blank(3.5, money=True).value == Decimal("3.5")
    assert parse_blank(3.5).status == UNREADABLE


def test_format_value_is_plain():
    assert format_value(Decimal("3.50")) == "3.5"
    assert format_value(Decimal("12000")) == "12000"
    assert format_value(Decimal("1.2E+4")) == "12000"
    assert format_value(None) == ""
