"""Round trip: generated data → files of every container and layout → ingest gives the generated values."""

import io
import random
import shutil
import zipfile

import openpyxl
import pytest

from wennuan_lib.base import config
from wennuan_lib.publish import template
from wennuan_lib.read import convert as conversion
from wennuan_lib.read import readers
from wennuan_lib.read.parse import format_value

from . import sample_data as sample
from .conftest import Year, tree_hash


def compare(truth, frames):
    """Every blank of every in-force submission read as the generator wrote it."""
    values = frames["read_values"]
    wrong = []
    for unit, expected in truth.values.items():
        rows = values[values["unit"] == unit].set_index("item")
        assert len(rows) == 67, unit
        for code, e in expected.items():
            r = rows.loc[code]
            if (r["status"], r["value"], bool(r["approx"])) != (e.status, format_value(e.value), e.approx):
                wrong.append((unit, code, e, r["raw_text"], r["value"], r["status"]))
    assert not wrong


def test_every_blank_of_every_sample_submission_is_read_right(sample_run):
    truth, _paths, frames, _ = sample_run
    compare(truth, frames)
    assert set(frames["read_values"]["unit"]) == set(truth.values)


@pytest.mark.needs("soffice")
def test_sample_covers_every_container_and_layout(sample_run):
    truth, _, frames, _ = sample_run
    read = frames["submissions"]
    assert set(read["container"]) >= {"xlsx", "xlsm", "xls", "docx", "doc"}
    assert set(read["layout"]) == {"template", "sentence", "labelled"}
    containers_by_layout = read.groupby("layout")["container"].agg(set)
    assert {"docx", "xlsx"} <= containers_by_layout["sentence"]
    statuses = set(frames["ingest_log"]["status"])
    assert statuses >= {"read", "summary", "superseded", "skipped"}


def test_every_file_has_the_expected_fate(sample_run):
    truth, _, frames, _ = sample_run
    log = frames["ingest_log"].set_index("file")
    assert set(log.index) == {f.name for f in truth.files}
    for f in truth.files:
        assert log.loc[f.name, "status"] == f.status, f.name
        assert log.loc[f.name, "reason"], f.name
        if f.unit:
            assert log.loc[f.name, "unit"] == f.unit, f.name


def test_superseded_draft_is_never_counted(sample_run):
    truth, _, frames, _ = sample_run
    draft = next(f for f in truth.files if f.status == "superseded")
    assert draft.name not in set(frames["read_values"]["file"])
    subs = frames["submissions"]
    unit_rows = subs[subs["unit"] == draft.unit]
    assert sorted(unit_rows["status"]) == ["read", "superseded"]
    latest = unit_rows[unit_rows["status"] == "read"].iloc[0]
    assert latest["date"] > unit_rows[unit_rows["status"] == "superseded"].iloc[0]["date"]
    extracted = frames["extracted"]
    assert set(extracted.loc[extracted["file"] == draft.name, "in_force"]) == {False}


def test_unregistered_unit_is_ingested_under_its_written_name_and_flagged(sample_run):
    _, _, frames, _ = sample_run
    values = frames["read_values"]
    rows = values[values["unit"] == sample.UNREGISTERED]
    assert len(rows) == 67 and set(rows["registered"]) == {False}


def test_aliases_and_file_names_resolve_to_canonical_units(sample_run):
    _, _, frames, _ = sample_run
    subs = frames["submissions"]
    assert (subs["written_unit"] != subs["unit"]).any()  # aliases and seals were resolved
    by_file = subs[subs["written_unit"] == ""]
    assert len(by_file) >= 1 and by_file["registered"].all()
    assert by_file["unit_how"].str.contains("文件名").all()


def test_provenance_file_and_cell_or_paragraph(sample_run):
    _, _, frames, _ = sample_run
    v = frames["read_values"]
    filled = v[v["status"] != "not_found"]
    assert (filled["file"] != "").all() and (filled["location"] != "").all()
    assert filled["location"].str.contains("!").any() and filled["location"].str.contains("表1第").any()


def test_raw_inputs_are_untouched(sample_run):
    _, paths, _, before = sample_run
    assert tree_hash(paths.inputs) == before


def test_data_files_are_utf8_bom_and_byte_identical_across_runs(sample_years, tmp_path):
    results, _, _ = sample_years
    _, first_run = results[2013]
    # the same year again, in a fresh outputs folder that holds the same earlier years
    for year in (2011, 2012):
        shutil.copytree(first_run.outputs / str(year), tmp_path / "out2" / str(year), symlinks=True)
    again = Year(first_run.inputs, tmp_path / "out2", 2013)
    again.all()

    def files(run):
        return {
            p.relative_to(run).as_posix(): p.read_bytes()
            for p in sorted(run.rglob("*"))
            if p.is_file()
            and p.suffix in (".csv", ".xlsx", ".png", ".json", ".pdf", ".docx", ".html")
            and p.parent.name != "logs"
            and p.name != "run.json"
        }

    first, second = files(first_run.run), files(again.run)
    assert first == second
    csvs = {k: v for k, v in first.items() if k.endswith(".csv")}
    assert all(b.startswith(b"\xef\xbb\xbf") for b in csvs.values())
    layers = {k.split("/")[1] for k in csvs}
    assert layers == {"01_extracted", "02_values", "03_findings", "04_totals"}
    assert any(k.startswith("feedback/") for k in first) and "data/manifest.json" in first
    assert {
        "report/汇总统计表.xlsx",
        "report/分单位明细表.xlsx",
        "report/charts/sources.png",
        "report/书面总结.pdf",
        "report/书面总结.docx",
    } <= set(first)


def test_another_seed_reads_right_too(other_seed):
    truths, _, read, _ = other_seed
    compare(truths[2013], {"read_values": read})


def test_sample_refuses_to_overwrite_an_inbox(sample_years, tmp_path):
    """An inbox the sample made (the shared sample's, copied) is never written over, nor what is beside it."""
    results, _, _ = sample_years
    shutil.copytree(results[2013][1].inputs, tmp_path / "inputs")
    before = tree_hash(tmp_path / "inputs")
    with pytest.raises(FileExistsError):
        sample.generate(tmp_path / "inputs", 2013, 2)
    assert tree_hash(tmp_path / "inputs") == before


@pytest.mark.parametrize(
    "name,data,words",
    [
        ("空文件.xlsx", b"", "空"),
        ("乱码.xlsx", bytes(range(256)) * 4, "损坏"),
        ("乱码.docx", b"PK\x03\x04" + bytes(200), "损坏"),
        ("旧格式乱码.xlsx", readers.OLE_MAGIC + bytes(600), "无法打开"),
        ("扫描件.pdf", b"%PDF-1.4", "PDF"),
        ("材料.zip", b"PK\x05\x06" + bytes(18), "压缩包"),
    ],
)
def test_bad_files_are_rejected_with_a_chinese_reason_and_lose_nothing_else(
    year_dir, form, name, data, words
):
    template.write(
        form, year_dir.inbox / "常熟市总工会.xlsx", values={"01A.1": 5}, header={"unit": "常熟市总工会"}
    )
    (year_dir.inbox / name).write_bytes(data)
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    assert log.loc[name, "status"] == "rejected" and words in log.loc[name, "reason"]
    assert log.loc["常熟市总工会.xlsx", "status"] == "read"
    assert frames["values"].set_index("item").loc["01A.1", "value"] == "5"


def test_doc_without_libreoffice_says_how_to_read_it(year_dir, monkeypatch):
    (year_dir.inbox / "旧表.doc").write_bytes(readers.OLE_MAGIC + bytes(600))
    monkeypatch.setattr(conversion, "soffice", lambda: None)
    log = year_dir.ingest()["ingest_log"].iloc[0]
    assert log["status"] == "rejected" and "LibreOffice" in log["reason"] and ".docx" in log["reason"]


@pytest.mark.needs("soffice")
def test_doc_is_read_through_libreoffice(sample_run):
    _, _, frames, _ = sample_run
    subs = frames["submissions"]
    assert (subs["container"] == "doc").sum() >= 1


def test_litter_is_skipped_quietly(year_dir):
    for name in ["~$统计表.xlsx", "Thumbs.db", ".DS_Store", "说明.txt"]:
        (year_dir.inbox / name).write_bytes(b"x")
    log = year_dir.ingest()["ingest_log"]
    assert set(log["status"]) == {"skipped"} and len(log) == 4


def test_missing_inbox_is_a_clear_error(tmp_path):
    shutil.copytree(config.ROOT / "inputs", tmp_path / "inputs", ignore=shutil.ignore_patterns("20*"))
    with pytest.raises(FileNotFoundError, match="收件箱"):
        Year(tmp_path / "inputs", tmp_path / "out", 2013).ingest()


MESSES = {
    "千分位逗号": r"^\s*\d{1,3}(?:,\d{3})+\s*$",
    "全角逗号": r"\d，\d{3}",
    "全角数字": r"[０-９]",
    "计数中的万": r"^\s*\d+(?:\.\d+)?万\s*$",
    "约": r"约\d",
    "余": r"\d余",
    "多": r"\d多",
    "中文数字": r"^[一二三四五六七八九十百千]+$",
    "零的写法": r"^\s*(?:无|没有|零|—|-|/|／)\s*$",
    "下划线空白": r"^[\s\u3000]*_{2,}[\s\u3000]*$",
    "单位词": r"\d(?:人|户|家|人次|万元)\s*$",
    "为/共": r"^\s*(?:为|共)\d",
    "无法识别的文字": r"见附件",
}


def test_sample_holds_every_mess_of_form_md(sample_run):
    _, _, frames, _ = sample_run
    raw = frames["extracted"]["raw_text"]
    absent = [name for name, rx in MESSES.items() if not raw.str.contains(rx, regex=True).any()]
    assert not absent


@pytest.mark.needs("soffice")
def test_sample_inbox_shapes_are_read_as_they_are(sample_run):
    """Track Changes, .wps/.et, a Windows zip, a PDF from Word and a scan, as the sample holds them."""
    truth, _, frames, _ = sample_run
    values = frames["read_values"]
    revised = values[values["revised"].astype(str) == "True"]
    assert set(zip(revised["unit"], revised["item"])) == set(truth.revised) and truth.revised
    issues = frames["issues"]
    r01 = issues[issues["rule"] == "R01"]
    assert set(zip(r01["unit"], r01["item"])) == set(truth.revised)
    containers = set(frames["submissions"]["container"])
    assert {"et", "docx", "wps", "pdf", "doc"} <= containers
    log = frames["ingest_log"].set_index("file")
    members = [f for f in truth.files if ".zip/" in f.name]
    assert members and all(log.loc[f.name, "status"] == f.status for f in members)
    assert all(f.name.count("/") == 2 for f in members)  # archive.zip/folder/member
    scans = [f.name for f in truth.files if f.name.endswith(".png")]
    assert scans and all("可以复制文字的PDF" in log.loc[n, "reason"] for n in scans)
    resubmitted = log[log["reason"].str.contains("填报日期2013-01-19晚于", regex=False)]
    assert sorted(resubmitted["status"]) == ["read", "superseded"]


def _formula_cells(path, formulas: dict[str, str], cached: dict[str, str] | None = None) -> None:
    """Cells of the workbook at `path` made formulas, as a program that does not calculate writes them
    (openpyxl: the formula and an empty <v>); those in `cached` are given a saved result, as Excel does."""
    wb = openpyxl.load_workbook(path)
    for ref, formula in formulas.items():
        sheet, cell = ref.split("!")
        wb[sheet][cell] = formula
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            for ref, value in (cached or {}).items():
                f = formulas[ref][1:].encode()
                body = body.replace(
                    b"<f>" + f + b"</f><v></v>", b"<f>" + f + b"</f><v>" + value.encode() + b"</v>"
                )
            dst.writestr(info, body)
    path.write_bytes(out.getvalue())


def test_formula_without_a_saved_result_is_refused_not_read_as_blank(year_dir, form):
    """A program that does not calculate (openpyxl) leaves a formula cell without its result: a reader sees
    an empty cell where the unit, in Excel, sees a number. That is never 未填: it is refused (N02) with what
    to do. A formula with its saved result is read by that result."""
    path = template.write(
        form,
        year_dir.inbox / "常熟市总工会.xlsx",
        values={c: 5 for c in form.codes},
        header={"unit": "常熟市总工会"},
    )
    wb = template.build(form)
    ref = {c: "!".join(next(iter(wb.defined_names[form.item(c).name].destinations))) for c in form.codes}
    ref = {c: r.replace("$", "") for c, r in ref.items()}
    formulas = {ref["04A.1"]: "=D15+10", ref["05.1"]: "=SUM(D18:D21)", ref["04A.2"]: "=2*21"}
    _formula_cells(path, formulas, cached={ref["04A.2"]: "42"})
    frames = year_dir.ingest()
    values = frames["values"].set_index("item")
    for code, formula in (("04A.1", "=D15+10"), ("05.1", "=SUM(D18:D21)")):
        row = values.loc[code]
        assert (row["status"], row["value"], row["raw_text"]) == ("unreadable", "", formula), code
        assert "公式" in row["note"] and "没有保存计算结果" in row["note"] and "保存后重新报送" in row["note"]
    assert (values.loc["04A.2", "status"], values.loc["04A.2", "value"]) == ("ok", "42")
    assert values.loc["01A.1", "value"] == "5"
    issues = year_dir.clean()["issues"]
    n02 = issues[issues["rule"] == "N02"]
    assert set(n02["item"]) == {"04A.1", "05.1"} and set(n02["severity"]) == {"error"}
    assert n02["message"].str.contains("没有保存计算结果").all()
    assert not (issues["rule"] == "N01").any()  # nothing is called 未填


def test_formula_cells_in_a_units_own_table(year_dir, form):
    """The same in a table the unit made itself (项目 | 数量); a table of nothing but such cells is rejected
    with that reason, not as a layout nobody can read."""
    texts = {c: str(10 + k) for k, c in enumerate(form.codes)}
    header = {"unit": "常熟市总工会", "date_text": "2013年1月18日"}
    one, every = year_dir.inbox / "常熟市总工会.xlsx", year_dir.inbox / "太仓市总工会.xlsx"
    sample.write_label_pairs_xlsx(form, one, texts, header, random.Random(1))
    sample.write_label_pairs_xlsx(form, every, texts, {**header, "unit": "太仓市总工会"}, random.Random(1))
    rows = {v.value: v.coordinate for row in openpyxl.load_workbook(one).active for v in row}
    _formula_cells(one, {f"Sheet1!{rows[texts['07H.1']]}": "=B20+B21"})
    _formula_cells(every, {f"Sheet1!{rows[texts[c]]}": f"=C{k}+1" for k, c in enumerate(form.codes, 1)})
    frames = year_dir.ingest()
    values = frames["values"]
    mine = values[values["file"] == one.name].set_index("item")
    assert (mine.loc["07H.1", "status"], mine.loc["07H.1", "raw_text"]) == ("unreadable", "=B20+B21")
    assert "没有保存计算结果" in mine.loc["07H.1", "note"]
    assert (mine["status"] == "ok").sum() == 66
    log = frames["ingest_log"].set_index("file")
    assert log.loc[every.name, "status"] == "rejected"
    assert "67个公式格" in log.loc[every.name, "reason"] and "保存后重新报送" in log.loc[every.name, "reason"]


def test_a_count_of_something_else_is_refused_in_a_sentence_and_in_a_units_own_table(year_dir, form):
    """100户 typed in 07H.1 (人次), in the notice's sentences or beside a row whose measure says 户: refused
    (N02) naming both words; 12万元 is refused as before, the item's own word read."""
    texts = {c: str(10 + k) for k, c in enumerate(form.codes)}
    texts.update({"07H.1": "100户", "04A.1": "12万元", "04A.2": "30户", "07B.1": "8次"})
    header = {"unit": "常熟市总工会", "date_text": "2013年1月18日"}
    sample.write_sentence_xlsx(form, year_dir.inbox / "常熟市总工会.xlsx", texts, header, random.Random(1))
    table = year_dir.inbox / "太仓市总工会.xlsx"
    plain = {c: str(10 + k) for k, c in enumerate(form.codes)}
    sample.write_label_pairs_xlsx(form, table, plain, {**header, "unit": "太仓市总工会"}, random.Random(1))
    wb = openpyxl.load_workbook(table)
    for row in wb.active.iter_rows(min_col=1, max_col=2):
        if row[1].value == plain["07H.1"]:
            row[0].value = str(row[0].value).replace(
                "（人次）", "（户）"
            )  # the unit's own measure column says 户
    wb.save(table)
    frames = year_dir.ingest()
    values = frames["values"]
    for name in ("常熟市总工会.xlsx", "太仓市总工会.xlsx"):
        rows = values[values["file"] == name].set_index("item")
        assert (rows.loc["07H.1", "status"], rows.loc["07H.1", "value"]) == ("unreadable", ""), name
        assert "户" in rows.loc["07H.1", "note"] and "本项的单位是人次" in rows.loc["07H.1", "note"], name
    rows = values[values["file"] == "常熟市总工会.xlsx"].set_index("item")
    assert rows.loc["04A.1", "status"] == "unreadable" and "万元" in rows.loc["04A.1", "note"]
    assert (rows.loc["04A.2", "value"], rows.loc["07B.1", "value"]) == ("30", "8")
    issues = year_dir.clean()["issues"]
    n02 = issues[(issues["rule"] == "N02") & (issues["item"] == "07H.1")]
    assert len(n02) == 2 and n02["message"].str.contains("本项的单位是人次").all()
