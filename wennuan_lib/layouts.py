"""Layout matchers: where each blank of the form is inside what a reader extracted.

Two layouts:

* ``template`` — the project's own workbook: each item is found by its defined name, so
  inserted rows, a remark column or a renamed sheet change nothing.
* ``sentence`` — the notice's original table of sentences, filled in Word or pasted into
  Excel: the form's literal text around each blank is located (tolerating spaces,
  full-width forms, underscores and merged lines) and what lies between is the blank.

A document that matches neither is classified: prose in Word is the unit's 书面总结材料
and is never read for figures.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from . import dates
from .artifacts import register
from .form import Form, Line
from .readers import Extract

TEMPLATE, SENTENCE, SUMMARY, UNKNOWN = "template", "sentence", "summary", "unknown"
LAYOUT_LABELS = {TEMPLATE: "本系统模板", SENTENCE: "原通知表式（文字句式）", SUMMARY: "书面总结材料", UNKNOWN: "无法识别"}

GAP = r"[\s_\u3000]*"
PUNCT = ",，;；。.:：、"
PUNCT_CLASS = "[,，;；。.:：、]?"
CAPTURE = r"(.{0,80}?)"
# Share of the form's sentences that must be found whole for a document to count as a form.
FORM_THRESHOLD = 0.5
# A blank holds a short value; anything longer, or spanning lines, is a mis-anchored match.
MAX_BLANK = 30


@dataclass
class Found:
    raw: object  # the text (or number) in the blank
    loc: str
    revised: bool = False  # some of the blank's text came from a Word revision (w:ins / w:moveTo)


@dataclass
class Match:
    layout: str
    values: dict[str, Found] = field(default_factory=dict)  # item code -> what is in its blank
    not_found: list[str] = field(default_factory=list)  # item codes whose sentence was not found
    header: dict[str, Found] = field(default_factory=dict)
    form_year: str = ""
    form_version: str = ""
    lines_found: int = 0
    lines_total: int = 0
    text: str = ""  # the full extracted text (kept for summaries)


register(Found, Match)  # kept in the extraction cache as data


class FlatText:
    """The blocks joined into one string, with a map back from offset to location, and the
    character ranges that came from Word revisions (precise to the character)."""

    def __init__(self, extract: Extract):
        parts, self.starts, self.locs = [], [], []
        self.revised: list[tuple[int, int]] = []  # sorted, disjoint [start, end) offsets in `text`
        pos = 0
        for block in extract.blocks:
            sep = block.sep if parts else ""
            pos += len(sep)
            self.starts.append(pos)
            self.locs.append(block.loc)
            self.revised.extend((pos + a, pos + b) for a, b in block.revised_spans)
            parts.append(sep + block.text)
            pos += len(block.text)
        self.text = "".join(parts)
        self._revised_starts = [a for a, _ in self.revised]

    def is_revised(self, start: int, end: int) -> bool:
        """Whether any character of text[start:end] came from a revision."""
        if start >= end or not self.revised:
            return False
        i = bisect.bisect_left(self._revised_starts, end) - 1  # the last span starting before `end`
        return i >= 0 and self.revised[i][1] > start

    def loc_at(self, offset: int) -> str:
        if not self.starts:
            return ""
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        return self.locs[i]


def _char_class(ch: str) -> str:
    base = unicodedata.normalize("NFKC", ch)
    variants = {ch}
    if len(base) == 1:
        variants.add(base)
        if 0x21 <= ord(base) <= 0x7E:
            variants.add(chr(ord(base) + 0xFEE0))
    if len(variants) == 1:
        return re.escape(ch)
    return "[" + "".join(re.escape(v) for v in sorted(variants)) + "]"


@lru_cache(maxsize=4096)
def fuzzy(literal: str) -> str:
    """A regex for the literal text that tolerates inserted spaces, underscores, full-width
    forms, and changed or dropped punctuation."""
    out = []
    for ch in literal:
        if ch.isspace():
            continue
        out.append(PUNCT_CLASS if ch in PUNCT else _char_class(ch))
    return GAP.join(out)


def _first_word(literal: str) -> str:
    """The text right after a line's last blank, up to its first punctuation (e.g. 人次 of 人次。其中：)."""
    stripped = literal.strip()
    m = re.match(r"[^" + re.escape(PUNCT) + r"]+", stripped)
    return m.group(0) if m else stripped


def _plausible(capture: str) -> bool:
    core = re.sub(r"^[\s_\u3000]+|[\s_\u3000]+$", "", capture)
    return "\n" not in core and len(core) <= MAX_BLANK


@lru_cache(maxsize=1024)
def _line_regex(line: Line) -> re.Pattern:
    lits = line.literals
    pattern = fuzzy(lits[0])
    for k in range(1, len(lits)):
        last = k == len(lits) - 1
        pattern += CAPTURE + fuzzy(_first_word(lits[k]) if last else lits[k])
    return re.compile(pattern, re.DOTALL)


def _search(rx: re.Pattern, text: str, start: int = 0, end: int | None = None) -> re.Match | None:
    """The first match whose captures all look like blanks."""
    pos = start
    end = len(text) if end is None else end
    while pos <= end:
        m = rx.search(text, pos, end)
        if not m:
            return None
        if all(_plausible(g or "") for g in m.groups()):
            return m
        pos = m.start() + 1
    return None


def _locate_line(line: Line, flat: FlatText) -> tuple[dict[str, tuple[str, int]], bool]:
    """Find one sentence: {code: (blank text, offset)} and whether the whole sentence was found."""
    text = flat.text
    m = _search(_line_regex(line), text)
    if m:
        return {code: (m.group(i + 1), m.start(i + 1)) for i, code in enumerate(line.codes)}, True
    # Fallback: the sentence was edited. Anchor on its longest literal, then find each
    # blank by the literal text on both sides of it, near that anchor.
    lits = line.literals
    anchor = max(lits, key=lambda s: len(s.strip()))
    if len(anchor.strip()) < 4:
        return {}, False
    a = _search(re.compile(fuzzy(anchor)), text)
    if not a:
        return {}, False
    lo = max(0, a.start() - 2 * len("".join(lits)) - 100)
    hi = min(len(text), a.end() + 2 * len("".join(lits)) + 100)
    found = {}
    for k, code in enumerate(line.codes):
        before, after = lits[k], lits[k + 1]
        if k + 1 == len(lits) - 1:
            after = _first_word(after)
        if len(before.strip()) < 2 and k > 0:
            continue
        rx = re.compile(fuzzy(before) + CAPTURE + fuzzy(after), re.DOTALL)
        mm = _search(rx, text, lo, hi)
        if mm:
            found[code] = (mm.group(1), mm.start(1))
    return found, False


SEAL_RX = re.compile(r"[(（][^()（）]{0,6}(?:盖章|公章|章)[)）]")


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def header_from_text(flat: FlatText) -> dict[str, Found]:
    """填报单位, 填报日期, 填报人, 联系电话 from the text around the table."""
    text = flat.text
    out: dict[str, Found] = {}
    anchor = re.search(r"填\s*报\s*单\s*位", text)
    if anchor:
        rest = text[anchor.end():]
        m = re.match(r"[\s:：_\u3000]*(.*?)(?=[\s_\u3000]*(?:[12][0-9０-９]{3}\s*年|[12][0-9０-９]{3}[-./]|年[\s_\u3000]*月|填\s*报|联系电话|电话|[\t\n]|$))", rest)
        name = m.group(1) if m else ""
        cut = dates.start(name)  # a date in a shape the pattern above does not know (二〇一三年…, 1月25日)
        name = SEAL_RX.sub("", name[:cut] if cut is not None else name).strip(" _\u3000:：")
        if name:
            out["unit"] = Found(name, flat.loc_at(anchor.start()))
    date = _header_date(text, anchor)
    if date:
        out["date"] = Found(date[0], flat.loc_at(date[1]))
    # 填报人 and 联系电话 sit next to 填报单位; the notice's own body may carry another phone.
    zone_start = anchor.start() if anchor else 0
    zone = text[zone_start: zone_start + 300]
    p = re.search(r"填\s*报\s*人[\s:：_\u3000]*([^\s:：_\u3000\t]{1,12})", zone)
    if p and not re.match(r"(?:联系)?电话", p.group(1)):
        out["person"] = Found(p.group(1), flat.loc_at(zone_start + p.start()))
    t = re.search(r"(?:联系)?电\s*话[\s:：_\u3000]*([0-9０-９][0-9０-９\-－—()（） ]{4,24}[0-9０-９])", zone)
    if t:
        out["phone"] = Found(_nfkc(t.group(1)).strip(), flat.loc_at(zone_start + t.start()))
    return out


DATE_LABEL = re.compile(r"填\s*报\s*日\s*期[\s:：_\u3000]*")
# Something written where a date belongs that is not a date we can read (2013年1月, 春节前): kept, so the
# analyst is told, rather than read as no date at all.
DATE_LIKE = re.compile(r"[0-9０-９〇零○一二两三四五六七八九十元]+[\s_\u3000]*[年月][^\t\n]{0,16}")


def _header_date(text: str, anchor: re.Match | None) -> tuple[str, int] | None:
    """The 填报日期 as written, and where: after the label 填报日期, or near 填报单位."""
    zones = []  # (offset, text, whether it follows the label 填报日期)
    label = DATE_LABEL.search(text)
    if label:
        zones.append((label.end(), text[label.end(): label.end() + 40], True))
    if anchor:
        zones.append((anchor.start(), text[anchor.start(): anchor.start() + 200], False))
    for where, zone, _ in zones:
        d = dates.find(zone)
        if d:
            return d.group(0), where
    for where, zone, labelled in zones:
        first_line = re.split(r"[\t\n]|填\s*报\s*人|联系电话", zone)[0]
        if labelled:
            written = first_line.strip(" _\u3000:：")
        else:  # after the unit's name on its line
            like = DATE_LIKE.search(first_line.split("：", 1)[-1])
            written = like.group(0).strip() if like else ""
        if written and re.search(r"[0-9０-９〇零一二三四五六七八九十]", written):
            return written, where
    return None


def parse_date(value: object, year: int | None = None) -> str:
    """An ISO date from a header date cell or text; '' when there is none (see dates.parse for the note)."""
    return dates.parse(value, year)[0] or ""


def match_template(extract: Extract, form: Form) -> Match | None:
    """The project's own template: every item by its defined name."""
    names = extract.names
    item_names = [item.name for item in form.items]
    present = [n for n in item_names if n in names]
    if len(present) < max(1, len(item_names) // 2):
        return None
    match = Match(TEMPLATE, lines_total=len(form.blank_lines))
    for item in form.items:
        if item.name in names:
            loc, value = names[item.name]
            match.values[item.code] = Found(value, loc)
        else:
            match.not_found.append(item.code)
    for h in form.header:
        if h.name in names:
            loc, value = names[h.name]
            if value not in (None, ""):
                match.header[h.key] = Found(value, loc)
    match.form_year = str(names.get("WN_FORM_YEAR", ("", ""))[1] or "")
    match.form_version = str(names.get("WN_FORM_VERSION", ("", ""))[1] or "")
    match.lines_found = len(form.blank_lines)
    match.text = FlatText(extract).text
    return match


def match_sentences(extract: Extract, form: Form) -> Match:
    """The sentence layout. The result's layout is SENTENCE only when enough of the form's
    sentences were found whole; otherwise it carries no values at all."""
    flat = FlatText(extract)
    lines = form.blank_lines
    located: dict[str, Found] = {}
    whole = 0
    for line in lines:
        found, complete = _locate_line(line, flat)
        whole += complete
        for code, (raw, offset) in found.items():
            lead = len(raw) - len(raw.lstrip(" \t\n\u3000_"))
            core_end = offset + len(raw.rstrip(" \t\n\u3000_"))
            located[code] = Found(raw, flat.loc_at(offset + (lead if lead < len(raw) else 0)),
                                  flat.is_revised(offset + lead, core_end))
    is_form = lines and whole / len(lines) >= FORM_THRESHOLD
    match = Match(SENTENCE if is_form else UNKNOWN, lines_found=whole, lines_total=len(lines), text=flat.text)
    if is_form:
        match.values = located
        match.not_found = [c for c in form.codes if c not in located]
    match.header = header_from_text(flat)
    return match


def match(extract: Extract, form: Form) -> Match:
    """Template by names first, then the sentence layout, then prose (书面总结材料)."""
    m = match_template(extract, form)
    if m is not None:
        return m
    m = match_sentences(extract, form)
    if m.layout == UNKNOWN and extract.is_word and len(re.sub(r"\s", "", m.text)) >= 20:
        m.layout = SUMMARY
    return m
