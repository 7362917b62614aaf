"""The inbox as it really arrives: files read by what they are, archives opened safely, PDFs with text,
odd names, links and special files, and which of a unit's versions wins. Every file is made here."""

import fcntl
import io
import os
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from PIL import Image, ImageDraw

from wennuan_lib.base import config, dates
from wennuan_lib.check import rules
from wennuan_lib.publish import template
from wennuan_lib.read import archives, readers, sniff
from wennuan_lib.read import convert as conversion
from wennuan_lib.read.parse import format_value
from wennuan_lib.steps import ingest

from . import sample_data as sample

needs_soffice = pytest.mark.needs("soffice")
HEADER = {"unit": "常熟市总工会", "date_text": "2013年1月18日", "person": "张伟", "phone": "0512-52345678"}


def filled(form, seed: int = 1) -> tuple[dict[str, str], dict[str, sample.Expected]]:
    """Every blank typed as a unit might type it, and what must be read."""
    rng = random.Random(seed)
    messer = sample.Messer(rng)
    true = sample.unit_values(rng, 300_000, "市、区")
    texts, expected = {}, {}
    for item in form.items:
        texts[item.code], expected[item.code] = messer.text(true[item.key], item.is_money, item.unit)
    return texts, expected


def sentence_docx(form, path: Path, header=None, seed: int = 1) -> dict:
    texts, expected = filled(form, seed)
    sample.write_sentence_docx(form, path, texts, header or HEADER, random.Random(seed))
    return expected


def sentence_xls(form, path: Path, header=None, seed: int = 1) -> dict:
    texts, expected = filled(form, seed)
    sample.write_sentence_xls(form, path, texts, header or HEADER, random.Random(seed))
    return expected


def check_values(frames, expected, file: str) -> None:
    rows = frames["extracted"][frames["extracted"]["file"] == file].set_index("item")
    assert len(rows) == 67, file
    wrong = [
        (c, rows.loc[c, "raw_text"], rows.loc[c, "value"])
        for c, e in expected.items()
        if (rows.loc[c, "status"], rows.loc[c, "value"], bool(rows.loc[c, "approx"]))
        != (e.status, format_value(e.value), e.approx)
    ]
    assert not wrong, wrong


def log_of(frames):
    return frames["ingest_log"].set_index("file")


def convert(src: Path, to: str) -> Path:
    """A copy converted by LibreOffice (to = "doc:MS Word 97" or "pdf")."""
    out = src.parent / "converted"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            conversion.soffice(),
            f"-env:UserInstallation=file://{src.parent / 'lo-profile'}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            str(src),
        ],
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(src.parent)},
    )
    return out / f"{src.stem}.{to.split(':')[0]}"


# --- the container by content -----------------------------------------------------------------------


def test_et_and_extensionless_and_misnamed_excel_are_read_by_content(form, year_dir, tmp_path):
    expected = sentence_xls(form, tmp_path / "x.xls")
    names = {
        "常熟市总工会.et": "常熟市总工会",
        "吴中区总工会.xlsx": "吴中区总工会",
        "太仓市总工会统计表": "太仓市总工会",
    }
    for name, unit in names.items():
        header = {**HEADER, "unit": unit}
        sentence_xls(form, tmp_path / "y.xls", header)
        (year_dir.inbox / name).write_bytes((tmp_path / "y.xls").read_bytes())
    frames = year_dir.ingest()
    log = log_of(frames)
    for name, unit in names.items():
        assert log.loc[name, "status"] == "read" and log.loc[name, "unit"] == unit, log.loc[name, "reason"]
        check_values(frames, expected, name)
    assert "按内容是Excel 97-2003" in log.loc["吴中区总工会.xlsx", "reason"]
    assert "没有扩展名" in log.loc["太仓市总工会统计表", "reason"]


def test_docx_named_doc_and_xlsx_named_et_are_read_by_content(form, year_dir):
    expected = sentence_docx(form, year_dir.inbox / "常熟市总工会.doc")
    template.write(
        form, year_dir.inbox / "吴中区总工会.et", values={"01A.1": 7}, header={"unit": "吴中区总工会"}
    )
    frames = year_dir.ingest()
    log = log_of(frames)
    assert log.loc["常熟市总工会.doc", "status"] == "read" and log.loc["吴中区总工会.et", "status"] == "read"
    check_values(frames, expected, "常熟市总工会.doc")
    values = frames["values"]
    assert values[(values["unit"] == "吴中区总工会") & (values["item"] == "01A.1")]["value"].tolist() == ["7"]


@needs_soffice
def test_wps_is_a_word97_document_and_read(form, year_dir, tmp_path):
    expected = sentence_docx(form, tmp_path / "常熟.docx")
    doc = convert(tmp_path / "常熟.docx", "doc:MS Word 97")
    assert sniff.kind(doc) == sniff.WORD97
    shutil.copy(doc, year_dir.inbox / "常熟市总工会统计表.wps")
    shutil.copy(doc, year_dir.inbox / "常熟市总工会统计表（改名）.docx")  # a .doc renamed .docx
    frames = year_dir.ingest()
    log = log_of(frames)
    assert log.loc["常熟市总工会统计表.wps", "status"] in ("read", "superseded")
    assert "按内容是Word 97-2003" in log.loc["常熟市总工会统计表（改名）.docx", "reason"]
    for name in ("常熟市总工会统计表.wps", "常熟市总工会统计表（改名）.docx"):
        check_values(frames, expected, name)


@needs_soffice
def test_legacy_files_converted_while_the_kernel_starts_are_taken_by_step_01(
    form, year_dir, tmp_path, monkeypatch
):
    """The command has LibreOffice convert the inbox's legacy Word files while the kernel starts
    (convert.start_early); step 01 reads those copies and converts itself only what was not claimed, or was
    saved again since: here one file taken as converted, one saved again after it was claimed (its new
    figures read)."""
    expected = sentence_docx(form, tmp_path / "常熟.docx")
    shutil.copy(convert(tmp_path / "常熟.docx", "doc:MS Word 97"), year_dir.inbox / "常熟.doc")
    sentence_docx(form, tmp_path / "太仓.docx", header={**HEADER, "unit": "太仓市总工会"})
    shutil.copy(convert(tmp_path / "太仓.docx", "doc:MS Word 97"), year_dir.inbox / "太仓.doc")
    files = conversion.early_files(year_dir.inbox, lambda path: False)
    assert sorted(p.name for p, _ in files) == ["太仓.doc", "常熟.doc"]
    thread = conversion.start_early(files, tmp_path / "early")
    monkeypatch.setenv(conversion.ENV, str(tmp_path / "early"))
    again = sentence_docx(form, tmp_path / "太仓2.docx", header={**HEADER, "unit": "太仓市总工会"}, seed=2)
    shutil.copy(convert(tmp_path / "太仓2.docx", "doc:MS Word 97"), year_dir.inbox / "太仓.doc")
    own = []

    class Spy(conversion.Conversion):
        def __init__(self, paths, folder, kinds=None):
            own.extend(p.name for p in paths)
            super().__init__(paths, folder, kinds)

    monkeypatch.setattr(conversion, "Conversion", Spy)
    frames = year_dir.ingest()
    thread.join()
    assert own == ["太仓.doc"]
    check_values(frames, expected, "常熟.doc")
    check_values(frames, again, "太仓.doc")


@needs_soffice
def test_files_the_command_converted_already_are_read_with_the_others_in_one_go(
    form, year_dir, tmp_path, monkeypatch
):
    """When the command's conversion ended before step 01 reads (the usual case: LibreOffice is faster than
    the kernel's start), the converted copies are read in the same pool as the other files; while it still
    runs, the others are read first (convert.ended)."""
    expected = sentence_docx(form, tmp_path / "常熟.docx")
    shutil.copy(convert(tmp_path / "常熟.docx", "doc:MS Word 97"), year_dir.inbox / "常熟.doc")
    template.write(form, year_dir.inbox / "太仓.xlsx", values={"01A.1": 5}, header={"unit": "太仓市总工会"})
    early = tmp_path / "early"
    thread = conversion.start_early(conversion.early_files(year_dir.inbox, lambda path: False), early)
    monkeypatch.setenv(conversion.ENV, str(early))
    thread.join()
    assert conversion.ended()
    with open(early / conversion.LOCK) as held:  # as while LibreOffice still converts
        fcntl.flock(held, fcntl.LOCK_EX)
        assert not conversion.ended()
    pools, read_all = [], ingest._read_all
    monkeypatch.setattr(ingest, "_read_all", lambda jobs, *a: pools.append(len(jobs)) or read_all(jobs, *a))
    frames = year_dir.ingest()
    assert pools == [2]
    check_values(frames, expected, "常熟.doc")
    assert log_of(frames).loc["太仓.xlsx", "status"] == "read"


@needs_soffice
def test_a_legacy_file_gone_before_it_is_copied_claims_nothing(form, year_dir, tmp_path, monkeypatch):
    """A legacy file removed between the command listing it and copying it: nothing is claimed (no
    LibreOffice left running, no message), and step 01 reads the inbox as it is."""
    sentence_docx(form, tmp_path / "常熟.docx")
    doc = convert(tmp_path / "常熟.docx", "doc:MS Word 97")
    shutil.copy(doc, year_dir.inbox / "常熟.doc")
    shutil.copy(doc, year_dir.inbox / "太仓.doc")
    files = conversion.early_files(year_dir.inbox, lambda path: False)
    (year_dir.inbox / "太仓.doc").unlink()
    assert conversion.start_early(files, tmp_path / "early") is None
    monkeypatch.setenv(conversion.ENV, str(tmp_path / "early"))
    assert conversion.claimed([year_dir.inbox / "常熟.doc"]) == set()
    assert log_of(year_dir.ingest()).loc["常熟.doc", "status"] == "read"


def test_rtf_goes_through_libreoffice_and_without_it_says_so(year_dir, monkeypatch):
    (year_dir.inbox / "材料.doc").write_bytes(b"{\\rtf1\\ansi " + "填报单位：常熟市总工会}".encode("gbk"))
    assert sniff.kind(year_dir.inbox / "材料.doc") == sniff.RTF
    monkeypatch.setattr(conversion, "soffice", lambda: None)
    row = log_of(year_dir.ingest()).loc["材料.doc"]
    assert row["status"] == "rejected" and "LibreOffice" in row["reason"]


def test_powerpoint_is_named_not_read(year_dir):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("ppt/presentation.xml", "<p/>")
    (year_dir.inbox / "汇报.docx").write_bytes(buf.getvalue())
    row = log_of(year_dir.ingest()).loc["汇报.docx"]
    assert row["status"] == "rejected" and "PowerPoint" in row["reason"]


# --- images and PDFs -----------------------------------------------------------------------------------


def scan_png(form) -> bytes:
    """A 'scanned' form: the form's text drawn into a picture (no text layer)."""
    img = Image.new("L", (900, 1200), 255)
    draw = ImageDraw.Draw(img)
    for k, line in enumerate([form.title, "填报单位：常熟市总工会"] + [ln.text for ln in form.layout][:30]):
        draw.text((20, 20 + 36 * k), line.encode("ascii", "replace").decode(), fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_image_and_pdf_without_text_are_rejected_saying_what_to_ask_for(form, year_dir):
    png = scan_png(form)
    (year_dir.inbox / "常熟市总工会扫描件.png").write_bytes(png)
    (year_dir.inbox / "常熟市总工会扫描件.jpg").write_bytes(png)  # a PNG named .jpg: still a picture
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buf, "PDF")
    (year_dir.inbox / "常熟市总工会扫描件.pdf").write_bytes(buf.getvalue())
    log = log_of(year_dir.ingest())
    for name in ("常熟市总工会扫描件.png", "常熟市总工会扫描件.jpg", "常熟市总工会扫描件.pdf"):
        assert log.loc[name, "status"] == "rejected", name
        assert "Word或Excel版本" in log.loc[name, "reason"] and "可以复制文字的PDF" in log.loc[name, "reason"]
    assert "图片" in log.loc["常熟市总工会扫描件.png", "reason"]
    assert "没有文字" in log.loc["常熟市总工会扫描件.pdf", "reason"]


@needs_soffice
def test_pdf_saved_from_a_filled_word_form_is_read_blank_by_blank(form, year_dir, tmp_path):
    expected = sentence_docx(form, tmp_path / "常熟市总工会统计表.docx", seed=5)
    pdf = convert(tmp_path / "常熟市总工会统计表.docx", "pdf")
    shutil.copy(pdf, year_dir.inbox / "常熟市总工会统计表.pdf")
    frames = year_dir.ingest()
    row = log_of(frames).loc["常熟市总工会统计表.pdf"]
    assert row["status"] == "read" and row["unit"] == "常熟市总工会", row["reason"]
    check_values(frames, expected, "常熟市总工会统计表.pdf")
    sub = frames["submissions"].iloc[0]
    assert sub["date"] == "2013-01-18" and sub["person"] == "张伟"
    locations = frames["extracted"]["location"]
    assert locations.str.match(r"^第\d+页").all()


# --- archives -----------------------------------------------------------------------------------------


def legacy_zip(members: dict[str, bytes]) -> bytes:
    """The sample's Windows zip (GBK names, no UTF-8 flag), checked to be one."""
    data = sample.windows_zip_bytes(members)
    assert not any(i.flag_bits & archives.UTF8_FLAG for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert all(name.encode("gbk") in data for name in members)  # the names really are stored as GBK bytes
    return data


def summary_docx(unit: str) -> bytes:
    d = docx.Document()
    d.add_heading(f"{unit}2013年元旦春节送温暖活动工作总结", 1)
    d.add_paragraph(
        "按照市总工会通知要求，我们高度重视，精心组织，扎实开展送温暖活动，走访慰问困难职工家庭。"
    )
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_gbk_named_zip_with_folder_form_and_summary(form, year_dir, tmp_path):
    expected = sentence_docx(form, tmp_path / "f.docx", {**HEADER, "unit": ""})
    folder = "常熟市总工会送温暖材料/"
    data = legacy_zip(
        {
            folder + "统计表.docx": (tmp_path / "f.docx").read_bytes(),
            folder + "送温暖工作总结.docx": summary_docx("常熟市总工会"),
            folder + "说明.txt": "材料".encode("gbk"),
        }
    )
    (year_dir.inbox / "常熟材料.zip").write_bytes(data)
    frames = year_dir.ingest()
    log = log_of(frames)
    assert log.loc["常熟材料.zip", "status"] == "unpacked"
    form_name = "常熟材料.zip/常熟市总工会送温暖材料/统计表.docx"
    summary_name = "常熟材料.zip/常熟市总工会送温暖材料/送温暖工作总结.docx"
    assert log.loc[form_name, "status"] == "read" and log.loc[form_name, "unit"] == "常熟市总工会"
    assert log.loc[summary_name, "status"] == "summary" and log.loc[summary_name, "unit"] == "常熟市总工会"
    assert log.loc["常熟材料.zip/常熟市总工会送温暖材料/说明.txt", "status"] == "skipped"
    check_values(frames, expected, form_name)
    assert frames["summaries"]["file"].tolist() == [summary_name]


def test_member_names_utf8_flag_and_legacy():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("统计表.docx", b"x")  # Python sets the UTF-8 flag for non-ASCII names
    info = zipfile.ZipFile(buf).infolist()[0]
    assert info.flag_bits & archives.UTF8_FLAG and archives.member_name(info) == "统计表.docx"
    legacy = zipfile.ZipFile(io.BytesIO(legacy_zip({"材料/统计表.docx": b"x"}))).infolist()[0]
    assert legacy.filename != "材料/统计表.docx" and archives.member_name(legacy) == "材料/统计表.docx"


def test_unsafe_members_refused_and_nothing_written_outside(form, year_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MAX_INFLATED_BYTES", 2 * 2**20)
    template.write(form, tmp_path / "ok.xlsx", values={"01A.1": 5}, header={"unit": "常熟市总工会"})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("../../逃逸.xlsx", (tmp_path / "ok.xlsx").read_bytes())
        z.writestr("/etc/绝对.xlsx", b"x")
        z.writestr("炸弹.bin", b"\0" * (3 * 2**20))  # inflates past the (test's) limit
        z.writestr("常熟市总工会.xlsx", (tmp_path / "ok.xlsx").read_bytes())
    (year_dir.inbox / "a.zip").write_bytes(buf.getvalue())
    before = set(tmp_path.rglob("*"))
    frames = year_dir.ingest()
    log = log_of(frames)
    assert log.loc["a.zip/../../逃逸.xlsx", "status"] == "rejected"
    assert (
        "“..”" in log.loc["a.zip/../../逃逸.xlsx", "reason"]
        and "绝对路径" in log.loc["a.zip//etc/绝对.xlsx", "reason"]
    )
    assert (
        log.loc["a.zip/炸弹.bin", "status"] == "rejected"
        and "压缩炸弹" in log.loc["a.zip/炸弹.bin", "reason"]
    )
    assert log.loc["a.zip/常熟市总工会.xlsx", "status"] == "read"
    after = {p for p in tmp_path.rglob("*") if "outputs" not in p.parts}
    assert after - before <= set()  # nothing appeared beside the inbox (or anywhere in the test's folder)
    assert not list(Path("/etc").glob("绝对.xlsx"))


def test_archive_limits_count_and_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_MEMBERS", 3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k in range(5):
            z.writestr(f"{k}.docx", b"x")
    (tmp_path / "many.zip").write_bytes(buf.getvalue())
    with pytest.raises(readers.ReadError, match="超过上限3个"):
        archives.unpack(tmp_path / "many.zip", tmp_path / "out")


def test_zip_inside_zip_is_opened_one_level_deeper_and_no_further(form, year_dir, tmp_path):
    template.write(form, tmp_path / "ok.xlsx", values={"01A.1": 9}, header={"unit": "常熟市总工会"})

    def zipped(name, data):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, data)
        return buf.getvalue()

    inner = zipped("常熟市总工会.xlsx", (tmp_path / "ok.xlsx").read_bytes())
    (year_dir.inbox / "外层.zip").write_bytes(zipped("内层.zip", inner))
    (year_dir.inbox / "三层.zip").write_bytes(zipped("二.zip", zipped("三.zip", inner)))
    log = log_of(year_dir.ingest())
    assert log.loc["外层.zip/内层.zip", "status"] == "unpacked"
    assert log.loc["外层.zip/内层.zip/常熟市总工会.xlsx", "status"] == "read"
    assert (
        log.loc["三层.zip/二.zip/三.zip", "status"] == "rejected"
        and "两层" in log.loc["三层.zip/二.zip/三.zip", "reason"]
    )


def test_7z_is_read_through_libarchive(form, year_dir, tmp_path):
    libarchive = pytest.importorskip("libarchive")
    template.write(
        form, tmp_path / "常熟市总工会.xlsx", values={"01A.1": 11}, header={"unit": "常熟市总工会"}
    )
    os.chdir(tmp_path)
    with libarchive.file_writer(str(tmp_path / "材料.7z"), "7zip") as w:
        w.add_files("常熟市总工会.xlsx")
    shutil.copy(tmp_path / "材料.7z", year_dir.inbox / "材料.7z")
    frames = year_dir.ingest()
    log = log_of(frames)
    assert log.loc["材料.7z/常熟市总工会.xlsx", "status"] == "read"
    assert frames["values"].set_index("item").loc["01A.1", "value"] == "11"


def test_broken_rar_says_what_to_do(year_dir):
    (year_dir.inbox / "材料.rar").write_bytes(sniff.RAR_MAGIC + b"\x00" * 100)
    row = log_of(year_dir.ingest()).loc["材料.rar"]
    assert row["status"] == "rejected" and "zip" in row["reason"]


# --- names, links and special files --------------------------------------------------------------------


def test_non_utf8_file_name_is_listed_decoded_and_read(form, year_dir):
    inbox = os.fsencode(year_dir.inbox)
    template.write(form, year_dir.inbox / "tmp.xlsx", values={"01A.1": 5}, header={"unit": "常熟市总工会"})
    data = (year_dir.inbox / "tmp.xlsx").read_bytes()
    (year_dir.inbox / "tmp.xlsx").unlink()
    gbk = "常熟市总工会统计表.xlsx".encode("gbk")
    with open(os.path.join(inbox, gbk), "wb") as fh:
        fh.write(data)
    with open(os.path.join(inbox, b"bad\xb8.xlsx"), "wb") as fh:  # not UTF-8, not GBK either
        fh.write(data)
    frames = year_dir.ingest()
    log = log_of(frames)
    assert log.loc["常熟市总工会统计表.xlsx", "status"] in ("read", "superseded")
    assert "不是UTF-8编码" in log.loc["常熟市总工会统计表.xlsx", "reason"]
    assert "bad\\xb8.xlsx" in log.index and "\\xNN" in log.loc["bad\\xb8.xlsx", "reason"]
    assert log.loc["bad\\xb8.xlsx", "status"] in ("read", "superseded")
    raw = (year_dir.path("ingest_log")).read_bytes()
    raw.decode("utf-8")  # only valid UTF-8 in the data files
    assert "常熟市总工会统计表.xlsx".encode() in raw


def test_links_special_files_and_hard_links(form, year_dir, tmp_path):
    inbox = year_dir.inbox
    template.write(form, inbox / "常熟市总工会.xlsx", values={"01A.1": 5}, header={"unit": "常熟市总工会"})
    outside = tmp_path / "外面"
    outside.mkdir()
    template.write(form, outside / "吴中区总工会.xlsx", values={"01A.1": 6}, header={"unit": "吴中区总工会"})
    (inbox / "指向外面.xlsx").symlink_to(outside / "吴中区总工会.xlsx")
    (inbox / "外面的文件夹").symlink_to(outside, target_is_directory=True)
    (inbox / "指向里面.xlsx").symlink_to(inbox / "常熟市总工会.xlsx")
    (inbox / "断了.xlsx").symlink_to(tmp_path / "不存在.xlsx")
    (inbox / "循环").symlink_to(inbox / "循环")
    os.mkfifo(inbox / "管道.xlsx")
    template.write(form, tmp_path / "太仓.xlsx", values={"01A.1": 8}, header={"unit": "太仓市总工会"})
    os.link(tmp_path / "太仓.xlsx", inbox / "太仓市总工会.xlsx")
    frames = year_dir.ingest()  # never blocks on the FIFO
    log = log_of(frames)
    assert (
        log.loc["常熟市总工会.xlsx", "status"] == "read" and log.loc["太仓市总工会.xlsx", "status"] == "read"
    )
    for name, words in {
        "指向外面.xlsx": "收件箱以外",
        "外面的文件夹": "收件箱以外",
        "指向里面.xlsx": "原文件已直接读取",
        "断了.xlsx": "不存在",
        "循环": "循环",
        "管道.xlsx": "管道",
    }.items():
        assert log.loc[name, "status"] == "skipped" and words in log.loc[name, "reason"], (
            name,
            log.loc[name, "reason"],
        )
    assert set(frames["values"]["unit"]) == {"常熟市总工会", "太仓市总工会"}  # nothing from outside counted


# --- dates and versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written,iso",
    [
        ("2013年1月25日", "2013-01-25"),
        ("二〇一三年一月二十五日", "2013-01-25"),
        ("二零一三年一月二十五日", "2013-01-25"),
        ("2013年元月25日", "2013-01-25"),
        ("13年1月25日", "2013-01-25"),
        ("２０１３年１月２５日", "2013-01-25"),
        ("2013.1.25", "2013-01-25"),
        ("2013/1/25", "2013-01-25"),
        ("2013-01-25", "2013-01-25"),
        ("2013 年 01 月 25 日", "2013-01-25"),
        ("二〇一三年元月十日", "2013-01-10"),
        ("2013年1月25号", "2013-01-25"),
        ("1月25日", "2013-01-25"),
        ("12月28日", "2012-12-28"),
        (41299, "2013-01-25"),
        (41299.0, "2013-01-25"),
        ("41299", "2013-01-25"),
        (__import__("datetime").date(2013, 1, 25), "2013-01-25"),
        (__import__("datetime").datetime(2013, 1, 25, 0, 0), "2013-01-25"),
    ],
)
def test_dates_as_people_type_them(written, iso):
    assert dates.parse(written, 2013)[0] == iso


@pytest.mark.parametrize("written", ["春节前", "2013年1月", "2013年2月30日", "", None, "年  月  日"])
def test_unreadable_dates_say_why(written):
    iso, note = dates.parse(written, 2013)
    assert iso is None and note


def two_versions(
    form, year_dir, first_date: str, second_date: str, second_name: str = "常熟市总工会统计表（修改稿）.docx"
):
    sentence_docx(
        form, year_dir.inbox / "常熟市总工会统计表.docx", {**HEADER, "date_text": first_date}, seed=1
    )
    later = sentence_docx(form, year_dir.inbox / second_name, {**HEADER, "date_text": second_date}, seed=2)
    os.utime(
        year_dir.inbox / "常熟市总工会统计表.docx", (2_000_000_000, 2_000_000_000)
    )  # the older one touched last
    (year_dir.year_config).write_text("report_date: 2013-01-28\nnotice_date: 2012-12-27\n", encoding="utf-8")
    return later


def test_resubmission_dated_in_chinese_numerals_wins(form, year_dir):
    later = two_versions(form, year_dir, "2013年1月16日", "二〇一三年一月二十五日")
    frames = year_dir.ingest()
    log = log_of(frames)
    new, old = "常熟市总工会统计表（修改稿）.docx", "常熟市总工会统计表.docx"
    assert log.loc[new, "status"] == "read" and log.loc[old, "status"] == "superseded"
    assert "填报日期2013-01-25晚于另一份的2013-01-16" in log.loc[new, "reason"]
    assert "填报日期2013-01-25晚于另一份的2013-01-16" in log.loc[old, "reason"]
    check_values(frames, later, new)


def test_a_revision_sent_after_the_deadline_leaves_a_unit_that_reported_in_time_on_time(form, year_dir):
    """The unit sent its form before the deadline, then a 修改稿 after it (asked for in its feedback): it
    reported in time. The status gives the first form's date, and the run lists it nowhere as 逾期."""
    two_versions(form, year_dir, "2013年1月12日", "2013年1月24日")
    year_dir.year_config.write_text(
        "report_date: 2013-01-28\nnotice_date: 2012-12-27\ndeadline: 2013-01-21\n", encoding="utf-8"
    )
    frames = year_dir.ingest()
    assert log_of(frames).loc["常熟市总工会统计表（修改稿）.docx", "status"] == "read"
    year_dir.clean()
    status = year_dir.reconcile()["reporting_status"].set_index("unit")
    assert (
        status.loc["常熟市总工会", "late"] == "on_time"
        and status.loc["常熟市总工会", "form_date"] == "2013-01-12"
    )


def test_future_date_does_not_win_and_is_a_warning(form, year_dir):
    two_versions(form, year_dir, "2013年1月16日", "2031-01-05", second_name="常熟市总工会统计表（初稿）.docx")
    frames = year_dir.ingest()
    log = log_of(frames)
    future = "常熟市总工会统计表（初稿）.docx"
    assert (
        log.loc[future, "status"] == "superseded" and log.loc["常熟市总工会统计表.docx", "status"] == "read"
    )
    assert "填报日期2031-01-05晚于报告日期2013-01-28，不作为取舍依据" in log.loc[future, "reason"]
    subs = frames["submissions"].set_index("file")
    assert subs.loc[future, "date"] == "" and subs.loc[future, "date_written"] == "2031-01-05"
    year_dir.clean()
    issues = year_dir.load("issues")
    d01 = issues[issues["rule"] == rules.DATE_ID]
    assert (
        len(d01) == 1 and "2031-01-05" in d01.iloc[0]["message"] and d01.iloc[0]["severity"] == rules.WARNING
    )


def test_date_before_the_notice_or_unreadable_is_a_warning(form, year_dir):
    two_versions(form, year_dir, "2012年11月5日", "2013年元月")
    frames = year_dir.ingest()
    subs = frames["submissions"].set_index("file")
    assert "早于通知日期2012-12-27" in subs.loc["常熟市总工会统计表.docx", "date_problem"]
    assert "无法识别" in subs.loc["常熟市总工会统计表（修改稿）.docx", "date_problem"]
    assert log_of(frames).loc["常熟市总工会统计表（修改稿）.docx", "status"] == "read"  # by the word 修改稿
    year_dir.clean()
    issues = year_dir.load("issues")
    assert (issues["rule"] == rules.DATE_ID).sum() == 2


def test_excel_serial_date_in_the_template(form, year_dir):
    template.write(
        form,
        year_dir.inbox / "常熟市总工会.xlsx",
        values={"01A.1": 5},
        header={"unit": "常熟市总工会", "date": 41299},
    )
    sub = year_dir.ingest()["submissions"].iloc[0]
    assert sub["date"] == "2013-01-25"


def same_date_versions(form, year_dir, names: tuple[str, str], second: dict) -> None:
    """Two template forms of 太仓市总工会 with the same 填报日期; the second with `second` figures changed."""
    first = {c: 1 for c in form.codes}
    header = {"unit": "太仓市总工会", "date": "2013年1月12日"}
    template.write(form, year_dir.inbox / names[0], values=first, header=header)
    template.write(form, year_dir.inbox / names[1], values={**first, **second}, header=header)
    year_dir.year_config.write_text("report_date: 2013-01-28\nnotice_date: 2012-12-27\n", encoding="utf-8")


def test_same_date_versions_are_chosen_by_name_never_by_file_time(form, year_dir):
    """The choice depends only on what the run's fingerprint holds (names and contents): touching a file
    changes nothing, the log says why, and differing figures are a must-fix finding naming both files: until
    the unit says which is right (or the analyst waives it, having asked), the report cannot be final."""
    old, new = "太仓市总工会-统计表.xlsx", "太仓市总工会-统计表(2).xlsx"
    same_date_versions(form, year_dir, (old, new), {"02A.1": 7})
    for touched in (old, new, old):  # each file in turn modified last: the same choice every time
        os.utime(year_dir.inbox / touched, None)
        log = log_of(year_dir.ingest())
        assert log.loc[new, "status"] == "read" and log.loc[old, "status"] == "superseded"
        for reason in (log.loc[new, "reason"], log.loc[old, "reason"]):
            assert "两份的填报日期相同（2013-01-12）；文件名带有版本号“(2)”" in reason
            assert "修改时间" not in reason and "两份有1项数字不同（02A.1）" in reason
    year_dir.clean()
    issues = year_dir.load("issues")
    v01 = issues[issues["rule"] == rules.VERSIONS_ID]
    assert len(v01) == 1 and v01.iloc[0]["unit"] == "太仓市总工会"
    assert v01.iloc[0]["severity"] == rules.ERROR and v01.iloc[0]["item"] == ""
    message = v01.iloc[0]["message"]
    assert f"采用了「{new}」，未采用「{old}」" in message
    assert "02行“当地困难职工总数”采用的一份为7人，另一份为1人" in message
    year_dir.reconcile()
    sheet = openpyxl.load_workbook(year_dir.root / "feedback" / "太仓市总工会.xlsx")["审核意见"]
    rows = [r for r in sheet.iter_rows(values_only=True) if rules.VERSIONS_ID in r]
    assert len(rows) == 1 and "整份统计表" in rows[0] and message in rows[0]


@pytest.mark.parametrize(
    "names,winner",
    [
        (("太仓市总工会统计表（修改稿）.xlsx", "太仓市总工会统计表（3）.xlsx"), 0),  # a word beats a number
        (("太仓市总工会统计表(3).xlsx", "太仓市总工会统计表(12).xlsx"), 1),  # numbers, not text, compared
        (("太仓市总工会统计表B.xlsx", "太仓市总工会统计表A.xlsx"), 0),  # else the later name in sort order
    ],
)
def test_same_date_tie_break_by_name(form, year_dir, names, winner):
    same_date_versions(form, year_dir, names, {})
    log = log_of(year_dir.ingest())
    assert log.loc[names[winner], "status"] == "read" and log.loc[names[1 - winner], "status"] == "superseded"
    assert "两份的数字完全相同" in log.loc[names[winner], "reason"]
    year_dir.clean()
    assert not (year_dir.load("issues")["rule"] == rules.VERSIONS_ID).any()  # identical figures: no finding
