"""The city-wide 书面总结: totals, summary form, narrative, charts, HTML/PDF/Word, draft or final."""

import re
import warnings
from decimal import ROUND_HALF_UP, Decimal

import docx
import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.store import write_csv
from wennuan_lib.check import aggregate
from wennuan_lib.check.rules import open_errors
from wennuan_lib.form import load_form
from wennuan_lib.publish import appendix, charts, narrative, template
from wennuan_lib.read.units import Registry

from .conftest import Frames, Year

MM = 72 / 25.4


def test_run_writes_totals_summary_form_detail_and_three_formats(sample_run):
    _, paths, _, _ = sample_run
    folder = paths.root / "report"
    for name in ("汇总统计表.xlsx", "分单位明细表.xlsx", "书面总结.html", "书面总结.pdf", "书面总结.docx"):
        assert (folder / name).stat().st_size > 1000, name
    totals = paths.load("totals")
    assert {"item", "value", "市、区", "局(公司)", "直属", "units_reported", "units_missing"} <= set(
        totals.columns
    )


def test_totals_add_up_the_values_in_force_and_subtotals_add_up_to_totals(sample_run, form):
    _, paths, frames, _ = sample_run
    totals = paths.load("totals").set_index("item")
    values = frames["values"]
    counted = values[values["registered"]]
    units = {u: dict(zip(g["item"], g["value"], strict=True)) for u, g in counted.groupby("unit")}
    within, pair = aggregate.wholes(form), aggregate.pairs(form)

    def counted_in(f: dict, code: str) -> bool:
        """A 其中 with its whole; one of a pair with its other half, both zero or both positive."""
        if not f.get(code) or (code in within and not f[within[code]]):
            return False
        return (
            code not in pair or bool(f[pair[code]]) and (Decimal(f[code]) > 0) == (Decimal(f[pair[code]]) > 0)
        )

    for code in form.codes:
        counts = [f for f in units.values() if counted_in(f, code)]
        mine = [Decimal(f[code]) for f in counts]
        assert Decimal(totals.loc[code, "value"]) == sum(mine, Decimal(0)), code
        parts = [Decimal(totals.loc[code, t]) for t in ("市、区", "局(公司)", "直属") if totals.loc[code, t]]
        assert sum(parts, Decimal(0)) == Decimal(totals.loc[code, "value"]), code
        n = (counted["item"] == code).sum()
        assert int(totals.loc[code, "units_reported"]) + int(totals.loc[code, "units_missing"]) == n
    both = [f for f in units.values() if f.get("05A.1") and f.get("05.1")]  # a share: units with both parts
    share = sum(Decimal(f["05A.1"]) for f in both) / sum(Decimal(f["05.1"]) for f in both) * 100
    assert Decimal(totals.loc["share_05A.1", "value"]) == share.quantize(Decimal("0.1"))
    assert int(totals.loc["share_05A.1", "units_reported"]) == len(both)


def test_every_figure_in_the_prose_matches_totals_csv(sample_run, form):
    _, paths, frames, _ = sample_run
    style = form.policy.report.numbers
    totals = paths.load("totals")
    rows = {r["item"]: r for r in totals.to_dict("records")}
    text = frames["report"]["report"].narrative
    seen = 0
    for section in text.sections:
        for block in section.blocks:
            if block.source != "generated":
                continue
            for key, shown in narrative.tokens(block.text):
                base, _, part = key.partition("#")
                row = rows[base]
                if part == "change":
                    assert shown == f"{abs(Decimal(row['change_pct'])):.1f}%", key
                elif part:
                    assert shown == str(row["units_reported" if part == "units" else "units_comparable"]), key
                else:
                    assert shown == narrative.number_text(Decimal(row["value"]), row["measure"], style), key
                    after = narrative.TOKEN.sub(
                        lambda m: m.group(2), block.text.split(f"\ue001{shown}\ue002", 1)[1]
                    )
                    if row["kind"] in ("item", "derived") and row["basis"]:  # leaves out units: says which
                        assert after.removeprefix("以上").startswith("（"), (key, after[:30])
                seen += 1
            bare = narrative.TOKEN.sub("", block.text).replace(str(paths.year), "")
            assert not re.search(r"\d", bare), bare  # no number typed into a template
    assert seen > 80
    html = (paths.root / "report" / "书面总结.html").read_text(encoding="utf-8")
    assert len(re.findall(r'class="fig( suspect)?" title="', html)) >= seen
    assert 'title="05.1 筹集慰问款物总额：' in html and "个单位合计" in html


def test_every_yoy_in_the_prose_is_on_the_comparable_basis_and_says_so(sample_years):
    """Recomputed independently from both years' values.csv: each 同比 the text states compares the units
    that filled the item in both years, and the sentence says 按可比口径（两年均填报的N个单位） when they are
    fewer than either year's."""
    results, _, _ = sample_years
    t12 = results[2012][1].load("totals").set_index("item")
    t13 = results[2013][1].load("totals").set_index("item")
    v12, v13 = (Frames(results[y][1])["values"] for y in (2012, 2013))

    def filled(v, code):
        v = v[v["registered"] & (v["item"] == code)]
        return {u: Decimal(x) for u, x in zip(v["unit"], v["value"], strict=True) if x}

    text = Frames(results[2013][1])["report"]["report"].narrative
    prose = "".join(b.text for b in text.blocks if b.source == "generated")
    plain = narrative.TOKEN.sub(lambda m: m.group(2), prose)
    stated = [k.removesuffix("#change") for k, _ in narrative.tokens(prose) if k.endswith("#change")]
    assert "05.1" in stated and len(stated) >= 4
    for code in stated:
        now, then = filled(v13, code), filled(v12, code)
        both = set(now) & set(then)  # 可比口径: the units that filled it in both years
        a, b = sum((now[u] for u in both), Decimal(0)), sum((then[u] for u in both), Decimal(0))
        change = ((a - b) / b * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert Decimal(t13.loc[code, "change_pct"]) == change, code
        assert int(t13.loc[code, "units_comparable"]) == len(both), code
        assert Decimal(t12.loc[code, "value"]) == Decimal(t13.loc[code, "previous"]), code
        word = f"同比{'增长' if change > 0 else '下降'}{abs(change):.1f}%"
        basis = f"按可比口径（两年均填报的{len(both)}个单位）计算，"
        assert (basis + word in plain) == (len(both) < max(len(now), len(then))), code
        assert word in plain, code
    # 2012's 园区 (or another unit) left 05.1 blank: the text says so for 05.1
    assert len(filled(v12, "05.1")) < len(filled(v13, "05.1")) or "按可比口径" in plain


def test_one_count_of_units_in_the_text_the_totals_and_appendix_3(sample_run):
    _, paths, frames, _ = sample_run
    totals = paths.load("totals").set_index("item")
    status = paths.load("reporting_status")
    states = status.loc[status["registered"], "form"].value_counts()
    n = {k: int(totals.loc[k, "value"]) for k in ("units_sent", "units_unreadable", "units_not_reported")}
    assert int(totals.loc["units_reported", "value"]) == states.get("reported", 0)
    assert n["units_unreadable"] == states.get("unreadable", 0) >= 1
    assert n["units_not_reported"] == states.get("missing", 0) >= 1
    assert n["units_sent"] == states.get("reported", 0) + states.get("unreadable", 0)
    plain = narrative.TOKEN.sub(lambda m: m.group(2), frames["report"]["report"].narrative.blocks[0].text)
    said = f"已报送统计表{n['units_sent']}个（其中{n['units_unreadable']}个无法读取，未计入汇总），"
    assert said + f"未报{n['units_not_reported']}个" in plain


def test_summary_form_round_trips_through_ingest(sample_run, tmp_path, form):
    _, paths, _, _ = sample_run
    inbox = tmp_path / "inputs" / str(paths.year) / "submissions"
    inbox.mkdir(parents=True)
    (inbox / "汇总统计表.xlsx").write_bytes((paths.root / "report" / "汇总统计表.xlsx").read_bytes())
    (tmp_path / "inputs" / "units.csv").write_bytes(paths.registry.read_bytes())
    frames = Year(tmp_path / "inputs", tmp_path / "out", paths.year).ingest()
    got = frames["values"].set_index("item")["value"].to_dict()
    totals = paths.load("totals")
    want = dict(zip(totals["item"], totals["value"], strict=True))
    assert {c: got[c] for c in form.codes} == {c: want[c] for c in form.codes}
    sub = frames["submissions"].iloc[0]
    assert sub["layout"] == "template" and sub["written_unit"] == "苏州市总工会"


def test_detail_workbook_units_as_rows_items_as_columns(sample_run, form):
    _, paths, frames, _ = sample_run
    ws = openpyxl.load_workbook(paths.root / "report" / "分单位明细表.xlsx").active
    header = [ws.cell(3, c).value for c in range(1, ws.max_column + 1)]
    # broken to fit its column, never before a closing bracket
    assert header[2].replace("\n", "") == "01A.1当地职工总数（人）" and len(header) == 2 + len(form.codes)
    assert not any(line.startswith("）") for h in header for line in str(h).split("\n"))
    units = [ws.cell(r, 1).value for r in range(4, ws.max_row + 1)]
    assert "全市合计" in units and "小计：市、区" in units
    total_row = 4 + units.index("全市合计")
    totals = paths.load("totals").set_index("item")
    assert ws.cell(total_row, 3).value == int(totals.loc["01A.1", "value"])
    assert ws.freeze_panes == "C4"
    values = paths.load("values")
    codes = [ws.cell(3, c).value.split("\n")[0] for c in range(3, ws.max_column + 1)]
    for unit in list(dict.fromkeys(values["unit"]))[:5]:  # each unit's row holds its values in force
        row = 4 + next(k for k, name in enumerate(units) if name.startswith(unit))
        mine = values[values["unit"] == unit].set_index("item")["value"]
        for col, code in enumerate(codes, 3):
            cell = ws.cell(row, col).value
            blank = cell in ("未填", "无法识别", "表中未找到")  # written out, as the report writes a blank
            assert blank if mine.get(code, "") == "" else Decimal(str(cell)) == Decimal(mine[code]), (
                unit,
                code,
            )


def _pdf_positions(page):
    """(x, y) in points of every piece of text on a page."""
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            out.append((x, y, text))

    page.extract_text(visitor_text=visit)
    return out


def test_pdf_has_embedded_cjk_fonts_and_official_page_geometry(sample_run):
    _, paths, _, _ = sample_run
    reader = PdfReader(paths.root / "report" / "书面总结.pdf")
    page = reader.pages[2]
    assert abs(float(page.mediabox.width) - 210 * MM) < 1 and abs(float(page.mediabox.height) - 297 * MM) < 1
    fonts = {}
    for p in reader.pages:
        for f in p["/Resources"]["/Font"].values():
            f = f.get_object()
            desc = (
                f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in f
                else f.get("/FontDescriptor")
            )
            fonts[str(f["/BaseFont"])] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert any("CJK" in name or "WenKai" in name or "UKai" in name for name in fonts)
    assert all(fonts.values()), fonts
    pos = _pdf_positions(page)
    body = [(x, y) for x, y, t in pos if not t.strip().startswith(("—", "草稿"))]
    xs, ys = [x for x, _ in body], [y for _, y in body]
    assert min(xs) >= 28 * MM - 2 and max(xs) <= (210 - 26) * MM
    assert max(ys) <= (297 - 37) * MM + 2 and min(ys) >= 35 * MM - 2
    numbers = [(y, t) for x, y, t in pos if re.fullmatch(r"—\s*\d+\s*—", t.strip())]
    assert numbers and numbers[0][0] < 35 * MM and numbers[0][1].strip() == "— 3 —"


# The face each role of the report is set in, as setup.sh installs them (GB/T 9704's faces or their
# stand-ins): 仿宋 body and tables, 黑体 headings, 楷体 quotes, 小标宋 titles, Times New Roman's metrics for
# the page numbers and the Western signs 仿宋 lacks (†)
FACES = {"FandolFang", "Noto-Sans-CJK-SC", "AR-PL-UKai-CN", "Noto-Serif-CJK-SC-Bold", "Liberation-Serif"}


def test_every_character_of_the_pdf_is_in_the_face_its_role_names(sample_run):
    """No character falls back to a face its role does not name (a 宋体 glyph inside 仿宋 text: the appendix
    note once wrote its formula's minus as U+2212 and 附件2 marks a Word revision with †, both missing from
    FandolFang) — nor does the PDF embed, for one sign, a whole CJK font it holds in memory while it is
    written."""
    _, paths, _, _ = sample_run
    reader = PdfReader(paths.root / "report" / "书面总结.pdf")
    used: dict[str, set[str]] = {}
    for k, page in enumerate(reader.pages, 1):

        def visit(text, cm, tm, font, size, k=k):
            if font and text.strip():
                used.setdefault(str(font["/BaseFont"]).split("+", 1)[-1], set()).add(
                    f"第{k}页：{text.strip()[:20]}"
                )

        page.extract_text(visitor_text=visit)
    assert set(used) <= FACES, {name: sorted(where)[:3] for name, where in used.items() if name not in FACES}
    assert {"FandolFang", "Noto-Sans-CJK-SC", "Liberation-Serif"} <= set(used), sorted(used)


def test_unresolved_errors_make_every_format_a_marked_draft(sample_run):
    _, paths, frames, _ = sample_run
    assert frames["report"]["draft"] is True
    folder = paths.root / "report"
    reader = PdfReader(folder / "书面总结.pdf")
    assert all("草稿" in p.extract_text() for p in reader.pages)
    first = reader.pages[0].extract_text()
    errors = open_errors(frames["issues"])
    assert "尚未解决" in first and errors.iloc[0]["unit"] in first
    html = (folder / "书面总结.html").read_text(encoding="utf-8")
    assert 'class="draft-mark"' in html and "draft-list" in html
    document = docx.Document(folder / "书面总结.docx")
    assert all("草稿" in s.header.paragraphs[0].text for s in document.sections[:1])


def test_narrative_sections_gaps_and_checked_quotes(sample_run):
    _, paths, frames, _ = sample_run
    text = frames["report"]["report"].narrative
    titles = [s.title for s in text.sections]
    assert titles == ["一、基本情况", "二、主要做法和成效", "三、各地各单位情况", "四、存在问题和下一步打算"]
    kinds = [b.kind for s in text.sections for b in s.blocks]
    assert "quote" in kinds and "gap" in kinds  # the sample leaves 下一步打算 to the analyst
    gap = next(b for s in text.sections for b in s.blocks if b.kind == "gap")
    assert "下一步打算" in gap.text and "narrative.md" in gap.text
    assert not text.problems
    themes = [b.text for b in text.sections[1].blocks if b.kind == "heading"]
    assert len(themes) == 6 and "十八大" in themes[0]


def test_a_quote_that_drifted_from_the_units_text_is_caught(sample_run, tmp_path):
    _, paths, frames, _ = sample_run
    summaries = paths.load("summaries")
    unit = summaries["unit"].iloc[0]
    md = tmp_path / "narrative.md"
    md.write_text(f"## 典型经验\n\n> {unit}：我们把送温暖与学习宣传结合起来，效果显著\n", encoding="utf-8")
    totals = paths.load("totals")
    text = narrative.build(
        load_form(2013), totals, {"year": 2013}, md, summaries, Registry.load(paths.registry), ""
    )
    assert text.problems and "不符" in text.problems[0]
    assert any(b.kind == "error" for s in text.sections for b in s.blocks)


def test_charts_have_cjk_font_and_no_missing_glyphs(sample_run, tmp_path, form):
    _, paths, frames, _ = sample_run
    assert charts.cjk_font() in charts.CJK_FAMILIES
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = charts.make_all(
            paths.load("totals"), frames["values"], {}, 2013, True, tmp_path, form.policy.charts
        )
    assert not [w for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert set(made) == {"sources", "transport", "funds_by_unit", "households_by_unit", "trends"}
    assert all(c.path.stat().st_size > 10_000 for c in made.values())
    # half of them are drawn by a forked process: the same bytes as all drawn in this one, in the same order
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WENNUAN_SERIAL", "1")
        alone = charts.make_all(
            paths.load("totals"), frames["values"], {}, 2013, True, tmp_path / "alone", form.policy.charts
        )
    assert list(alone) == list(made)
    assert {k: (c.title, c.width_mm, c.min_pt, c.png) for k, c in alone.items()} == {
        k: (c.title, c.width_mm, c.min_pt, c.png) for k, c in made.items()
    }


def test_a_chart_whose_data_did_not_change_is_copied_not_drawn(sample_run, tmp_path, monkeypatch, form):
    _, paths, frames, _ = sample_run
    totals, values, cache = paths.load("totals"), frames["values"], Artifacts(tmp_path / "cache", "charts")
    first = charts.make_all(totals, values, {}, 2013, True, tmp_path / "a", form.policy.charts, cache)
    log, real = tmp_path / "drawn.txt", charts.subplots  # a file: some charts are drawn by a forked process

    def subplots(*a, **k):
        with open(log, "a", encoding="utf-8") as fh:
            fh.write("drawn\n")
        return real(*a, **k)

    def drawn() -> list[str]:
        return log.read_text(encoding="utf-8").split() if log.exists() else []

    monkeypatch.setattr(charts, "subplots", subplots)
    again = charts.make_all(totals, values, {}, 2013, True, tmp_path / "b", form.policy.charts, cache)
    assert not drawn()
    assert {k: (c.title, c.path.read_bytes()) for k, c in again.items()} == {
        k: (c.title, c.path.read_bytes()) for k, c in first.items()
    }
    changed = totals.copy()
    changed.loc[changed["item"] == "05A.1", "value"] = "1"  # the sources chart's data, nothing else's
    third = charts.make_all(changed, values, {}, 2013, True, tmp_path / "c", form.policy.charts, cache)
    assert len(drawn()) == 1
    assert third["sources"].path.read_bytes() != first["sources"].path.read_bytes()
    assert third["transport"].path.read_bytes() == first["transport"].path.read_bytes()


NARRATIVE = (
    "## 典型经验\n\n各地创新方式方法。\n\n"
    "## 存在问题\n\n个别单位报送不及时。\n\n"
    "## 下一步打算\n\n进一步做好统计工作。\n"
)


def _final_year(year_dir, form):
    (year_dir.year_inputs / "narrative.md").write_text(NARRATIVE, encoding="utf-8")
    vals = {c: 1 for c in form.codes}
    vals.update({"01A.1": 1000, "05.1": 4, "04C.1": 10, "09.1": 4, "09.2": 4, "10A.1": 10})
    template.write(form, year_dir.inbox / "a.xlsx", values=vals, header={"unit": "常熟市总工会"})
    year_dir.ingest()
    year_dir.clean()
    year_dir.reconcile()
    return year_dir.report()


def test_without_unresolved_errors_the_report_is_final(year_dir, form):
    out = _final_year(year_dir, form)
    assert out["draft"] is False
    folder = year_dir.root / "report"
    assert not any("草稿" in p.extract_text() for p in PdfReader(folder / "书面总结.pdf").pages)
    assert "草稿" not in (folder / "书面总结.html").read_text(encoding="utf-8")
    document = docx.Document(folder / "书面总结.docx")
    assert "草稿" not in "".join(p.text for p in document.paragraphs)
    assert "草稿" not in "".join(p.text for s in document.sections for p in s.header.paragraphs)


def test_waiving_the_last_error_makes_the_report_final(year_dir, form):
    vals = {c: 1 for c in form.codes}
    vals.update({"01A.1": 1000, "05.1": 4, "04C.1": 10, "09.1": 4, "09.2": 4, "10A.1": 10, "02A.2": 3})
    (year_dir.year_inputs / "narrative.md").write_text(NARRATIVE, encoding="utf-8")
    template.write(form, year_dir.inbox / "a.xlsx", values=vals, header={"unit": "常熟市总工会"})
    year_dir.ingest()
    year_dir.clean()
    year_dir.reconcile()
    assert year_dir.report()["draft"] is True
    write_csv(
        pd.DataFrame(
            [
                {"unit": "常熟市总工会", "rule": "P03", "reason": "已核实"},
                {"unit": "常熟市总工会", "rule": "P04", "reason": "已核实"},
                {"unit": "全市合计", "rule": "P03", "reason": "同上"},
                {"unit": "全市合计", "rule": "P04", "reason": "同上"},
            ]
        ),
        year_dir.year_inputs / "waivers.csv",
    )
    year_dir.clean()
    year_dir.reconcile()
    assert year_dir.report()["draft"] is False


@pytest.mark.parametrize("name", ["书面总结.html"])
def test_html_is_self_contained(sample_run, name):
    _, paths, _, _ = sample_run
    html = (paths.root / "report" / name).read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert not re.search(r"""(src|href)=["']https?:""", html) and "<script" not in html
    assert "In [" not in html


def test_a_fall_that_rounds_to_nothing_is_printed_0_0_not_minus_0_0():
    """08C.2 of the sample: 7523.47 against 7527.04 is −0.047%: 附表1 and the notebook print 0.0."""
    change = aggregate.change_pct(Decimal("7523.47"), Decimal("7527.04"))
    assert str(change) == "0.0" and appendix.number(str(change), "%") == "0.0"
    assert str(aggregate.change_pct(Decimal("7400"), Decimal("7527.04"))) == "-1.7"
