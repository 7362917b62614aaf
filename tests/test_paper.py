"""The 书面总结 read back from paper: the PDF's own character positions (pdfplumber, as
`pdftotext -bbox` gives them) checked against GB/T 9704-2012 — 28 characters a line on the 版心, no
letter-spaced line, 附件说明 and 附件 labels, page numbers of landscape pages where upright pages have
them, the 落款; and the Word file's grid."""

import dataclasses
import math
import re
import zipfile

import openpyxl
import pdfplumber
import pytest
from PIL import Image

from wennuan_lib.form import load_form
from wennuan_lib.publish import narrative, render, template

from . import sample_data as sample
from .conftest import require_programs

MM = 72 / 25.4
LEFT, RIGHT = 28.0, 210 - 26.0  # the 版心's edges, mm
PITCH = 156 / 28  # one character of the grid, mm
WIDE = re.compile("[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f“”]")


@pytest.fixture(scope="module")
def pdf(sample_run):
    _, paths, _, _ = sample_run
    with pdfplumber.open(paths.root / "report" / "书面总结.pdf") as document:
        yield document


def body_lines(page) -> list[list[dict]]:
    """The lines of 三号 (16 pt) text on an upright page, each as its characters from left to right."""
    chars = [
        c
        for c in page.chars
        if c["upright"]
        and 15.5 < c["size"] < 16.5
        and c["text"].strip()
        and 37 * MM - 2 < c["top"] < (297 - 35) * MM  # the 版心 (not the 草稿 mark above it)
    ]
    lines: dict[int, list[dict]] = {}
    for c in chars:
        lines.setdefault(round(c["top"]), []).append(c)
    return [sorted(cs, key=lambda c: c["x0"]) for _, cs in sorted(lines.items())]


def upright_pages(pdf):
    return [p for p in pdf.pages if p.width < p.height]


def text_of(line) -> str:
    return "".join(c["text"] for c in line)


def test_body_lines_hold_28_characters_on_the_type_area(pdf):
    full = []
    for page in upright_pages(pdf):
        for line in body_lines(page):
            start, end = line[0]["x0"] / MM, line[-1]["x1"] / MM
            assert end <= RIGHT + 0.1, (
                f"第{page.page_number}页一行超出版心右边（{end:.1f} mm）：{text_of(line)}"
            )
            if end > RIGHT - 1:
                full.append((page.page_number, start, end, line))
    assert len(full) > 40
    for number, start, end, line in full:
        # a full line starts at the 版心's left edge, or two characters in (a paragraph's first line)
        assert min(abs(start - LEFT), abs(start - LEFT - 2 * PITCH)) <= 1, (number, start, text_of(line))
        assert abs(end - RIGHT) <= 1, (number, end, text_of(line))
    # 28 characters a line: consecutive characters of a full line stand one pitch (156/28 mm) apart, as a
    # rule; a line that holds fewer (one before a figure kept with its measure, or before a closing mark that
    # may not begin the next line) is spread by less than half a character (the next test)
    advances = sorted(
        (b["x0"] - a["x0"]) * 25.4 / 72
        for _, _, _, line in full
        if all(WIDE.match(c["text"]) for c in line)
        for a, b in zip(line, line[1:])
    )
    assert len(advances) > 200 and abs(advances[len(advances) // 2] - PITCH) < 0.05, advances[
        len(advances) // 2
    ]
    chinese = [
        len(line) + (2 if abs(start - LEFT - 2 * PITCH) < 1 else 0)
        for _, start, _, line in full
        if all(WIDE.match(c["text"]) for c in line)
    ]
    assert len(chinese) > 10 and sum(n == 28 for n in chinese) >= 0.6 * len(chinese), chinese


def test_no_line_is_spread_wider_than_half_a_character(pdf):
    worst = (0.0, "")
    for page in upright_pages(pdf):
        for line in body_lines(page):
            for a, b in zip(line, line[1:]):
                gap = b["x0"] - a["x1"]
                if gap > worst[0]:
                    worst = (gap, text_of(line))
    assert worst[0] <= 0.5 * 16, f"字间距 {worst[0]:.1f} pt：{worst[1]}"


def test_attachment_note_after_the_body_and_labels_on_the_appendix_pages(pdf):
    pages = upright_pages(pdf)
    last = pages[-1]
    lines = [(line[0]["x0"] / MM, text_of(line)) for line in body_lines(last)]
    texts = [t for _, t in lines]
    first = next(k for k, t in enumerate(texts) if t.startswith("附件："))
    assert texts[first] == "附件：1.全市送温暖活动统计汇总表"
    assert abs(lines[first][0] - LEFT - 2 * PITCH) < 1  # two characters in
    names = texts[first : first + 3]
    assert [re.match(r"(附件：)?(\d)\.", t).group(2) for t in names] == ["1", "2", "3"]
    assert all(not re.search(r"[。，；、]$", t) for t in names)  # no punctuation after a name
    assert abs(lines[first + 1][0] - (LEFT + 5 * PITCH)) < 1  # later names under the first
    sender, date = lines[first + 3], lines[first + 4]  # the 落款 after the 附件说明
    assert sender[1] == "苏州市总工会" and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", date[1])
    date_line = body_lines(last)[first + 4]
    sign_line = body_lines(last)[first + 3]
    # the date's first character two characters right of the signature's first, or (a longer date) the date
    # ending two characters in from the right
    moved = abs(date_line[0]["x0"] - sign_line[0]["x0"] - 2 * PITCH * MM) < MM
    ends_in = abs(date_line[-1]["x1"] / MM - (RIGHT - 2 * PITCH)) < 1
    assert moved and (ends_in or abs(sign_line[-1]["x1"] / MM - (RIGHT - 2 * PITCH)) < 1)
    appendix = [p for p in pdf.pages if p.width > p.height]
    assert appendix
    labels = [
        text_of(
            sorted(
                [c for c in p.chars if 25 * MM < c["top"] < 40 * MM and c["size"] > 15], key=lambda c: c["x0"]
            )
        )
        for p in appendix
    ]
    assert labels[0] == "附件1" and any("附件2" in x for x in labels) and any("附件3" in x for x in labels)
    assert all("附表" not in p.extract_text() for p in pdf.pages)


def test_landscape_pages_keep_the_page_number_where_upright_pages_have_it(pdf):
    upright = {}
    for page in pdf.pages:
        digits = [c for c in page.chars if c["text"].isdigit() and page.height - c["top"] < 35 * MM]
        if page.width < page.height and digits:
            upright[page.page_number % 2] = (min(c["x0"] for c in digits), max(c["x1"] for c in digits))
    assert set(upright) == {0, 1}
    landscape = [p for p in pdf.pages if p.width > p.height]
    assert len(landscape) >= 2
    for page in landscape:
        number = [c for c in page.chars if not c["upright"]]
        assert "".join(c["text"] for c in number if c["text"].strip()) == f"—{page.page_number}—"
        # the sheet turned a quarter: the upright page's foot is the landscape page's left edge, its x the
        # landscape page's y; the number's band 7 mm outside the text block
        top, bottom = min(c["top"] for c in number) / MM, max(c["bottom"] for c in number) / MM
        assert max(c["x1"] for c in number) / MM < 35 - 6
        if page.page_number % 2:  # odd: right-aligned one character in, as on an upright odd page
            assert abs(bottom - (RIGHT - 14 / MM)) < 1.5, bottom
        else:
            assert abs(top - (LEFT + 14 / MM)) < 1.5, top


def test_word_file_sets_22_lines_of_28_characters_and_no_invisible_characters(sample_run):
    _, paths, _, _ = sample_run
    with zipfile.ZipFile(paths.root / "report" / "书面总结.docx") as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "\u2060" not in xml  # searching or copying 万元 finds it
    assert "万元" in re.sub(r"<[^>]+>", "", xml)
    grid = re.search(r'<w:docGrid [^>]*w:type="lines"[^>]*/>', xml)
    assert grid, "正文节没有行网格"
    pitch = int(re.search(r'w:linePitch="(\d+)"', grid.group()).group(1)) / 20
    assert int(225 * MM / pitch) == 22
    # every 16 pt run of the body is tracked so that 28 characters fill the 156 mm line and 29 do not
    body_runs = re.findall(r"<w:rPr>((?:(?!</w:rPr>).)*<w:sz w:val=\"32\"/>(?:(?!</w:rPr>).)*)</w:rPr>", xml)
    assert body_runs
    tracking = {re.search(r'<w:spacing w:val="(-?\d+)"/>', r).group(1) for r in body_runs}
    assert len(tracking) == 1
    advance = 16 + int(tracking.pop()) / 20
    assert 28 * advance <= 156 * MM < 29 * advance


@pytest.fixture(scope="module")
def word_pdf(sample_run, tmp_path_factory):
    """The Word file as LibreOffice prints it (one conversion for the tests that read it)."""
    require_programs("soffice", "pdfinfo", "pdftotext")
    _, paths, _, _ = sample_run
    out = tmp_path_factory.mktemp("word") / "书面总结.pdf"
    assert sample.convert_with_libreoffice(paths.root / "report" / "书面总结.docx", out, "pdf")
    with pdfplumber.open(out) as document:
        yield document


def test_the_summary_forms_notes_keep_the_form_printed_at_its_size(sample_run, tmp_path):
    """The 汇总统计表 is printed one page wide: its notes (which totals leave units out, and why) wrap within
    the form's width, so the form prints at the size of the form alone — not shrunk to fit a note's long
    line, as it was (its title 8.0 pt for 10.6) — and every note is printed whole."""
    require_programs("soffice")
    _, paths, _, _ = sample_run
    made = paths.root / "report" / "汇总统计表.xlsx"
    alone = tmp_path / "alone.xlsx"
    alone.write_bytes(template.workbook_bytes(template.build(load_form(2013))))
    pdfs = [tmp_path / "made.pdf", tmp_path / "alone.pdf"]
    assert all(sample.convert_many([(made, pdfs[0], "pdf"), (alone, pdfs[1], "pdf")]))
    sheet = openpyxl.load_workbook(made).active
    notes = [
        c.value for c in sheet["A"] if isinstance(c.value, str) and re.match(r"注\d+：|\s{4}\S", c.value)
    ]
    assert len(notes) > 5 and any("\n" in n for n in notes)
    sizes = []
    for path in pdfs:
        with pdfplumber.open(path) as document:
            sizes.append(max(c["size"] for c in document.pages[0].chars if c["text"] == "温"))  # the title's
            printed = re.sub(r"\s", "", "".join(page.extract_text() for page in document.pages))
        if path == pdfs[0]:
            assert all(re.sub(r"\s", "", n) in printed for n in notes)
    assert abs(sizes[0] - sizes[1]) < 0.05, sizes


def test_word_landscape_pages_keep_the_page_number_where_upright_pages_have_it(word_pdf):
    """Turned with the sheet: an upright page's foot is the landscape page's left edge, so the number's
    digits stand where the upright page of the same parity has them — its x the landscape page's y, its
    distance from the foot the distance from the left edge (within 2 mm)."""
    upright = {}
    for page in word_pdf.pages:
        digits = [c for c in page.chars if c["text"].isdigit() and page.height - c["top"] < 35 * MM]
        if page.width < page.height and digits:
            upright[page.page_number % 2] = [
                min(c["x0"] for c in digits) / MM,
                max(c["x1"] for c in digits) / MM,
                297 - max(c["bottom"] for c in digits) / MM,
                297 - min(c["top"] for c in digits) / MM,
            ]
    assert set(upright) == {0, 1}
    landscape = [p for p in word_pdf.pages if p.width > p.height]
    assert len(landscape) >= 3
    for page in landscape:
        number = [c for c in page.chars if not c["upright"] and c["text"].strip()]
        assert "".join(c["text"] for c in number) == f"—{page.page_number}—", f"第{page.page_number}页"
        digits = [c for c in number if c["text"].isdigit()]
        turned = [
            min(c["top"] for c in digits) / MM,
            max(c["bottom"] for c in digits) / MM,
            min(c["x0"] for c in digits) / MM,
            max(c["x1"] for c in digits) / MM,
        ]
        want = upright[page.page_number % 2]
        assert all(abs(a - b) < 2 for a, b in zip(turned, want, strict=True)), (
            page.page_number,
            turned,
            want,
        )
        # and nothing of it at the landscape page's foot
        assert not [c for c in page.chars if c["upright"] and c["text"].isdigit() and c["top"] > 190 * MM]


def test_word_appendices_have_no_near_empty_page(word_pdf):
    """An appendix of more than a page spreads its rows over its pages: none holds less than a third of a
    page of rows (no 23 rows and then a page of 7), and every page starts with the header row."""
    appendices: dict[str, list] = {}
    for page in (p for p in word_pdf.pages if p.width > p.height):
        label = re.search(r"附件\s*(\d)", page.extract_text()[:20])
        if label:
            appendices[label.group(1)] = []
        rules = sorted({round(e["top"] / MM, 1) for e in page.edges if e["orientation"] == "h"})
        flat = page.filter(lambda o: o.get("upright", True))  # not the turned page number
        lines = [x["text"] for x in flat.extract_text_lines() if x["top"] > rules[0] * MM - 2]
        appendices[list(appendices)[-1]].append((len(rules) - 2, rules[-1] - rules[0], lines[0]))
    assert list(appendices) == ["1", "2", "3"]
    for label, pages in appendices.items():
        assert all(line.startswith(("代码", "单位")) for _, _, line in pages), (label, pages)
        if len(pages) > 1:
            assert all(height >= 156 / 3 for _, height, _ in pages), (f"附件{label}", pages)
            assert min(n for n, _, _ in pages) >= max(n for n, _, _ in pages) / 3, (f"附件{label}", pages)


@pytest.mark.parametrize("units", [5, 30, 33, 70, 200])
def test_appendix_rows_are_spread_evenly_over_the_fewest_pages(units):
    """Without LibreOffice: every row once, in order; one part when they fit a page; else as many parts as
    the rows need, none under a third of the fullest."""
    t = render.Table(
        "各单位主要数据",
        ["单位", "类型", "筹集慰问款物总额（万元）"],
        [[f"第{k}个单位工会", "直属", f"{k}.00"] for k in range(units)],
        [False, False, True],
        "注" * 120,
        nowrap=[False, True, False],
    )
    widths = render.column_widths(t, (297 - 37 - 35) * MM)
    parts = render.table_pages(t, widths, render.title_block_pt(t))
    assert sum(parts) == units and all(n > 0 for n in parts)
    page = render.PAGE_SAFETY * render.LANDSCAPE_TEXT_PT
    row = render.row_height_pt(t.rows[0], widths)
    assert parts == [5] if units == 5 else len(parts) > 1  # 30 rows and the title do not fit a page
    assert min(parts) >= max(parts) / 3
    assert len(parts) <= 1 + math.ceil(units * row / (page - 2 * row))


def test_every_chart_text_is_at_least_9_pt_as_printed(pdf, sample_run):
    """From each chart's own size and smallest font (written in its PNG) and the width it is printed at."""
    _, paths, _, _ = sample_run
    drawn = {}
    for png in (paths.root / "report" / "charts").glob("*.png"):
        with Image.open(png) as im:
            dpi = im.info.get("dpi", (200, 200))[0]
            drawn[im.size] = (png.stem, im.size[0] / dpi * 25.4, float(im.text["MinFontPt"]))
    placed = [(im, p.page_number) for p in pdf.pages for im in p.images]
    assert len(placed) == len(drawn) == 5
    for im, number in placed:
        name, width_mm, smallest = drawn[tuple(int(x) for x in im["srcsize"])]
        printed = (im["x1"] - im["x0"]) / MM
        assert printed <= 156 + 0.5, (name, printed)
        assert smallest * printed / width_mm >= 9, (name, number, smallest, printed, width_mm)


def test_a_quotation_closes_its_sentence(pdf):
    assert narrative.quoted("甲工会", "我们深入班组宣讲") == "甲工会在书面总结中写道：“我们深入班组宣讲”。"
    assert narrative.quoted("甲工会", "效果显著。") == "甲工会在书面总结中写道：“效果显著。”"
    text = "".join(text_of(line) for page in upright_pages(pdf) for line in body_lines(page))
    quotes = re.findall(r"写道：“[^”]*”.?", text)
    assert quotes and all(q.endswith(("”。", "。”")) for q in quotes), quotes


@pytest.fixture(scope="module")
def laid_out(sample_run, tmp_path_factory):
    """The 2013 sample's report as step 04 hands it to the PDF (step 04 by hand on a copy, no PDF made)."""
    import shutil

    from tests.conftest import Year

    _, year, _, _ = sample_run
    root = tmp_path_factory.mktemp("joined")
    shutil.copytree(year.inputs, root / "inputs")
    shutil.copytree(year.outputs, root / "outputs", symlinks=True)
    shutil.rmtree(root / "outputs" / "2013" / "cache" / "report_formats")  # made, not taken from the cache
    made = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render, "pdf_bytes", lambda report: made.append(report) or b"%PDF-")
        mp.setenv("WENNUAN_SERIAL", "1")  # made here, where the report can be caught
        Year(root / "inputs", root / "outputs", 2013).report()
    return made[0]


def _pages(data: bytes, tmp_path) -> list[tuple[bool, str]]:
    """Each page: whether it is landscape, and its text as poppler lays it out."""
    import subprocess

    require_programs("pdfinfo", "pdftotext")

    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", pages, path], capture_output=True, text=True).stdout
    wide = [
        float(w) > float(h) for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", sizes, re.M)
    ]
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True).stdout
    return list(zip(wide, text.split("\f")[: len(wide)], strict=True))


@pytest.mark.parametrize("extra_page", [False, True])
def test_the_joined_pdf_is_the_whole_document_laid_out_at_once(laid_out, extra_page, monkeypatch, tmp_path):
    """The PDF puts the appendices' own layout after the body's pages (the body is laid out once): its pages
    are those of the whole report laid out as one document — the same text on every page, the same page
    numbers on the same sides, after a body of an even and of an odd number of pages."""
    import weasyprint

    from wennuan_lib.publish import cjk_justify

    report, pages = _other_parity(laid_out) if extra_page else (laid_out, None)
    settled, real = [], render.settled_body
    monkeypatch.setattr(render, "settled_body", lambda *a: settled.append(real(*a)) or settled[-1])
    joined = render.pdf_bytes(report)
    body, placement, keep = settled[-1]
    assert pages is None or (len(body.pages) - pages) % 2 == 1  # the case it is made for: the other side
    with cjk_justify.inter_character():
        whole = weasyprint.HTML(
            string=render.to_html(report, True, placement, keep=keep), base_url=str(render.TEMPLATES)
        ).write_pdf()
    got, want = _pages(joined, tmp_path), _pages(whole, tmp_path)
    assert len(got) > len(body.pages) > 1 and got[len(body.pages)][0]  # the appendices: landscape, after it
    assert got == want


def _other_parity(report):
    """The report with an analyst's paragraph added at the end of its body, long enough that the body has an
    odd number of pages more (so the appendices start on a page of the other side); and the number of pages
    of its body before. Each length tried is laid out once, as the body was placed (the paragraph comes after
    every figure); the test checks the settled body's parity."""
    from wennuan_lib.publish import cjk_justify

    body, placement, keep = render.settled_body(report)
    lay_out = render.Layouts()
    for lines in range(22, 22 * 6, 11):
        text = "示例数据：为检验分页而加的段落。" * (lines * 28 // 16)
        last = report.narrative.sections[-1]
        longer = dataclasses.replace(last, blocks=[*last.blocks, narrative.Block("para", text, "analyst")])
        sections = [*report.narrative.sections[:-1], longer]
        changed = dataclasses.replace(
            report, narrative=dataclasses.replace(report.narrative, sections=sections)
        )
        html = render.to_html(changed, True, placement, body_only=True, keep=keep)
        with cjk_justify.inter_character():
            if (len(lay_out(html).pages) - len(body.pages)) % 2:
                return changed, len(body.pages)
    raise AssertionError("no added text changed the body's parity")


def test_figures_are_numbered_in_the_order_the_pdf_shows_them(pdf):
    """A figure moved before the one it followed (to leave no gap) takes the lower number: captions read
    图1, 图2, … from the first page to the last."""
    numbers = [
        int(m.group(1))
        for page in pdf.pages
        for m in re.finditer(r"图(\d+)\s", page.extract_text() or "")
        if page.width < page.height
    ]
    assert len(numbers) >= 4 and numbers == list(range(1, len(numbers) + 1)), numbers


def test_weasyprint_loads_the_same_libraries_without_find_library_and_again_with_it_when_that_fails(tmp_path):
    """load_weasyprint answers ctypes' find_library itself during the import (the system's loader opens each
    library by its Linux name): the same libraries are loaded as by a plain import, find_library is the
    system's again afterwards, and an import that fails that way is made again as WeasyPrint makes it."""
    script = r"""
import builtins, ctypes.util, json, sys
real = ctypes.util.find_library
mode = sys.argv[1]
if mode == "fails_once":  # the first import fails as it would where the loader finds no library by its name
    tries = []
    plain_import = builtins.__import__
    def failing(name, *args, **kwargs):
        if name == "weasyprint" and not tries:
            tries.append(name)
            raise OSError("cannot load library 'libpango-1.0.so.0'")
        return plain_import(name, *args, **kwargs)
    builtins.__import__ = failing
from wennuan_lib.publish import render  # does not import WeasyPrint
if mode == "plain":
    import weasyprint
else:
    render.load_weasyprint()
libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if ".so" in line})
print(json.dumps({"libs": libs, "restored": ctypes.util.find_library is real,
                  "pango": "weasyprint.text.ffi" in sys.modules}))
"""
    import json
    import subprocess
    import sys

    got = {}
    for mode in ("plain", "helper", "fails_once"):
        out = subprocess.run(
            [sys.executable, "-c", script, mode], capture_output=True, text=True, cwd=tmp_path
        )
        assert out.returncode == 0, out.stderr
        got[mode] = json.loads(out.stdout.splitlines()[-1])
    assert any("libpango-1.0.so" in lib for lib in got["plain"]["libs"])
    assert got["helper"]["libs"] == got["plain"]["libs"] == got["fails_once"]["libs"]
    assert got["helper"]["restored"] and got["fails_once"]["restored"]
    assert got["fails_once"]["pango"]


@pytest.mark.parametrize("moved_white", [250.0, 90.0])
def test_a_placement_that_comes_round_again_is_not_laid_out_again(monkeypatch, moved_white):
    """A figure moved before its paragraph still leaves a gap, so it is made smaller instead (back in its
    place), where it leaves one again, so it is moved … : each placement is laid out once, and the one of the
    cycle that leaves the least white at the page's end is the PDF's (it kept laying out until its passes ran
    out, and took whichever it stopped at). Only the last layout is kept: another is laid out again."""
    from types import SimpleNamespace

    from wennuan_lib.publish.charts import LEGIBLE_PT

    blocks = [narrative.Block("para", "示例数据"), narrative.Block("chart", chart="a")]
    report = SimpleNamespace(
        charts={"a": SimpleNamespace(min_pt=LEGIBLE_PT / 0.82)},  # it may shrink to 82% of its height
        narrative=SimpleNamespace(sections=[SimpleNamespace(blocks=blocks)]),
    )
    moved, smaller = "{'a': ('advance', 1)}", "{'a': ('shrink', 264.0)}"
    gaps = {  # what each placement leaves (the chart, the space left, the figure's height, its picture's)
        "{}": [("a", 100.0, 300.0, 280.0)],  # too far to shrink, nothing to move past: before its paragraph
        moved: [("a", moved_white, moved_white + 14, 280.0)],  # small enough to shrink now: in its place
        smaller: [("a", 100.0, 300.0, 264.0)],  # there the gap is as before: moved again
    }
    laid = []
    monkeypatch.setattr(render, "to_html", lambda report, _print, placement, **kw: repr(placement))
    monkeypatch.setattr(render, "_figure_gaps", lambda document: gaps[document])
    body, placement, _ = render.settled_body(report, lambda html: laid.append(html) or html)
    best = smaller if moved_white > 100 else moved
    assert laid == list(gaps) + ([best] if best != smaller else [])  # once each, the least white again
    assert repr(placement) == body == best
