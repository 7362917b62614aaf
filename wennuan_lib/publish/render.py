"""The 书面总结 in three formats: self-contained HTML, PDF in the GB/T 9704-2012 layout, and Word."""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import functools
import html
import io
import logging
import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import docx
import jinja2
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_UNDERLINE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from wennuan_lib.base import catalog, config
from wennuan_lib.publish import cjk_justify
from wennuan_lib.publish.charts import LEGIBLE_PT, Chart
from wennuan_lib.publish.narrative import TOKEN, Narrative, em_width
from wennuan_lib.publish.template import normalize_zip

TEMPLATES = config.PACKAGE_DIR / "templates"
DRAFT_LIST_MAX = 30  # per kind of problem on page 1; all of them are in draft_reasons
log = logging.getLogger(__name__)
HEADING_NOWRAP_EM = 6  # a table heading this short never wraps (局(公司), 报送单位数)


@dataclass
class Table:
    title: str
    headings: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    note: str = ""
    nowrap: list[bool] | None = None  # columns whose cells never wrap (codes, unit types); numbers never do

    def keeps(self, k: int) -> bool:
        return self.numeric[k] or bool(self.nowrap and self.nowrap[k])


@dataclass
class Report:
    narrative: Narrative
    charts: dict[str, Chart]
    tables: list[Table]
    tips: dict[str, str]  # token key -> what the figure adds up
    reasons: list[tuple[str, str]]  # (kind, text) of every unresolved problem; empty when final
    sample: bool
    suspect: set[str] = field(default_factory=set)  # token keys of figures a suspected slip feeds

    @property
    def draft(self) -> bool:
        return bool(self.reasons)

    @property
    def draft_items(self) -> list[str]:
        return [f"【{kind}】{text}" for kind, text in self.reasons]

    def draft_groups(self) -> list[tuple[str, list[str], int]]:
        """The list on page 1: (kind, first items, how many more) per kind, in the order of draft_reasons."""
        groups: dict[str, list[str]] = {}
        for kind, text in self.reasons:
            groups.setdefault(kind, []).append(text)
        return [
            (kind, items[:DRAFT_LIST_MAX], max(0, len(items) - DRAFT_LIST_MAX))
            for kind, items in groups.items()
        ]


def chart_numbers(report: Report, placement: dict[str, tuple[str, float]] | None = None) -> dict[str, int]:
    """Each figure's number, in the order a reader meets them: as the figures are placed on the PDF's pages
    (`placement`, see `placed`: a figure moved before the one it followed takes its number), else as the
    narrative has them (the screen and Word, where nothing is moved)."""
    order = [
        b.chart
        for s in report.narrative.sections
        for b in placed(s.blocks, placement or {})
        if b.kind == "chart" and b.chart in report.charts
    ]
    return {name: i for i, name in enumerate(order, 1)}


def glued(before: str) -> tuple[str, str]:
    """The text before a figure, split so that its last character is kept on the figure's line (「占 / 2.9%」
    never happens): a CJK character is glued to the figure; punctuation is left alone (its own rules hold
    it)."""
    if before and "\u4e00" <= before[-1] <= "\u9fff":
        return before[:-1], before[-1]
    return before, ""


# How much a paragraph keeps together, loosened where a line would otherwise be spread (see pdf_bytes):
# 0 a figure with its measure and the character before it (never 「占 / 2.9%」); 1 the figure with its measure
# only; 2 nothing beyond what the line breaker keeps (a number's own digits).
KEEP_ALL, KEEP_FIGURE, KEEP_NONE = 0, 1, 2


def _html_text(
    text: str, tips: dict[str, str], hover: bool, suspect: set[str] = frozenset(), keep: int = KEEP_ALL
) -> str:
    """A paragraph's HTML: each figure with the character before it in a no-break span (a number and its
    measure word never part at a line's end) unless `keep` loosens that, the figure itself hovered with what
    it adds up."""
    out, pos = [], 0
    for m in TOKEN.finditer(text):
        before, glue = glued(text[pos : m.start()]) if keep == KEEP_ALL else (text[pos : m.start()], "")
        out.append(html.escape(before))
        key, shown = m.group(1), html.escape(m.group(2))
        cls = "fig suspect" if key in suspect else "fig"
        if hover:
            figure = (
                f'<span class="{cls}" title="{html.escape(tips.get(key, ""), quote=True)}">{shown}</span>'
            )
        else:
            figure = f'<span class="{cls}">{shown}</span>' if key in suspect else shown
        out.append(f'<span class="nb">{html.escape(glue)}{figure}</span>' if keep < KEEP_NONE else figure)
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def placed(blocks: list, placement: dict[str, tuple[str, float]]) -> list:
    """The blocks of a section with each deferred figure moved past as many text blocks as `placement` says
    (and an advanced one before the text block it followed)."""
    out = list(blocks)
    for name, (how, amount) in placement.items():
        at = next((k for k, b in enumerate(out) if b.kind == "chart" and b.chart == name), None)
        if at is None or how not in ("defer", "advance"):
            continue
        block = out.pop(at)
        k, passed = at, 0
        if how == "defer":
            while k < len(out) and passed < amount:
                passed += out[k].kind != "chart"
                k += 1
        else:
            while k > 0 and out[k - 1].kind == "chart":  # before the figures that precede it, then the text
                k -= 1
            k = max(0, k - 1) if k > 0 and out[k - 1].kind not in ("heading",) else k
        out.insert(k, block)
    return out


MEASURE = re.compile(r"（[^（）]{1,6}）")  # a heading's measure, 「（万元）」: never broken inside


def _heading_html(text: str) -> str:
    out, pos = [], 0
    for m in MEASURE.finditer(text):
        out += [html.escape(text[pos : m.start()]), f'<span class="nowrap">{html.escape(m.group())}</span>']
        pos = m.end()
    return "".join(out) + html.escape(text[pos:])


# GB/T 9704: 22 lines of 28 characters on the 156 × 225 mm text block. 16 pt characters are 5.64 mm wide, so
# they are set with a small negative tracking; Pango puts the tracking between characters (not after a line's
# last), so 28 characters take 28 × 16 + 27 × TRACKING points.
TEXT_WIDTH_PT = 156 * 72 / 25.4
BODY_PT = 16.0
CHARS_PER_LINE = 28
LINE_PT = 28.9  # 22 lines on the 225 mm text block
TRACKING_PT = math.floor((TEXT_WIDTH_PT - CHARS_PER_LINE * BODY_PT) / (CHARS_PER_LINE - 1) * 100 - 1) / 100
PITCH_PT = BODY_PT + TRACKING_PT  # one character of the grid


def grid(for_print: bool) -> dict[str, str]:
    """The CSS lengths of the character grid: indents are whole characters of it."""
    if not for_print:
        return {"tracking": "0", "indent": "2em", "attach_indent": "5em", "attach_hang": "-3em"}
    return {
        "tracking": f"{TRACKING_PT:.2f}",
        "indent": f"{2 * PITCH_PT:.2f}pt",
        "attach_indent": f"{5 * PITCH_PT:.2f}pt",  # 附件：takes three characters after the two of the indent
        "attach_hang": f"{-3 * PITCH_PT:.2f}pt",
    }


def attachment_title(k: int, t: Table) -> str:
    return f"附件{k}"


def to_html(
    report: Report,
    for_print: bool = False,
    placement: dict[str, tuple[str, float]] | None = None,
    body_only: bool = False,
    keep: dict[str, int] | None = None,
    appendices_from: int = 0,
) -> str:
    """The report as HTML: for the screen (hover on every figure) or for print (WeasyPrint). `placement`
    (print only) moves a figure past the next text block ("defer", n) or caps its picture's height ("shrink",
    points); `body_only` leaves out the appendices (to place the figures quickly); `keep` loosens what a
    paragraph (by its `data-p` id) keeps together on a line (KEEP_ALL unless given); `appendices_from`
    (print only): the appendices alone, their first page numbered so (and on the side that number has)."""
    placement = placement or {}
    swapped = bool(appendices_from) and appendices_from % 2 == 0
    n = report.narrative
    groups = [
        (html.escape(kind), [html.escape(x) for x in items], more)
        for kind, items, more in report.draft_groups()
    ]
    template = _templates().get_template("report.html.j2")
    return template.render(
        print=for_print,
        title=html.escape(n.title),
        title_lines=[html.escape(x) for x in n.title_lines or [n.title]],
        recipient=html.escape(n.recipient),
        sender=html.escape(n.sender),
        date=html.escape(n.date),
        sections=_html_sections(report, for_print, placement, keep or {}),
        charts=_html_charts(report, for_print, placement),
        tables=_html_tables(report),
        appendices=not body_only,
        first_page=appendices_from,
        # a document's first page is a right-hand one: the appendices alone, starting on an even page, have
        # their sides swapped so that each page is on the side its number puts it
        odd="left" if swapped else "right",
        even="right" if swapped else "left",
        grid=grid(for_print),
        draft=report.draft,
        draft_groups=groups,
        issues_file=catalog.file_name("issues"),
        reasons_file=catalog.file_name("draft_reasons"),
        sample=report.sample,
    )


@functools.cache
def _templates() -> jinja2.Environment:
    """The report's templates, each compiled once in a process (a step makes the HTML up to ten times: the
    screen, the cache key, every layout of the PDF); jinja2 looks at the file's time at every use and compiles
    an edited one again."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False)


def _html_charts(report: Report, for_print: bool, placement: dict[str, tuple[str, float]]) -> dict[str, dict]:
    """Each chart for the template: its picture inline, title, number, and its size on paper."""
    numbers = chart_numbers(report, placement if for_print else None)
    return {
        name: {
            "src": "data:image/png;base64," + base64.b64encode(c.png).decode("ascii"),
            "title": html.escape(c.title),
            "number": numbers.get(name, 0),
            "height": placement[name][1] * 0.75 if placement.get(name, ("",))[0] == "shrink" else None,
            "width": f"{c.width_mm:.1f}mm" if for_print else None,  # printed at the size it was drawn
        }
        for name, c in report.charts.items()
    }


def _html_sections(
    report: Report, for_print: bool, placement: dict[str, tuple[str, float]], keep: dict[str, int]
) -> list[dict]:
    """The sections for the template, their blocks in placed order, each with its `data-p` id."""
    sections = []
    for si, s in enumerate(report.narrative.sections):
        ids = {id(b): f"{si}.{k}" for k, b in enumerate(s.blocks)}
        sections.append(
            {
                "title": html.escape(s.title),
                "blocks": [
                    {
                        "kind": b.kind,
                        "chart": b.chart,
                        "id": ids[id(b)],
                        "html": _html_text(
                            b.text, report.tips, not for_print, report.suspect, keep.get(ids[id(b)], KEEP_ALL)
                        ),
                    }
                    for b in placed(s.blocks, placement)
                ],
            }
        )
    return sections


def _html_tables(report: Report) -> list[dict]:
    """The appendix tables for the template; a short heading never wraps."""
    return [
        {
            "label": attachment_title(k, t),
            "title": html.escape(t.title),
            "note": html.escape(t.note),
            "headings": [
                (_heading_html(h), em_width(h) <= HEADING_NOWRAP_EM or bool(t.nowrap and t.nowrap[k]))
                for k, h in enumerate(t.headings)
            ],
            "rows": [[html.escape(str(c)) for c in row] for row in t.rows],
            "numeric": t.numeric,
            "nowrap": [t.keeps(k) for k in range(len(t.headings))],
        }
        for k, t in enumerate(report.tables, 1)
    ]


MM_PX = 96 / 25.4  # WeasyPrint lays out in CSS pixels
TEXT_BOTTOM_PX = (297 - 35) * MM_PX  # the text block's bottom edge on a portrait page
GAP_LIMIT_PX = 0.15 * 225 * MM_PX  # a page may end this much short of its text block before a figure
SHRINK_AT_LEAST = 0.6  # a picture may shrink to this share of its height to fit the page it follows
PLACEMENT_PASSES = 6


def _page_blocks(page) -> list:
    """The top-level blocks of the body on a rendered page (WeasyPrint's page box → html → body)."""
    for html_box in page._page_box.children:
        if html_box.element_tag == "html":
            for body in html_box.children:
                if body.element_tag == "body":
                    return [b for b in body.children if b.is_in_normal_flow()]
    return []


def _figure_gaps(document) -> list[tuple[str, float, float, float]]:
    """The pages that end far short of their text block because the figure that follows did not fit:
    (chart name, the space left, the height the figure needs, its picture's height), in CSS pixels."""
    pages = [_page_blocks(p) for p in document.pages]
    gaps = []
    for here, after in zip(pages, pages[1:], strict=False):
        if not here or not after or after[0].element_tag != "figure":
            continue
        bottom = max(b.position_y + b.margin_height() for b in here)
        if bottom > TEXT_BOTTOM_PX - GAP_LIMIT_PX:
            continue
        figure = after[0]
        pictures = [b for b in figure.descendants() if b.element_tag == "img"]
        if not pictures or not figure.element.get("data-chart"):
            continue
        gaps.append(
            (
                figure.element.get("data-chart"),
                TEXT_BOTTOM_PX - bottom,
                figure.margin_height(),
                pictures[0].height,
            )
        )
    return gaps


def load_weasyprint():
    """WeasyPrint, imported once. Its import opens Pango, HarfBuzz and fontconfig by trying several names for
    each (one per platform) through cffi, which asks ctypes.util.find_library about every name that is not
    a file; on Linux that runs ldconfig, then gcc and ld for the names ldconfig does not know — about 200
    processes and 0.2 s of the run's start, every run (measured: 0.42–0.48 → 0.28–0.29 s to import).
    Every list of names ends with the library's Linux name (libpango-1.0.so.0, …), which the system's
    loader opens by itself; so for the import only, find_library answers "not found" at once and the
    loader finds each library by that name. Should the import fail that way (a system where only
    find_library finds them), it is made again as WeasyPrint would make it."""
    import ctypes.util
    import sys

    if "weasyprint" in sys.modules:
        return sys.modules["weasyprint"]
    real = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # WeasyPrint prints its help when a library fails
            import weasyprint
        return weasyprint
    except OSError:
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = real
    import weasyprint

    return weasyprint


def pdf_bytes(report: Report) -> bytes:
    """The PDF: the body laid out until no figure leaves a large gap (see `settled_body`), then the appendices
    laid out on their own and their pages put after the body's — the body is not laid out again. The
    appendices start on a page of their own, so the pages are those of the whole document laid out at once;
    tests/test_paper.py compares the two."""
    lay_out = Layouts()
    body, _, _ = settled_body(report, lay_out)
    if not report.tables:
        return body.write_pdf()
    # WeasyPrint's own way of joining documents (Document.copy), with the first one's metadata
    return body.copy(body.pages + appendix_pages(report, len(body.pages) + 1, lay_out)).write_pdf()


class Layouts:
    """WeasyPrint laying out the HTML of one PDF, its layouts sharing what does not change between them: the
    fonts found (a FontConfiguration) and the charts' pictures decoded (its image cache)."""

    def __init__(self):
        # weasyprint: 0.28 s to import (load_weasyprint), needed only when a PDF is made (not when the cache
        # has it); the run's kernel loads it ahead (Kernel.WARM): the PDF worker forked from it pays nothing
        weasyprint = load_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        self._html = weasyprint.HTML
        self._fonts, self._pictures = FontConfiguration(), {}

    def __call__(self, html: str):
        """The HTML laid out: a WeasyPrint document."""
        page = self._html(string=html, base_url=str(TEMPLATES))
        return page.render(font_config=self._fonts, cache=self._pictures)


def appendix_pages(report: Report, first: int, lay_out: Layouts | None = None) -> list:
    """The appendices' pages laid out on their own, numbered from `first` (each on the side its number
    puts it)."""
    lay_out = lay_out or Layouts()
    html = to_html(report, True, appendices_from=first)
    with cjk_justify.inter_character():
        return lay_out(html).pages


def settled_body(report: Report, lay_out: Layouts | None = None):
    """The body laid out until no figure leaves a large gap: a figure that does not fit the rest of a page is
    made smaller (down to 60%) when that is enough, else moved past the next paragraph, or (the last thing in
    its section) before the paragraph it followed — never out of its section. Returns the laid-out body
    (a WeasyPrint document), the figures' placement and what each paragraph keeps together.

    A placement can lead back to one laid out already (a figure moved before its paragraph still leaves a
    gap, so it is made smaller instead, back in its place, where it still leaves one, so it is moved …):
    the layouts would repeat. The one of that cycle that leaves the least white at page ends is taken
    (the sample's 2013 report went round such a cycle until the passes ran out: 7 layouts, now 4)."""
    lay_out = lay_out or Layouts()
    placement: dict[str, tuple[str, float]] = {}
    keep: dict[str, int] = {}
    spread: set[tuple[str, bool]] = set()
    tried: list[tuple[dict, dict, float]] = []  # each layout's placement and keep, and its white

    def body():  # the body alone (the appendices start on a page of their own), as placed and kept now
        return lay_out(to_html(report, True, placement, body_only=True, keep=keep))

    with cjk_justify.inter_character(spread):
        for _ in range(PLACEMENT_PASSES):
            before, kept = dict(placement), dict(keep)
            spread.clear()  # the lines this layout spreads wide
            laid_out = body()
            for paragraph, worst in spread:  # a line spread wide: its paragraph lets the character before a
                # figure go; a line that would still be ragged lets the figure part from its measure too
                keep[paragraph] = min(keep.get(paragraph, KEEP_ALL) + 1, KEEP_NONE if worst else KEEP_FIGURE)
            gaps = _figure_gaps(laid_out)
            for gap in gaps:  # every gap of this layout at once
                _place(report, placement, *gap)
            if placement == before and keep == kept:
                return laid_out, placement, keep
            tried.append((before, kept, sum(room for _, room, _, _ in gaps)))
            again = next((k for k, (p, kk, _) in enumerate(tried) if p == placement and kk == keep), None)
            if again is not None:  # a cycle: the least white of it (the first such)
                placement, keep, _ = min(tried[again:], key=lambda t: t[2])
                # laid out again unless it is the last layout: no earlier one is kept (the PDF's process
                # holds one layout besides the one being made, as it did before)
                return (laid_out if (placement, keep) == (before, kept) else body()), placement, keep
        return body(), placement, keep  # not settled within the passes: as the last pass left it


def _place(report: Report, placement: dict, name: str, room: float, need: float, picture: float) -> None:
    """A figure that left a gap of `room` (it needs `need`, its picture is `picture` high): smaller, deferred
    or advanced (see settled_body)."""
    how, amount = placement.get(name, ("", 0))
    log.debug(
        "图 %s：页末余 %.0f px，图需 %.0f px（图片 %.0f px），已有安排 %s",
        name,
        room,
        need,
        picture,
        placement.get(name),
    )
    smaller = picture - (need - room) - 2
    chart = report.charts[name]  # no smaller than keeps its smallest text at 9 pt on paper
    least = max(SHRINK_AT_LEAST, LEGIBLE_PT / chart.min_pt if chart.min_pt else 1.0)
    if how != "defer" and smaller >= least * picture:
        placement[name] = ("shrink", smaller)
    elif how in ("", "shrink", "defer") and _can_defer(report, name, amount + 1 if how == "defer" else 1):
        placement[name] = ("defer", amount + 1 if how == "defer" else 1)
    elif how in ("", "shrink"):  # the last thing in its section: before the text it followed instead
        placement[name] = ("advance", 1)


def _can_defer(report: Report, name: str, amount: int) -> bool:
    """Whether a figure's section has `amount` text blocks after it to move past."""
    for s in report.narrative.sections:
        names = [b.chart for b in s.blocks if b.kind == "chart"]
        if name in names:
            at = next(k for k, b in enumerate(s.blocks) if b.kind == "chart" and b.chart == name)
            return sum(b.kind != "chart" for b in s.blocks[at + 1 :]) >= amount
    return False


def docx_bytes(report: Report) -> bytes:
    """An editable Word version: same text, tables and charts; GB/T 9704 page, fonts by name, title broken as
    in the PDF, odd page numbers right and even ones left (on landscape pages turned with the sheet, on the
    left edge), appendix tables with fitted columns, a repeated header row, rows that never split and are
    spread evenly over an appendix's pages."""
    with tempfile.TemporaryDirectory(prefix="wennuan-docx-") as folder:
        word = _Word(docx.Document(), Path(folder))
        _docx_page(word.document, report)
        if report.draft:
            _docx_draft_list(word, report)
        _docx_body(word, report)
        _docx_closing(word, report)
    for k, t in enumerate(report.tables, 1):
        _docx_appendix(word, k, t)
    cp = word.document.core_properties
    n = report.narrative
    cp.title, cp.author = n.title + ("（草稿）" if report.draft else ""), n.sender
    cp.created = cp.modified = cp.last_printed = dt.datetime(2000, 1, 1)
    cp.last_modified_by = n.sender
    cp.revision = 1
    buf = io.BytesIO()
    word.document.save(buf)
    return normalize_zip(buf.getvalue())  # equal content, equal bytes


RED = RGBColor(0xC0, 0, 0)


def _set_font(run, name: str, size: float, bold: bool = False, colour: RGBColor | None = None) -> None:
    """A run's font by name (East Asian too), size, weight and colour; the body's size with its tracking."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if size == BODY_PT:  # 28 characters a line (see _char_grid)
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(WORD_TRACKING_TWIPS))
        rpr = run._element.get_or_add_rPr()
        later = [c for c in rpr if c.tag in RPR_AFTER_SPACING]  # the schema's order of run properties
        if later:
            later[0].addprevious(spacing)
        else:
            rpr.append(spacing)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if colour is not None:
        run.font.color.rgb = colour


@dataclass
class _Word:
    """The Word document being written, paragraph by paragraph."""

    document: docx.document.Document
    folder: Path  # the charts' pictures, each as a file named by its chart (Word names a picture by its file)

    def picture_file(self, chart) -> Path:
        path = self.folder / f"{chart.name}.png"
        path.write_bytes(chart.png)
        return path

    def para(
        self,
        text: str | list[str],
        font: str = "仿宋_GB2312",
        size: float = 16,
        indent: bool = True,
        align=None,
        bold: bool = False,
        colour: RGBColor | None = None,
        shade: str | None = None,
        keep: bool = False,
        suspect: set[str] | frozenset[str] = frozenset(),
    ) -> Paragraph:
        """A paragraph; a list of texts is one paragraph with a line break between them. Figures (narrative
        tokens) are written as shown; those a suspected slip feeds (`suspect`, token keys) stand out as in the
        PDF and the HTML: red, with a wavy red underline."""
        p = self.document.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(
            LINE_PT if size >= 16 else (size * 1.5 if size > 12 else 18 if size == 12 else size * 1.4)
        )
        fmt.space_after = fmt.space_before = Pt(0)
        fmt.keep_with_next = keep
        if indent:
            fmt.first_line_indent = Pt(
                2 * (BODY_PT + WORD_TRACKING_TWIPS / 20) if size == BODY_PT else size * 2
            )
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY if align is None else align
        lines = [text] if isinstance(text, str) else text
        for k, line in enumerate(lines):
            for piece, marked in _pieces(line, suspect):
                run = p.add_run(piece)
                _set_font(run, font, size, bold, RED if marked else colour)
                if marked:
                    run.font.underline = WD_UNDERLINE.WAVY
                    run._element.rPr.find(qn("w:u")).set(qn("w:color"), str(RED))
            if k < len(lines) - 1:
                run.add_break()
        if shade:
            ppr = p._p.get_or_add_pPr()
            shd = OxmlElement("w:shd")
            shd.set(qn("w:val"), "clear")
            shd.set(qn("w:fill"), shade)
            ppr.append(shd)
        return p


def _docx_page(document, report: Report) -> None:
    """The default style and the first section: the GB/T 9704 A4 page, its line grid, page numbers in the
    footers and, on a draft, 草稿 in the headers."""
    document.settings.odd_and_even_pages_header_footer = True
    normal = document.styles["Normal"]  # the grid's character pitch is counted from the default size
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    section = document.sections[0]
    _char_grid(section, on=True)
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(FOOTER_DISTANCE_MM)
    _footer_page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _footer_page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    if report.draft:
        for header, side in (
            (section.header, WD_ALIGN_PARAGRAPH.RIGHT),
            (section.even_page_header, WD_ALIGN_PARAGRAPH.LEFT),
        ):
            hp = header.paragraphs[0]
            hp.alignment = side
            _set_font(hp.add_run("草稿"), "黑体", 16, colour=RED)


def _docx_draft_list(word: _Word, report: Report) -> None:
    """A draft's first lines: why it is not final, per kind of problem."""
    word.para("草稿：以下问题尚未解决，本总结不能作为定稿报送", "黑体", 12, False, colour=RED, keep=True)
    for kind, items, more in report.draft_groups():
        word.para(f"{kind}（{len(items) + more}条）", "黑体", 10.5, False, WD_ALIGN_PARAGRAPH.LEFT, keep=True)
        for k, item in enumerate(items, 1):
            word.para(f"{k}. {item}", "仿宋_GB2312", 10.5, False, WD_ALIGN_PARAGRAPH.LEFT)
        if more:
            word.para(
                f"……另有 {more} 条，全部见 {catalog.file_name('draft_reasons')}。",
                "仿宋_GB2312",
                10.5,
                False,
            )


def _docx_body(word: _Word, report: Report) -> None:
    """The title, the recipient and the sections: headings, text, quotes, marked gaps and the figures with
    their captions."""
    n = report.narrative
    if report.sample:
        word.para(
            "（示例数据：本报告由合成数据生成，仅供演示）",
            "仿宋_GB2312",
            12,
            False,
            WD_ALIGN_PARAGRAPH.CENTER,
        )
    word.para(
        n.title_lines or [n.title], "方正小标宋简体", 22, False, WD_ALIGN_PARAGRAPH.CENTER
    ).paragraph_format.space_after = Pt(28.9)
    if n.recipient:
        word.para(f"{n.recipient}：", indent=False)
    numbers = chart_numbers(report)
    for s in n.sections:
        word.para(s.title, "黑体", keep=True)
        for b in s.blocks:
            text = docx_text(b.text)
            if b.kind == "heading":
                word.para(text, "楷体_GB2312", keep=True)
            elif b.kind == "chart":
                chart = report.charts.get(b.chart)
                if chart:
                    # at its drawn size; added from a file named by its chart, as Word names the picture
                    word.document.add_picture(str(word.picture_file(chart)), width=Mm(chart.width_mm))
                    picture = word.document.paragraphs[-1]
                    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    picture.paragraph_format.keep_with_next = True  # the caption stays with its figure
                    word.para(
                        f"图{numbers[b.chart]}　{chart.title}",
                        size=12,
                        indent=False,
                        align=WD_ALIGN_PARAGRAPH.CENTER,
                    )
            elif b.kind == "quote":
                word.para(b.text, "楷体_GB2312", suspect=report.suspect)
            elif b.kind in ("gap", "error"):
                word.para(text, shade="FFF3B0" if b.kind == "gap" else "F8D0D0")
            else:
                word.para(b.text, suspect=report.suspect)


def _docx_closing(word: _Word, report: Report) -> None:
    """After the text: the 附件说明 (a blank line, then 附件：1. … two characters in, later names under the
    first) and the signature with the date (GB/T 9704 7.3.5.2), kept with the text before them."""
    n = report.narrative
    if word.document.paragraphs:
        word.document.paragraphs[
            -1
        ].paragraph_format.keep_with_next = True  # the signature never on a page alone
    if report.tables:
        word.para("", indent=False, keep=True)
        for k, t in enumerate(report.tables, 1):
            p = word.para(
                f"{'附件：' if k == 1 else ''}{k}. {t.title}", indent=False, align=WD_ALIGN_PARAGRAPH.LEFT
            )
            p.paragraph_format.left_indent = Pt(5 * PITCH_PT)
            p.paragraph_format.first_line_indent = Pt(-3 * PITCH_PT if k == 1 else 0)
            p.paragraph_format.keep_with_next = True
    word.para("", indent=False, keep=True)  # a blank line before the signature
    sign, day = closing_indents(n.sender, n.date)
    word.para(
        n.sender, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT, keep=True
    ).paragraph_format.right_indent = Pt(sign)
    word.para(n.date, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT).paragraph_format.right_indent = Pt(day)


def _docx_appendix(word: _Word, k: int, t: Table) -> None:
    """Appendix `k` in a landscape section of its own: its heading, title, note and table; the first one
    sets the turned page numbers the later ones inherit."""
    sec = word.document.add_section()
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Mm(297), Mm(210)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(28), Mm(26), Mm(35), Mm(37)
    _char_grid(sec, on=False)
    if k == 1:  # the later appendices' sections inherit these footers
        for footer, side in (
            (sec.footer, WD_ALIGN_PARAGRAPH.RIGHT),
            (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
        ):
            footer.is_linked_to_previous = False
            _turned_page_number(footer.paragraphs[0], side)
    word.para(attachment_title(k, t), "黑体", 16, False, WD_ALIGN_PARAGRAPH.LEFT, keep=True)
    word.para("", indent=False, keep=True)
    word.para(t.title, "方正小标宋简体", 16, False, WD_ALIGN_PARAGRAPH.CENTER, keep=True)
    if t.note:
        word.para(t.note, size=10, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT, keep=True)
    _docx_table(word.document, t, Mm(297 - 37 - 35), above_pt=title_block_pt(t))


def _pieces(text: str, suspect) -> list[tuple[str, bool]]:
    """`text` as shown (docx_text), in pieces: (text, whether it is a figure a suspected slip feeds)."""
    if not suspect:
        return [(docx_text(text), False)]
    out, pos = [], 0
    for m in TOKEN.finditer(text):
        if m.group(1) in suspect:
            out += [(docx_text(text[pos : m.start()]), False), (m.group(2), True)]
            pos = m.end()
    out.append((docx_text(text[pos:]), False))
    return [(piece, marked) for piece, marked in out if piece]


def docx_text(text: str) -> str:
    """A block's text for Word: the figures as shown, nothing invisible in between (searching or copying
    「万元」 finds it); Word's own line breaking keeps a number's digits together."""
    return TOKEN.sub(lambda m: m.group(2), text)


def text_width_pt(text: str, size: float = BODY_PT) -> float:
    """A line's width in the body's grid: a Chinese character one pitch, a digit or Latin letter half a
    character (仿宋's digits are half-width)."""
    return sum(PITCH_PT if ord(ch) >= 0x2E80 else size / 2 for ch in text) * size / BODY_PT


def closing_indents(sender: str, date: str) -> tuple[float, float]:
    """The right indents (points) of the signature and the date (GB/T 9704 7.3.5.2): the signature two
    characters in from the right, the date starting two characters right of the signature's first; a longer
    date ends two characters in and moves the signature right with it."""
    two = 2 * PITCH_PT
    sign, day = text_width_pt(sender), text_width_pt(date)
    if two + day <= sign:
        return two, two + sign - two - day
    return two + day + two - sign, two


def _char_grid(section, on: bool) -> None:
    """The section's document grid: 22 lines (Word's 文档网格 "只指定行网格", `w:linePitch`), or none (the
    appendix tables). The 28 characters a line come from the body's tracking (WORD_TRACKING_TWIPS), not from
    a character grid: with `linesAndChars` and the pitch for 28 (15.79 pt, `w:charSpace="-848"`) LibreOffice
    gives each 16 pt character two cells and sets 14 a line (measured, LibreOffice 7.4); the tracking gives
    28 in Word and LibreOffice alike."""
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    grid_el = OxmlElement("w:docGrid")
    if on:
        grid_el.set(qn("w:type"), "lines")
        grid_el.set(qn("w:linePitch"), str(round(LINE_PT * 20)))
    sect.append(grid_el)


RPR_AFTER_SPACING = {
    qn(f"w:{t}")
    for t in "w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em lang".split()
    + ["eastAsianLayout", "specVanish", "oMath"]
}
# The body's tracking in Word, in twentieths of a point (w:spacing): 28 characters of 16 pt with it take
# 28 × 15.75 = 441 pt of the 442.2 pt line.
WORD_TRACKING_TWIPS = math.floor((TEXT_WIDTH_PT / CHARS_PER_LINE - BODY_PT) * 20)


TABLE_FONT_PT = 9
CELL_PADDING_PT = 14  # Word's default cell margins, 0.19 cm each side, and a little air


def cell_em(text: str) -> float:
    """A cell's width in characters of its size, generously: ASCII letters and digits take about 0.62 of a
    Chinese character in the faces Word and LibreOffice fall back to (DejaVu's digits 0.64)."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.62 for ch in text)


def column_widths(t: Table, available_pt: float, font_pt: float = TABLE_FONT_PT) -> list[float]:
    """Each column's width in points, fitted to its content. At least: codes, unit types and figures on one
    line, headings of up to six characters too, longer headings in three lines, names wrapping at six
    characters. What is left goes to the columns that would still wrap (item and unit names, long headings),
    up to one line each."""
    n = len(t.headings)
    cells = [max([cell_em(str(row[k])) for row in t.rows] or [0]) for k in range(n)]
    heads = [cell_em(h) for h in t.headings]
    need, natural = [], []
    for k in range(n):
        head = heads[k] if heads[k] <= HEADING_NOWRAP_EM else max(4.0, heads[k] / 3)
        need.append(max(cells[k], head) if t.keeps(k) else max(6.0, head))
        natural.append(max(cells[k], heads[k], need[k]))
    width = [w * font_pt + CELL_PADDING_PT for w in need]
    room = available_pt - sum(width)
    if room < 0:  # too many columns even at their narrowest: all shrink alike
        return [w * available_pt / sum(width) for w in width]
    wanted = [(natural[k] - need[k]) * font_pt for k in range(n)]
    share = min(1.0, room / sum(wanted)) if sum(wanted) else 0
    return [w + x * share for w, x in zip(width, wanted, strict=True)]


LANDSCAPE_TEXT_PT = (210 - 28 - 26) * 72 / 25.4  # the landscape text block's height
LANDSCAPE_WIDTH_PT = (297 - 37 - 35) * 72 / 25.4  # and width
TABLE_LINE_PT = TABLE_FONT_PT * 1.35
ROW_EXTRA_PT = 1.0  # a row's border and rounding (LibreOffice: 12.65 pt a one-line row)
PAGE_SAFETY = 0.95  # a page is filled to this share of what the estimate says fits
NOTE_PT, NOTE_LINE_PT = 10, 14


def cell_lines(text: str, width_pt: float, heading: bool = False) -> int:
    """How many lines a cell's text takes in a column `width_pt` wide (as _docx_table sets it)."""
    room = max(1.0, width_pt - CELL_PADDING_PT)
    measure = MEASURE.search(text) if heading else None
    if measure and measure.end() == len(text) and cell_em(text) * TABLE_FONT_PT > width_pt - 8:
        return math.ceil(cell_em(text[: measure.start()]) * TABLE_FONT_PT / room - 1e-6) + 1
    return max(1, math.ceil(cell_em(text) * TABLE_FONT_PT / room - 1e-6))


def row_height_pt(cells: list, widths: list[float], heading: bool = False) -> float:
    """A row's height: its tallest cell's lines (a column too narrow for its codes or measures, as when
    every column is shrunk, wraps them too)."""
    lines = max(cell_lines(str(c), w, heading) for c, w in zip(cells, widths, strict=True))
    return lines * TABLE_LINE_PT + ROW_EXTRA_PT


def title_block_pt(t: Table) -> float:
    """What an appendix's first page holds above its table: 附件k, a blank line, the title, the note."""
    note = math.ceil(cell_em(t.note) * NOTE_PT / LANDSCAPE_WIDTH_PT) if t.note else 0
    return 3 * LINE_PT + note * NOTE_LINE_PT


def table_pages(t: Table, widths: list[float], above_pt: float) -> list[int]:
    """How many rows each page of an appendix holds: as few pages as the rows need, and the rows spread
    evenly over them (30 rows on two pages are 15 and 15, not 23 and a page of 7). Estimated from each
    row's lines at its column widths, with a margin, so that Word and LibreOffice both keep each part on
    its page."""
    head = row_height_pt(t.headings, widths, heading=True)
    heights = [row_height_pt(r, widths) for r in t.rows]
    rooms = [PAGE_SAFETY * LANDSCAPE_TEXT_PT - head - above_pt, PAGE_SAFETY * LANDSCAPE_TEXT_PT - head]

    def pack(limit: float) -> list[int]:
        pages, used = [0], 0.0
        for h in heights:
            cap = min(limit, rooms[min(len(pages) - 1, 1)])
            if pages[-1] and used + h > cap:
                pages.append(0)
                used = 0.0
            pages[-1] += 1
            used += h
        return pages

    natural = pack(math.inf)
    if len(natural) == 1:
        return natural
    low, high = max(heights), rooms[1]  # the least page height that still needs no more pages
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (low, mid) if len(pack(mid)) <= len(natural) else (mid, high)
    return pack(high)


def _docx_table(document, t: Table, available, above_pt: float = 0.0) -> None:
    """The appendix's table, in parts of table_pages() rows, each on a page of its own with the header."""
    widths = [Pt(w) for w in column_widths(t, available.pt)]
    parts = table_pages(t, [w.pt for w in widths], above_pt)
    at = 0
    for k, n in enumerate(parts):
        if k:  # a page break in a paragraph of 1 pt between the parts (two tables touching would merge)
            p = document.add_paragraph()
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            p.paragraph_format.line_spacing = Pt(1)
            p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(0)
            p.add_run().add_break(WD_BREAK.PAGE)
        _docx_table_part(document, t, t.rows[at : at + n], widths)
        at += n


def _docx_table_part(document, t: Table, rows: list, widths: list) -> None:
    table = document.add_table(rows=1, cols=len(t.headings))
    table.style = "Table Grid"
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width

    def row_flags(row, header: bool) -> None:
        tr_pr = row._tr.get_or_add_trPr()
        for tag in ("w:cantSplit", *(("w:tblHeader",) if header else ())):
            el = OxmlElement(tag)
            el.set(qn("w:val"), "true")
            tr_pr.append(el)

    def fill(cell, text: str, font: str, k: int, heading: bool) -> None:
        cell.width = widths[k]
        p = cell.paragraphs[0]
        p.paragraph_format.space_after = Pt(0)
        # the cell's line as high as its 9 pt text (not the default paragraph's 16 pt): fewer, fuller pages
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = Pt(TABLE_FONT_PT * 1.35)
        measure = MEASURE.search(text) if heading else None
        if measure and measure.end() == len(text) and cell_em(text) * TABLE_FONT_PT > widths[k].pt - 8:
            # a heading too long for its column breaks before its measure, never inside it (（万\n元）)
            run = p.add_run(text[: measure.start()])
            _set_font(run, font, TABLE_FONT_PT)
            run.add_break()
            text = measure.group()
        _set_font(p.add_run(text), font, TABLE_FONT_PT)
        if t.numeric[k] and not heading:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif heading:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    row_flags(table.rows[0], header=True)
    for k, (cell, h) in enumerate(zip(table.rows[0].cells, t.headings, strict=True)):
        fill(cell, h, "黑体", k, True)
    first = None
    for values in rows:
        if first is not None:
            # every row after the first is a copy of it with its own text: the XML python-docx would build,
            # without building each cell's properties one by one (0.59 → 0.23 s for the sample's Word file)
            tr = copy.deepcopy(first)
            for tc, value in zip(tr.tc_lst, values, strict=True):
                tc.p_lst[0].r_lst[-1].text = str(value)
            table._tbl.append(tr)
            continue
        row = table.add_row()
        row_flags(row, header=False)
        for k, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            fill(cell, str(value), "仿宋_GB2312", k, False)
        first = row._tr


FOOTER_DISTANCE_MM = 35 - 7 - 5  # the number's line 7 mm below the text block (its 5 mm line above that)
FOOTER_LINE_PT = 16.0  # the page number's line, exactly: 四号 (14 pt) with a little leading
MM_PT = 72 / 25.4


def _footer_page_number(p, side) -> None:
    """'— 1 —' as a PAGE field, on `side`, one character (14 pt) in from the edge of the text block."""
    p.alignment = side
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    p.paragraph_format.line_spacing = Pt(FOOTER_LINE_PT)
    if side == WD_ALIGN_PARAGRAPH.RIGHT:
        p.paragraph_format.right_indent = Pt(14)
    else:
        p.paragraph_format.left_indent = Pt(14)
    _set_font(p.add_run("— "), "Times New Roman", 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, None), ("end", None)):
        run = p.add_run()
        _set_font(run, "Times New Roman", 14)
        if kind:  # begin, the instruction, separate, a result Word and LibreOffice replace, end: each a run
            el = OxmlElement("w:fldChar")  # of its own with the 14 pt, or LibreOffice sets the number at 16
            el.set(qn("w:fldCharType"), kind)
        elif text:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        else:
            el = OxmlElement("w:t")
            el.text = "1"
        run._r.append(el)
    _set_font(p.add_run(" —"), "Times New Roman", 14)


def _turned_page_number(p, side) -> None:
    """The page number of a landscape page where an upright page has it (GB/T 9704 7.5): the upright
    page's footer turned a quarter with the sheet — its foot on the landscape page's left edge, its line read
    from top to bottom. A VML text box (Word's and LibreOffice's common ground: a floating table turned
    `tbRl` in the footer is not shown by LibreOffice 7.4) placed on the page, in the landscape section's
    footer, holding the same paragraph as the upright footer: the box spans the upright text block's width
    (28–184 mm from the top) and the upright footer line (FOOTER_DISTANCE_MM from the edge)."""
    left, width = FOOTER_DISTANCE_MM * MM_PT, FOOTER_LINE_PT
    top, height = 28 * MM_PT, 156 * MM_PT
    box = parse_xml(
        f'<w:r {nsdecls("w")} xmlns:v="urn:schemas-microsoft-com:vml"><w:pict>'
        f'<v:rect stroked="f" filled="f" style="position:absolute;margin-left:{left:.2f}pt;'
        f"margin-top:{top:.2f}pt;width:{width:.2f}pt;height:{height:.2f}pt;z-index:251659264;"
        'mso-position-horizontal-relative:page;mso-position-vertical-relative:page">'
        '<v:textbox style="layout-flow:vertical" inset="0,0,0,0"><w:txbxContent><w:p/></w:txbxContent>'
        "</v:textbox></v:rect></w:pict></w:r>"
    )
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY  # the box's anchor takes no room
    p.paragraph_format.line_spacing = Pt(1)
    p._p.append(box)
    _footer_page_number(Paragraph(box.find(".//" + qn("w:p")), p._parent), side)
