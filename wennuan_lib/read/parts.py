"""Which part of a file is the form: find the form before reading it.

A file is not one bag of sentences. A workbook has sheets (visible and hidden): a 填表说明 with a 填写示例, an
older draft hidden before the corrected sheet, a district's 汇总 and one sheet per town. A Word document has
parts: its tables, its text, its text boxes, an appendix after 附件. Each part is read and judged on its own:

* this year's form (the values come from it), or a copy of it (a hidden sheet, a second sheet of the same
  unit: never preferred to a visible one; figures that differ are said);
* another form: another year's, or another unit's (a district's towns: ingest reads it as that unit's form
  when the registry knows the unit, else names it);
* instructions or an example (by the sheet's name or the part's first words): never read for figures;
* text (a 书面总结): never read for figures; a document's prose beside its form is also its written summary.

Only when no single part is a form is the file read whole, as before (a form spread over a table and the text
around it), without its instructions. Every part left out is named with its reason (Match.left_out, shown in
ingest_log). A file of one part costs one match, as before; a part is matched only while it may be the form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from wennuan_lib.form import Form
from wennuan_lib.read.extract import Block, Extract
from wennuan_lib.read.layouts import (
    FORM_LAYOUTS,
    SUMMARY,
    TEMPLATE,
    UNKNOWN,
    FlatText,
    Match,
    header_from_text,
    match_one,
    match_template,
)
from wennuan_lib.read.parse import OK, parse_blank

SHEET, TABLES, TEXT, APPENDIX, BOXES = "sheet", "tables", "text", "appendix", "boxes"
# A part that begins so, or a sheet named so (or 说明), shows how to fill the form: never read for figures.
# (示例数据 marks the sample's synthetic files, not an example)
INSTRUCTIONS = re.compile(r"填表说明|填报说明|填写说明|示例(?!数据)|样表|样例|范例|例表|填表要求|填报要求")
INSTRUCTION_SHEET = re.compile(INSTRUCTIONS.pattern + "|说明")
# A sheet that holds a district's own total, read before its towns' sheets.
TOTAL_SHEET = re.compile(r"汇总|合计|总表|全区|全市|全县|本级")
# The text of a document before its appendix counts as prose from this many characters on.
PROSE_CHARS = 300
APPENDIX_MARK = re.compile(r"^\s*附\s*件\s*[0-9一二三四五六七八九十]*\s*[:：]?")
FIRST_WORDS = 40  # the first characters of a part that may say it is an example
# A form filled as an example rather than by a unit, wherever the part says so: a 填报单位 left as the
# notice's placeholder (苏州市××区总工会), or a note that the page is an example (注：本页数字为示例). No unit
# writes either on the form it sends.
INSTRUCTIONS_REASON = "填表说明或填写示例，不从中读取数字"
PLACEHOLDER_UNIT = re.compile(r"[×xX＊*○□△]{2}")
EXAMPLE_NOTE = re.compile(
    r"(本页|本表|此表|该表|以上|上述|本工作表)[^。；;]{0,10}(为|是|系|仅供)[^。；;]{0,4}(示例|样例|范例|样表)"
)


@dataclass
class Part:
    name: str  # as the analyst sees it: 工作表「统计表」, 表格, 正文文字, 附件文字, 文本框
    kind: str
    blocks: list[Block]
    hidden: bool = False
    sheet: str = ""
    example: str = ""  # why this part, matched as a form, is an example (_example)

    @property
    def chars(self) -> int:
        return sum(len("".join(b.text.split())) for b in self.blocks)

    def is_instructions(self) -> bool:
        head = "".join("".join(b.text.split()) for b in self.blocks[:3])[:FIRST_WORDS]
        return bool(INSTRUCTION_SHEET.search(self.sheet) or INSTRUCTIONS.search(head))


def split(extract: Extract) -> list[Part]:
    """The file's parts in their order: a workbook's sheets, a document's tables / text boxes / text / the
    text after an 附件 that follows prose. A PDF is one part."""
    if extract.sheets:
        by: dict[str, list[Block]] = {}
        for b in extract.blocks:
            by.setdefault(b.loc.rpartition("!")[0], []).append(b)
        return [
            Part(f"工作表「{n}」", SHEET, by[n], n in extract.hidden, n) for n in extract.sheets if n in by
        ]
    if not extract.is_word or extract.kind == "pdf":
        return [Part("", TEXT, list(extract.blocks))] if extract.blocks else []
    groups: dict[str, list[Block]] = {TABLES: [], BOXES: [], TEXT: [], APPENDIX: []}
    prose = 0
    appendix = False
    for b in extract.blocks:
        if b.loc.startswith("表"):
            groups[TABLES].append(b)
        elif "（文本框" in b.loc:
            groups[BOXES].append(b)
        else:
            if not appendix and prose >= PROSE_CHARS and APPENDIX_MARK.match(b.text):
                appendix = True
            if not appendix:
                prose += len("".join(b.text.split()))
            groups[APPENDIX if appendix else TEXT].append(b)
    names = {TABLES: "表格", BOXES: "文本框", TEXT: "正文文字", APPENDIX: "附件文字"}
    return [Part(names[k], k, blocks) for k, blocks in groups.items() if blocks]


def _extract_of(extract: Extract, blocks: list[Block]) -> Extract:
    locs = {b.loc for b in blocks}
    out = Extract(extract.path, extract.container, list(blocks), {}, extract.kind)
    out.formulas = {loc: f for loc, f in extract.formulas.items() if loc in locs}
    out.pictures = extract.pictures
    if out.blocks and out.blocks[0].sep:
        out.blocks[0] = Block(out.blocks[0].loc, out.blocks[0].text, "", out.blocks[0].revised_spans)
    return out


def _figures(m: Match, form: Form) -> dict[str, object]:
    out = {}
    for code, found in m.values.items():
        parsed = parse_blank(found.raw, form.item(code).is_money)
        out[code] = parsed.value if parsed.status == OK else None
    return out


def differences(a: Match, b: Match, form: Form) -> list[str]:
    """The blanks whose figures differ between two readings of the form, as 「01A.1：12 / 15」."""
    fa, fb = _figures(a, form), _figures(b, form)
    return [
        f"{code}：{fa.get(code) if fa.get(code) is not None else '空'} / "
        f"{fb.get(code) if fb.get(code) is not None else '空'}"
        for code in form.codes
        if fa.get(code) != fb.get(code)
    ]


def _unit_key(m: Match) -> str:
    found = m.header.get("unit")
    text = unicodedata.normalize("NFKC", str(found.raw if found else "") or "")
    return "".join(ch for ch in text if ch.isalnum())


def _filled(m: Match, form: Form) -> int:
    return sum(1 for v in _figures(m, form).values() if v is not None)


def _left_reason(part: Part, m: Match | None, form: Form) -> str:
    if m is None:
        return part.example or INSTRUCTIONS_REASON
    if m.layout == SUMMARY:
        return "文字材料，不从中读取数字"
    if m.layout == UNKNOWN and m.problem:
        return f"另一份无法读取的表（{m.problem}）"
    if m.layout == UNKNOWN:
        return f"不是统计表（表中的句子只找到{m.lines_found}/{m.lines_total}句）"
    return ""


def match(extract: Extract, form: Form, one: Callable[[Extract, Form], Match]) -> Match:
    """The form part's match, with the other parts named (Match.left_out), copies compared (Match.differs) and
    the forms that may be other units' (Match.others). `one`: the matcher of a single part."""
    parts = split(extract)
    reader_left = [f"工作表「{s}」：{why}" for s, why in extract.left_out.items()]
    if len(parts) < 2 or (extract.names and match_template(extract, form) is not None):
        m = _single(extract, form, one, parts)
        m.left_out += reader_left
        return m
    judged = _judge(extract, form, one, parts)
    forms = [(p, m) for p, m in judged if m is not None and m.layout in FORM_LAYOUTS]
    if not forms:
        return _whole(extract, form, one, parts, judged, reader_left)
    this_year = [(p, m) for p, m in forms if m.form_year in ("", form.form)] or forms
    primary_part, primary = min(
        this_year,
        key=lambda pm: (pm[0].hidden, not TOTAL_SHEET.search(pm[0].sheet), parts.index(pm[0])),
    )
    primary.part = primary_part.name
    if primary.not_found and primary.layout != TEMPLATE:
        primary_part, primary, judged = _continued(extract, form, one, primary_part, primary, judged)
    if primary_part.kind != SHEET:  # a document's table: its title and 填报单位 stand in the text around it
        whole = FlatText(extract)
        for key, found in header_from_text(whole).items():
            primary.header.setdefault(key, found)
        primary.text = whole.text
    if primary_part.hidden:
        primary.remarks.append(f"统计表在隐藏的{primary_part.name}中（没有可见的统计表），已读取，请核实")
    primary.left_out = _beside(primary, primary_part, judged, form) + reader_left
    return primary


def _single(extract: Extract, form: Form, one: Callable[[Extract, Form], Match], parts: list[Part]) -> Match:
    """A file of one part (or the project's own template, read by its defined names): matched whole; the
    template's other sheets are named as not read."""
    m = one(extract, form)
    if extract.sheets and m.layout in FORM_LAYOUTS:
        used = next((f.loc.rpartition("!")[0] for f in m.values.values() if "!" in f.loc), "")
        used = used or (parts[0].sheet if parts else "")
        m.part = f"工作表「{used}」" if used else ""
        m.left_out = [
            f"{p.name}：{'隐藏的工作表，' if p.hidden else ''}本系统模板按定义的名称读取，这张工作表未读取"
            for p in parts
            if p.sheet != used
        ]
    return m


def _example(part: Part, m: Match) -> str:
    """Why a part matched as a form is an example filled in the notice's or the unit's own words, not the
    unit's form ("" when nothing says so): its 填报单位 is a placeholder, or a line of it says the page is an
    example."""
    found = m.header.get("unit")
    unit = unicodedata.normalize("NFKC", str(found.raw if found else "") or "").strip()
    if PLACEHOLDER_UNIT.search(unit):
        return f"填写示例（填报单位写的是「{unit}」），不从中读取数字"
    for b in part.blocks:
        note = EXAMPLE_NOTE.search("".join(b.text.split()))
        if note:
            return f"填写示例（表中注明“{note.group(0)}”），不从中读取数字"
    return ""


def _judge(
    extract: Extract, form: Form, one: Callable[[Extract, Form], Match], parts: list[Part]
) -> list[tuple[Part, Match | None]]:
    """Each part matched on its own (None: the form's instructions); a document's text after its form is
    its written summary."""
    judged: list[tuple[Part, Match | None]] = []
    found_form = False
    for part in _in_order(parts):
        if found_form and part.kind in (TEXT, APPENDIX):  # a document's text beside its form
            judged.append((part, Match(SUMMARY, text=FlatText(_extract_of(extract, part.blocks)).text)))
            continue
        if part.is_instructions():
            judged.append((part, None))
            continue
        m = one(_extract_of(extract, part.blocks), form)
        if m.layout in FORM_LAYOUTS and (why := _example(part, m)):
            part.example = why  # a form filled as an example: left out as instructions are
            judged.append((part, None))
            continue
        judged.append((part, m))
        found_form = found_form or (m.layout in FORM_LAYOUTS and not part.hidden)
    return judged


def _beside(primary: Match, primary_part: Part, judged: list, form: Form) -> list[str]:
    """The parts beside the form read, each named with why it was not read; a summary, another unit's form
    or a differing copy is kept in `primary.others` (a differing copy is also said in `primary.differs`)."""
    left = []
    for part, m in judged:
        if part is primary_part:
            continue
        if m is None or m.layout not in FORM_LAYOUTS:
            if m is not None and m.layout == SUMMARY and part.kind == TEXT and part.chars < PROSE_CHARS:
                continue  # the form's title, 填报单位 and notes around its table: its header is read there
            left.append(f"{part.name}：{_left_reason(part, m, form)}")
            prose = m is not None and m.layout == SUMMARY and part.kind in (TEXT, APPENDIX)
            if prose and part.chars >= PROSE_CHARS:
                m.part = part.name
                primary.others.append(m)
            continue
        if m.form_year not in ("", primary.form_year or form.form):
            left.append(f"{part.name}：{m.form_year}年的表式，不是本年度的统计表，未读取")
            continue
        diff = differences(primary, m, form)
        other_unit = (
            not part.hidden
            and _unit_key(m) != _unit_key(primary)
            or (not part.hidden and not _unit_key(m) and part.kind == SHEET)
        )
        if other_unit and _filled(m, form):
            m.part = part.name
            primary.others.append(m)  # ingest: another unit's form, or this unit's copy
            continue
        where = "隐藏的" if part.hidden else ""
        if not diff:
            left.append(f"{part.name}：{where}另一份相同的统计表，未重复读取")
            continue
        shown = "；".join(diff[:3]) + ("等" if len(diff) > 3 else "")
        left.append(f"{part.name}：{where}另一份统计表，有{len(diff)}项数字与所读的不同（{shown}），未读取")
        primary.differs = (
            f"文件中{where}{part.name}另有一份统计表，有{len(diff)}项数字与所读的{primary.part}不同"
            f"（{shown}；前为所读，后为{part.name}），已按{primary.part}读取"
        )
        m.part, m.differs = part.name, primary.differs
        primary.others.append(m)  # ingest keeps it as a version not in force: its figures are compared (V01)
    return left


def _continued(extract, form, one, primary_part: Part, primary: Match, judged):
    """A form whose sentences are not all in its part, continued on the next sheets (a form split over two
    sheets, page by page): the following visible sheets that hold some of its sentences and no form of their
    own are read with it, when together more of the form's sentences are found."""
    if primary_part.kind != SHEET:
        return primary_part, primary, judged
    after = [pm for pm in judged if pm[0] is not primary_part]
    start = next(k for k, (p, _m) in enumerate(judged) if p is primary_part)
    more = []
    for part, m in judged[start + 1 :]:
        if part.hidden or m is None or m.layout != UNKNOWN or m.problem or not m.lines_found:
            break
        more.append(part)
    if not more:
        return primary_part, primary, judged
    blocks = [b for p in (primary_part, *more) for b in p.blocks]
    joined = one(_extract_of(extract, blocks), form)
    if joined.layout not in FORM_LAYOUTS or len(joined.not_found) >= len(primary.not_found):
        return primary_part, primary, judged
    name = "、".join(p.name for p in (primary_part, *more))
    part = Part(name, SHEET, blocks, False, primary_part.sheet)
    joined.part = name
    return part, joined, [(part, joined)] + [pm for pm in after if pm[0] not in more]


def _in_order(parts: list[Part]) -> list[Part]:
    """Tables and text boxes before a document's text, so that its text is matched only when it may be the
    form; sheets in their order."""
    rank = {SHEET: 0, TABLES: 0, BOXES: 1, APPENDIX: 2, TEXT: 3}
    return sorted(parts, key=lambda p: (rank[p.kind], parts.index(p)))


def _whole(extract, form, one, parts, judged, reader_left) -> Match:
    """No single part is a form: the file read whole, without its instructions, as a form spread over parts
    (or prose, or nothing readable)."""
    instructions = [p for p, m in judged if m is None]
    rest = [b for p in parts if p not in instructions for b in p.blocks]
    if not rest:
        m = Match(UNKNOWN, text=FlatText(extract).text)
        m.problem = (
            "文件中只有填表说明或填写示例（"
            + "、".join(p.name for p in instructions)
            + "），没有填好的统计表；请单位填写下发的统计表后重新发送"
        )
        m.left_out = [f"{p.name}：{_left_reason(p, None, form)}" for p in instructions] + reader_left
        return m
    m = one(_extract_of(extract, rest) if instructions else extract, form)
    m.left_out = [f"{p.name}：{_left_reason(p, None, form)}" for p in instructions] + reader_left
    if m.layout == TEMPLATE:
        m.part = ""
    return m


def read_form(extract: Extract, form: Form) -> Match:
    """Find the form before reading it: a workbook's sheets and a document's parts (tables, text, text boxes,
    an appendix) are each read and judged (this year's form, another form, instructions or an example, text),
    and the values come from the part that is the form. A file of one part is read whole: template by names,
    then the sentence layout, then the labelled layout, each through the form of the year the document was
    made for; then prose (书面总结材料)."""
    return match(extract, form, match_one)
