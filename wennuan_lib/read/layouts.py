"""Layout matchers: where each blank of the form is inside what a reader extracted.

Two layouts:

* ``template`` — the project's own workbook: each item is found by its defined name, so
  inserted rows, a remark column or a renamed sheet change nothing.
* ``sentence`` — the notice's original table of sentences, filled in Word or pasted into
  Excel: the form's literal text around each blank is located (tolerating spaces,
  full-width forms, underscores and merged lines) and what lies between is the blank.

* ``labelled`` — a table the unit made itself: the form's words in one column, the figures in
  another (see label_layout).

A document that matches none is classified: prose in Word is the unit's 书面总结材料
and is never read for figures; a table of figures whose rows cannot be matched is rejected as
表式无法识别. A document on another year's form is read through that year's form file and its
values are mapped by concept to this year's codes.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from wennuan_lib.base import config, dates
from wennuan_lib.base.artifacts import register
from wennuan_lib.form import ABSENT_NOTE, Form, Line, form_path, load_form
from wennuan_lib.read import label_layout
from wennuan_lib.read.extract import touches_revision
from wennuan_lib.read.parse import OK, parse_blank
from wennuan_lib.read.readers import Extract

TEMPLATE, SENTENCE, SUMMARY, UNKNOWN = "template", "sentence", "summary", "unknown"
LABELLED = "labelled"
LAYOUT_LABELS = {
    TEMPLATE: "本系统模板",
    SENTENCE: "原通知表式（文字句式）",
    LABELLED: "自制表式（项目与数字分列）",
    SUMMARY: "书面总结材料",
    UNKNOWN: "无法识别",
}
FORM_LAYOUTS = (TEMPLATE, SENTENCE, LABELLED)

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
    notes: dict[str, str] = field(default_factory=dict)  # item code -> note for the extracted table
    refused: dict[str, tuple[Found, str]] = field(
        default_factory=dict
    )  # code -> (what is there, why not read)
    remarks: list[str] = field(default_factory=list)  # about the whole file, for its reason in ingest_log
    problem: str = ""  # why a document that looks like a form cannot be read (layout UNKNOWN)
    part: str = ""  # the part the values come from (工作表「统计表」, 表格), "" for the whole file
    left_out: list[str] = field(default_factory=list)  # the file's other parts, each with why it was not read
    others: list[Match] = field(default_factory=list)  # other form parts that may be other units' forms
    differs: str = ""  # a hidden or second copy of the form whose figures differ from the one read


register(Found, Match)  # kept in the extraction cache as data


class FlatText:
    """The blocks joined into one string, with a map back from offset to location, and the
    character ranges that came from Word revisions (precise to the character)."""

    def __init__(self, extract: Extract):
        parts, self.starts, self.locs = [], [], []
        self.revised: list[tuple[int, int]] = []  # sorted [start, end) offsets in `text` (see extract.Block)
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
        self.yuan: set[str] = set()  # blanks whose sentence says 元 where the form prints 万元

    def is_revised(self, start: int, end: int) -> bool:
        """Whether a revision changed text[start:end] (see extract.touches_revision)."""
        return touches_revision(self.revised, start, end)

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


WAN = "万"
YUAN_NOTE = "表中这一句的单位写的是“元”（下发的表式为万元）"
TEMPLATE_YUAN_NOTE = "填写格后面的单位改成了“元”（下发的表式为万元）"
IN_MEASURE_NOTE = "数字填在了填写格后面的单位一格中（填写格是空的）"


def _after_blank(literal: str) -> str:
    """The text after a blank; 万 made optional before 元, as a clerk who rewrote 万元 as 元 leaves it."""
    stripped = literal.lstrip()
    if stripped.startswith(WAN + "元"):
        return "(?:" + _char_class(WAN) + GAP + ")?" + fuzzy(stripped[1:])
    return fuzzy(literal)


@lru_cache(maxsize=1024)
def _parts(line: Line) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A line's literals and codes (Line splits its text at every call)."""
    parts = line.parts
    return tuple(parts[0::2]), tuple(parts[1::2])


def _blank_lines(form: Form) -> list[Line]:
    return label_layout.per_form(form, "blank_lines", lambda f: f.blank_lines)


@lru_cache(maxsize=1024)
def _line_regex(line: Line) -> re.Pattern:
    lits = _parts(line)[0]
    pattern = fuzzy(lits[0])
    for k in range(1, len(lits)):
        last = k == len(lits) - 1
        pattern += CAPTURE + _after_blank(_first_word(lits[k]) if last else lits[k])
    return re.compile(pattern, re.DOTALL)


def _in_yuan(line: Line, k: int, text: str, end: int) -> bool:
    """Whether the k-th blank of a line is followed by 元 where the form prints 万元."""
    if not _parts(line)[0][k + 1].lstrip().startswith(WAN + "元"):
        return False
    rest = text[end : end + 40].lstrip(" \t\n\u3000_")
    return not unicodedata.normalize("NFKC", rest[:1]) == WAN


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
    lits, codes = _parts(line)
    m = _search(_line_regex(line), text)
    if m:
        out = {}
        for i, code in enumerate(codes):
            raw = m.group(i + 1)
            if _in_yuan(line, i, text, m.end(i + 1)) and raw.strip(" \t\n\u3000_"):
                raw = raw.rstrip(" \t\n\u3000_") + "元"  # parse converts it to 万元 and says so
                flat.yuan.add(code)
            out[code] = (raw, m.start(i + 1))
        return out, True
    # Fallback: the sentence was edited. Anchor on its longest literal, then find each
    # blank by the literal text on both sides of it, near that anchor.
    anchor = max(lits, key=lambda s: len(s.strip()))
    if len(anchor.strip()) < 4:
        return {}, False
    a = _search(re.compile(fuzzy(anchor)), text)
    if not a:
        return {}, False
    lo = max(0, a.start() - 2 * len("".join(lits)) - 100)
    hi = min(len(text), a.end() + 2 * len("".join(lits)) + 100)
    found = {}
    for k, code in enumerate(codes):
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
        rest = text[anchor.end() :]
        m = re.match(
            r"[\s:：_\u3000]*(.*?)(?=[\s_\u3000]*(?:[12][0-9０-９]{3}\s*年|[12][0-9０-９]{3}[-./]|年[\s_\u3000]*月|填\s*报|联系电话|电话|[\t\n]|$))",
            rest,
        )
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
    zone = text[zone_start : zone_start + 300]
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
        zones.append((label.end(), text[label.end() : label.end() + 40], True))
    if anchor:
        zones.append((anchor.start(), text[anchor.start() : anchor.start() + 200], False))
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


def _after_literals(form: Form) -> dict[str, str]:
    """What the form prints right after each blank (the template puts it in the cell after the blank's)."""
    out = {}
    for line in _blank_lines(form):
        lits, codes = _parts(line)
        out.update({code: lits[k + 1] for k, code in enumerate(codes)})
    return out


def _cell_after(loc: str) -> str:
    """The location of the cell right of `loc` (统计表!D17 → 统计表!E17); "" when `loc` is not a cell."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

    sheet, _, cell = loc.rpartition("!")
    try:
        column, row = coordinate_from_string(cell)
        return f"{sheet}!{get_column_letter(column_index_from_string(column) + 1)}{row}"
    except ValueError:
        return ""


def _template_value(item, loc: str, value, cells: dict[str, str], printed: str) -> tuple[Found, str]:
    """A template's blank as filled, and a note: the printed measure beside its cell rewritten (万元 → 元: the
    figure is in 元, converted and said) or typed over with the figure (the cell itself left empty). `cells`:
    each cell's text as shown."""
    beside = _cell_after(loc)
    written = cells.get(beside, "") or ""
    after = unicodedata.normalize("NFKC", written).strip()
    printed = unicodedata.normalize("NFKC", printed).strip()
    empty = value is None or str(value).strip() == ""
    if empty and any(ch.isdigit() for ch in after) and not any(ch.isdigit() for ch in printed):
        return Found(written.strip(), beside), IN_MEASURE_NOTE
    if not empty and item.is_money and printed.startswith(WAN + "元") and after.startswith("元"):
        # the figure as the cell shows it, in 元: parse converts it to 万元 and says so
        return Found(f"{cells.get(loc) or value}元", loc), TEMPLATE_YUAN_NOTE
    return Found(value, loc), ""


def match_template(extract: Extract, form: Form) -> Match | None:
    """The project's own template: every item by its defined name (and the printed measure beside it, as the
    unit left it)."""
    names = extract.names
    item_names = label_layout.per_form(form, "item_names", lambda f: [item.name for item in f.items])
    present = [n for n in item_names if n in names]
    if len(present) < max(1, len(item_names) // 2):
        return None
    match = Match(TEMPLATE, lines_total=len(_blank_lines(form)))
    printed = label_layout.per_form(form, "after_literals", _after_literals)
    cells = {b.loc: b.text for b in extract.blocks}
    for item in form.items:
        if item.name in names:
            loc, value = names[item.name]
            found, note = _template_value(item, loc, value, cells, printed.get(item.code, ""))
            match.values[item.code] = found
            if note:
                match.notes[item.code] = note
        else:
            match.not_found.append(item.code)
    for h in form.header:
        if h.name in names:
            loc, value = names[h.name]
            if value not in (None, ""):
                match.header[h.key] = Found(value, loc)
    match.form_year = str(names.get("WN_FORM_YEAR", ("", ""))[1] or "")
    match.form_version = str(names.get("WN_FORM_VERSION", ("", ""))[1] or "")
    match.lines_found = len(_blank_lines(form))
    match.text = FlatText(extract).text
    return match


def match_sentences(extract: Extract, form: Form) -> Match:
    """The sentence layout. The result's layout is SENTENCE only when enough of the form's
    sentences were found whole; otherwise it carries no values at all."""
    flat = FlatText(extract)
    lines = _blank_lines(form)
    located: dict[str, Found] = {}
    whole = 0
    for line in lines:
        found, complete = _locate_line(line, flat)
        whole += complete
        for code, (raw, offset) in found.items():
            lead = len(raw) - len(raw.lstrip(" \t\n\u3000_"))
            core_end = offset + len(raw.rstrip(" \t\n\u3000_"))
            located[code] = Found(
                raw,
                flat.loc_at(offset + (lead if lead < len(raw) else 0)),
                flat.is_revised(offset + lead, core_end),
            )
    is_form = lines and whole / len(lines) >= FORM_THRESHOLD
    match = Match(SENTENCE if is_form else UNKNOWN, lines_found=whole, lines_total=len(lines), text=flat.text)
    if is_form:
        match.values = located
        match.not_found = [c for c in form.codes if c not in located]
        match.notes.update({c: YUAN_NOTE for c in flat.yuan if c in located})
    match.header = header_from_text(flat)
    return match


# A sentence layout whose blanks hold at least this share of numbers is read as it is.
FILLED_SHARE = 0.5
# Rows of figures beside the words that make "numbers are plainly present" (a table, not a stray number).
PLAIN_NUMBER_ROWS = 3
TABLE_NUMBER_ROWS = 5
# A Word document with this much prose outside its tables is a written summary, whatever tables it has.
PROSE_CHARS = 300
PARAGRAPH_LOC = re.compile(r"^第\d+段$")


def _prose(extract: Extract) -> bool:
    return (
        extract.is_word
        and sum(len(b.text.strip()) for b in extract.blocks if PARAGRAPH_LOC.match(b.loc)) >= PROSE_CHARS
    )


def _filled(m: Match, form: Form) -> int:
    """Blanks that hold a number."""
    return sum(parse_blank(f.raw, form.item(c).is_money).status == OK for c, f in m.values.items())


def _labelled_match(
    lab: label_layout.Labelled, extract: Extract, form: Form, sentence: Match, filled: int
) -> Match:
    m = Match(LABELLED, lines_found=lab.identified, lines_total=lab.total, text=sentence.text)
    revised = {b.loc: b for b in extract.blocks if b.revised_spans}

    def in_revision(raw: str, loc: str) -> bool:
        """Whether the figure's own characters in its cell came from a revision (the cell's, when the figure
        was rewritten on reading, e.g. 元 added)."""
        block = revised.get(loc)
        if block is None:
            return False
        figure = str(raw).strip()
        start = block.text.find(figure) if figure else -1
        return start < 0 or touches_revision(block.revised_spans, start, start + len(figure))

    for code, (raw, loc) in lab.values.items():
        m.values[code] = Found(raw, loc, in_revision(raw, loc))
    for code, (raw, loc, why) in lab.refused.items():
        m.refused[code] = (Found(raw, loc), why)
    if sentence.layout == SENTENCE and filled:  # figures typed in the sentences too: keep both, never choose
        for code, found in sentence.values.items():
            if parse_blank(found.raw, form.item(code).is_money).status != OK:
                continue
            mine = m.values.get(code)
            if mine is None or parse_blank(mine.raw, form.item(code).is_money).status != OK:
                m.values[code] = found
                m.refused.pop(code, None)
            elif parse_blank(mine.raw, True).value != parse_blank(found.raw, True).value:
                m.refused[code] = (
                    mine,
                    f"句中空格填的是「{str(found.raw).strip()}」（{found.loc}），"
                    f"旁边一列填的是「{str(mine.raw).strip()}」，两处不一致",
                )
    for code in form.codes:
        if code not in m.values and code not in m.refused:
            m.not_found.append(code)
            m.notes[code] = "自制表中没有找到这一项"
    if lab.reordered:
        m.remarks.append(f"表中有{lab.reordered}行的顺序与下发的表式不同，已按项目名称逐行对应，请核对")
    if lab.unmatched:
        rows = "、".join(f"{r.loc}「{r.label[:16]}」" for r in lab.unmatched[:3])
        m.remarks.append(
            f"另有{len(lab.unmatched)}行数字无法对应到表中项目，未计入（{rows}"
            + ("等" if len(lab.unmatched) > 3 else "")
            + "）"
        )
    m.header = header_from_text(FlatText(extract))
    return m


def _match_with(extract: Extract, form: Form) -> Match:
    """Template by names, then the sentence layout, then the labelled layout; UNKNOWN with a problem when
    figures are plainly present but cannot be matched."""
    m = match_template(extract, form)
    if m is not None:
        return m
    m = match_sentences(extract, form)
    filled = _filled(m, form) if m.layout == SENTENCE else 0
    if (
        m.layout == SENTENCE
        and filled
        and filled >= FILLED_SHARE * len(m.values)
        and m.lines_found == m.lines_total
    ):
        return m
    lab = label_layout.read(extract, form)
    if lab.confident and lab.filled > filled:
        return _labelled_match(lab, extract, form, m, filled)
    unread = lab.number_rows > filled and (
        lab.number_rows >= PLAIN_NUMBER_ROWS
        if m.layout == SENTENCE
        else lab.number_rows >= TABLE_NUMBER_ROWS
        and (lab.identified >= PLAIN_NUMBER_ROWS or not extract.is_word)
        and not _prose(extract)
    )
    if unread:
        m.layout, m.values, m.not_found = UNKNOWN, {}, []
        m.problem = f"表式无法识别：{lab.summary()}，其余无法对应；请单位使用下发的统计表模板填报"
    return m


@lru_cache(maxsize=256)
def _year_rx(pattern: str) -> re.Pattern:
    """A printed phrase with {year} as a regex capturing the year."""
    before, _, after = pattern.partition("{year}")
    return re.compile(fuzzy(before) + GAP + r"([12][0-9]{3})" + GAP + fuzzy(after))


@lru_cache(maxsize=256)
def _fuzzy_rx(words: str) -> re.Pattern:
    return re.compile(fuzzy(words))


def other_forms() -> list[Form]:
    """Every form file that loads (a broken one is that year's problem, not this file's)."""
    out = []
    for path in sorted(config.FORMS_DIR.glob("*.yaml")):
        try:
            out.append(load_form(path.stem))
        except (ValueError, KeyError, TypeError, OSError):
            continue
    return out


def detect_form_year(text: str, form: Form) -> tuple[str, bool]:
    """The year whose form a document is, by its printed words, and whether its title names a form.

    Each 「XXXX年元旦、春节期间」 is one vote for XXXX, the title's year one, and each year's own words
    (its identity texts, e.g. 2012's 十七届六中全会精神) two; '' when nothing tells."""
    votes: Counter = Counter()
    for phrase in form.identity.phrases:
        for m in _year_rx(phrase).finditer(text):
            votes[m.group(1)] += 1
    titled = False
    if form.identity.title and (t := _year_rx(form.identity.title).search(text[:2000])):
        votes[t.group(1)] += 1
        titled = True
    for other in other_forms():
        if any(_fuzzy_rx(words).search(text) for words in other.identity.texts):
            votes[other.form] += 2
    if not votes:
        return "", titled
    top = max(votes.values())
    winners = sorted(y for y, n in votes.items() if n == top)
    return (form.form if form.form in winners else winners[-1]), titled


def translate_match(m: Match, source: Form, target: Form) -> Match:
    """A match made with another year's form, keyed by `target`'s codes through concepts."""
    out = Match(
        m.layout,
        header=m.header,
        form_year=source.form,
        form_version=m.form_version or source.version,
        lines_found=m.lines_found,
        lines_total=m.lines_total,
        text=m.text,
        remarks=[f"已按{source.form}年的表式读取并按项目对应到本年度", *m.remarks],
    )
    mapped = set()
    for item in source.items:
        code = target.code_of(item.key)
        if code is None:
            if item.code in m.values:
                out.remarks.append(
                    f"{source.form}年表式中的「{item.code} {item.label}」在本年度表式中没有对应项目，未计入"
                )
            continue
        mapped.add(code)
        moved = f"（{source.form}年表式的{item.code}）" if code != item.code else ""
        if item.code in m.values:
            out.values[code] = m.values[item.code]
        if item.code in m.refused:
            out.refused[code] = m.refused[item.code]
        if item.code in m.not_found:
            out.not_found.append(code)
        out.notes[code] = "；".join(
            x for x in (f"按{source.form}年表式读取{moved}", m.notes.get(item.code, "")) if x
        )
    for code in target.codes:
        if code not in mapped:
            out.not_found.append(code)
            out.notes[code] = ABSENT_NOTE.format(year=source.form)
    order = {c: k for k, c in enumerate(target.codes)}
    out.not_found.sort(key=order.__getitem__)
    return out


def _with_year(extract: Extract, form: Form, m: Match) -> Match:
    """The match through the form of the year the document was made for; this year's otherwise."""
    if m.layout == TEMPLATE:
        year, titled = m.form_year or form.form, True
    else:
        year, titled = detect_form_year(m.text, form)
    form_like = (
        m.layout in FORM_LAYOUTS
        or titled
        or bool(m.problem)
        or (m.lines_total and m.lines_found * 4 >= m.lines_total)
    )
    if m.layout in FORM_LAYOUTS:
        m.form_year = m.form_year or form.form
    if not year or year == form.form or not form_like:
        return m
    other, why = None, f"系统中没有{year}年的表式文件（forms/{year}.yaml），无法对应到本年度的项目"
    if form_path(year).exists():
        try:
            other = load_form(year)
        except (ValueError, KeyError, TypeError) as exc:
            why = f"但{year}年的表式文件有误（{exc}），无法读取"
    if other is None:
        problem = f"使用的是{year}年的表式，{why}；请单位用本年度下发的表式重新填报"
        return Match(UNKNOWN, header=m.header, form_year=year, text=m.text, problem=problem)
    theirs = _match_with(extract, other)
    if theirs.layout in FORM_LAYOUTS:
        return translate_match(theirs, other, form)
    if m.layout in FORM_LAYOUTS:  # never this year's in silence: F01 names the year
        m.form_year = year
        m.remarks.append(
            f"标题或句子显示是{year}年的表式，但按{year}年的表式未能读取，已按本年度表式读取，请核对"
        )
    return m


def match_one(extract: Extract, form: Form) -> Match:
    m = _with_year(extract, form, _match_with(extract, form))
    chars = len(re.sub(r"\s", "", m.text))
    if m.layout == UNKNOWN and not m.problem and extract.pictures and chars < PROSE_CHARS:
        m.problem = (  # a title and a screenshot of the form: nothing readable, and no written summary
            f"Word文件中除了{chars}个字的标题或说明，只有图片（截图或扫描件），无法读取其中的数字；"
            "请单位报送填好的Word或Excel统计表（不要截图）"
        )
    elif m.layout == UNKNOWN and not m.problem and extract.is_word and chars >= 20:
        m.layout = SUMMARY
    _refuse_formulas(m, extract)
    return m


FORMULA_REASON = "该格是公式，文件中没有保存计算结果；请单位在Excel或WPS中打开、保存后重新报送"


def _refuse_formulas(m: Match, extract: Extract) -> None:
    """A blank whose cell is a formula the file holds without its result (see readers._show_formulas) is
    refused with that reason, whichever layout found it: what Excel would show is not in the file."""
    if not extract.formulas:
        return
    if m.layout == UNKNOWN and not m.problem:  # a table of such cells has no figures to match at all
        loc, formula = next(iter(extract.formulas.items()))
        m.problem = (
            f"表中有{len(extract.formulas)}个公式格（如{loc}「{formula}」）文件中没有保存计算结果，"
            "数字无法读取；请单位在Excel或WPS中打开、保存后重新报送"
        )
        return
    for code, found in list(m.values.items()):
        if found.loc in extract.formulas and str(found.raw).strip().startswith("="):
            del m.values[code]
            m.refused[code] = (found, FORMULA_REASON)
