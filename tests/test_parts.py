"""Which part of a file is the form (issue 21), and a unit's file never stops the year (issue 25, items 1 and
8): every file here is made in the test, the way units and their software make them."""

import io
import random
import zipfile

import docx
import openpyxl
import pytest
import xlsxwriter

from wennuan_lib import vocab
from wennuan_lib.publish import template
from wennuan_lib.read import convert, readers
from wennuan_lib.read.parse import format_value

from . import sample_data as sample
from .conftest import with_part

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


def write_sheet(wb, name, form, figures, unit=UNIT, shift=0, hidden=False, date="2013年1月12日"):
    ws = wb.add_worksheet(name)
    ws.write("A1", form.title)
    ws.write("A2", f"填报单位：{unit}      {date}")
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


# ---- issue 21.1: find the form before reading it ----


def test_an_example_sheet_before_the_form_is_never_read(form, year_dir, figures):
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("填表说明")
    ws.write("A1", "填写示例：")
    for r, (_codes, text) in enumerate(sentences(form, figures, shift=7)[:6], 2):
        ws.write(r, 0, text)  # an example filled with other figures
    write_sheet(wb, "统计表", form, figures)
    wb.close()
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["status"] == "read" and log["part"] == "工作表「统计表」"
    assert "工作表「填表说明」：填表说明或填写示例，不从中读取数字" in log["left_out"]
    assert "读取的是工作表「统计表」；文件中的其他部分——工作表「填表说明」" in log["reason"]
    assert_figures(form, values_of(frames, f"{UNIT}.xlsx"), figures, "统计表")


@pytest.mark.parametrize(
    "unit,note,why",
    [
        ("苏州市××区总工会", "", "填写示例（填报单位写的是「苏州市××区总工会」）"),
        (UNIT, "注：本页数字为示例。", "填写示例（表中注明“本页数字为示例”）"),
    ],
)
def test_a_form_filled_as_an_example_on_a_sheet_not_so_named_is_never_read(
    form, year_dir, figures, unit, note, why
):
    """A copy of the form filled as an example, on the first sheet and named like any other: its 填报单位 is
    the notice's placeholder, or a note says the page is an example. The unit's own form, on the next sheet,
    is read; the example is named with why."""
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = write_sheet(wb, "Sheet1", form, figures, unit=unit, shift=9)
    if note:
        ws.write(len(form.layout) + 4, 0, note)
    write_sheet(wb, "Sheet2", form, figures)
    wb.close()
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["status"] == "read" and log["part"] == "工作表「Sheet2」" and log["unit"] == UNIT
    assert f"工作表「Sheet1」：{why}，不从中读取数字" in log["left_out"]
    assert_figures(form, values_of(frames, f"{UNIT}.xlsx"), figures, "Sheet2")
    assert len(frames["submissions"]) == 1  # the example is no second version of the unit's form


def test_a_hidden_draft_is_never_preferred_and_its_differences_are_said(form, year_dir, figures):
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_sheet(wb, "旧稿", form, figures, shift=3, hidden=True, date="2013年1月16日")  # dated later
    write_sheet(wb, "统计表", form, figures).activate()  # Excel never hides the sheet shown
    wb.close()
    assert readers.read(path).hidden == {"旧稿"}
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["part"] == "工作表「统计表」"
    assert "工作表「旧稿」：隐藏的另一份统计表" in log["left_out"]
    assert "隐藏的工作表「旧稿」另有一份统计表" in log["reason"] and "请向单位核实" in log["reason"]
    assert_figures(form, values_of(frames, f"{UNIT}.xlsx"), figures, "统计表")
    draft = frames["ingest_log"].set_index("file").loc[f"{UNIT}.xlsx/旧稿"]
    assert draft["status"] == "superseded" and draft["unit"] == UNIT and draft["part"] == "工作表「旧稿」"
    frames.update(year_dir.clean())
    values = frames["values"].set_index("item")
    assert (values["file"] == f"{UNIT}.xlsx").all()  # in force: the visible sheet only
    issues = frames["issues"]
    mine = issues[(issues["unit"] == UNIT) & (issues["rule"] == "V01")]
    assert len(mine) == 1, issues[["rule", "message"]]
    message = mine.iloc[0]["message"]
    assert f"采用了「{UNIT}.xlsx」" in message and f"未采用「{UNIT}.xlsx/旧稿」" in message
    # the copy's date is not the one it wrote: the message never says the two were dated alike
    assert "两份在同一个文件中" in message and "填报日期相同" not in message, message


def test_a_hidden_identical_copy_is_named_and_not_read_twice(form, year_dir, figures):
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_sheet(wb, "统计表", form, figures)
    write_sheet(wb, "备份", form, figures, hidden=True)
    wb.close()
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["part"] == "工作表「统计表」" and "工作表「备份」：隐藏的另一份相同的统计表" in log["left_out"]
    assert "请向单位核实" not in log["reason"]
    assert len(frames["submissions"]) == 1


def test_a_districts_town_sheets_are_read_as_their_units_or_named(form, year_dir, figures):
    other = sample.unit_values(random.Random(5), 50_000, "市、区")
    path = year_dir.inbox / "吴中区总工会.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_sheet(wb, "汇总", form, figures, unit="吴中区总工会")
    write_sheet(wb, "太仓", form, other, unit="太仓市总工会")
    write_sheet(wb, "木渎镇", form, other, unit="木渎镇工会")
    wb.close()
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    main = log.loc["吴中区总工会.xlsx"]
    assert main["unit"] == "吴中区总工会" and main["part"] == "工作表「汇总」"
    assert "工作表「太仓」：太仓市总工会的统计表，已作为该单位的报送读取" in main["left_out"]
    assert (
        "工作表「木渎镇」：另一单位（木渎镇工会）的统计表，该单位不在单位名录中，未读取" in main["left_out"]
    )
    town = log.loc["吴中区总工会.xlsx/太仓"]
    assert town["status"] == "read" and town["unit"] == "太仓市总工会" and town["part"] == "工作表「太仓」"
    assert_figures(form, values_of(frames, "吴中区总工会.xlsx"), figures, "汇总")
    assert_figures(form, values_of(frames, "吴中区总工会.xlsx/太仓"), other, "太仓")
    assert set(frames["submissions"]["unit"]) == {"吴中区总工会", "太仓市总工会"}


def summary_with_form(form, path, figures, wrong):
    """A 书面总结 whose prose states the form's sentences with other figures, the form appended as 附件."""
    document = docx.Document()
    document.add_paragraph(f"{UNIT}2013年送温暖活动总结")
    document.add_paragraph("今年元旦春节期间，我会认真贯彻落实上级工会的部署，广泛开展送温暖活动。" * 4)
    for _codes, text in sentences(form, wrong)[:12]:
        document.add_paragraph(text)
    document.add_paragraph("附件：")
    document.add_paragraph(form.title)
    document.add_paragraph(f"填报单位：{UNIT}（盖章）            2013年1月12日")
    table = document.add_table(rows=0, cols=2)
    for line, (_codes, text) in zip(form.layout, sentences(form, figures), strict=True):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = line.row + line.letter, text
    document.save(path)


def test_a_summary_with_the_form_appended_reads_the_table_only(form, year_dir, figures):
    wrong = {c: v + 1 if not form.item(c).is_money else v for c, v in figures.items()}
    summary_with_form(form, year_dir.inbox / "总结.docx", figures, wrong)
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    main = log.loc["总结.docx"]
    assert main["status"] == "read" and main["part"] == "表格" and main["unit"] == UNIT
    assert "正文文字：文字材料，不从中读取数字" in main["left_out"]
    values = values_of(frames, "总结.docx")
    for code in form.codes:  # never a figure from the prose
        assert values.loc[code, "location"].startswith("表1第"), (code, values.loc[code, "location"])
    assert_figures(form, values, figures)
    prose = log.loc["总结.docx/正文文字"]
    assert prose["status"] == "summary" and prose["unit"] == UNIT
    assert frames["summaries"]["unit"].tolist() == [UNIT]


# ---- issue 21.2: nothing readable is never a summary ----


def screenshot_docx(path, tmp_path, text: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    png = tmp_path / "截图.png"
    fig = plt.figure(figsize=(2, 1))
    fig.text(0.1, 0.5, "2013")
    fig.savefig(png)
    plt.close(fig)
    document = docx.Document()
    document.add_paragraph(text)
    document.add_picture(str(png))
    document.save(path)


def test_a_screenshot_under_a_few_lines_of_text_is_not_a_summary(year_dir, tmp_path):
    text = "太仓市总工会2013年送温暖活动统计表。我会已按要求填写，现将统计表截图报上，请审阅。" * 3
    screenshot_docx(year_dir.inbox / "太仓市总工会统计表.docx", tmp_path, text)
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["status"] == "rejected" and "只有图片" in log["reason"], log["reason"]
    assert log["unit"] == "太仓市总工会" and frames["summaries"].empty


def test_a_word_file_holding_only_a_screenshot_is_sent_but_unreadable(form, year_dir, tmp_path):
    screenshot_docx(
        year_dir.inbox / "太仓市总工会统计表.docx", tmp_path, "2013年送温暖活动统计表（太仓市总工会）"
    )
    template.write(form, year_dir.inbox / "常熟.xlsx", values={"01A.1": 5}, header={"unit": UNIT})
    frames = year_dir.ingest()
    frames.update(year_dir.clean())
    frames.update(year_dir.reconcile())
    log = frames["ingest_log"].set_index("file").loc["太仓市总工会统计表.docx"]
    assert log["status"] == "rejected" and vocab.file_label(log["status"], log["figures"]) == "无法读取"
    assert "只有图片" in log["reason"] and "不要截图" in log["reason"]
    assert frames["summaries"].empty
    status = frames["reporting_status"].set_index("unit")
    assert status.loc["太仓市总工会", "form"] == "unreadable"
    assert "只有图片" in status.loc["太仓市总工会", "form_problem"]
    assert status.loc["昆山市总工会", "form"] == "missing"


@pytest.mark.parametrize(
    "text,word",
    [
        ("(cid:3)(cid:17)(cid:42)" * 40 + "2013", "字形编号"),
        ("\ue001\ue002\ue003\ue004" * 30 + "填报单位", "私用编码"),
        ("~!@#$%^&*()_+{}|:<>?" * 10, "汉字和数字只占"),
    ],
)
def test_a_pdf_text_layer_that_is_not_text_is_refused_with_its_reason(text, word):
    from wennuan_lib.read import pdf

    why = pdf.garbled(text)
    assert why is not None and word in why and "Word或Excel" in why


def test_a_real_text_layer_is_text(form, figures):
    from wennuan_lib.read import pdf

    assert pdf.garbled("\n".join(text for _c, text in sentences(form, figures))) is None


# ---- issue 21.4: Word's placeholder text is a blank left empty ----


def test_a_content_control_showing_its_placeholder_reads_as_not_filled(form, year_dir, figures):
    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    lines = sentences(form, figures)
    empty = form.layout[0].codes[0]
    first = form.layout[0].printed.split("______")
    control = (
        "<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:r><w:rPr>"
        '<w:rStyle w:val="PlaceholderText"/></w:rPr><w:t>单击或点击此处输入文字。</w:t></w:r>'
        "</w:sdtContent></w:sdt>"
    )
    rest = "______".join(first[1:])
    for code in form.layout[0].codes[1:]:
        rest = rest.replace("______", f" {format_value(figures[code])} ", 1)
    document = docx.Document()
    document.add_paragraph(form.title)
    document.add_paragraph(f"填报单位：{UNIT}      2013年1月12日")
    table = document.add_table(rows=0, cols=1)
    for _codes, text in lines:
        table.add_row().cells[0].text = text
    path = year_dir.inbox / f"{UNIT}.docx"
    document.save(path)
    data = path.read_bytes()
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "word/document.xml":
                xml = body.decode("utf-8")
                para = lines[0][1]
                start = xml.index(f"<w:t>{para}</w:t>") if f"<w:t>{para}</w:t>" in xml else None
                assert start is not None and W in xml
                xml = xml.replace(
                    f"<w:t>{para}</w:t>",
                    f'<w:t xml:space="preserve">{first[0]}</w:t></w:r>{control}<w:r>'
                    f'<w:t xml:space="preserve">{rest}</w:t>',
                )
                body = xml.encode("utf-8")
            z.writestr(info, body)
    path.write_bytes(out.getvalue())
    frames = year_dir.ingest()
    values = values_of(frames, f"{UNIT}.docx")
    assert values.loc[empty, "status"] == "missing" and values.loc[empty, "raw_text"] == ""
    for code in form.codes:
        if code != empty:
            assert values.loc[code, "value"] == format_value(figures[code]), code


# ---- issue 21.3: wrappers people save ----


def form_xlsx_bytes(form, figures, unit=UNIT) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    write_sheet(wb, "统计表", form, figures, unit=unit)
    wb.close()
    return out.getvalue()


def test_an_email_with_the_form_attached_is_read_from_its_attachment(form, year_dir, figures):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "czzgh@example.cn", "szzgh@example.cn", "送温暖统计表"
    msg.set_content("您好，附件是我单位的送温暖统计表，请查收。")
    msg.add_attachment(
        form_xlsx_bytes(form, figures),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="常熟市送温暖统计表.xlsx",
    )
    (year_dir.inbox / "邮件.eml").write_bytes(msg.as_bytes())
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    assert log.loc["邮件.eml", "status"] == "unpacked" and "邮件" in log.loc["邮件.eml", "reason"]
    inner = log.loc["邮件.eml/常熟市送温暖统计表.xlsx"]
    assert inner["status"] == "read" and inner["unit"] == UNIT and inner["part"] == "工作表「统计表」"
    assert_figures(form, values_of(frames, "邮件.eml/常熟市送温暖统计表.xlsx"), figures, "统计表")


def test_a_word_single_file_web_page_is_read_as_a_document(form, year_dir, figures):
    from email.message import EmailMessage

    rows = "".join(
        f"<tr><td><p class=MsoNormal>{line.row}{line.letter}</p></td>"
        f"<td><p class=MsoNormal>{text}</p></td></tr>"
        for line, (_c, text) in zip(form.layout, sentences(form, figures), strict=True)
    )
    page = (
        "<html xmlns:o='urn:schemas-microsoft-com:office:office'><head><meta charset=utf-8>"
        f"<title>统计表</title></head><body><div class=WordSection1><p>{form.title}</p>"
        f"<p>填报单位：{UNIT}（盖章）&nbsp;&nbsp;2013年1月12日</p><table>{rows}</table></div></body></html>"
    )
    msg = EmailMessage()
    msg["MIME-Version"] = "1.0"
    msg.set_content(page, subtype="html", charset="utf-8")
    (year_dir.inbox / f"{UNIT}统计表.mht").write_bytes(msg.as_bytes())
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    inner = log.loc[f"{UNIT}统计表.mht/正文.html"]
    assert inner["status"] == "read" and inner["unit"] == UNIT
    values = values_of(frames, f"{UNIT}统计表.mht/正文.html")
    assert all(values.loc[c, "location"].startswith("表1第") for c in form.codes)
    assert_figures(form, values, figures)


def ods_bytes(sheets: dict[str, list[list[str]]]) -> bytes:
    """A LibreOffice workbook written as LibreOffice does, its cells as text."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = ""
    for name, rows in sheets.items():
        cells = "".join(
            "<table:table-row>"
            + "".join(
                f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
                for v in row
            )
            + "</table:table-row>"
            for row in rows
        )
        body += f'<table:table table:name="{name}">{cells}</table:table>'
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
    content += f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
    content += "</office:document-content>"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_a_libreoffice_workbook_is_read_as_a_workbook_not_an_archive(form, year_dir, figures):
    rows = [[form.title], [f"填报单位：{UNIT}      2013年1月12日"]]
    rows += [["", "", text] for _c, text in sentences(form, figures)]
    (year_dir.inbox / f"{UNIT}.ods").write_bytes(ods_bytes({"统计表": rows}))
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert len(frames["ingest_log"]) == 1 and log["status"] == "read" and log["unit"] == UNIT
    assert_figures(form, values_of(frames, f"{UNIT}.ods"), figures, "统计表")


@pytest.mark.needs("soffice")
def test_a_libreoffice_document_is_read_as_a_document(form, year_dir, figures, tmp_path):
    import shutil
    import subprocess

    soffice = convert.soffice()
    summary_with_form(form, tmp_path / "总结.docx", figures, figures)
    profile = tmp_path / "profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "odt",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "总结.docx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    shutil.copy(tmp_path / "总结.odt", year_dir.inbox / "总结.odt")
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    assert log.loc["总结.odt", "status"] == "read" and log.loc["总结.odt", "part"] == "表格"
    values = values_of(frames, "总结.odt")
    assert all(values.loc[c, "location"].startswith("表1第") for c in form.codes)
    assert_figures(form, values, figures)


# ---- issue 21.4 (labels in 元) and 21.6 (float noise) ----


def test_a_sentence_rewritten_in_yuan_is_converted_with_a_note(form, year_dir, figures):
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("统计表")
    ws.write("A1", form.title)
    ws.write("A2", f"填报单位：{UNIT}      2013年1月12日")
    in_yuan = set()
    for r, line in enumerate(form.layout, 3):
        text = line.printed
        for k, code in enumerate(line.codes):
            value = figures[code]
            if form.item(code).is_money and line.row in ("05", "06"):
                value, in_yuan = value * 10000, in_yuan | {code}
                after = text.split("______", 1)[1]
                if after.lstrip().startswith("万元"):
                    text = text.replace("______" + after, "______" + after.replace("万元", "元", 1), 1)
            text = text.replace("______", f" {format_value(value)} ", 1)
            assert k < len(line.codes)
        ws.write(r, 2, text)
    wb.close()
    assert len(in_yuan) >= 8
    frames = year_dir.ingest()
    values = values_of(frames, f"{UNIT}.xlsx")
    assert_figures(form, values, figures, "统计表")
    for code in in_yuan:
        assert values.loc[code, "status"] == "ok", code
        assert "已换算为万元" in values.loc[code, "note"] and "写的是“元”" in values.loc[code, "note"], code
    assert not (values["note"].str.contains("表中未找到")).any()


def test_the_templates_measure_rewritten_or_typed_over_is_read_as_the_unit_left_it(form, year_dir, figures):
    """The template prints each blank's measure in the cell after it. A clerk who rewrote 万元 as 元 there
    filled in 元: converted to 万元, with a note. A clerk who typed the figure over the measure, leaving the
    yellow cell empty, filled it in: read from there, with a note (never 未填)."""
    money = [c for c in form.codes if form.item(c).is_money][:3]
    yuan, typed_over = money[:2], money[2]
    path = year_dir.inbox / f"{UNIT}.xlsx"
    template.write(
        form,
        path,
        values={c: figures[c] * (10000 if c in yuan else 1) for c in form.codes},
        header={"unit": UNIT},
    )
    wb = openpyxl.load_workbook(path)
    for code in money:
        sheet, cell = next(iter(wb.defined_names[form.item(code).name].destinations))
        ws = wb[sheet]
        beside = ws[cell.replace("$", "")].offset(column=1)
        assert str(beside.value).startswith("万元")  # as the template prints it
        if code in yuan:
            beside.value = "元" + str(beside.value).removeprefix("万元")
        else:
            beside.value, ws[cell.replace("$", "")].value = f"{format_value(figures[code])}万元；", None
    wb.save(path)
    values = values_of(year_dir.ingest(), f"{UNIT}.xlsx")
    assert_figures(form, values, figures)
    for code in yuan:
        assert "已换算为万元" in values.loc[code, "note"] and "改成了“元”" in values.loc[code, "note"], code
    assert "单位一格中" in values.loc[typed_over, "note"] and values.loc[typed_over, "status"] == "ok"


def test_float_noise_of_a_sum_is_read_as_excel_shows_it(form, year_dir, figures):
    money = next(c for c in form.codes if form.item(c).is_money)
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("统计表")
    ws.write("A1", f"填报单位：{UNIT}")
    ws.write_row("A2", ["项目", "数量"])
    for r, item in enumerate(form.items, 3):
        value = 11399.220000000001 if item.code == money else float(figures[item.code])
        ws.write_row(r - 1, 0, [f"{item.label}（{item.unit}）", value])
    wb.close()
    frames = year_dir.ingest()
    values = values_of(frames, f"{UNIT}.xlsx")
    assert values.loc[money, "value"] == "11399.22" and values.loc[money, "raw_text"] == "11399.22"
    assert readers.cell_text(0.1 + 0.2) == "0.3" and readers.cell_text(1e-05) == "0.00001"


# ---- issue 21.5: the notice's table with a column added, several sentences in one cell ----


def notice_document(form):
    """A Word document of the notice's 附件 as a unit lays it out: title, 填报单位 and 日期, and a table
    headed 序号｜项目｜内容｜填报数 (its rows for the caller to add)."""
    document = docx.Document()
    document.add_paragraph("附件：")
    document.add_paragraph(form.title)
    document.add_paragraph(f"填报单位：{UNIT}（盖章）            2013年1月12日")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["序号", "项目", "内容", "填报数"], strict=True):
        cell.text = text
    return document, table


def notice_table_with_column(form, path, figures, drop_in_row: str = ""):
    """序号｜项目｜内容｜填报数: one table row per numbered row of the notice, its sentences in one cell
    separated by blank lines, the blanks left empty, the figures in the added column in the same order,
    separated likewise.
    `drop_in_row`: a row whose last figure is left out (counts disagree)."""
    document, table = notice_document(form)
    rows: dict[str, list] = {}
    for line in form.layout:
        rows.setdefault(line.row, []).append(line)
    where = {}
    for k, (row, lines) in enumerate(rows.items(), 1):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = str(k), row
        cells[2].text = "\n\n".join(line.printed.replace("______", "      ") for line in lines)
        codes = [c for line in lines for c in line.codes]
        shown = codes[:-1] if row == drop_in_row else codes
        cells[3].text = "\n\n".join(format_value(figures[c]) for c in shown)
        where.update({c: f"表1第{k + 1}行第4列" for c in codes})
    document.save(path)
    return where


def test_a_figure_cell_merged_over_two_rows_is_neither_rows_alone(form, year_dir, figures):
    """One table row per line of the notice, 序号 merged down over each numbered row's lines (a label: read as
    before), and the figure cell of 03B merged down over 03C's row: 03B keeps the figure it shows; 03C's blank
    reads as merged, 无法识别 (must fix: the unit fills each row), never 未填 — nor the same figure twice."""
    document, table = notice_document(form)
    first: dict[str, int] = {}
    for line in form.layout:
        cells = table.add_row().cells
        k = len(table.rows) - 1
        cells[1].text = f"（{line.letter}）" if line.letter else ""
        cells[2].text = line.printed.replace("______", "    ")
        cells[3].text = "、".join(format_value(figures[c]) for c in line.codes)
        if line.row in first:  # 序号 merged down over the row's lines
            table.cell(first[line.row], 0).merge(table.cell(k, 0)).text = line.row
        else:
            first[line.row], cells[0].text = k, line.row
        if line.codes == ["03C.1"]:
            table.cell(k - 1, 3).merge(table.cell(k, 3)).text = format_value(figures["03B.1"])
    document.save(year_dir.inbox / f"{UNIT}.docx")
    values = values_of(year_dir.ingest(), f"{UNIT}.docx")
    assert values.loc["03B.1", "value"] == format_value(figures["03B.1"])
    merged = values.loc["03C.1"]
    assert merged["status"] == "unreadable" and merged["raw_text"] == "（此格与上一行的填报数合并为一格）"
    others = [c for c in form.codes if c != "03C.1"]
    assert (values.loc[others, "status"] == "ok").all()
    assert all(values.loc[c, "value"] == format_value(figures[c]) for c in others)


def test_the_notices_table_with_a_column_added_reads_each_cells_figures_in_order(form, year_dir, figures):
    where = notice_table_with_column(form, year_dir.inbox / f"{UNIT}.docx", figures)
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["status"] == "read" and log["figures"] == "", log["reason"]
    values = values_of(frames, f"{UNIT}.docx")
    for code in form.codes:
        assert values.loc[code, "location"] == where[code], code
    assert_figures(form, values, figures)


def test_a_cell_whose_figures_do_not_match_its_sentences_is_refused_not_guessed(form, year_dir, figures):
    notice_table_with_column(form, year_dir.inbox / f"{UNIT}.docx", figures, drop_in_row="07")
    frames = year_dir.ingest()
    values = values_of(frames, f"{UNIT}.docx")
    row07 = [c for line in form.layout if line.row == "07" for c in line.codes]
    for code in row07:
        assert values.loc[code, "status"] == "unreadable", code
        assert "无法确定哪个数字填在哪个空格" in values.loc[code, "note"], code
    for code in form.codes:
        if code not in row07:
            assert values.loc[code, "value"] == format_value(figures[code]), code


def test_a_file_that_takes_too_long_is_that_files_reason_and_not_cached(form, year_dir, monkeypatch):
    import time

    from wennuan_lib.base import config

    template.write(form, year_dir.inbox / "常熟.xlsx", values={"01A.1": 5}, header={"unit": UNIT})
    (year_dir.inbox / "太仓市总工会.docx").write_bytes(docx_bytes(["填报单位：太仓市总工会"]))
    real = readers.read

    def slow(path, *args, **kwargs):
        if path.suffix == ".docx":
            time.sleep(5)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(readers, "read", slow)
    monkeypatch.setattr(config, "MAX_READ_SECONDS", 1)
    log = year_dir.ingest()["ingest_log"].set_index("file")
    assert log.loc["太仓市总工会.docx", "status"] == "rejected"
    assert "超过了1秒" in log.loc["太仓市总工会.docx", "reason"]
    assert log.loc["常熟.xlsx", "status"] == "read"
    monkeypatch.setattr(readers, "read", real)
    monkeypatch.setattr(config, "MAX_READ_SECONDS", 120)
    (year_dir.inbox / "常熟.xlsx").touch()
    log = year_dir.ingest()["ingest_log"].set_index("file")
    assert "超过了" not in log.loc["太仓市总工会.docx", "reason"]  # read again, not the timeout kept


def ods_repeated(rows: int, cols: int, tail: bool = False) -> bytes:
    """An .ods whose one sheet declares `rows` rows of `cols` cells with a figure (number-rows-repeated,
    number-columns-repeated: a few hundred bytes); `tail`: one cell and then the empty rows and cells
    LibreOffice writes to a sheet's end (never allocated)."""
    cell = '<table:table-cell table:number-columns-repeated="{}" office:value-type="float" office:value="1">'
    row = f'<table:table-row table:number-rows-repeated="{rows}">{cell.format(cols)}<text:p>1</text:p>'
    row += "</table:table-cell></table:table-row>"
    if tail:
        row = '<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p>'
        row += '</table:table-cell></table:table-row><table:table-row table:number-rows-repeated="1048575">'
        row += '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    data = ods_bytes({"统计表": []})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["content.xml"] = parts["content.xml"].replace(
        '<table:table table:name="统计表">'.encode(), f'<table:table table:name="统计表">{row}'.encode()
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def test_an_ods_sheet_declared_too_big_is_refused_before_it_is_loaded(form, year_dir, tmp_path):
    (year_dir.inbox / "昆山.ods").write_bytes(ods_repeated(1_048_576, 1000))
    (year_dir.inbox / "太仓.ods").write_bytes(ods_repeated(1, 1, tail=True))
    template.write(form, year_dir.inbox / "常熟.xlsx", values={"01A.1": 5}, header={"unit": UNIT})
    log = year_dir.ingest()["ingest_log"].set_index("file")
    assert log.loc["昆山.ods", "status"] == "rejected"
    reason = log.loc["昆山.ods", "reason"]
    assert "工作表「统计表」" in reason and "ALL1048576" in reason and "删除多余的行和列" in reason
    assert "整个文件未读取" in reason
    assert "表格范围" not in log.loc["太仓.ods", "reason"]  # LibreOffice's empty tail is not a big sheet
    assert log.loc["常熟.xlsx", "status"] == "read"
    assert readers.check_zip(year_dir.inbox / "太仓.ods", ods=True) == {}


def test_a_file_over_the_memory_limit_is_that_files_reason_and_not_cached(form, year_dir, monkeypatch, capfd):
    """90 million cells declared in 800 bytes: past the sheet check (turned off here), the spreadsheet reader
    allocates them and is refused memory; with two files, reading used to happen in this very process. What
    the dying reader prints (Rust's "memory allocation … failed", a backtrace, a fault's dump) never reaches
    the terminal: only the Chinese reason does."""
    from wennuan_lib.base import config

    (year_dir.inbox / "昆山.ods").write_bytes(ods_repeated(100_000, 900))
    template.write(form, year_dir.inbox / "常熟.xlsx", values={"01A.1": 5}, header={"unit": UNIT})
    monkeypatch.setattr(config, "MAX_SHEET_CELLS", 10**12)
    monkeypatch.setattr(config, "MAX_READ_MB", 400)
    monkeypatch.setenv("RUST_BACKTRACE", "1")
    capfd.readouterr()
    log = year_dir.ingest()["ingest_log"].set_index("file")
    printed = capfd.readouterr().err
    assert "memory allocation" not in printed and "backtrace" not in printed and "Fatal" not in printed, (
        printed
    )
    assert log.loc["昆山.ods", "status"] == "rejected"
    reason = log.loc["昆山.ods", "reason"]
    assert "内存超过了上限（400 MB" in reason and "复制到新文件" in reason, reason
    assert log.loc["常熟.xlsx", "status"] == "read"
    monkeypatch.setattr(config, "MAX_SHEET_CELLS", 2_000_000)
    log = year_dir.ingest()["ingest_log"].set_index("file")
    assert "表格范围" in log.loc["昆山.ods", "reason"]  # read again, not the memory reason kept


def test_a_form_continued_on_the_next_sheet_is_read_whole(form, year_dir, figures):
    path = year_dir.inbox / f"{UNIT}.xlsx"
    wb = xlsxwriter.Workbook(path)
    lines = sentences(form, figures)
    cut = len(lines) * 2 // 3
    first = wb.add_worksheet("第1页")
    first.write("A1", form.title)
    first.write("A2", f"填报单位：{UNIT}      2013年1月12日")
    for r, (_c, text) in enumerate(lines[:cut], 3):
        first.write(r, 2, text)
    second = wb.add_worksheet("第2页")
    for r, (_c, text) in enumerate(lines[cut:], 1):
        second.write(r, 2, text)
    wb.close()
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["part"] == "工作表「第1页」、工作表「第2页」" and log["status"] == "read"
    assert_figures(form, values_of(frames, f"{UNIT}.xlsx"), figures)


def test_a_file_that_kills_its_reading_process_is_that_files_reason(form, year_dir, monkeypatch):
    import os

    names = [f"单位{k:02d}.xlsx" for k in range(15)]  # with the .docx, enough files for a pool of readers
    template.write(form, year_dir.inbox / names[0], values={"01A.1": 5}, header={"unit": UNIT})
    for name in names[1:]:
        (year_dir.inbox / name).write_bytes((year_dir.inbox / names[0]).read_bytes())
    (year_dir.inbox / "太仓市总工会.docx").write_bytes(docx_bytes(["填报单位：太仓市总工会"]))
    real = readers.read

    def killer(path, *args, **kwargs):
        if path.suffix == ".docx":
            os._exit(9)  # as a native reader's crash or the out-of-memory killer would
        return real(path, *args, **kwargs)

    monkeypatch.setattr(readers, "read", killer)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    log = year_dir.ingest()["ingest_log"].set_index("file")
    assert log.loc["太仓市总工会.docx", "status"] == "rejected"
    assert "异常退出" in log.loc["太仓市总工会.docx", "reason"]
    assert log.loc["太仓市总工会.docx", "unit"] == "太仓市总工会"
    assert all(log.loc[n, "status"] in ("read", "superseded") for n in names)
