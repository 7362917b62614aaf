"""The 书面总结 in three formats: self-contained HTML, PDF in the GB/T 9704-2012 layout, and Word."""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
from dataclasses import dataclass

import jinja2

from . import catalog, config
from .charts import Chart
from .narrative import TOKEN, Narrative

TEMPLATES = config.PACKAGE_DIR / "templates"
DRAFT_LIST_MAX = 30


@dataclass
class Table:
    title: str
    headings: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    note: str = ""


@dataclass
class Report:
    narrative: Narrative
    charts: dict[str, Chart]
    tables: list[Table]
    tips: dict[str, str]  # token key -> what the figure adds up
    draft_items: list[str]  # unresolved problems; empty when final
    sample: bool

    @property
    def draft(self) -> bool:
        return bool(self.draft_items)


def chart_numbers(report: Report) -> dict[str, int]:
    order = [b.chart for s in report.narrative.sections for b in s.blocks if b.kind == "chart" and b.chart in report.charts]
    return {name: i for i, name in enumerate(order, 1)}


def _html_text(text: str, tips: dict[str, str], hover: bool) -> str:
    out, pos = [], 0
    for m in TOKEN.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        shown = html.escape(m.group(2))
        if hover:
            out.append(f'<span class="fig" title="{html.escape(tips.get(m.group(1), ""), quote=True)}">{shown}</span>')
        else:
            out.append(shown)
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def to_html(report: Report, for_print: bool = False) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False)
    numbers = chart_numbers(report)
    charts = {name: {"src": "data:image/png;base64," + base64.b64encode(c.path.read_bytes()).decode("ascii"),
                     "title": html.escape(c.title), "number": numbers.get(name, 0)} for name, c in report.charts.items()}
    sections = [{"title": html.escape(s.title),
                 "blocks": [{"kind": b.kind, "chart": b.chart, "html": _html_text(b.text, report.tips, not for_print)}
                            for b in s.blocks]} for s in report.narrative.sections]
    tables = [{"title": html.escape(t.title), "note": html.escape(t.note), "headings": [html.escape(h) for h in t.headings],
               "rows": [[html.escape(str(c)) for c in row] for row in t.rows], "numeric": t.numeric}
              for t in report.tables]
    n = report.narrative
    return env.get_template("report.html.j2").render(
        print=for_print, title=html.escape(n.title), recipient=html.escape(n.recipient), sender=html.escape(n.sender),
        date=html.escape(n.date), sections=sections, charts=charts, tables=tables, draft=report.draft,
        draft_items=[html.escape(x) for x in report.draft_items[:DRAFT_LIST_MAX]],
        draft_more=max(0, len(report.draft_items) - DRAFT_LIST_MAX), sample=report.sample)


def pdf_bytes(report: Report) -> bytes:
    import weasyprint  # about half a second to import: only in the process that makes the PDF

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=to_html(report, for_print=True), base_url=str(TEMPLATES)).write_pdf()


def docx_bytes(report: Report) -> bytes:
    """An editable Word version: same text, tables and charts; GB/T 9704 page and fonts by name."""
    import io

    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm, Pt, RGBColor

    document = docx.Document()

    def set_font(run, name: str, size: float, bold: bool = False, colour: RGBColor | None = None):
        run.font.name = name
        run.font.size = Pt(size)
        run.font.bold = bold
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
        if colour is not None:
            run.font.color.rgb = colour

    def para(text: str, font: str = "仿宋_GB2312", size: float = 16, indent: bool = True, align=None,
             bold: bool = False, colour: RGBColor | None = None, shade: str | None = None):
        p = document.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28.9 if size >= 16 else 18)
        fmt.space_after = fmt.space_before = Pt(0)
        if indent:
            fmt.first_line_indent = Pt(size * 2)
        if align is not None:
            p.alignment = align
        set_font(p.add_run(text), font, size, bold, colour)
        if shade:
            ppr = p._p.get_or_add_pPr()
            shd = OxmlElement("w:shd")
            shd.set(qn("w:val"), "clear")
            shd.set(qn("w:fill"), shade)
            ppr.append(shd)
        return p

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _footer_page_number(section, set_font)
    if report.draft:
        hp = section.header.paragraphs[0]
        hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        set_font(hp.add_run("草稿"), "黑体", 16, colour=RGBColor(0xC0, 0, 0))
        para("草稿：以下问题尚未解决（未更正、未豁免），本总结不能作为定稿报送", "黑体", 12, False,
             colour=RGBColor(0xC0, 0, 0))
        for k, item in enumerate(report.draft_items[:DRAFT_LIST_MAX], 1):
            para(f"{k}. {item}", "仿宋_GB2312", 10.5, False)
        if len(report.draft_items) > DRAFT_LIST_MAX:
            para(f"……另有 {len(report.draft_items) - DRAFT_LIST_MAX} 条，详见 {catalog.file_name('issues')}。", "仿宋_GB2312", 10.5, False)
    n = report.narrative
    if report.sample:
        para("（示例数据：本报告由合成数据生成，仅供演示）", "仿宋_GB2312", 12, False, WD_ALIGN_PARAGRAPH.CENTER)
    para(n.title, "方正小标宋简体", 22, False, WD_ALIGN_PARAGRAPH.CENTER)
    if n.recipient:
        para(f"{n.recipient}：", indent=False)
    numbers = chart_numbers(report)
    for s in n.sections:
        para(s.title, "黑体")
        for b in s.blocks:
            text = n.plain(b.text)
            if b.kind == "heading":
                para(text, "楷体_GB2312")
            elif b.kind == "chart":
                chart = report.charts.get(b.chart)
                if chart:
                    document.add_picture(str(chart.path), width=Cm(15.6) if chart.name not in (
                        "funds_by_unit", "households_by_unit") else Cm(13))
                    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
                    para(f"图{numbers[b.chart]}　{chart.title}", size=12, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
            elif b.kind == "quote":
                para(text, "楷体_GB2312")
            elif b.kind in ("gap", "error"):
                para(text, shade="FFF3B0" if b.kind == "gap" else "F8D0D0")
            else:
                para(text)
    para(n.sender, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(n.date, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    for t in report.tables:
        sec = document.add_section()
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
        sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(28), Mm(26), Mm(37), Mm(35)
        para(t.title, "黑体", 14, False)
        if t.note:
            para(t.note, size=10, indent=False)
        table = document.add_table(rows=1, cols=len(t.headings))
        table.style = "Table Grid"
        for cell, h in zip(table.rows[0].cells, t.headings, strict=True):
            cell.text = ""
            set_font(cell.paragraphs[0].add_run(h), "黑体", 9)
        for row in t.rows:
            cells = table.add_row().cells
            for k, (cell, value) in enumerate(zip(cells, row, strict=True)):
                cell.text = ""
                set_font(cell.paragraphs[0].add_run(str(value)), "仿宋_GB2312", 9)
                if t.numeric[k]:
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    cp = document.core_properties
    cp.title, cp.author = n.title, n.sender
    cp.created = cp.modified = cp.last_printed = dt.datetime(2000, 1, 1)
    cp.last_modified_by = n.sender
    cp.revision = 1
    buf = io.BytesIO()
    document.save(buf)
    from .template import normalize_zip

    return normalize_zip(buf.getvalue())  # equal content, equal bytes


def _footer_page_number(section, set_font) -> None:
    """'— 1 —' centred in the footer, as a PAGE field."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(p.add_run("— "), "Times New Roman", 14)
    run = p.add_run()
    set_font(run, "Times New Roman", 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    set_font(p.add_run(" —"), "Times New Roman", 14)
