"""One test per rule of FORM.md's table 'What a blank's text means'."""

from decimal import Decimal

import pytest

from wennuan_lib.read.parse import MISSING, OK, UNREADABLE, format_value, parse_blank


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


def test_a_count_must_be_whole_and_the_refusal_says_what_was_read():
    p = parse_blank("3.5")
    assert p.status == UNREADABLE and "整数" in p.note
    p = parse_blank("1,234.5")  # a thousands separator, read as one: the clerk sees which number is meant
    assert p.status == UNREADABLE and p.note == "此项应为整数（读到的是 1234.5）"


def test_numbers_stored_by_excel():
    assert parse_blank(12345.0).value == Decimal(12345)
    assert parse_blank(3.5, money=True).value == Decimal("3.5")
    assert parse_blank(3.5).status == UNREADABLE


def test_format_value_is_plain():
    assert format_value(Decimal("3.50")) == "3.5"
    assert format_value(Decimal("12000")) == "12000"
    assert format_value(Decimal("1.2E+4")) == "12000"
    assert format_value(None) == ""


@pytest.mark.parametrize(
    "text,unit,word",
    [
        ("100户", "人次", "户"),
        ("12家", "人", "家"),
        ("30个", "人次", "个"),
        ("5人", "户", "人"),
        ("8对", "名", "对"),
        ("20000人次", "人", "人次"),  # visits are not people: 人 for 人次 is read, never the other way
    ],
)
def test_a_count_of_something_else_is_refused_naming_both_words(text, unit, word):
    """There is no factor from 户 to 人次 (as there is from 元 to 万元): the figure counts something else and
    is refused, like 12万元 in a count blank, never taken in silence."""
    p = parse_blank(text, unit=unit)
    assert (p.status, p.value) == (UNREADABLE, None)
    assert word in p.note and f"本项的单位是{unit}" in p.note


@pytest.mark.parametrize(
    "text,unit,value",
    [
        ("100人次", "人次", 100),
        ("100", "人次", 100),
        ("100人", "人次", 100),  # 人/名 for 人次, 次 for 人次/场次, 场 for 场次: the same thing counted
        ("100次", "人次", 100),
        ("12名", "人", 12),
        ("12人", "名", 12),
        ("3场", "场次", 3),
        ("约1.2万户", "户", 12000),
        ("0户", "人次", 0),
        ("12家", "", 12),  # without the item's measure (a layout asking whether a cell holds a number)
    ],
)
def test_the_items_own_counting_word_and_its_synonyms_are_read(text, unit, value):
    p = parse_blank(text, unit=unit)
    assert (p.status, p.value) == (OK, Decimal(value))


def test_money_and_counting_words_do_not_cross():
    assert "万元" in parse_blank("12万元", unit="户").note
    p = parse_blank("500元", unit="户")
    assert p.status == UNREADABLE and "却填了元" in p.note and "本项的单位是户" in p.note
    p = parse_blank("100户", money=True, unit="万元")
    assert p.status == UNREADABLE and "户" in p.note and "金额" in p.note
    p = parse_blank("35000元", money=True, unit="万元")  # still converted, with its note
    assert p.value == Decimal("3.5") and "万元" in p.note


@pytest.mark.parametrize(
    "text,value,approx",
    [
        ("30万余元", "30", True),  # 元 after 余: the 万 is still the number's, not the blank's unit
        ("约2万多元", "2", True),
        ("两万余元", "2", True),
        ("十万", "10", False),  # Chinese numerals with 万 or 亿 and no unit: 元, as 30万 is
        ("二十万", "20", False),
        ("一千万", "1000", False),
        ("2.5亿", "25000", False),
        ("10万", "10", False),
        ("三万", "3", False),
        ("30", "30", False),  # a plain number in a 万元 blank is 万元
        ("三十", "30", False),
        ("30万元", "30", False),
        ("300000元", "30", False),
    ],
)
def test_an_amount_is_read_in_wan_however_its_magnitude_is_written(text, value, approx):
    p = parse_blank(text, money=True, unit="万元")
    assert (p.status, p.value, p.approx) == (OK, Decimal(value), approx), p


def test_a_count_multiplies_its_wan_written_in_either_way():
    assert parse_blank("二十万", unit="人次").value == Decimal(200000)
    assert parse_blank("1.2万户", unit="户").value == Decimal(12000)


@pytest.mark.parametrize(
    "text,money,value",
    [
        (".5", True, "0.5"),  # a leading dot is the decimal point, never dropped
        ("1亿零5百万元", True, "10500"),  # the 万 of 万元 belongs to the number
        ("3亿零7万元", True, "30007"),
        ("1.2万万元", True, "12000"),
        ("一二〇", False, "120"),  # digit by digit with 〇 is a number
    ],
)
def test_numbers_written_oddly_but_clearly_are_read_right(text, money, value):
    p = parse_blank(text, money=money, unit="万元" if money else "人")
    assert (p.status, p.value) == (OK, Decimal(value)), p


@pytest.mark.parametrize(
    "text,money,why",
    [
        ("。5", True, ""),  # a Chinese full stop typed for the decimal point: not guessed
        (".5", False, "整数"),
        (".1.5", True, ""),
        ("三五", False, "约数范围"),  # "three or five", not 35
        ("一两个", False, "约数范围"),
        ("七八", False, "约数范围"),
        ("三 五", False, "空格"),
        ("十 五", False, "空格"),
        ("2千", True, "不知是元还是万元"),  # in a 万元 blank: 2000 万元 or 0.2 万元?
        ("五百", True, "不知是元还是万元"),
        ("12¹", False, "上标"),  # a footnote mark, not a digit
        ("①", False, "圈码"),
    ],
)
def test_what_cannot_be_one_clear_number_is_refused_not_guessed(text, money, why):
    p = parse_blank(text, money=money, unit="万元" if money else "人")
    assert (p.status, p.value) == (UNREADABLE, None), p
    assert why in p.note


def test_empty_said_in_words_is_a_blank_and_odd_numbers_from_excel_are_refused():
    for text in ("空", "空白"):
        p = parse_blank(text)
        assert (p.status, p.value) == ("missing", None) and "按未填处理" in p.note
    for x in (float("nan"), float("inf")):
        assert parse_blank(x, money=True).status == UNREADABLE
    p = parse_blank("十二点三四五六七", money=True)  # as many places as written, noted as digits are
    assert p.value == Decimal("12.34567") and "小数超过4位" in p.note
