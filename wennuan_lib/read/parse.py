"""Reading what a unit typed into one blank of the form, by the table in FORM.md.

Empty is missing (未填), never zero. Text that is not a number is kept verbatim and
reported as unreadable, never guessed.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

logging.getLogger("cn2an").setLevel(logging.ERROR)  # imported where a number is written in words

OK, MISSING, UNREADABLE = "ok", "missing", "unreadable"
NOT_FOUND = "not_found"  # a layout found no place for the item (ingest): not a parse of typed text
VALUE_LABELS = {OK: "已填", MISSING: "未填", UNREADABLE: "无法识别", NOT_FOUND: "表中未找到"}

ZERO_WORDS = {"0", "无", "没有", "零", "〇"}
# the clerk says the blank is empty: 未填, to be asked for (FORM.md reads only the words above as 0)
EMPTY_WORDS = {"空", "空白"}
DASHES = "-—–―─/\\"
APPROX_PREFIXES = ("大约", "约计", "约", "近")
APPROX_SUFFIXES = ("左右", "以上", "余", "多")
FILLER_PREFIXES = ("共计", "合计", "总计", "累计", "计", "共", "为", "达", "有")
# Unit words a unit may type after the number; 万元/元 are handled apart for money blanks.
UNIT_WORDS = (
    "人次",
    "场次",
    "万元",
    "元",
    "人",
    "户",
    "家",
    "个",
    "对",
    "名",
    "列",
    "节",
    "辆",
    "艘",
    "架",
    "张",
    "次",
    "场",
)
# Counting words that name the same thing as an item's own (a unit writes 名 for 人, 次 for 人次): read as
# typed. Any other counting word counts something else (户 in a 人次 item) and is refused, as 万元 in a count
# item is: there is no factor that turns households into person-times.
# A count of people takes 名, not 人次 (person-times count visits, not people); a 人次 item takes 人 and
# 名, as units write them.
SAME_MEASURE = {
    "人": {"名"},
    "名": {"人"},
    "人次": {"人", "名", "次"},
    "场次": {"场", "次"},
}
CN_NUMERAL = set("〇零一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟点")
EDGE_PUNCT = "。，,;；、:：.!！?？ "
# taken off the front too, but not a dot: ".5" is a number; "。5" (a Chinese full stop typed for one) is not
LEAD_PUNCT = EDGE_PUNCT.replace(".", "").replace("。", "")
CN_DIGITS = "一二三四五六七八九两"  # numerals without a place word (十 百 千 万 亿) or 〇
SPACED = re.compile(rf"[\d{CN_DIGITS}〇零十百千万亿] [\d{CN_DIGITS}〇零十百千万亿]")  # two numbers, or one?
HUNDREDS = re.compile("[千百佰仟]")
PLAIN = re.compile(r"\d+(?:\.\d+)?")
MAGNITUDES = ("万", "亿")


@dataclass(frozen=True)
class Parsed:
    value: Decimal | None
    status: str  # ok / missing / unreadable
    approx: bool = False
    note: str = ""


def _missing(note: str = "") -> Parsed:
    return Parsed(None, MISSING, False, note)


def _unreadable(note: str) -> Parsed:
    return Parsed(None, UNREADABLE, False, note)


def _from_number(x: int | float, money: bool) -> Parsed:
    """A value Excel stored as a number."""
    if isinstance(x, bool) or not math.isfinite(x):
        return _unreadable("不是数字")
    d = Decimal(str(x))
    return _check(d, money, approx=False, note="")


def _check(d: Decimal, money: bool, approx: bool, note: str) -> Parsed:
    if d < 0:
        return _unreadable("不能为负数")
    if not money:
        if d != d.to_integral_value():
            return _unreadable(f"此项应为整数（读到的是 {d.normalize():f}）")
        d = d.quantize(Decimal(1))
    else:
        d = d.normalize()
        if d.as_tuple().exponent < -4:
            note = (note + "；" if note else "") + "小数超过4位"
    return Parsed(d, OK, approx, note)


def _strip_words(s: str) -> tuple[str, bool, str]:
    """Remove filler, approximation and unit words around the number."""
    approx = False
    unit_word = ""
    changed = True
    while changed and s:
        changed = False
        for p in APPROX_PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, approx, changed = s[len(p) :], True, True
        for p in FILLER_PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p) :], True
        for w in UNIT_WORDS:
            if s.endswith(w) and len(s) > len(w) and not unit_word:
                s, unit_word, changed = s[: -len(w)], w, True
        for p in APPROX_SUFFIXES:
            if s.endswith(p) and len(s) > len(p):
                s, approx, changed = s[: -len(p)], True, True
        stripped = _trim(s)
        if stripped != s:
            s, changed = stripped, True
    return s, approx, unit_word


def _trim(s: str) -> str:
    return s.lstrip(LEAD_PUNCT).rstrip(EDGE_PUNCT)


def _number(core: str) -> Decimal | None:
    """The number in `core` as written, its 万 and 亿 multiplied out (30万 → 300000), or None when it is not
    exactly one number. What the number counts (元, 万元, 户) is for the caller (see `_in_measure`)."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", core):
        core = core.replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?|\.\d+", core):
        return Decimal(core)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)万", core)
    if m:
        return Decimal(m.group(1)) * 10000
    if any(c in CN_NUMERAL for c in core) and re.fullmatch(
        r"[\d.〇零一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟点]+", core
    ):
        try:
            import cn2an  # 0.13 s of CPU to import: only when a blank holds a number in Chinese words

            x = cn2an.cn2an(core, "smart")
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        return Decimal(str(x)).normalize() if isinstance(x, float) else Decimal(x)
    return None


def _has_magnitude(core: str) -> bool:
    return any(w in core for w in MAGNITUDES)


def _in_measure(d: Decimal, core: str, money: bool, unit_word: str) -> tuple[Decimal, str]:
    """A number as written (`_number`) in the blank's measure, and the note that says so. In a 万元 blank: a
    figure in 元 (30000元, 3万元 written 3万余元) is divided by 10000; one written with 万 or 亿 and no
    unit (30万, 二十万, 2.5亿) is in 元 too; a plain number (30, 三十) or one in 万元 is 万元 already."""
    if not money:
        return d, ""
    if unit_word == "万元" and _has_magnitude(core):
        # the 万 of 万元 belongs to the number: 1亿零5百万元 is 1亿零5百万 元, 3亿零7万元 is 3亿零7万 元
        whole = _number(core + "万")
        return (whole / 10000, "") if whole is not None else (d, "")
    if unit_word == "元":
        return d / 10000, "填的是元，已换算为万元"
    if not unit_word and _has_magnitude(core):
        return d / 10000, ""
    return d, ""


def parse_blank(raw: object, money: bool = False, unit: str = "") -> Parsed:
    """Parse what was typed in one blank. `money` is True for a 万元 blank; `unit` is the item's measure
    (人次, 户 …): a figure typed with another counting word is refused (see SAME_MEASURE). Without it, any
    counting word is taken (the layout matchers only ask whether a cell holds a number)."""
    if raw is None:
        return _missing()
    if isinstance(raw, int | float):
        return _from_number(raw, money)
    text = str(raw)
    if not text.isascii() and any(unicodedata.category(c) == "No" for c in text):
        # ¹ ² ① ½ (Unicode's "other numbers"): NFKC would make them digits of the figure
        return _unreadable("有上标、圈码或分数之类的符号（如注释标记），无法确定数值")
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("_", " ")
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return _missing()
    if SPACED.search(text):
        return _unreadable("数字中间有空格，无法确定是一个数还是两个数")
    s = _trim(text.replace(" ", ""))
    if not s:
        return _missing()
    if s in EMPTY_WORDS:
        return _missing(f"写的是“{s}”，按未填处理")
    if s in ZERO_WORDS or all(c in DASHES for c in s):
        return Parsed(Decimal(0), OK)
    if PLAIN.fullmatch(s):  # most figures typed as text: nothing to strip, no measure to convert
        return _check(Decimal(s), money, False, "")
    core, approx, unit_word = _strip_words(s)
    if core in ZERO_WORDS:
        return Parsed(Decimal(0), OK, approx)
    if core.startswith("-") and _number(core[1:]) is not None:
        return _unreadable("不能为负数")
    if len(core) > 1 and all(c in CN_DIGITS for c in core):  # 三五 / 一两: "three or five", not 35
        return _unreadable("连写的汉字数字（如“三五”“一两”）是约数范围，不是一个数")
    if money and not unit_word and HUNDREDS.search(core) and not _has_magnitude(core):
        return _unreadable("写了“千”或“百”而没写单位，不知是元还是万元")
    d = _number(core)
    if d is None:
        if not re.search(r"\d", core) and not any(c in CN_NUMERAL for c in core):
            return _unreadable("不是数字")
        return _unreadable("无法识别为一个数")
    d, note = _in_measure(d, core, money, unit_word)
    if unit_word in ("万元", "元") and not money:
        measure = f"，本项的单位是{unit}" if unit else ""
        return _unreadable(f"此项不是金额，却填了{unit_word}{measure}，请单位核实")
    elif unit and unit_word and unit_word not in ("万元", "元") and not _same_measure(unit_word, unit):
        if money:
            return _unreadable(f"此项是金额（{unit}），却填了{unit_word}")
        return _unreadable(f"填的单位是{unit_word}，本项的单位是{unit}，请单位核实")
    return _check(d, money, approx, note)


def _same_measure(word: str, unit: str) -> bool:
    return word == unit or word in SAME_MEASURE.get(unit, ())


def format_value(d: Decimal | None) -> str:
    """A value as written to the data files: plain digits, no exponent, no trailing zeros."""
    if d is None:
        return ""
    d = d.normalize()
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d, "f")


def official_number(value: Decimal, measure: str) -> str:
    """Official style, as the report prints a figure: 万元 with two decimals, percentages with one decimal,
    counts whole."""
    if measure == "万元":
        return f"{value:.2f}"
    if measure == "%":
        return f"{value:.1f}"
    return str(int(value.to_integral_value()))


def to_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text not in ("", None) else None
    except InvalidOperation:
        return None
