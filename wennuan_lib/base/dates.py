"""Dates as people type them on a form: 填报日期 → ISO date, or None with a Chinese note.

Read: ``2013年1月25日``, ``二〇一三年一月二十五日`` (〇 or 零), ``2013年元月25日``, two-digit years
(``13年1月25日``), full-width digits, ``2013.1.25``, ``2013/1/25``, ``2013-01-25``, ``1月25日``
(the year taken from the form's year; a December date then belongs to the year before, when the
campaign's notice goes out), and Excel's own date cells: datetime/date objects and the serial
numbers Excel stores dates as (41299 = 2013-01-25).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN = "〇零○Ｏ一二两三四五六七八九十"
NUM = rf"[0-9]{{1,2}}|[{CN}]{{1,3}}"
YEAR = rf"[0-9]{{4}}|[0-9]{{2}}|[{CN}]{{4}}|[{CN}]{{2}}"
GAP = r"[\s_]*"
# The shapes of a date, on NFKC-normalised text (full-width digits and slashes are ASCII by then).
FULL_RX = re.compile(rf"({YEAR}){GAP}年{GAP}(元|{NUM}){GAP}月{GAP}({NUM}){GAP}[日号]?")
NUMERIC_RX = re.compile(
    r"(?<![0-9])([12][0-9]{3}|[0-9]{2})\s*[./\-]\s*([0-9]{1,2})\s*[./\-]\s*([0-9]{1,2})(?![0-9])"
)
MONTH_DAY_RX = re.compile(rf"(?<![0-9年{CN}])(元|{NUM}){GAP}月{GAP}({NUM}){GAP}[日号]")
# Where a date starts, for cutting the text before it (e.g. the unit's name on the same line).
START_RX = re.compile(
    rf"(?:[0-9]{{4}}|[0-9]{{2}}|[{CN}]{{2,4}}){GAP}年{GAP}(?:元|{NUM}){GAP}月|[12][0-9]{{3}}\s*[./\-]"
    rf"|(?:元|{NUM}){GAP}月{GAP}(?:{NUM}){GAP}[日号]|(?:[0-9]{{4}}|[{CN}]{{4}}){GAP}年"
)
# Excel's serial numbers for 1954-10-… to 2119-…; a form's date is never outside.
SERIAL_RANGE = (20000, 80000)
EXCEL_EPOCH = dt.date(1899, 12, 30)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def cn_number(text: str) -> int | None:
    """1–99 in Arabic or Chinese numerals (十二, 二十五, 三十一, 廿 not used on forms)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = CN_DIGITS.get(tens, None) if tens else 1
        o = CN_DIGITS.get(ones, None) if ones else 0
        return None if t is None or o is None else t * 10 + o
    if len(text) == 1 and text in CN_DIGITS:
        return CN_DIGITS[text]
    return None


def cn_year(text: str) -> int | None:
    """2013, 13, 二〇一三 or 一三: the digits read one by one; two digits are 20xx."""
    digits = text if text.isdigit() else "".join(str(CN_DIGITS[c]) if c in CN_DIGITS else "x" for c in text)
    if not digits.isdigit():
        return None
    return int(digits) + (2000 if len(digits) == 2 else 0)


def find(text: str) -> re.Match | None:
    """The first date written in `text` (normalised), of any shape."""
    norm = nfkc(text)
    hits = [m for m in (FULL_RX.search(norm), NUMERIC_RX.search(norm), MONTH_DAY_RX.search(norm)) if m]
    return min(hits, key=lambda m: m.start()) if hits else None


def start(text: str) -> int | None:
    """Where in `text` a date begins (as far as it can be told), for cutting what stands before it."""
    m = START_RX.search(nfkc(text))
    return m.start() if m else None


def _make(y: int | None, mo: int | None, d: int | None, written: str) -> tuple[str | None, str]:
    if y is None or mo is None or d is None:
        return None, f"填报日期「{written}」无法识别"
    try:
        return dt.date(y, mo, d).isoformat(), ""
    except ValueError:
        return None, f"填报日期「{written}」不是有效的日期"


def parse(value: object, year: int | None = None) -> tuple[str | None, str]:
    """(ISO date or None, note). `year`: the form's year, for a date written without one. The note is
    empty for a date written whole; it says how a date was completed, or why none was read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "未填填报日期"
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), ""
    if isinstance(value, dt.date):
        return value.isoformat(), ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat(), "Excel日期序号，已换算为日期"
        return None, f"填报日期「{value}」无法识别"
    text = str(value).strip()
    norm = nfkc(text)
    if re.fullmatch(r"[0-9]{5}(?:\.0+)?", norm):  # a serial number that became text
        return parse(float(norm), year)
    m = FULL_RX.search(norm)
    if m:
        mo = 1 if m.group(2) == "元" else cn_number(m.group(2))
        return _make(cn_year(m.group(1)), mo, cn_number(m.group(3)), text)
    m = NUMERIC_RX.search(norm)
    if m:
        y = int(m.group(1)) + (2000 if len(m.group(1)) == 2 else 0)
        return _make(y, int(m.group(2)), int(m.group(3)), text)
    m = MONTH_DAY_RX.search(norm)
    if m:
        mo = 1 if m.group(1) == "元" else cn_number(m.group(1))
        if year is None:
            return None, f"填报日期「{text}」没有写年份"
        y = year - 1 if mo == 12 else year
        iso, note = _make(y, mo, cn_number(m.group(2)), text)
        return iso, note or f"填报日期「{text}」没有写年份，按表式年份读作{y}年"
    return None, f"填报日期「{text}」无法识别"
