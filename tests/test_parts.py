"""Which part of a file is the form (issue 21), and a unit's file never stops the year (issue 25, items 1 and
8): every file here is made in the test, the way units and their software make them."""

import io
import random
import zipfile

import docx
import pytest
import xlsxwriter

from wennuan_lib import readers, template
from wennuan_lib.parse import format_value

from . import sample_data as sample

UNIT = "常熟市总工会"


@pytest.fixture(scope="module")
def figures():
    return sample.unit_values(random.Random(21), 120_000, "市、区")


def sentences(form, figures, shift: int = 0) -> list[tuple[list[str], str]]:
    """Each printed line with its blanks filled (every figure + shift): (codes, sentence)."""
    out = []
    for line in form.layout:
        text = line.printed
        for code in line.codes:
            value = figures[code] + shift if shift and not form.item(code).is_money else figures[code]
            text = text.replace("______", f" {format_value(value)} ", 1)
        out.append((list(line.codes), text))
    return out


def write_sheet(wb, name, form, figures, unit=UNIT, shift=0, hidden=False):
    ws = wb.add_worksheet(name)
    ws.write("A1", form.title)
    ws.write("A2", f"填报单位：{unit}      2013年1月12日")
    for r, (_codes, text) in enumerate(sentences(form, figures, shift), 3):
        ws.write(r, 2, text)
    if hidden:
        ws.hide()
    return ws


def values_of(frames, file):
    v = frames["extracted"]
    return v[v["file"] == file].set_index("item")


def assert_figures(form, values, figures, sheet=None):
    for code in form.codes:
        assert values.loc[code, "value"] == format_value(figures[code]), code
        if sheet:
            assert values.loc[code, "location"].startswith(f"{sheet}!"), (code, values.loc[code, "location"])


# ---- issue 25.1: one unit's file never stops the year ----


def test_a_cell_at_xfd1048576_is_that_files_reason_and_the_year_goes_on(form, year_dir, figures):
    path = year_dir.inbox / "巨大范围.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_sheet(wb, "统计表", form, figures, unit="太仓市总工会")
    wb.worksheets()[0].write("XFD1048576", 1)
    wb.close()
    assert path.stat().st_size < 20_000
    template.write(form, year_dir.inbox / "常熟.xlsx", values={"01A.1": 5}, header={"unit": UNIT})
    log = year_dir.ingest()["ingest_log"].set_index("file")
    assert log.loc["巨大范围.xlsx", "status"] == "rejected"
    reason = log.loc["巨大范围.xlsx", "reason"]
    assert "XFD1048576" in reason and "统计表" in reason and "删除多余的行和列" in reason
    assert log.loc["常熟.xlsx", "status"] == "read"


def test_an_oversized_sheet_beside_the_form_is_left_out_by_name(form, year_dir, figures):
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_sheet(wb, "统计表", form, figures)
    wb.add_worksheet("草稿").write("XFD1048576", 1)
    wb.close()
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["status"] == "read" and log["part"] == "工作表「统计表」"
    assert "工作表「草稿」" in log["left_out"] and "XFD1048576" in log["left_out"]
    assert_figures(form, values_of(frames, f"{UNIT}.xlsx"), figures, "统计表")


def test_a_vertical_tab_in_a_units_text_never_reaches_a_writer(form, year_dir, figures):
    path = year_dir.inbox / "统计表.xlsx"
    wb = xlsxwriter.Workbook(path)  # XlsxWriter saves it as Excel does: _x000B_
    write_sheet(wb, "Sheet1", form, figures, unit="常熟市\x0b总工会")
    wb.close()
    assert b"_x000B_" in zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    frames = year_dir.ingest()
    frames.update(year_dir.clean())
    frames.update(year_dir.reconcile())  # writes 审核数据.xlsx and the feedback workbooks
    sub = frames["submissions"].iloc[0]
    assert sub["written_unit"] == UNIT and sub["unit"] == UNIT
    assert_figures(form, values_of(frames, "统计表.xlsx"), figures)
    for frame in frames.values():
        if hasattr(frame, "to_csv"):
            assert "\x0b" not in frame.to_csv()


def test_a_file_that_breaks_its_reader_is_that_files_reason(form, year_dir, monkeypatch):
    template.write(form, year_dir.inbox / "常熟.xlsx", values={"01A.1": 5}, header={"unit": UNIT})
    (year_dir.inbox / "太仓市总工会.docx").write_bytes(docx_bytes(["填报单位：太仓市总工会"]))
    real = readers.read

    def broken(path, *args, **kwargs):
        if path.suffix == ".docx":
            raise KeyError("a reader's own bug")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(readers, "read", broken)
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    assert log.loc["太仓市总工会.docx", "status"] == "rejected"
    assert "读取时出错（KeyError）" in log.loc["太仓市总工会.docx", "reason"]
    assert log.loc["太仓市总工会.docx", "unit"] == "太仓市总工会"
    assert log.loc["常熟.xlsx", "status"] == "read"


# ---- issue 25.8: DTDs refused wherever they stand, in any encoding ----


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_part(data: bytes, part: str, body: bytes) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, body if info.filename == part else src.read(info))
    return out.getvalue()


def _dtd_after(prefix: str, encoding: str, root: str) -> bytes:
    decl = f'<?xml version="1.0" encoding="{encoding}"?>'
    text = f'{decl}{prefix}<!DOCTYPE r [<!ENTITY x "中文">]><{root} xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    return text.encode(encoding)


@pytest.mark.parametrize(
    "part,prefix,encoding",
    [
        ("xl/workbook.xml", "<!--" + "长注释" * 3000 + "-->", "UTF-8"),  # past the first 4 KB
        ("xl/workbook.xml", "", "UTF-16"),
        ("xl/styles.xml", "\n" * 5000, "GBK"),
        ("docProps/app.xml", "", "UTF-8"),
    ],
)
def test_a_dtd_is_refused_wherever_it_stands_and_in_any_encoding(form, tmp_path, part, prefix, encoding):
    template.write(form, tmp_path / "ok.xlsx", values={"01A.1": 1}, header={"unit": UNIT})
    root = {"xl/workbook.xml": "workbook", "xl/styles.xml": "styleSheet"}.get(part, "Properties")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(with_part((tmp_path / "ok.xlsx").read_bytes(), part, _dtd_after(prefix, encoding, root)))
    with pytest.raises(readers.ReadError, match="不安全的XML"):
        readers.read(bad)


def test_parts_in_other_encodings_without_a_dtd_are_read(form, tmp_path):
    template.write(form, tmp_path / "ok.xlsx", values={"01A.1": 7}, header={"unit": UNIT})
    data = (tmp_path / "ok.xlsx").read_bytes()
    app = zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml").decode("utf-8")
    app = app.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    (tmp_path / "u16.xlsx").write_bytes(with_part(data, "docProps/app.xml", app))
    ex = readers.read(tmp_path / "u16.xlsx")
    assert ex.names  # read as the template
