"""Word documents (.docx) as text blocks, read from the document's XML with revisions accepted.

python-docx's ``paragraph.text`` drops the runs inside ``<w:ins>``, so a figure a unit revised
with Track Changes on (352 → 252) reads as ``52``. This reader walks the body itself and takes
the text as it reads once every revision is accepted:

* text in ``w:ins`` and ``w:moveTo`` counts, and is marked as revised (character by character);
* text in ``w:del`` / ``w:delText`` and ``w:moveFrom`` does not, but where it stood is marked (an empty
  revised range), so a figure changed by a deletion alone (352 → 52) is flagged too; nor does a field's code
  (``w:instrText``): only its shown result;
* paragraphs and tables in content controls (``w:sdt``), custom XML, hyperlinks, smart tags and
  simple fields are read where they stand;
* a text box (``w:txbxContent``) is a block of its own after the paragraph that holds it; inside
  ``mc:AlternateContent`` only ``mc:Choice`` is read (the VML ``mc:Fallback`` repeats the text);
* ``w:tab`` is a tab, ``w:br`` and ``w:cr`` a line break.

Locations are those the analyst sees: ``第3段``, ``表1第5行第4列`` (the column counts the cells
present in the row, a merged cell once), ``第3段（文本框）``, and for a table inside a cell
``表1第5行第4列（嵌套表1第2行第1列）``.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree
from lxml import etree

from wennuan_lib.errors import ReadError
from wennuan_lib.read import ooxml
from wennuan_lib.read.extract import Block, Extract

W_NS = {
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
}
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"

# Inline elements whose content never shows as text.
HIDDEN = {
    "pPr",
    "rPr",
    "sdtPr",
    "sdtEndPr",
    "delText",
    "instrText",
    "delInstrText",
    "fldData",
    "del",
    "moveFrom",
    "tblPr",
    "trPr",
    "tcPr",
    "tblGrid",
    "sectPr",
    "footnoteReference",
    "endnoteReference",
    "commentReference",
    "annotationRef",
}
REVISION = {"ins", "moveTo"}
DELETION = {"del", "moveFrom"}  # hidden, but where they stood is marked: the text around them was revised
CHARS = {"tab": "\t", "ptab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"}
# A figure's cell merged down over the rows below it (one 「42」 across the rows of 03B and 03C): the figure
# is not the first row's alone, and the rows below have none of their own. Each row below reads as this text,
# which no blank takes for a figure: the unit is asked to fill each row's cell. A merged label (序号, 项目) is
# text, and the first column (序号: 03 over 03A–03C) is never taken for a figure.
MERGED_FIGURE = "（此格与上一行的填报数合并为一格）"
FIGURE_CELL = re.compile(r"\d[\d,，.．\s]*[\u4e00-\u9fff]{0,3}[；;。，,]?")


_SPLIT: dict[
    str, tuple[str, str]
] = {}  # a document has a few dozen distinct tags, split hundreds of thousands
_SPLIT_MAX = 4096  # times; a hostile one with more is split without being remembered


def _split(tag) -> tuple[str, str]:
    try:
        return _SPLIT[tag]
    except (KeyError, TypeError):
        pass
    if not isinstance(tag, str):  # comments, processing instructions
        return "", ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        out = ns, name
    else:
        out = "", tag
    if len(_SPLIT) < _SPLIT_MAX:
        _SPLIT[tag] = out
    return out


class Text:
    """A block's text being built, with the character ranges that came from revisions."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[tuple[int, int]] = []
        self.boxes: list[tuple[object, bool]] = []  # text boxes met on the way: (w:txbxContent, revised)
        self.paragraphs = 0  # added by add_paragraph

    def add_paragraph(self, p, revised: bool) -> list[tuple[object, bool]]:
        """A paragraph's text (revisions accepted), on a line of its own; returns the text boxes met in it."""
        t = Text()
        inline(p, t, revised)
        if self.paragraphs:
            self.add("\n", False)
        self.paragraphs += 1
        self.extend(t)
        return t.boxes

    def mark_deleted(self) -> None:
        """Text was deleted here: an empty revised range (see extract.Block)."""
        if not (self.spans and self.spans[-1] == (self.length, self.length)):
            self.spans.append((self.length, self.length))

    def add(self, s: str, revised: bool) -> None:
        if not s:
            return
        if revised:
            if self.spans and self.spans[-1][1] == self.length:
                self.spans[-1] = (self.spans[-1][0], self.length + len(s))
            else:
                self.spans.append((self.length, self.length + len(s)))
        self.parts.append(s)
        self.length += len(s)

    def extend(self, other: Text) -> None:
        base = self.length
        for a, b in other.spans:
            if self.spans and self.spans[-1][1] == base + a:
                self.spans[-1] = (self.spans[-1][0], base + b)
            else:
                self.spans.append((base + a, base + b))
        self.parts.extend(other.parts)
        self.length += other.length

    @property
    def text(self) -> str:
        return "".join(self.parts)


def inline(el, out: Text, revised: bool) -> None:
    """The text of a paragraph's content, in document order, revisions accepted."""
    for child in el:
        ns, name = _split(child.tag)
        if not name:
            continue
        if ns == MC_NS:
            if name == "AlternateContent":
                chosen = _choice(child)
                if chosen is not None:
                    inline(chosen, out, revised)
            continue
        if ns in W_NS or ns == M_NS:
            if name == "t":
                out.add(child.text or "", revised)
                continue
            if name in CHARS and ns in W_NS:
                out.add(CHARS[name], revised)
                continue
            if name in DELETION and ns in W_NS:
                if not revised:  # inserted text deleted again (by another reviewer) changed nothing
                    out.mark_deleted()
                continue
            if name in HIDDEN:
                continue
            if name in REVISION:
                inline(child, out, True)
                continue
            if name == "txbxContent":
                out.boxes.append((child, revised))
                continue
            if name == "sdt" and placeholder(child):
                continue
        inline(child, out, revised)  # runs, hyperlinks, smart tags, content controls, fields, drawings


def placeholder(sdt) -> bool:
    """A content control still showing its placeholder text (w:showingPlcHdr: 「单击或点击此处输入文字。」):
    nothing was typed there, it reads as empty."""
    for child in sdt:
        ns, name = _split(child.tag)
        if ns in W_NS and name == "sdtPr":
            return any(_split(p.tag) in ((n, "showingPlcHdr") for n in W_NS) for p in child)
    return False


def _choice(alternate):
    """mc:AlternateContent: its first mc:Choice (the modern markup), else its mc:Fallback."""
    fallback = None
    for child in alternate:
        ns, name = _split(child.tag)
        if ns == MC_NS and name == "Choice":
            return child
        if ns == MC_NS and name == "Fallback":
            fallback = child
    return fallback


def flow_text(container, revised: bool) -> Text:
    """All the text of a block-level container (a text box), paragraphs and cells joined by line breaks."""
    out = Text()

    def para(p, rev):
        for box, box_rev in out.add_paragraph(p, rev):
            inner = flow_text(box, box_rev)
            out.add("\n", False)
            out.extend(inner)

    def walk(el, rev):
        for child in el:
            ns, name = _split(child.tag)
            if ns == MC_NS and name == "AlternateContent":
                chosen = _choice(child)
                if chosen is not None:
                    walk(chosen, rev)
            elif ns not in W_NS or name in HIDDEN or (name == "sdt" and placeholder(child)):
                continue
            elif name == "p":
                para(child, rev)
            elif name in REVISION:
                walk(child, True)
            else:  # tables, rows, cells, content controls, custom XML
                walk(child, rev)

    walk(container, revised)
    return out


class Walker:
    """The body's blocks in document order, with the locations of the old python-docx reader."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.n_par = 0
        self.n_tab = 0

    def add(self, label: str, text: Text) -> None:
        if text.text.strip():
            self.blocks.append(Block(label, text.text, "\n" if self.blocks else "", tuple(text.spans)))

    def body(self, el) -> None:
        for child in el:
            ns, name = _split(child.tag)
            if ns == MC_NS and name == "AlternateContent":
                chosen = _choice(child)
                if chosen is not None:
                    self.body(chosen)
            elif ns not in W_NS or (name == "sdt" and placeholder(child)):
                continue
            elif name == "p":
                self.n_par += 1
                self.paragraph(child, f"第{self.n_par}段")
            elif name == "tbl":
                self.n_tab += 1
                self.table(child, f"表{self.n_tab}")
            elif name in ("sdt", "sdtContent", "customXml", *REVISION):
                self.body(child)

    def paragraph(self, p, label: str, revised: bool = False) -> None:
        t = Text()
        inline(p, t, revised)
        self.add(label, t)
        self.boxes(label, t.boxes)

    def boxes(self, label: str, boxes: list) -> None:
        for k, (box, rev) in enumerate(boxes, 1):
            self.add(f"{label}（文本框{'' if len(boxes) == 1 else k}）", flow_text(box, rev))

    def table(self, tbl, name: str, outer: str = "") -> None:
        """`outer`: the label of the cell a nested table sits in."""
        above: dict[int, str] = {}  # grid column → the text of the last cell that stood in it
        for r, (tr, row_rev) in enumerate(_rows(tbl), 1):
            if row_rev is None:  # a row deleted with Track Changes on
                continue
            c = 1
            for tc in _cells(tr):
                span, merged_below = _cell_props(tc)
                here = f"{name}第{r}行第{c}列"
                label = f"{outer}（{here}）" if outer else here
                if not merged_below:
                    before = len(self.blocks)
                    self.cell(tc, label, row_rev)
                    above[c] = self.blocks[before].text if len(self.blocks) > before else ""
                elif c > 1 and FIGURE_CELL.fullmatch(above.get(c, "").strip()):
                    merged = Text()
                    merged.add(MERGED_FIGURE, False)
                    self.add(label, merged)
                c += span

    def cell(self, tc, label: str, revised: bool) -> None:
        text = Text()
        boxes: list = []
        nested: list = []

        def walk(el, rev):
            for child in el:
                ns, name = _split(child.tag)
                if ns not in W_NS or (name == "sdt" and placeholder(child)):
                    continue
                if name == "p":
                    boxes.extend(text.add_paragraph(child, rev))
                elif name == "tbl":
                    nested.append(child)
                elif name in ("sdt", "sdtContent", "customXml", *REVISION):
                    walk(child, rev or name in REVISION)

        walk(tc, revised)
        self.add(label, text)
        self.boxes(label, boxes)
        for k, tbl in enumerate(nested, 1):
            self.table(tbl, f"嵌套表{k}", outer=label)


def _local_children(el, wanted: str):
    """Children named `wanted`, looking through content controls and custom XML wrappers."""
    for child in el:
        ns, name = _split(child.tag)
        if ns not in W_NS:
            continue
        if name == wanted:
            yield child
        elif name in ("sdt", "customXml"):
            yield from _local_children(child, wanted)
        elif name == "sdtContent":
            yield from _local_children(child, wanted)


def _rows(tbl):
    """(w:tr, revised) per row; revised is None for a row deleted as a revision."""
    for tr in _local_children(tbl, "tr"):
        state = False
        for child in tr:
            ns, name = _split(child.tag)
            if ns in W_NS and name == "trPr":
                for mark in child:
                    mark_name = _split(mark.tag)[1]
                    if mark_name == "del":
                        state = None
                    elif mark_name == "ins" and state is not None:
                        state = True
        yield tr, state


def _cells(tr):
    return _local_children(tr, "tc")


def _cell_props(tc) -> tuple[int, bool]:
    """(grid span, whether it continues a vertical merge from the row above)."""
    span, below = 1, False
    for child in tc:
        ns, name = _split(child.tag)
        if ns in W_NS and name == "tcPr":
            for prop in child:
                pns, pname = _split(prop.tag)
                if pname == "gridSpan":
                    try:
                        span = max(1, int(prop.get(f"{{{pns}}}val") or 1))
                    except ValueError:
                        span = 1
                elif pname == "vMerge":
                    below = (prop.get(f"{{{pns}}}val") or "continue") == "continue"
            break
    return span, below


# A document whose text is this short beside a picture is a picture of the form (a screenshot, a scan).
PICTURE_TEXT = 100
PICTURE_ONLY = (
    "Word文件中只有图片（截图或扫描件），没有可以读取的文字，无法读取其中的数字；"
    "请单位报送填好的Word或Excel统计表（不要截图）"
)


CANNOT_OPEN = "Word文件无法打开（{}），请单位重新保存为.docx后发送"
MAIN_PART = "word/document.xml"
# the package's relationship to its main part (transitional and strict OOXML)
OFFICE_DOCUMENT = "/officeDocument"


def read_docx(path: Path, container: str | None = None) -> Extract:
    """The body of the main document part, parsed once (lxml, as python-docx parses it: blank text between
    elements dropped, no entity resolved) while it is inflated: its size counted against the file's budget
    and its prolog checked for a DTD in the same pass (ooxml). The package's other parts are never parsed;
    each is checked for a DTD by its prolog alone."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            budget = ooxml.Budget(infos)
            main, read = _main_part(z, infos, budget)
            for info in infos:
                if info not in read:
                    ooxml.check_prolog(z, info)
            parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
            for chunk in ooxml.inflated(z, main, budget):
                parser.feed(chunk)
            root = parser.close()
    except ReadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise ReadError(f"文件已损坏（{type(exc).__name__}），请单位重新保存后发送") from exc
    except Exception as exc:  # lxml's XMLSyntaxError, a package without its main part
        raise ReadError(CANNOT_OPEN.format(type(exc).__name__)) from exc
    body = next((el for el in root if _split(el.tag)[1] == "body" and _split(el.tag)[0] in W_NS), None)
    if body is None:
        raise ReadError(CANNOT_OPEN.format("没有正文"))
    walker = Walker()
    walker.body(body)
    chars = sum(len("".join(b.text.split())) for b in walker.blocks)
    pictures = _has_picture(body)
    if chars < PICTURE_TEXT and pictures:
        raise ReadError(PICTURE_ONLY)
    ex = Extract(path, container or path.suffix.lower().lstrip("."), walker.blocks)
    ex.pictures = pictures
    return ex


def _main_part(
    z: zipfile.ZipFile, infos: list[zipfile.ZipInfo], budget: ooxml.Budget
) -> tuple[zipfile.ZipInfo, list[zipfile.ZipInfo]]:
    """The main document part, as the package's relationships name it (word/document.xml when they do not),
    and the parts read whole: the relationships and the main part."""
    by_name = {i.filename: i for i in infos}
    by_lower = {i.filename.lower(): i for i in infos}
    target = MAIN_PART
    rels = by_name.get("_rels/.rels") or by_lower.get("_rels/.rels")
    if rels is not None:
        data = b"".join(ooxml.inflated(z, rels, budget))
        for el in ElementTree.fromstring(data, forbid_dtd=True).iter():
            if el.tag.endswith("}Relationship") and (el.get("Type") or "").endswith(OFFICE_DOCUMENT):
                target = posixpath.normpath((el.get("Target") or "").lstrip("/")) or MAIN_PART
                break
    main = by_name.get(target) or by_lower.get(target.lower())
    if main is None:
        raise KeyError(target)
    return main, [main, *([rels] if rels is not None else [])]


PICTURE_TAGS = (
    "{*}blip",  # DrawingML
    "{*}imagedata",  # VML
    *(f"{{{ns}}}object" for ns in sorted(W_NS)),  # an embedded object
)


def _has_picture(body) -> bool:
    """A picture anywhere in the body: DrawingML's a:blip, VML's v:imagedata, or an embedded object
    (a text box is a drawing too, but no picture)."""
    return next(body.iter(*PICTURE_TAGS), None) is not None
