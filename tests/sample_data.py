"""Seeded generator of a synthetic sample year (示例数据).

It writes what a January inbox really holds: the project's template filled in, the
notice's original table filled in Word, the same table pasted into Excel, legacy .xls and
.doc, a unit that sent twice, units' written summaries, an unregistered unit, and inbox
litter; and in the blanks every kind of mess of FORM.md. It also returns the truth: what
ingest must read from each blank, so tests can check every one.

All of it is invented. Names of units are Suzhou's kinds of unions; figures are random.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import datetime as dt
import functools
import io
import random
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import cn2an
import docx
import openpyxl
import pandas as pd
import xlwt
import yaml
from docx.shared import Pt
from PIL import Image, ImageDraw, ImageFont

from wennuan_lib.base import catalog, config, store
from wennuan_lib.form import Form, Line, load_form
from wennuan_lib.publish import template
from wennuan_lib.read import convert
from wennuan_lib.read.parse import MISSING, OK, UNREADABLE

SAMPLE_MARK = "示例数据"

# name, aliases, type, size (workers, roughly)
UNITS = [
    ("张家港市总工会", "张家港|张家港市", "市、区", 420_000),
    ("常熟市总工会", "常熟|常熟市", "市、区", 480_000),
    ("太仓市总工会", "太仓|太仓市", "市、区", 260_000),
    ("昆山市总工会", "昆山|昆山市", "市、区", 760_000),
    ("吴江区总工会", "吴江|吴江市总工会|吴江区", "市、区", 390_000),
    ("吴中区总工会", "吴中|吴中区", "市、区", 350_000),
    ("相城区总工会", "相城|相城区", "市、区", 210_000),
    ("姑苏区总工会", "姑苏|姑苏区|平江区总工会|沧浪区总工会|金阊区总工会", "市、区", 240_000),
    ("苏州工业园区工会工作委员会", "工业园区|园区工委|苏州工业园区总工会", "市、区", 620_000),
    ("苏州高新区总工会", "高新区|虎丘区总工会|高新区(虎丘区)总工会", "市、区", 330_000),
    ("市教育工会", "教育局工会|市教育局工会", "局(公司)", 42_000),
    ("市卫生工会", "卫生局工会|市卫生局工会", "局(公司)", 38_000),
    ("市建设系统工会", "建设局工会|市住建局工会", "局(公司)", 56_000),
    ("市交通运输系统工会", "交通局工会|市交通运输局工会", "局(公司)", 31_000),
    ("市商贸工会", "商务局工会|市商务局工会", "局(公司)", 27_000),
    ("市农林工会", "农委工会|市农林局工会", "局(公司)", 9_000),
    ("市水利水务工会", "水利局工会", "局(公司)", 7_500),
    ("苏州供电公司工会", "供电公司|市供电公司工会", "局(公司)", 8_800),
    ("苏州移动公司工会", "移动公司|中国移动苏州分公司工会", "局(公司)", 4_600),
    ("苏州电信公司工会", "电信公司|中国电信苏州分公司工会", "局(公司)", 4_100),
    ("市邮政局工会", "邮政局|邮政公司工会", "局(公司)", 5_200),
    ("市烟草公司工会", "烟草公司", "局(公司)", 2_300),
    ("市文广新局工会", "文广新局|市文广新局工会委员会", "局(公司)", 6_400),
    ("市国资委工会", "国资委", "局(公司)", 35_000),
    ("苏州大学工会", "苏大工会", "直属", 5_600),
    ("苏州日报报业集团工会", "报业集团", "直属", 2_100),
    ("苏州广播电视总台工会", "广电总台", "直属", 2_600),
    ("苏州轨道交通集团工会", "轨交集团|轨道交通", "直属", 3_900),
    ("苏州市公交公司工会", "公交公司", "直属", 6_800),
    ("市级机关工会工作委员会", "市级机关工委|机关工委", "直属", 11_000),
    ("苏州科技学院工会", "科技学院", "直属", 2_400),
    ("市直属企业工会联合会", "市直企业工会", "直属", 7_700),
]
UNREGISTERED = "苏州市物流行业工会联合会"
# Units renamed across the sample's years (the registry's aliases carry the old names):
# name -> (from year, old name)
FORMER_NAMES = {"吴江区总工会": (2013, "吴江市总工会"), "姑苏区总工会": (2013, "平江区总工会")}
PEOPLE = ["王建华", "李秀英", "张伟", "刘敏", "陈静", "杨磊", "赵丽", "黄勇", "周洁", "吴斌", "徐芳", "孙涛"]


@dataclass
class Expected:
    value: Decimal | None
    status: str = OK
    approx: bool = False


@dataclass
class SampleFile:
    name: str
    status: str  # what ingest must say: read / summary / superseded / skipped / rejected
    unit: str = ""
    layout: str = ""
    unit_how: str = ""  # a word ingest's unit_how must contain (按标题 …), when it matters


@dataclass
class Truth:
    """What ingest must find: values in force per unit and item, and every file's fate."""

    year: int
    values: dict[str, dict[str, Expected]] = field(default_factory=dict)
    files: list[SampleFile] = field(default_factory=list)
    not_reported: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    # (unit, rule id, item code) of every figure broken on purpose
    broken: list[tuple[str, str, str]] = field(default_factory=list)
    wrong_year: dict[str, str] = field(default_factory=dict)  # unit -> the year whose form it used
    corrected: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (unit, item) -> value in force
    waived: list[tuple[str, str]] = field(default_factory=list)  # (unit, rule)
    unmatched_corrections: int = 0
    revised: list[tuple[str, str]] = field(default_factory=list)  # (unit, item) typed as a Word revision
    sent_unreadable: list[str] = field(default_factory=list)  # units that sent only what cannot be read
    # (unit, item) of every figure a 书面总结材料 states: disagreeing with the form on purpose, or agreeing
    summary_disagree: list[tuple[str, str]] = field(default_factory=list)
    summary_agree: list[tuple[str, str]] = field(default_factory=list)


def _d(x, places: int = 0) -> Decimal:
    q = Decimal(1).scaleb(-places)
    return Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP)


def unit_values(rng: random.Random, size: int, utype: str) -> dict[str, Decimal]:
    """One unit's true figures, consistent with every rule of the form."""
    u = rng.uniform
    v: dict[str, Decimal] = {}
    w = int(size * u(0.85, 1.15))
    v["01A.1"] = _d(w)
    v["01A.2"] = _d(w * u(0.25, 0.6))
    v["02A.1"] = _d(w * u(0.004, 0.02))
    v["02A.2"] = _d(min(v["02A.1"] * Decimal(u(0.2, 0.5)), v["01A.2"]))
    v["03A.1"] = _d(v["02A.1"] * Decimal(u(0.35, 0.7)))
    for code, lo, hi in (
        ("03A.2", 0.1, 0.4),
        ("03B.1", 0.1, 0.3),
        ("03C.1", 0.05, 0.2),
        ("03D.1", 0.05, 0.2),
        ("03E.1", 0.02, 0.1),
    ):
        v[code] = _d(v["03A.1"] * Decimal(u(lo, hi)))
    v["04A.1"] = _d(max(3, w / u(300, 900)))
    v["04A.2"] = _d(v["03A.1"] * Decimal(u(0.5, 1.1)))
    v["04B.1"] = _d(v["04A.1"] * Decimal(u(0.05, 0.2)))
    v["04C.1"] = _d(max(5, float(v["03A.1"]) * u(0.6, 1.1)))
    v["04C.2"] = _d(v["04C.1"] * Decimal(u(0.7, 0.95)))
    v["04C.3"] = _d(v["04C.2"] * Decimal(u(0.1, 0.4)))
    v["04C.4"] = _d(v["04C.1"] * Decimal(u(0.005, 0.03)))
    # funds in 万元 with two decimals; the total is the exact sum of its sources
    total_yuan = float(v["04C.1"]) * u(600, 1800)
    shares = [u(0.1, 0.3), u(0.4, 0.7), u(0.05, 0.25), u(0.0, 0.08)]
    parts = [_d(total_yuan * s / sum(shares) / 10000, 2) for s in shares]
    for code, p in zip(("05A.1", "05B.1", "05C.1", "05D.1"), parts, strict=True):
        v[code] = p
    v["05.1"] = sum(parts, Decimal(0))
    v["06.1"] = _d(v["05.1"] * Decimal(u(0.85, 1.0)), 2)
    v["06A.1"] = _d(v["04C.4"] * Decimal(u(1500, 3000)) / 10000, 2)
    v["06B.1"] = _d(
        min(v["04C.3"] * Decimal(u(500, 1200)) / 10000, (v["06.1"] - v["06A.1"]) * Decimal("0.9")), 2
    )
    big = utype == "市、区"
    v["07A.1"] = _d(u(20, 200) if big else u(2, 30))
    v["07B.1"] = _d(w * u(0.01, 0.05))
    v["07B.2"] = _d(v["02A.1"] * Decimal(u(0.2, 0.6)))
    v["07C.1"] = _d(u(100, 2000) if big else u(0, 40))
    for code in ("07D.1", "07E.1", "07F.1", "07G.1", "07H.1"):
        v[code] = _d(v["03A.1"] * Decimal(u(0.05, 0.5)))
    v["07I.1"] = _d(v["03A.1"] * Decimal(u(0.05, 0.3)))
    v["08A.1"] = _d(u(50, 900) if big else u(0, 40))
    v["08A.2"] = _d(v["08A.1"] * Decimal(u(0.2, 0.6)))
    v["08B.1"] = _d(w * u(0.005, 0.03))
    v["08B.2"] = _d(v["08B.1"] * Decimal(u(0.2, 0.5)))
    v["08C.1"] = _d(u(50, 1500) if big else u(0, 20))
    v["08C.2"] = _d(v["08C.1"] * Decimal(u(0.3, 1.2)), 2)
    v["08C.3"] = _d(v["08C.1"] * Decimal(u(0.5, 0.9)))
    v["08C.4"] = _d(v["08C.2"] * Decimal(u(0.4, 0.9)), 2)
    for x in "ABCD":
        v[f"09{x}.1"] = _d(w * u(0.002, 0.02))
        v[f"09{x}.2"] = _d(v[f"09{x}.1"] * Decimal(u(0.2, 0.6)))
    v["09.1"] = sum((v[f"09{x}.1"] for x in "ABCD"), Decimal(0))
    v["09.2"] = sum((v[f"09{x}.2"] for x in "ABCD"), Decimal(0))
    home = _d(v["01A.2"] * Decimal(u(0.005, 0.03))) if big else _d(u(0, 300))
    v["10A.1"] = home
    left = home
    for x, per, p_on in (("B", 800, 0.25), ("C", 90, 0.4), ("D", 45, 0.8), ("E", 60, 0.1), ("F", 150, 0.05)):
        n = int(u(1, 6)) if (big and rng.random() < p_on) else 0
        carried = _d(min(float(left) * 0.4, n * per * u(0.6, 1.0))) if n else Decimal(0)
        if carried == 0:
            n = 0
        v[f"10{x}.1"], v[f"10{x}.2"] = _d(n), carried
        left -= carried
    v["10G.1"] = _d(float(home) * u(0.1, 0.5))
    v["10H.1"] = _d(u(1, 12) if big else u(0, 2))
    v["11A.1"] = _d(float(home) * u(20, 80) / 10000, 2) if home else Decimal(0)
    return v


GROWTH = 1.08  # the sample's figures grow about 8 % a year


class _YearDraws:
    """A unit's draws for one year: its usual shape (the same stream every year) moved by a year-specific
    factor per draw, kept inside the draw's range, so every rule of the form still holds."""

    def __init__(self, shape: random.Random, year: random.Random, spread: float):
        self.shape, self.year, self.spread = shape, year, spread

    def uniform(self, lo: float, hi: float) -> float:
        usual = self.shape.uniform(lo, hi)  # drawn in any case: the unit's later draws keep their shape
        if 2 <= hi <= SMALL_COUNT:  # a small count (帮扶中心, buses): a new one each year
            return self.year.uniform(lo, hi)
        x = usual * self.year.uniform(1 - self.spread, 1 + self.spread)
        x += (hi - lo) * self.year.uniform(-NUDGE, NUDGE)  # so a small figure in a wide range moves too
        return min(max(x, lo), hi)

    def random(self) -> float:  # on/off choices (does the unit charter buses?) stay the unit's own
        return self.shape.random()


def year_spread(size: int) -> float:
    """How far each drawn figure moves from the unit's usual one, year by year: ±SPREAD at LARGE workers, more
    for a smaller unit (whose figures are small numbers that a few per cent leave unchanged), at most
    ±SPREAD_MAX; a large unit's figures are large, and moving them far would trip the history rule."""
    return min(SPREAD_MAX, SPREAD * (LARGE / size) ** 0.5)


SPREAD, SPREAD_MAX, LARGE = 0.06, 0.5, 200_000
NUDGE = 0.05  # … and by up to this share of its range
SMALL_COUNT = 12  # a draw of at most this many (帮扶中心 10H.1, buses chartered) is drawn anew each year
FIRST_YEAR = 2011  # the sample's first year: its figures are not compared with an earlier one
# A unit that copied last year's form forward in part (issue 19, item 11): its 七、八 activities are the
# previous year's figures to the digit, which the 提示性 rule H02 asks it to confirm. (unit, year) -> items
COPIED_FORWARD = {
    ("相城区总工会", 2013): ("07C.1", "08A.1", "08A.2", "08C.1", "08C.2", "08C.3", "08C.4"),
}


def _unlike_last_year(now: dict[str, Decimal], last: dict[str, Decimal]) -> int:
    """How far a year's draw is from comparing with last year's as a real unit's does (0: it does): every
    figure beyond the history rule's bounds (H01 would warn where nothing was broken on purpose) counts
    heavily, and so does reaching min_items non-zero figures equal to the digit (H02 would ask)."""
    policy = _policy()
    spec, history = policy.repeats, policy.history
    same = sum(1 for c, x in now.items() if x and last.get(c) == x)
    far = 0
    for code, x in now.items():
        before = last.get(code)
        floor = history.money_floor if code in MONEY_CODES else history.floor
        if before and abs(x - before) >= Decimal(str(floor)) and abs(x / before - 1) > history.max_change:
            far += 1
    return 100 * far + max(0, same - spec.min_items + 1)


@functools.cache
def _policy():
    return load_form(str(FIRST_YEAR)).policy  # policy.yaml: the same rules whichever year's form


def yearly_values(seed: int, unit: str, utype: str, size: int, year: int) -> dict[str, Decimal]:
    """A unit's true figures for one year (a fresh dict: the caller breaks some on purpose)."""
    return dict(_yearly_values(seed, unit, utype, size, year))


@functools.cache
def _yearly_values(seed: int, unit: str, utype: str, size: int, year: int) -> dict[str, Decimal]:
    """A unit's figures for one year: the same unit draws the same shape every year, scaled by growth, each
    figure moved a little by a year-specific stream; the first such draw that compares with last year's as
    a real unit's does (`_unlike_last_year`) is the year's. A unit in COPIED_FORWARD copies some of last
    year's figures. (Cached: each year's figures are the next year's comparison; yearly_values copies.)"""
    jitter = random.Random(f"{seed}:{unit}:{year}").uniform(0.97, 1.03)
    scaled = int(size * GROWTH ** (year - 2013) * jitter)
    last = _yearly_values(seed, unit, utype, size, year - 1) if year > FIRST_YEAR else None
    spread = year_spread(size)
    best = None
    for attempt in range(DRAW_ATTEMPTS):
        draws = _YearDraws(
            random.Random(f"{seed}:{unit}"), random.Random(f"{seed}:{unit}:{year}:{attempt}"), spread
        )
        drawn = unit_values(draws, scaled, utype)
        score = _unlike_last_year(drawn, last) if last else 0
        if best is None or score < best[0]:
            best = (score, drawn)
        if score == 0:
            break
    values = best[1]  # a tiny unit's 1s may repeat whatever is drawn: the closest draw, as a real one
    if (unit, year) in COPIED_FORWARD:  # the unit copied last year's figures into this year's form
        values.update({c: last[c] for c in COPIED_FORWARD[(unit, year)]})
    return values


DRAW_ATTEMPTS = 1000


def _set(v: dict, code: str, value) -> None:
    v[code] = _d(value, 2 if code in MONEY_CODES else 0)


MONEY_CODES = {
    "05.1",
    "05A.1",
    "05B.1",
    "05C.1",
    "05D.1",
    "06.1",
    "06A.1",
    "06B.1",
    "08C.2",
    "08C.4",
    "11A.1",
}


def _break_part_whole(v):
    _set(v, "02A.2", v["02A.1"] + 15)


def _break_sum_money(v):
    _set(v, "05.1", v["05.1"] + 50)


def _break_sum_count(v):
    _set(v, "09.1", v["09.1"] + 120)


def _break_pair(v):
    _set(v, "10D.1", 3)
    _set(v, "10D.2", 0)


def _break_charter_total(v):
    _set(v, "10D.1", 2)
    _set(v, "10D.2", 300)
    _set(v, "10A.1", sum(v[f"10{x}.2"] for x in "BCDEF") - 10)


def _break_paid_out(v):
    _set(v, "06.1", v["05.1"] * Decimal("1.5"))


def _break_paid_parts(v):
    _set(v, "06A.1", v["06.1"] * Decimal("0.6"))
    _set(v, "06B.1", v["06.1"] * Decimal("0.6"))


def _break_lifted(v):
    _set(v, "03E.1", v["03A.1"] + 5)


def _break_per_household(v):
    _set(v, "04C.1", v["04C.1"] * 30)


def _break_yuan(v):
    _set(v, "11A.1", v["11A.1"] * 10000)


def _break_peer(v):
    _set(v, "02A.1", v["01A.1"] * Decimal("0.3"))


def _break_history(v):
    _set(v, "04A.2", v["04A.2"] * 3 + 200)  # well above the floor, however small the unit


# rule id, item the finding names, the change, whether it needs a big unit (市、区),
# whether it needs last year
BREAKS = [
    ("P03", "02A.2", _break_part_whole, False, False),
    ("S01", "05.1", _break_sum_money, False, False),
    ("S02", "09.1", _break_sum_count, False, False),
    ("Q03", "10D.1", _break_pair, False, False),
    ("W01", "10B.2", _break_charter_total, True, False),
    ("W02", "06.1", _break_paid_out, False, False),
    ("W03", "06A.1", _break_paid_parts, False, False),
    ("W04", "03E.1", _break_lifted, False, False),
    ("M01", "05.1", _break_per_household, False, False),
    ("Y01", "11A.1", _break_yuan, True, False),
    ("O01", "02A.1", _break_peer, False, False),
    ("H01", "04A.2", _break_history, False, True),
]
BREAK_CODES = {
    "P03": {"02A.1", "02A.2"},
    "S01": {"05.1", "05A.1", "05B.1", "05C.1", "05D.1"},
    "S02": {"09.1", "09A.1", "09B.1", "09C.1", "09D.1"},
    "Q03": {"10D.1", "10D.2"},
    "W01": {"10A.1", "10B.2", "10C.2", "10D.2", "10E.2", "10F.2"},
    "W02": {"06.1", "05.1"},
    "W03": {"06.1", "06A.1", "06B.1"},
    "W04": {"03E.1", "03A.1"},
    "M01": {"05.1", "04C.1"},
    "Y01": {"11A.1", "10A.1"},
    "O01": {"02A.1", "01A.1"},
    "H01": {"04A.2"},
}


def _fmt_num(d: Decimal) -> str:
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))


FULLWIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


class Messer:
    """Writes a true value as a unit might type it, and says what ingest must read."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.wan_written = False

    def text(
        self, d: Decimal | None, money: bool, unit_word: str, in_sum: bool = False
    ) -> tuple[str, Expected]:
        """`in_sum`: the item is part of a sum rule, so it is never rounded (1.2万)."""
        r = self.rng
        if d is None:
            return r.choice(["", "   ", "\u3000\u3000", "______", " _ _ "]), Expected(None, MISSING)
        if d == 0:
            return r.choice(["0", "无", "没有", "零", "—", "-", "/", "／", " 0 "]), Expected(Decimal(0))
        plain = _fmt_num(d)
        if money:
            style = r.choice(["plain", "plain", "fullwidth", "trailing0", "unit", "spaces", "wei"])
            if style == "fullwidth":
                return plain.translate(FULLWIDTH), Expected(d)
            if style == "trailing0":
                return format(d.quantize(Decimal("0.01")), "f"), Expected(d)
            if style == "unit":
                return plain + "万元", Expected(d)
            if style == "spaces":
                return f"  {plain}  ", Expected(d)
            if style == "wei":
                return "共" + plain, Expected(d)
            return plain, Expected(d)
        style = r.choice(
            [
                "plain",
                "plain",
                "plain",
                "comma",
                "fwcomma",
                "fullwidth",
                "spaces",
                "approx",
                "cn",
                "wan",
                "unit",
                "wei",
            ]
        )
        if style == "comma" and d >= 1000:
            return f"{int(d):,}", Expected(d)
        if style == "fwcomma" and d >= 1000:
            return f"{int(d):,}".replace(",", "，"), Expected(d)
        if style == "fullwidth":
            return plain.translate(FULLWIDTH), Expected(d)
        if style == "spaces":
            return f" {plain} ", Expected(d)
        if style == "approx":
            kind = r.choice(["约{}", "{}余", "{}多"])
            return kind.format(plain), Expected(d, OK, True)
        if style == "cn" and d < 1000:
            return cn2an.an2cn(int(d)), Expected(d)
        if style == "plain" and d >= 10000 and not in_sum and not self.wan_written:
            style = "wan"  # every sample year holds one count written 1.2万 (FORM.md), whatever is drawn
        if style == "wan" and d >= 10000 and not in_sum:
            self.wan_written = True
            # a unit that rounds to thousands writes 1.2万
            rounded = (d / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 1000
            return f"{_fmt_num(rounded / 10000)}万", Expected(rounded)
        if style == "unit":
            return plain + unit_word, Expected(d)
        if style == "wei":
            return r.choice(["为", "共"]) + plain, Expected(d)
        return plain, Expected(d)


def _pad(rng: random.Random, s: str) -> str:
    return rng.choice(["", " ", "  ", "\u3000", "   "]) + s + rng.choice(["", " ", "  ", "\u3000", "    "])


def sentence_lines(form: Form, texts: dict[str, str], rng: random.Random) -> list[tuple[Line, str]]:
    """Every printed line with the unit's typing in its blanks."""
    out = []
    for line in form.layout:
        parts = line.parts
        s = parts[0]
        for k in range(1, len(parts), 2):
            s += _pad(rng, texts[parts[k]]) + parts[k + 1]
        out.append((line, s))
    return out


def _header_text(header: dict) -> tuple[str, str]:
    date = header.get("date_text", "")
    unit_line = f"填报单位：{header.get('unit', '')}" + " " * 20 + (date or "年     月     日")
    person_line = f"填报人: {header.get('person', '')}" + " " * 16 + f"联系电话：{header.get('phone', '')}"
    return unit_line, person_line


def _fixed_core(document: docx.Document) -> None:
    cp = document.core_properties
    cp.created = cp.modified = cp.last_printed = dt.datetime(2013, 1, 1)
    cp.author = cp.last_modified_by = SAMPLE_MARK


def _save_docx(document, path: Path) -> None:
    _fixed_core(document)
    buf = io.BytesIO()
    document.save(buf)
    store.atomic_write_bytes(path, template.normalize_zip(buf.getvalue()))


def write_sentence_docx(
    form: Form,
    path: Path,
    texts: dict,
    header: dict,
    rng: random.Random,
    merge_like_seed: bool = True,
    header_in_table: bool = False,
) -> None:
    """The notice's attachment, as a Word table of sentences, filled in."""
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(10.5)
    document.add_paragraph("附件：")
    document.add_paragraph(form.title)
    unit_line, person_line = _header_text(header)
    if not header_in_table:
        document.add_paragraph(unit_line)
        document.add_paragraph(person_line)
    lines = sentence_lines(form, texts, rng)
    groups: list[list[tuple[Line, str]]] = []
    for line, text in lines:
        # the seed merges some letters of a row into one cell with line breaks (03 C–E, 07 G–I, 10 E–H)
        if (
            merge_like_seed
            and groups
            and groups[-1][-1][0].row == line.row
            and line.letter
            and (line.row, line.letter)
            in {
                ("03", "D"),
                ("03", "E"),
                ("04", "B"),
                ("07", "H"),
                ("07", "I"),
                ("10", "F"),
                ("10", "G"),
                ("10", "H"),
            }
        ):
            groups[-1].append((line, text))
        else:
            groups.append([(line, text)])
    table = document.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    if header_in_table:
        cells = table.add_row().cells
        merged = cells[1].merge(cells[3])
        merged.text = unit_line + "\n" + person_line
    prev_row = None
    for group in groups:
        cells = table.add_row().cells
        row = group[0][0].row
        cells[1].text = row if row != prev_row else ""
        prev_row = row
        cells[2].text = "\n".join(f"（{ln.letter}）" for ln, _ in group if ln.letter)
        cells[3].text = "\n".join(t for _, t in group)
    cells = table.add_row().cells
    cells[3].text = form.note
    document.add_paragraph(f"（{SAMPLE_MARK}）")
    _save_docx(document, path)


def write_sentence_xlsx(form: Form, path: Path, texts: dict, header: dict, rng: random.Random) -> None:
    """The same table pasted into Excel: whole sentences in cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    unit_line, person_line = _header_text(header)
    ws["B1"] = form.title
    ws["B2"] = unit_line
    ws["B3"] = person_line
    r = 4
    for line, text in sentence_lines(form, texts, rng):
        ws.cell(r, 2, line.row)
        ws.cell(r, 3, f"（{line.letter}）" if line.letter else None)
        ws.cell(r, 4, text)
        r += 1
    ws.cell(r, 4, form.note)
    ws.cell(r + 1, 4, f"（{SAMPLE_MARK}）")
    template.save(wb, path)


def write_sentence_xls(form: Form, path: Path, texts: dict, header: dict, rng: random.Random) -> None:
    """The pasted table saved as Excel 97-2003."""
    book = xlwt.Workbook(encoding="utf-8")
    sh = book.add_sheet("统计表")
    unit_line, person_line = _header_text(header)
    sh.write(0, 1, form.title)
    sh.write(1, 1, unit_line)
    sh.write(2, 1, person_line)
    r = 3
    for line, text in sentence_lines(form, texts, rng):
        sh.write(r, 1, line.row)
        if line.letter:
            sh.write(r, 2, f"（{line.letter}）")
        sh.write(r, 3, text)
        r += 1
    sh.write(r, 3, form.note)
    sh.write(r + 1, 3, f"（{SAMPLE_MARK}）")
    buf = io.BytesIO()
    book.save(buf)
    store.atomic_write_bytes(path, buf.getvalue())


def docx_to_doc(src: Path, dest: Path) -> bool:
    """Save a .docx as legacy .doc with LibreOffice; False when LibreOffice is absent."""
    return convert_with_libreoffice(src, dest, "doc:MS Word 97")


def study_theme(year: int) -> str:
    return "党的十八大精神" if year >= 2013 else "党的十七届六中全会精神"


def experience_sentence(year: int) -> str:
    return f"我们把送温暖与学习宣传{study_theme(year)}结合起来，工会干部深入车间班组面对面宣讲"


# What a unit's 书面总结材料 states, by concept, in the form's own words: (concept, words before, measure).
SUMMARY_FIGURES = (
    ("04A.1", "走访企业", "家"),
    ("04A.2", "走访职工家庭", "户"),
    ("04C.1", "慰问困难家庭总数", "户"),
    ("05.1", "共筹集慰问款物", "万元"),
    ("05B.1", "其中工会投入", "万元"),
)

# Summaries that disagree with their form as issue 12 saw them (市教育工会 77 户 for 65, 吴中 496 家 for 479).
SUMMARY_SLIPS = {"市教育工会": ("04A.2", 12), "吴中区总工会": ("04A.1", 17)}


def summary_statements(
    form: Form, unit: str, expected: dict[str, Expected], protect: set[str], year: int, truth: Truth
) -> dict[str, str]:
    """The figures a unit's summary states, as it writes them (concept -> 「走访企业479家」 …): the form's
    figure in force, as written or rounded (约1800户, 约380万元), and in about half the summaries one figure
    that disagrees on purpose (recorded in the truth). A blank left empty, unreadable or broken on purpose is
    not stated."""
    pick = random.Random(f"summary:{year}:{unit}")
    stated: dict[str, tuple[str, Decimal, bool]] = {}
    for concept, _words, measure in SUMMARY_FIGURES:
        code = form.code_of(concept)
        exp = expected.get(code) if code else None
        if exp is None or exp.status != OK or not exp.value or code in protect:
            continue
        stated[concept] = (code, exp.value, measure == "万元")
    wrong, offset = SUMMARY_SLIPS.get(unit, (None, 0))
    if wrong not in stated:
        wrong, offset = (pick.choice(sorted(stated)) if stated and pick.random() < 0.5 else None), 0
    out = {}
    for concept, words, measure in SUMMARY_FIGURES:
        if concept not in stated:
            continue
        code, value, money = stated[concept]
        if concept == wrong:  # a clear disagreement: 15 % or more off, never a round number
            if money:
                shown = _fmt_num((value * Decimal("1.2") + 1).quantize(Decimal("0.01")))
            else:
                off = value + (offset or max(7, int(value * Decimal("0.15"))))
                shown = str(off + 1 if off % 10 == 0 else off)
            truth.summary_disagree.append((unit, code))
        else:
            style = pick.random()
            if money and value >= 10 and style < 0.3:
                shown = f"约{value.quantize(Decimal(1), rounding=ROUND_HALF_UP)}"
            elif not money and value >= 1000 and style < 0.3:
                shown = f"约{int((value / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100}"
            else:
                shown = _fmt_num(value)
            truth.summary_agree.append((unit, code))
        out[concept] = f"{words}{shown}{measure}"
    return out


def write_summary_docx(path: Path, unit: str, stated: dict[str, str], year: int) -> None:
    """A unit's own 书面总结材料: prose whose sentences state some of the form's figures
    (`summary_statements`)."""
    document = docx.Document()
    document.add_heading(f"{unit}{year}年元旦春节送温暖活动工作总结（{SAMPLE_MARK}）", level=1)
    visits = "，".join(stated[c] for c in ("04A.1", "04A.2", "04C.1") if c in stated)
    funds = "，".join(stated[c] for c in ("05.1", "05B.1") if c in stated)
    paras = [
        f"按照市总工会《关于认真做好{year}年元旦春节期间送温暖活动的通知》要求，{unit}高度重视，"
        "结合“面对面、心贴心、实打实服务职工在基层”活动，精心组织、周密部署，扎实开展送温暖活动。",
        f"一、深入走访，摸清底数。活动期间，各级工会干部深入基层{('，' + visits) if visits else ''}，"
        "确保党和政府的关怀送到困难职工身边。",
        f"二、多方筹资，规范发放。{(funds + '，') if funds else ''}坚持依档帮扶、实名制发放，做到专款专用。",
        f"三、典型经验。{experience_sentence(year)}，"
        "组织“迎新春、送文化”文艺演出进企业，为坚守岗位的一线职工和农民工送去年货和祝福。",
        "四、存在问题和下一步打算。困难职工帮扶的长效机制还需完善，部分非公企业工会参与度不高。"
        "下一步我们将进一步完善困难职工档案，推动帮扶工作常态化。",
    ]
    for p in paras:
        document.add_paragraph(p)
    _save_docx(document, path)


NARRATIVE = """<!-- 示例数据：分析人员自己撰写的段落。按“## 标题”放入书面总结的相应部分
     （可用标题：基本情况、典型经验、各地各单位情况、存在问题、下一步打算）；
     以“> 单位名称：原文”开头的段落引用单位的书面总结材料，系统会核对原文。 -->

## 典型经验

各地各单位把送温暖活动与“面对面、心贴心、实打实服务职工在基层”活动结合起来，涌现出一批好做法。

> {unit}：{quote}

## 存在问题

一是部分基层工会对困难职工档案的动态管理不够及时；二是个别单位统计口径不统一，报送的数字需要反复核实。
"""


def _lock_file(path: Path, owner: str) -> None:
    """What Word or Excel leaves beside an open file: ~$name, owner name inside."""
    data = bytes([len(owner)]) + owner.encode("utf-16-le")[:100]
    store.atomic_write_bytes(path, data.ljust(162, b"\x00"))


class SamplePaths:
    """Where the sample year's raw files go (inputs/ as the catalog lays it out)."""

    def __init__(self, inputs: Path, year: int):
        self.inbox = catalog.raw_path(inputs, "inbox", year)
        self.registry = catalog.raw_path(inputs, "registry")
        self.year_config = catalog.raw_path(inputs, "year_config", year)
        self.year_inputs = self.year_config.parent


@dataclass
class Plan:
    unit: str
    written: str  # what the unit writes in 填报单位 ("" = left empty)
    container: str  # template-xlsx, template-xlsm, docx, xlsx, xls, doc
    file: str
    date: str
    variant: dict = field(default_factory=dict)


# From this year on the sample holds the inbox's odd shapes too: Track Changes left on, .wps/.et, a zip made
# by Windows' built-in zipper, a PDF saved from Word, a scan, and a 修改稿 dated in Chinese numerals.
INBOX_MESS_FROM = 2013
CN_DIGITS = "〇一二三四五六七八九"


def chinese_date(iso: str) -> str:
    """2013-01-19 → 二〇一三年一月十九日, as some units type it."""
    y, m, d = iso.split("-")
    return (
        "".join(CN_DIGITS[int(c)] for c in y) + "年" + cn2an.an2cn(int(m)) + "月" + cn2an.an2cn(int(d)) + "日"
    )


def _inbox_mess(plans: list[Plan], year: int, keep: set[str]) -> Plan:
    """Give some units' plans the inbox's odd shapes; returns the earlier form of the unit that resubmits."""
    words = [p for p in plans if p.container == "docx" and p.unit not in keep]
    revised, as_pdf, zipped, resubmits = words[:4]
    revised.variant["revisions"] = 3
    as_pdf.container, as_pdf.file = "pdf", str(Path(as_pdf.file).with_suffix(".pdf"))
    zipped.variant["zip_folder"] = f"{zipped.unit}送温暖材料"
    wps = next(p for p in plans if p.container == "doc")
    wps.container, wps.file = "wps", str(Path(wps.file).with_suffix(".wps"))
    et = next(p for p in plans if p.container == "xls")
    et.container, et.file = "et", str(Path(et.file).with_suffix(".et"))
    # the unit sends its form, then a 修改稿 dated in Chinese numerals
    earlier = Plan(
        resubmits.unit, resubmits.written, "docx", f"{resubmits.unit}送温暖统计表.docx", f"{year}-01-12"
    )
    resubmits.file = f"{resubmits.unit}送温暖统计表（修改稿）.docx"
    resubmits.date = f"{year}-01-19"
    resubmits.variant["date_text"] = chinese_date(resubmits.date)
    plans.append(earlier)
    return earlier


class _LegacyZipInfo(zipfile.ZipInfo):
    """A member name stored as Windows' built-in zipper on Chinese Windows stores it: GBK bytes, no UTF-8
    flag. (zipfile itself would write UTF-8 with the flag set.)"""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def windows_zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip as Windows' built-in zipper writes it on Chinese Windows: GBK names, no UTF-8 flag."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = _LegacyZipInfo(name, date_time=(2013, 1, 20, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def windows_zip(path: Path, members: dict[str, bytes]) -> None:
    store.atomic_write_bytes(path, windows_zip_bytes(members))


REVISION = 'w:id="{n}" w:author="{SAMPLE_MARK}" w:date="2013-01-20T09:00:00Z"'


def revise_docx(path: Path, marks: dict[str, tuple[str, str]]) -> None:
    """Each placeholder in the document becomes a tracked change: the old text deleted, the new inserted
    (what Word writes when a unit corrects a figure with 修订 on and sends the file without accepting)."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                xml = data.decode("utf-8")
                for n, (mark, (old, new)) in enumerate(marks.items()):
                    attrs = REVISION.format(n=2 * n + 1, SAMPLE_MARK=SAMPLE_MARK)
                    attrs_ins = REVISION.format(n=2 * n + 2, SAMPLE_MARK=SAMPLE_MARK)
                    xml = xml.replace(
                        mark,
                        f'</w:t></w:r><w:del {attrs}><w:r><w:delText xml:space="preserve">'
                        f"{escape(old)}</w:delText></w:r></w:del><w:ins {attrs_ins}><w:r>"
                        f'<w:t xml:space="preserve">{escape(new)}</w:t></w:r></w:ins>'
                        '<w:r><w:t xml:space="preserve">',
                    )
                data = xml.encode("utf-8")
            z.writestr(info, data)
    store.atomic_write_bytes(path, template.normalize_zip(out.getvalue()))


@functools.cache
def _profile() -> Path:
    """This process's own LibreOffice profile, made by its first conversion and used by the next ones
    (a new profile costs LibreOffice a second or two of start-up each time; two processes never share
    one); removed when the process ends."""
    home = Path(tempfile.mkdtemp(prefix="wennuan-soffice-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return home / "profile"


def convert_with_libreoffice(src: Path, dest: Path, to: str) -> bool:
    """A copy of `src` saved by LibreOffice as `to` ("doc:MS Word 97", "pdf");
    False when LibreOffice is absent."""
    return convert_many([(src, dest, to)])[0]


def convert_many(jobs: list[tuple[Path, Path, str]]) -> list[bool]:
    """Each (src, dest, to) of `jobs` saved by LibreOffice as in convert_with_libreoffice, with one launch of
    LibreOffice for all the files of one target (a launch costs about a second of CPU, each further file
    in it less than a tenth): whether each was made (none without LibreOffice)."""
    exe = convert.soffice()
    made = [False] * len(jobs)
    if not exe:
        return made
    batches: list[list[int]] = []  # by target; a name twice in a batch would land on one output file
    for k, (src, _, to) in enumerate(jobs):
        batch = next(
            (b for b in batches if jobs[b[0]][2] == to and all(jobs[i][0].stem != src.stem for i in b)), None
        )
        if batch is None:
            batches.append([k])
        else:
            batch.append(k)
    profile = _profile()
    for batch in batches:
        to = jobs[batch[0]][2]
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    exe,
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    to,
                    "--outdir",
                    tmp,
                    *(str(jobs[k][0]) for k in batch),
                ],
                capture_output=True,
                timeout=180,
                check=False,
                env={"HOME": str(profile.parent), "PATH": "/usr/bin:/bin"},
            )
            for k in batch:
                out = Path(tmp) / f"{jobs[k][0].stem}.{to.split(':')[0]}"
                if out.exists():
                    shutil.copyfile(out, jobs[k][1])
                    made[k] = True
    return made


def scanned_form(form: Form, unit: str) -> bytes:
    """A 'scan' of a filled form: its text drawn into a PNG, with no text layer (must be refused)."""
    font_file = next(
        (
            p
            for p in (
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/truetype/arphic/ukai.ttc",
            )
            if Path(p).exists()
        ),
        None,
    )
    font = ImageFont.truetype(font_file, 18) if font_file else ImageFont.load_default()
    lines = [form.title, f"填报单位：{unit}（{SAMPLE_MARK}）"] + [
        ln.text.replace("{", "").replace("}", "") for ln in form.layout[:40]
    ]
    img = Image.new("L", (1000, 60 + 28 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for k, line in enumerate(lines):
        draw.text((30, 30 + 28 * k), re.sub(r"\d\d[A-Z]?\.\d", "____", line)[:52], fill=0, font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def generate(
    inputs: Path, year: int = 2013, seed: int = 2013, force: bool = False, deferred: list | None = None
) -> Truth:
    """Write the sample year into `inputs` (registry, year config, inbox) and return the truth. With
    `deferred` (see generate_years), the year's files LibreOffice saves are left to the caller."""
    inputs = Path(inputs)
    paths = SamplePaths(inputs, year)
    if paths.inbox.exists() and any(paths.inbox.iterdir()):
        if not force:
            raise FileExistsError(
                f"收件箱已有文件：{paths.inbox}。示例数据不会覆盖原始材料（如确需重建请加 --force）"
            )
        shutil.rmtree(paths.inbox)
    paths.inbox.mkdir(parents=True, exist_ok=True)
    form = load_form(str(year))
    rng = random.Random(f"{seed}:{year}")
    messer = Messer(rng)
    truth = Truth(year)

    registry = pd.DataFrame([{"name": n, "aliases": a, "type": t} for n, a, t, _ in UNITS])
    # Excel's "CSV UTF-8" with an empty row between the 市、区 and the others (where a row was cleared)
    split = sum(1 for u in UNITS if u[2] == "市、区")
    _excel_table(registry, paths.registry, "csv-utf8", empty_rows_at=[split])
    year_cfg = {
        "year": year,
        "form": str(year),
        "deadline": f"{year}-01-21",
        "city_unit": "苏州市总工会",
        "campaign": f"{year}年元旦春节期间送温暖活动",
        "notice": "苏工办〔2012〕104号" if year == 2013 else f"（{SAMPLE_MARK}，{year}年通知文号）",
        "recipient": "江苏省总工会",
        "reporter": "王建华",
        "report_date": f"{year}-01-28",
        "notice_date": f"{year - 1}-12-27",
        "feedback_deadline": f"{year}-01-25",
        "contact": "市总工会保障工作部",
        "phone": "65236564",
        "email": "shb6564@126.com",
        "sample": True,
    }
    style = ANALYST_FILE_STYLES.get(year, ANALYST_FILE_STYLES[None])
    _notepad_text(
        paths.year_config,
        f"# {SAMPLE_MARK}：由 python -m tests.sample_data 生成\n"
        + yaml.safe_dump(year_cfg, allow_unicode=True, sort_keys=False),
        style["year.yaml"],
    )

    units = list(UNITS)
    not_reported = {"市水利水务工会", "苏州科技学院工会"}
    truth.not_reported = sorted(not_reported)
    reporting = [u for u in units if u[0] not in not_reported]
    containers = (
        ["template-xlsx"] * 11
        + ["template-xlsm"]
        + ["docx"] * 7
        + ["xlsx"] * 4
        + ["xls"] * 2
        + ["doc"] * 2
        + ["docx-seedhdr"] * 2
        + ["template-xlsx"]
    )
    rng.shuffle(containers)
    plans: list[Plan] = []
    for k, (name, aliases, _utype, _size) in enumerate(reporting):
        kind = containers[k % len(containers)]
        day = rng.randint(8, 21) if k % 9 else 22 + k % 3  # a few arrive after the deadline
        date = f"{year}-01-{day:02d}"
        shown = name
        if name in FORMER_NAMES and year < FORMER_NAMES[name][0]:
            shown = FORMER_NAMES[name][1]  # the unit still had its old name that year
        written = shown
        if k % 5 == 1 and shown == name:
            written = aliases.split("|")[0] + ("工会" if not aliases.split("|")[0].endswith("工会") else "")
        if k % 7 == 3:
            written = shown + "（盖章）"
        ext = {"template-xlsx": "xlsx", "template-xlsm": "xlsm", "docx-seedhdr": "docx"}.get(kind, kind)
        stem = rng.choice([f"{shown}送温暖统计表", f"{year}年送温暖活动统计表（{shown}）", f"{shown}-统计表"])
        plans.append(Plan(name, written, kind, f"{stem}.{ext}", date))
    # no 填报单位 typed: the file name tells who sent it
    plans[3].written = ""
    # a template whose rows, columns and sheet name the unit changed
    for p, variant in zip(
        [p for p in plans if p.container == "template-xlsx"][:3],
        [
            {"inserted_rows": {6: "（本单位说明：困难职工数据截至2012年12月31日）"}},
            {"remark_column": True},
            {"sheet_title": "Sheet1"},
        ],
        strict=False,
    ):
        p.variant = variant
    # a unit that sent twice: a first draft in Word, then the corrected template
    twice = next(p for p in plans if p.container == "template-xlsx" and not p.variant)
    draft = Plan(twice.unit, twice.written, "docx", f"{twice.unit}送温暖统计表（初稿）.docx", f"{year}-01-09")
    twice.file = f"{twice.unit}送温暖统计表（修改稿）.xlsx"
    twice.date = f"{year}-01-16"
    plans.append(draft)
    # a unit that is not in the registry
    plans.append(Plan(UNREGISTERED, UNREGISTERED, "xlsx", f"{UNREGISTERED}统计表.xlsx", f"{year}-01-17"))
    summary_plans = [p for p in plans if p is not draft][::5]
    earlier = (
        _inbox_mess(plans, year, {twice.unit, UNREGISTERED} | {p.unit for p in summary_plans})
        if year >= INBOX_MESS_FROM
        else None
    )
    drafts = [p for p in (draft, earlier) if p is not None]
    _reorganised_plans(plans, year, exclude=(twice, *drafts))

    sizes = {n: (t, s) for n, _, t, s in UNITS}
    sizes[UNREGISTERED] = ("", 3_000)
    true_values = {
        p.unit: yearly_values(seed, p.unit, sizes[p.unit][0] or "直属", sizes[p.unit][1], year) for p in plans
    }
    # figures broken on purpose, one kind per unit, so that every kind of finding shows
    has_history = SamplePaths(inputs, year - 1).inbox.is_dir()
    eligible = [p.unit for p in plans if p.unit not in (twice.unit, UNREGISTERED) and p not in drafts]
    rng.shuffle(eligible)
    protected: dict[str, set[str]] = {}
    for rule, code, change, big, needs_history in BREAKS:
        if needs_history and not has_history:
            continue
        unit = next(
            u
            for u in eligible
            if u not in protected
            and (
                not big
                or (sizes[u][0] == "市、区" and true_values[u]["11A.1"] > 0 and true_values[u]["10A.1"] > 0)
            )
        )
        change(true_values[unit])
        protected[unit] = {form.code_of(c) for c in BREAK_CODES[rule]} - {None}
        truth.broken.append((unit, rule, form.code_of(code)))
    later: list[tuple[Path, Path, str]] = []  # (a .docx written, what LibreOffice saves it as, the format)
    for p in plans:
        values = dict(true_values[p.unit])
        if p in drafts:  # the draft had a figure the unit later corrected
            values["04A.1"] = values["04A.1"] + 7
        _write_plan(
            form,
            paths.inbox,
            p,
            values,
            messer,
            rng,
            truth,
            is_draft=p in drafts,
            later=later,
            protect=protected.get(p.unit, set()),
        )
    if deferred is None:
        _convert_later(later, paths.inbox, truth)
    else:
        deferred.append((later, paths.inbox, truth))
    _write_decisions(paths, truth, true_values, registry, style)
    truth.late = sorted(
        p.unit for p in plans if p.date > year_cfg["deadline"] and p not in drafts and p.unit != UNREGISTERED
    )

    for i, s in enumerate(summary_plans):
        fname = f"{s.unit}送温暖活动书面总结.docx"
        write_summary_docx(
            paths.inbox / fname,
            s.unit,
            summary_statements(
                form, s.unit, truth.values.get(s.unit, {}), protected.get(s.unit, set()), year, truth
            ),
            year,
        )
        truth.files.append(SampleFile(fname, "summary", s.unit))
        if i == 1:  # one summary arrives inside a subfolder the analyst made
            sub = paths.inbox / "书面材料"
            sub.mkdir(exist_ok=True)
            (paths.inbox / fname).rename(sub / fname)
            truth.files[-1].name = f"书面材料/{fname}"
    _generic_summary(form, paths.inbox, [p for p in plans if p is not draft], protected, truth, year)
    quoted = [f.unit for f in truth.files if f.status == "summary"][0]
    _notepad_text(
        paths.year_inputs / "narrative.md",
        NARRATIVE.format(unit=quoted, quote=experience_sentence(year)),
        style["narrative.md"],
    )
    # inbox litter
    lock = "~$" + plans[0].file[2:]
    _lock_file(paths.inbox / lock, "王建华")
    store.atomic_write_bytes(paths.inbox / "Thumbs.db", bytes(rng.randrange(256) for _ in range(512)))
    store.atomic_write_bytes(paths.inbox / ".DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(64))
    (paths.inbox / "说明.txt").write_text(f"{SAMPLE_MARK}：各单位报送材料，请勿修改。\n", encoding="utf-8")
    for name in (lock, "Thumbs.db", ".DS_Store", "说明.txt"):
        truth.files.append(SampleFile(name, "skipped"))
    if year >= INBOX_MESS_FROM:  # a unit that sent only a scan of its form
        unit = sorted(not_reported)[0]
        name = f"{unit}送温暖统计表（扫描件）.png"
        store.atomic_write_bytes(paths.inbox / name, scanned_form(form, unit))
        truth.files.append(SampleFile(name, "rejected"))
        truth.sent_unreadable.append(unit)
    truth.files.sort(key=lambda f: f.name)
    return truth


# How each sample year's analyst's files were saved (Excel and Notepad on Chinese Windows):
# csv-gbk: Excel's "CSV（逗号分隔）" (GBK, CRLF); csv-utf8: Excel's "CSV UTF-8（逗号分隔）" (BOM, CRLF);
# unicode-text: Excel's "Unicode 文本" (UTF-16LE with BOM, tab-separated, CRLF);
# gbk: Notepad's "ANSI" (GBK, CRLF); utf-8-bom: Notepad's "带有 BOM 的 UTF-8" (CRLF); utf-8: plain UTF-8 (LF).
ANALYST_FILE_STYLES = {
    2013: {
        "corrections.csv": "csv-gbk",
        "waivers.csv": "unicode-text",
        "narrative.md": "gbk",
        "year.yaml": "gbk",
    },
    2012: {
        "corrections.csv": "unicode-text",
        "waivers.csv": "csv-gbk",
        "narrative.md": "utf-8-bom",
        "year.yaml": "utf-8-bom",
    },
    None: {
        "corrections.csv": "csv-utf8",
        "waivers.csv": "csv-utf8",
        "narrative.md": "utf-8",
        "year.yaml": "utf-8",
    },
}
EXCEL_TABLES = {
    "csv-gbk": (",", "gbk", b""),
    "csv-utf8": (",", "utf-8", b"\xef\xbb\xbf"),
    "unicode-text": ("\t", "utf-16-le", b"\xff\xfe"),
}
NOTEPAD_TEXTS = {
    "gbk": ("gbk", b"", "\r\n"),
    "utf-8-bom": ("utf-8", b"\xef\xbb\xbf", "\r\n"),
    "utf-8": ("utf-8", b"", "\n"),
}


def _excel_table(frame: pd.DataFrame, path: Path, style: str, empty_rows_at: list[int] = ()) -> None:
    """A table as Excel on Chinese Windows saves it, with its empty rows (,,,)
    before the given row positions."""
    delimiter, encoding, bom = EXCEL_TABLES[style]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(frame.columns)
    empty = [""] * len(frame.columns)
    for k, row in enumerate(frame.itertuples(index=False)):
        if k in empty_rows_at:
            writer.writerow(empty)
        writer.writerow(row)
    if len(frame) in empty_rows_at:
        writer.writerow(empty)
    store.atomic_write_bytes(path, bom + buf.getvalue().encode(encoding))


def _notepad_text(path: Path, text: str, style: str) -> None:
    """A text as Notepad on Chinese Windows saves it."""
    encoding, bom, newline = NOTEPAD_TEXTS[style]
    store.atomic_write_bytes(path, bom + text.replace("\n", newline).encode(encoding))


def _write_decisions(
    paths: SamplePaths, truth: Truth, true_values: dict, registry: pd.DataFrame, style: dict
) -> None:
    """The analyst's corrections.csv and waivers.csv for the sample year, saved as Excel saves them."""
    by_rule = {rule: unit for unit, rule, _ in truth.broken}
    fixes = []
    if "S01" in by_rule:  # the unit phoned in the right total
        unit = by_rule["S01"]
        v = true_values[unit]
        right = v["05A.1"] + v["05B.1"] + v["05C.1"] + v["05D.1"]
        alias = registry.loc[registry["name"] == unit, "aliases"].iloc[0].split("|")[0]
        fixes.append(
            {
                "unit": alias,
                "item": "05.1",
                "value": _fmt_num(right),
                "reason": f"{SAMPLE_MARK}：单位电话确认，总额应为各来源之和",
            }
        )
        truth.corrected[(unit, "05.1")] = right
        truth.broken = [b for b in truth.broken if b[1] != "S01"]
    if "W02" in by_rule:  # the unit confirmed a figure by email
        unit = by_rule["W02"]
        fixes.append({"unit": unit, "item": "07A.1", "value": "12", "reason": f"{SAMPLE_MARK}：单位邮件更正"})
        truth.corrected[(unit, "07A.1")] = Decimal(12)
    fixes.append(
        {
            "unit": "姑苏区总工汇",
            "item": "04A.1",
            "value": "100",
            "reason": f"{SAMPLE_MARK}：单位名称写错的更正，应在审核记录中报错",
        }
    )
    truth.unmatched_corrections = 1
    _excel_table(
        pd.DataFrame(fixes, columns=["unit", "item", "value", "reason"]),
        paths.year_inputs / "corrections.csv",
        style["corrections.csv"],
        empty_rows_at=[len(fixes)],
    )
    waivers = []
    if "W04" in by_rule:
        waivers.append(
            {
                "unit": by_rule["W04"],
                "rule": "W04",
                "reason": f"{SAMPLE_MARK}：已电话核实，本年脱贫家庭含上年建档的家庭",
            }
        )
        truth.waived.append((by_rule["W04"], "W04"))
    _excel_table(
        pd.DataFrame(waivers, columns=["unit", "rule", "reason"]),
        paths.year_inputs / "waivers.csv",
        style["waivers.csv"],
        empty_rows_at=[len(waivers)] if style["waivers.csv"] == "csv-gbk" else [],
    )


def _revisions(form: Form, p: Plan, texts: dict, expected: dict, protect: set, truth: Truth) -> dict:
    """For a plan with revisions: some filled blanks become placeholders that revise_docx turns into
    tracked changes (an old figure deleted, the typed text inserted). Returns {placeholder: (old, new)}."""
    if not p.variant.get("revisions"):
        return {}
    pick = random.Random(p.file)
    filled = [c for c in form.codes if expected[c].status == OK and c not in protect and texts[c].strip()]
    marks = {}
    for n, code in enumerate(sorted(pick.sample(filled, p.variant["revisions"]))):
        mark = f"⟦修订{n}⟧"
        marks[mark] = (str(pick.randint(1, 999)), texts[code])
        texts[code] = mark
        truth.revised.append((p.unit, code))
    return marks


def generate_years(inputs: Path, years, seed: int = 2013) -> dict[int, Truth]:
    """`generate` for each of `years` in turn, then the files LibreOffice saves, of all the years at once: one
    launch of LibreOffice per format for them all (a launch costs about a second of CPU)."""
    deferred: list = []
    truths = {year: generate(inputs, year, seed, deferred=deferred) for year in years}
    made = iter(convert_many([job for later, _, _ in deferred for job in later]))
    for later, inbox, truth in deferred:
        _convert_later(later, inbox, truth, [next(made) for _ in later])
        truth.files.sort(key=lambda f: f.name)
    return truths


def _convert_later(
    later: list[tuple[Path, Path, str]], inbox: Path, truth: Truth, saved: list[bool] | None = None
) -> None:
    """The year's Word 97 documents and PDFs saved by LibreOffice together (convert_many; `saved`: already
    saved, by generate_years), each .docx then removed; a file LibreOffice did not make keeps its .docx, and
    the truth names that file instead."""
    for (tmp, dest, _), made in zip(later, convert_many(later) if saved is None else saved, strict=True):
        if made:
            tmp.unlink()
            continue
        name, kept = dest.relative_to(inbox).as_posix(), tmp.relative_to(inbox).as_posix()
        for f in truth.files:
            if f.name == name:
                f.name = kept


def _write_zipped(
    form: Form,
    inbox: Path,
    p: Plan,
    texts: dict,
    header: dict,
    rng: random.Random,
    expected: dict,
    protect: set[str],
    truth: Truth,
) -> str:
    """The unit's form and its summary (generic name) in a folder, zipped by Windows' built-in zipper."""
    folder = p.variant["zip_folder"]
    with tempfile.TemporaryDirectory() as tmp:
        form_file, summary = Path(tmp) / p.file, Path(tmp) / "送温暖工作总结.docx"
        write_sentence_docx(form, form_file, texts, header, rng)
        year = int(p.date[:4])
        write_summary_docx(
            summary, p.unit, summary_statements(form, p.unit, expected, protect, year, truth), year
        )
        windows_zip(
            inbox / f"{folder}.zip",
            {f"{folder}/{p.file}": form_file.read_bytes(), f"{folder}/{summary.name}": summary.read_bytes()},
        )
    truth.files += [
        SampleFile(f"{folder}.zip", "unpacked"),
        SampleFile(f"{folder}.zip/{folder}/{summary.name}", "summary", p.unit),
    ]
    return f"{folder}.zip/{folder}/{p.file}"


def _write_plan(
    form: Form,
    inbox: Path,
    p: Plan,
    values: dict,
    messer: Messer,
    rng: random.Random,
    truth: Truth,
    is_draft: bool,
    later: list[tuple[Path, Path, str]],
    protect: set[str] = frozenset(),
) -> None:
    # Which blanks this unit leaves empty, and one it answers with words; never the ones broken on purpose.
    blanks = {i.code: values[i.key] for i in form.items}  # the year's codes, by concept
    free = [c for c in form.codes if c not in protect]
    for code in rng.sample(free, rng.choice([0, 0, 1, 2, 3])):
        blanks[code] = None
    unreadable = rng.choice(free) if rng.random() < 0.15 else None
    header = {
        "unit": p.written,
        "date": p.date,
        "person": rng.choice(PEOPLE),
        "phone": f"0512-6{rng.randint(1000000, 9999999)}",
    }
    expected: dict[str, Expected] = {}
    in_sums = {
        c for rule in form.rules if "==" in rule.check for c in re.findall(r"\d\d[A-Z]?\.\d", rule.check)
    }
    path = inbox / p.file
    if p.container.startswith("template"):
        cells = {}
        for code, d in blanks.items():
            item = form.item(code)
            if d is None:
                cells[code], expected[code] = None, Expected(None, MISSING)
            elif rng.random() < 0.12:  # typed as text (pasted, or validation switched off)
                text, expected[code] = messer.text(d, item.is_money, item.unit, code in in_sums | protect)
                cells[code] = text
            else:
                cells[code] = float(d) if item.is_money else int(d)
                expected[code] = Expected(d)
        if unreadable:
            cells[unreadable], expected[unreadable] = "见附件", Expected(None, UNREADABLE)
        hdr = {**header, "date": dt.date.fromisoformat(p.date)}
        template.write(form, path, values=cells, header=hdr, sample=True, **p.variant)
        layout = "template"
    else:
        texts = {}
        for code, d in blanks.items():
            item = form.item(code)
            texts[code], expected[code] = messer.text(d, item.is_money, item.unit, code in in_sums | protect)
        if unreadable:
            texts[unreadable], expected[unreadable] = "见附件", Expected(None, UNREADABLE)
        y, m, d = p.date.split("-")
        header["date_text"] = rng.choice(
            [f"{y}年{int(m)}月{int(d)}日", f"{y}年{m}月{d}日", f"{y}.{int(m)}.{int(d)}"]
        )
        header["date_text"] = p.variant.get("date_text", header["date_text"])
        marks = _revisions(form, p, texts, expected, protect, truth)
        layout = "sentence"
        if p.container in REORGANISED:
            layout = _write_reorganised(form, path, p, values, texts, expected, header, rng, truth)
        elif p.container in ("docx", "docx-seedhdr") and p.variant.get("zip_folder"):
            path = _write_zipped(form, inbox, p, texts, header, rng, expected, protect, truth)
        elif p.container in ("docx", "docx-seedhdr"):
            write_sentence_docx(
                form,
                path,
                texts,
                header,
                rng,
                merge_like_seed=rng.random() < 0.7,
                header_in_table=p.container == "docx-seedhdr",
            )
            if marks:
                revise_docx(path, marks)
        elif p.container == "xlsx":
            write_sentence_xlsx(form, path, texts, header, rng)
        elif p.container in ("xls", "et"):  # an .et is what WPS calls an Excel 97 workbook
            write_sentence_xls(form, path, texts, header, rng)
        elif p.container in ("doc", "wps", "pdf"):  # a .wps is what WPS calls a Word 97 document
            tmp = path.with_suffix(".docx")
            write_sentence_docx(form, tmp, texts, header, rng)
            if convert.soffice():  # saved by LibreOffice with the year's others (generate: _convert_later)
                later.append((tmp, path, "pdf" if p.container == "pdf" else "doc:MS Word 97"))
            else:  # no LibreOffice here: keep the .docx so the sample stays complete
                path = tmp
    shown = path if isinstance(path, str) else path.relative_to(inbox).as_posix()
    truth.files.append(SampleFile(shown, "superseded" if is_draft else "read", p.unit, layout))
    if not is_draft:
        truth.values[p.unit] = expected


# ---- forms units reorganised, last year's form, a summary named by its title (issue 10, items 5–7) ----

VALUE_COLUMN, LABEL_PAIRS, LAST_YEAR = "docx-valuecol", "xlsx-pairs", "docx-lastyear"
REORGANISED = (VALUE_COLUMN, LABEL_PAIRS, LAST_YEAR)


def _reorganised_plans(plans: list[Plan], year: int, exclude=()) -> None:
    """Three units of the year send their form reorganised: the notice's table with an added column of
    figures, a two-column 项目/数量 sheet, and last year's form (when the sample has that year's form
    file)."""
    if year != 2013:
        return
    mine = [p for p in plans if p not in exclude and p.written and p.unit != UNREGISTERED and not p.variant]
    docx_plans = [p for p in mine if p.container == "docx"]
    xlsx_plans = [p for p in mine if p.container == "xlsx"]
    docx_plans[0].container = VALUE_COLUMN
    xlsx_plans[0].container = LABEL_PAIRS
    if (config.FORMS_DIR / f"{year - 1}.yaml").exists():
        docx_plans[1].container = LAST_YEAR


def _write_reorganised(
    form: Form,
    path: Path,
    p: Plan,
    values: dict,
    texts: dict,
    expected: dict,
    header: dict,
    rng: random.Random,
    truth: Truth,
) -> str:
    """Write one reorganised form; `expected` is updated where the shape changes what ingest must read."""
    if p.container == VALUE_COLUMN:
        write_value_column_docx(form, path, values, texts, expected, header, rng)
        return "labelled"
    if p.container == LABEL_PAIRS:
        write_label_pairs_xlsx(form, path, texts, header, rng)
        return "labelled"
    old = load_form(str(form.year - 1))
    old_texts = {}
    for item in old.items:  # the unit types this year's figures into last year's blanks, by concept
        code = form.code_of(item.key)
        old_texts[item.code] = texts[code] if code else ""
    for item in form.items:
        if old.code_of(item.key) is None:
            expected[item.code] = Expected(None, "not_found")
    write_sentence_docx(old, path, old_texts, header, rng, merge_like_seed=False)
    truth.wrong_year[p.unit] = old.form
    return "sentence"


def write_value_column_docx(
    form: Form, path: Path, values: dict, texts: dict, expected: dict, header: dict, rng: random.Random
) -> None:
    """The notice's table with the blanks left empty and a column 填报数 added on the right. A line with one
    blank holds the unit's typing; a line with several holds their numbers in one cell, joined by 、."""
    document = docx.Document()
    document.add_paragraph("附件：")
    document.add_paragraph(form.title)
    unit_line, person_line = _header_text(header)
    document.add_paragraph(unit_line)
    document.add_paragraph(person_line)
    table = document.add_table(rows=0, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.add_row().cells, ["序号", "", "", "项目内容", "填报数"], strict=True):
        cell.text = text
    for k, line in enumerate(form.layout, 1):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = str(k), line.row
        cells[2].text = f"（{line.letter}）" if line.letter else ""
        cells[3].text = BLANK_RX.sub(lambda _m: rng.choice(["", "    ", "______"]), line.text)
        if len(line.codes) == 1:
            cells[4].text = texts[line.codes[0]]
        elif line.codes:
            plain = []
            for code in line.codes:
                d = values[form.item(code).key]
                plain.append(_fmt_num(d))
                expected[code] = Expected(d)
            cells[4].text = rng.choice(["、", "；", " / "]).join(plain)
    document.add_paragraph(form.note + f"（{SAMPLE_MARK}）")
    _save_docx(document, path)


BLANK_RX = re.compile(r"\{[0-9A-Z.]+\}")


def pair_label(form: Form, line: Line, k: int, rng: random.Random) -> str:
    """What a unit writes in 项目 for a blank: the item's name or the sentence's words before the blank."""
    code = line.codes[k]
    item = form.item(code)
    before = line.literals[k].strip()
    if k:
        before = before.removeprefix(form.item(line.codes[k - 1]).unit)
    before = before.strip("，,；;。：: ")
    own = (
        item.label.rstrip("）)")[-2:] in before
    )  # the words before the blank describe it (not 「共协助…帮助」)
    words = before if own and rng.random() < 0.5 else item.label
    return f"{words}（{item.unit}）"


def write_label_pairs_xlsx(form: Form, path: Path, texts: dict, header: dict, rng: random.Random) -> None:
    """A sheet the unit made itself: 项目 (an item's words and measure) | 数量, one row per blank."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = form.title
    ws["A2"] = f"填报单位：{header.get('unit', '')}"
    ws["A3"] = f"填报日期：{header.get('date_text', '')}"
    ws["A4"], ws["B4"] = "项目", "数量"
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 60, 14
    r = 5
    for line in form.blank_lines:
        for k, code in enumerate(line.codes):
            ws.cell(r, 1, pair_label(form, line, k, rng))
            if texts[code].strip(" \u3000_"):
                ws.cell(r, 2, texts[code])
            r += 1
    ws.cell(
        r + 1, 1, f"填报人：{header.get('person', '')}  联系电话：{header.get('phone', '')}（{SAMPLE_MARK}）"
    )
    template.save(wb, path)


GENERIC_NAME = "新建 Microsoft Word 文档.docx"


def _generic_summary(
    form: Form, inbox: Path, plans: list[Plan], protected: dict, truth: Truth, year: int
) -> None:
    """One written summary under the name Word gives a new document: its title names the unit."""
    if year != 2013:
        return
    has = {f.unit for f in truth.files if f.status == "summary"}
    unit = next(p.unit for p in plans if p.unit not in has and p.unit != UNREGISTERED)
    write_summary_docx(
        inbox / GENERIC_NAME,
        unit,
        summary_statements(form, unit, truth.values.get(unit, {}), protected.get(unit, set()), year, truth),
        year,
    )
    truth.files.append(SampleFile(GENERIC_NAME, "summary", unit, unit_how="按标题"))


def main(argv: list[str] | None = None) -> int:
    """python -m tests.sample_data --year 2013 [--seed 2013] [--force]: the committed sample, made again."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.sample_data", description="生成示例数据（合成数据，仅供演示和测试）"
    )
    parser.add_argument("--year", type=int, required=True, help="年度；按 2011、2012、2013 的顺序生成")
    parser.add_argument("--seed", type=int, default=2013, help="随机种子（默认 2013，即仓库中的示例数据）")
    parser.add_argument(
        "--inputs", type=Path, default=config.INPUTS_DIR, help="输入目录（默认：项目的 inputs/）"
    )
    parser.add_argument("--force", action="store_true", help="收件箱已有文件时仍然重建（会删除原有文件）")
    args = parser.parse_args(argv)
    truth = generate(args.inputs, args.year, args.seed, force=args.force)
    print(
        f"已生成{args.year}年示例数据（随机种子 {args.seed}）：{args.inputs / str(args.year) / 'submissions'}"
    )
    print(f"共 {len(truth.files)} 个文件，{len(truth.values)} 个单位的统计表")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
