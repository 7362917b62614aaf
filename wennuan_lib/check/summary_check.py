"""Summary against form: the figures a unit's 书面总结材料 states, held against the figures of its 统计表.

A written summary is prose and never a source of values. Where it states a figure of the form in the form's
own words (「走访职工家庭77户」, 「筹集慰问款物4423.12万元」), the figure is read with the rules of a blank
(`parse.parse_blank`: 约/近/余/多/左右/以上, 2.85万户, 元 in a 万元 item) and compared with the unit's figure
in force (after corrections). A clear disagreement is a warning (rules.SUMMARY_ID) naming both numbers and
where each was written; rounding (2.85万户 for 28476, 4423万元 for 4423.12) and approximate words are allowed
for.

Which item a figure belongs to is decided by the words next to it, against cues made from the form itself:
each blank's clause in the printed sentence (the words just before the blank, or just after it for a sentence
that starts with the blank, 「为{08A.1}名权益受损的职工…」) and the item's label, with and without
共/总额/总数. A figure belongs to an item when the summary's words before it end with one of the item's cues
(or its words after the measure start with one), and the measure matches. A cue that two items of the same
measure share (「其中困难农民工…户」) is dropped: such a figure is not compared, never guessed. A clause about
last year (上年、去年、同比) is not compared either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.check.rules import ACTIONS, SUMMARY_ID, WARNING, Describer, check_failed, make_finding
from wennuan_lib.form import Form
from wennuan_lib.read.parse import APPROX_PREFIXES, FILLER_PREFIXES, OK, format_value, parse_blank, to_decimal
from wennuan_lib.vocab import APPROX, DIFFER, MATCH

AGREE, DISAGREE, APPROX_AGREE = MATCH, DIFFER, APPROX  # stored codes; vocab.VERDICT_LABELS shows them
# Where a clause ends (text normalised by NFKC: full-width commas and colons are ASCII by then).
DELIMS = ",;:、。!?\n"
OTHER_YEAR = ("上年", "去年", "同比", "上一年", "同期")
APPROX_TOLERANCE = Decimal("0.05")  # 约/近/余/多/左右/以上: within 5 % (or the number's own rounding)
CUE_MIN = 2
LEAD_WORDS = ("共", "为", "并")  # a clause's first word a summary may leave out
TAIL_WORDS = ("总额", "总数", "总计")  # a label's last word a summary may leave out
_PRE = "|".join(sorted((re.escape(w) for w in APPROX_PREFIXES + FILLER_PREFIXES), key=len, reverse=True))
_NUMBER = r"\d+(?:[.,]\d+)*|[〇零一二两三四五六七八九十百千]+"


@dataclass(frozen=True)
class Cue:
    words: str
    codes: tuple[str, ...]  # more than one: the words are ambiguous, and a figure they name is not compared
    after: bool  # the words follow the figure's measure (a sentence that starts with the blank)


@dataclass(frozen=True)
class Stated:
    """One figure a summary states for an item."""

    code: str
    value: Decimal
    approx: bool
    precision: Decimal  # the place of its last significant digit, in the item's measure (2.85万 → 100)
    more: str  # 余/多/以上 (at least), 近 (at most), or ""
    snippet: str


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _clause_end(text: str) -> str:
    """The words after the last delimiter."""
    cut = max(text.rfind(d) for d in DELIMS)
    return text[cut + 1 :]


def _clause_start(text: str) -> str:
    cuts = [i for i in (text.find(d) for d in DELIMS) if i >= 0]
    return text[: min(cuts)] if cuts else text


def _variants(words: str, leads: bool, tails: bool) -> set[str]:
    out = {words}
    if leads:
        out |= {words[len(w) :] for w in LEAD_WORDS if words.startswith(w)}
    if tails:
        out |= {w[: -len(t)] for w in list(out) for t in TAIL_WORDS if w.endswith(t)}
        out |= {re.sub(r"\([^)]*\)$", "", w) for w in list(out)}
    return {w for w in out if len(w) >= CUE_MIN}


def measures(item) -> tuple[str, ...]:
    """The measure words a summary may write after an item's figure (a 万元 item may be stated in 元)."""
    return ("万元", "元") if item.is_money else (item.unit,)


def cues(form: Form) -> dict[str, tuple[Cue, ...]]:
    """{measure word: cues, longest first}, from the form's sentences and labels. A cue two items share under
    the same measure is kept as ambiguous: when it is the longest that fits, the figure is not compared
    (「其中困难农民工800户」 is not read as 「困难农民工800户」)."""
    claims: dict[tuple[str, str, bool], set[str]] = {}

    def claim(words: str, code: str, after: bool, leads: bool, tails: bool) -> None:
        for w in _variants(_nfkc(words).replace(" ", ""), leads, tails):
            for m in measures(form.item(code)):
                claims.setdefault((m, w, after), set()).add(code)

    for line in form.blank_lines:
        parts = line.parts
        for k, code in enumerate(parts[1::2]):
            before, after = parts[2 * k], parts[2 * k + 2]
            if k:  # the literal starts with the measure of the blank before it
                prev = form.item(parts[2 * k - 1]).unit
                before = before.removeprefix(prev)
            claim(_clause_end(_nfkc(before)), code, False, True, False)
            tail = _clause_start(_nfkc(after).removeprefix(_nfkc(form.item(code).unit)))
            if len(tail) >= 4:
                claim(tail, code, True, False, False)
    for item in form.items:
        claim(item.label, item.code, False, False, True)
    out: dict[str, list[Cue]] = {}
    for (m, w, after), codes in claims.items():
        out.setdefault(m, []).append(Cue(w, tuple(sorted(codes)), after))
    return {m: tuple(sorted(cs, key=lambda c: (-len(c.words), c.words, c.after))) for m, cs in out.items()}


def _pattern(form: Form) -> re.Pattern:
    words = sorted({m for item in form.items for m in measures(item)}, key=len, reverse=True)
    return re.compile(
        rf"(?P<pre>(?:{_PRE})*)(?P<num>{_NUMBER})(?P<wan>万)?(?P<more>余|多)?"
        rf"(?P<measure>{'|'.join(map(re.escape, words))})(?!次)(?P<around>左右|以上)?"
    )


def _precision(num: str, wan: bool, measure: str, money: bool) -> Decimal:
    digits = num.replace(",", "")
    if re.fullmatch(r"\d+\.\d+", digits):
        p = Decimal(1).scaleb(-len(digits.split(".")[1]))
    elif digits.isdigit():  # 500, 3000 may be rounded to hundreds; 10, 120, 1860 are taken as written
        zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
        p = Decimal(1).scaleb(zeros) if zeros >= 2 else Decimal(1)
    else:
        p = Decimal(1)
    if wan and not money:
        p *= 10000
    if money and measure == "元" and not wan:
        p /= 10000
    return p


def read_summary(text: str, form: Form, index: dict[str, tuple[Cue, ...]] | None = None) -> list[Stated]:
    """Every figure `text` states for an item of `form`, in order (`index`: `cues(form)`, made once)."""
    text = re.sub(r"[ \t\u3000\xa0]+", "", _nfkc(text or ""))
    by_measure = index if index is not None else cues(form)
    out = []
    for m in _pattern(form).finditer(text):
        measure = "万元" if m["wan"] and m["measure"] == "元" else m["measure"]
        before, rest = text[: m.start()], text[m.end() :]
        clause = _clause_end(before)
        if any(w in clause for w in OTHER_YEAR):
            continue
        hits = [
            c
            for c in by_measure.get(measure, ())
            if (rest.startswith(c.words) if c.after else before.endswith(c.words))
        ]
        if not hits:
            continue
        longest = {code for c in hits if len(c.words) == len(hits[0].words) for code in c.codes}
        if len(longest) != 1:
            continue
        cue = hits[0]
        item = form.item(cue.codes[0])
        parsed = parse_blank(m.group(0), money=item.is_money)
        if parsed.status != OK or parsed.value is None:
            continue
        more = "at_least" if (m["more"] or m["around"] == "以上") else "at_most" if "近" in m["pre"] else ""
        start = m.start() - min(len(clause), 24)
        end = m.end() + (len(cue.words) if cue.after else 0)
        out.append(
            Stated(
                item.code,
                parsed.value,
                parsed.approx,
                _precision(m["num"], bool(m["wan"]), m["measure"], item.is_money),
                more,
                text[start:end],
            )
        )
    return out


def verdict(stated: Stated, form_value: Decimal) -> str:
    """match (一致: the same number), approx (约数相符: the same within the summary's rounding or approximate
    words), or differ (不一致)."""
    s, f = stated.value, form_value
    if s == f:
        return AGREE
    diff = abs(s - f)
    if diff <= stated.precision / 2:
        return APPROX_AGREE
    if stated.approx:
        if diff <= max(stated.precision / 2, APPROX_TOLERANCE * s):
            return APPROX_AGREE
        if stated.more == "at_least" and s <= f < s + stated.precision:
            return APPROX_AGREE
        if stated.more == "at_most" and s - stated.precision < f <= s:
            return APPROX_AGREE
    return DISAGREE


def check(
    summaries: pd.DataFrame, values: pd.DataFrame, form: Form, index: dict[str, tuple[Cue, ...]] | None = None
) -> tuple[pd.DataFrame, list[dict]]:
    """(summary_checks, findings): each figure a summary states against the unit's figure in force, and a
    warning for each clear disagreement. Units without a form in force, and items left blank, are not
    compared. `index`: `cues(form)`, when made once for many calls."""
    rows, findings = [], []
    for got, found in check_each(summaries, values, form, index):
        rows += got
        findings += found
    return pd.DataFrame(rows, columns=catalog.dataset("summary_checks").column_names), findings


def check_each(
    summaries: pd.DataFrame, values: pd.DataFrame, form: Form, index: dict[str, tuple[Cue, ...]] | None = None
) -> list[tuple[list[dict], list[dict]]]:
    """`check`, summary by summary: (its summary_checks rows, its findings) for each row of `summaries`."""
    say, index = Describer(form), cues(form) if index is None else index
    in_force = values[(values["status"] == OK) & values["unit"].isin(set(summaries["unit"]))]
    by_unit = {unit: frame.set_index("item") for unit, frame in in_force.groupby("unit", sort=False)}
    out, seen = [], set()
    for unit, file, text in zip(summaries["unit"], summaries["file"], summaries["text"], strict=True):
        rows, findings = [], []
        out.append((rows, findings))
        mine = by_unit.get(unit)
        if not unit or mine is None:
            continue
        try:
            _compare(unit, file, text, mine, form, say, index, rows, findings, seen)
        except Exception as exc:  # one unit's summary never stops the others' checks
            del rows[:], findings[:]
            unit_type = mine["unit_type"].iloc[0] if len(mine) else ""
            findings.append(check_failed(unit, unit_type, f"「{file}」", "书面总结与统计表核对", exc))
    return out


def _compare(unit, file, text, mine, form, say, index, rows, findings, seen) -> None:
    """Each figure one summary states against the unit's figures in force: rows and findings appended."""
    for st in read_summary(text, form, index):
        if st.code not in mine.index:
            continue
        row = mine.loc[st.code]
        form_value = to_decimal(row["value"])
        if form_value is None:
            continue
        where = f"「{row['file']}」{row['location']}"
        result = verdict(st, form_value)
        rows.append(
            {
                "unit": unit,
                "item": st.code,
                "label": form.item(st.code).label,
                "form_value": format_value(form_value),
                "summary_value": format_value(st.value),
                "approx": st.approx,
                "summary_text": st.snippet,
                "summary_file": file,
                "form_location": where,
                "verdict": result,
            }
        )
        key = (unit, st.code, file, st.value)
        if result != DISAGREE or key in seen:
            continue
        seen.add(key)
        filled = "更正后为" if bool(row.get("corrected", False)) else "填的是"
        message = (
            f"{say.name(st.code)}：统计表{filled}{say.amount(st.code, form_value)}"
            f"（{where}），书面总结材料「{file}」中写的是「{st.snippet}」，两者不一致"
        )
        findings.append(
            make_finding(
                unit,
                row["unit_type"],
                [st.code],
                SUMMARY_ID,
                "soft",
                WARNING,
                message,
                ACTIONS[SUMMARY_ID],
            )
        )
