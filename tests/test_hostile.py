"""Hostile and broken inboxes: nothing breaks the run, nothing leaks,
and the analyst is told what to ask for."""

import io
import os
import re
import resource
import shutil
import subprocess
import zipfile

import cn2an
import docx
import openpyxl
import pytest
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st
from msoffcrypto.format.ooxml import OOXMLFile

from wennuan_lib import views
from wennuan_lib.base import config
from wennuan_lib.publish import template
from wennuan_lib.read.parse import CN_NUMERAL, OK, parse_blank

from .conftest import ROOT, Year, run_args, tree_hash, with_part

GOOD = "常熟市总工会.xlsx"


def good_submission(year_dir, form, unit="常熟市总工会", name=GOOD, **values):
    template.write(form, year_dir.inbox / name, values={"01A.1": 5, **values}, header={"unit": unit})


def encrypt(data: bytes) -> bytes:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("123456", out)
    return out.getvalue()


def docx_bytes(text="填报单位：吴中区总工会") -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def bomb(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
    return out.getvalue()


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><w:document xmlns:w="http://schemas.openxmlformats.org/'
    b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&x;</workbook>'
)


def hostile_files(form, tmp) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the Chinese reason must contain)."""
    template.write(form, tmp / "ok.xlsx", values={"01A.1": 1}, header={"unit": "太仓市总工会"})
    xlsx = (tmp / "ok.xlsx").read_bytes()
    return {
        "随机字节.xlsx": (os.urandom(3000), "损坏"),
        "随机字节.docx": (os.urandom(3000), "损坏"),
        "截断.xlsx": (xlsx[: len(xlsx) // 2], "损坏"),
        "空文件.docx": (b"", "空"),
        "加密.xlsx": (encrypt(xlsx), "密码"),
        "加密.docx": (encrypt(docx_bytes()), "密码"),
        "压缩炸弹.xlsx": (bomb(40 * 2**20), "压缩炸弹"),
        "实体膨胀.docx": (with_part(docx_bytes(), "word/document.xml", LAUGHS), "不安全的XML"),
        "外部实体.xlsx": (with_part(xlsx, "xl/workbook.xml", XXE), "不安全的XML"),
    }


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(config, "MAX_INFLATED_BYTES", 20 * 2**20)


def test_each_bad_file_is_named_with_its_reason_and_the_good_ones_are_read(
    year_dir, form, small_limits, tmp_path
):
    good_submission(year_dir, form)
    bad = hostile_files(form, tmp_path)
    for name, (data, _) in bad.items():
        (year_dir.inbox / name).write_bytes(data)
    for name in ("~$常熟市总工会.xlsx", "Thumbs.db", ".DS_Store", "说明.txt"):
        (year_dir.inbox / name).write_bytes(b"litter")
    before = tree_hash(year_dir.inputs)
    frames = year_dir.ingest()
    log = frames["ingest_log"].set_index("file")
    for name, (_, word) in bad.items():
        assert log.loc[name, "status"] == "rejected", name
        assert word in log.loc[name, "reason"], (name, log.loc[name, "reason"])
    assert (
        log.loc[["~$常熟市总工会.xlsx", "Thumbs.db", ".DS_Store", "说明.txt"], "status"] == "skipped"
    ).all()
    assert log.loc[GOOD, "status"] == "read"
    assert frames["values"].set_index("item").loc["01A.1", "value"] == "5"
    assert tree_hash(year_dir.inputs) == before


def test_encrypted_is_never_mistaken_for_corrupt(year_dir, form, tmp_path):
    (year_dir.inbox / "加密.xlsx").write_bytes(hostile_files(form, tmp_path)["加密.xlsx"][0])
    reason = year_dir.ingest()["ingest_log"].iloc[0]["reason"]
    assert "密码" in reason and "损坏" not in reason


def test_legacy_excel_under_a_new_name_is_still_read(year_dir, form):
    book = xlwt.Workbook(encoding="utf-8")
    sh = book.add_sheet("统计表")
    sh.write(0, 0, "填报单位：常熟市总工会")
    for r, line in enumerate(form.layout, 1):
        sh.write(r, 0, line.text.replace("{", "").replace("}", "").replace("01A.1", " 77 "))
    buf = io.BytesIO()
    book.save(buf)
    (year_dir.inbox / "旧格式改名.xlsx").write_bytes(buf.getvalue())
    frames = year_dir.ingest()
    assert frames["ingest_log"].iloc[0]["status"] == "read"
    assert frames["values"].set_index("item").loc["01A.1", "value"] == "77"


HOSTILE_UNIT = '=HYPERLINK("http://evil.example/x","点我")'
SCRIPT_UNIT = "<script>alert(1)</script>工会"


def test_hostile_text_is_text_everywhere(year_dir, form, tmp_path):
    good_submission(year_dir, form, unit=HOSTILE_UNIT, name="a.xlsx", **{"02A.1": 3, "02A.2": 9})
    good_submission(year_dir, form, unit=SCRIPT_UNIT, name="b.xlsx", **{"02A.1": 3, "02A.2": 9})
    good_submission(year_dir, form, unit="../../../etc/工会", name="c.xlsx", **{"02A.1": 3, "02A.2": 9})
    year_dir.all()
    values = year_dir.load("values")
    assert {HOSTILE_UNIT, SCRIPT_UNIT, "../../../etc/工会"} <= set(values["unit"])  # ingested as text
    raw = (year_dir.path("values")).read_text(encoding="utf-8-sig")
    assert not re.search(r"(^|,)=HYPERLINK", raw, re.M) and "'=HYPERLINK" in raw  # no live formula in CSV
    feedback = year_dir.root / "feedback"
    files = sorted(p.name for p in feedback.iterdir())
    assert all(p.resolve().parent == feedback.resolve() for p in feedback.iterdir()) and len(files) == 3
    assert not list(year_dir.outputs.parent.rglob("etc/工会.xlsx"))
    for path in feedback.iterdir():
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
    html = (year_dir.root / "report" / "书面总结.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    # the table's own scripts are ours; the unit's name is text
    grid = views.ingest.value_grid(values, form).data
    assert "<script>alert" not in grid and "&lt;script&gt;alert(1)&lt;/script&gt;" in grid
    for ws in openpyxl.load_workbook(year_dir.path("review_workbook")).worksheets:
        for row in ws.iter_rows():
            assert all(cell.data_type != "f" for cell in row), (ws.title, [c.value for c in row])


def test_fuzz_never_raises_never_invents(tmp_path):
    @settings(max_examples=400, deadline=None)
    @given(st.text(max_size=24), st.booleans())
    def never(text, money):
        p = parse_blank(text, money)  # never raises
        if p.status == OK and p.value != 0:
            assert re.search(r"\d", __import__("unicodedata").normalize("NFKC", text)) or any(
                c in CN_NUMERAL for c in text
            )

    never()


FORMATS = [
    lambda n: f"{n:,}",
    lambda n: f"{n:,}".replace(",", "，"),
    lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    lambda n: f" {n} ",
    lambda n: f"约{n}",
    lambda n: f"{n}余",
    lambda n: f"{n}多",
    lambda n: f"为{n}",
    lambda n: f"共{n}人",
]


def test_fuzz_round_trips_every_number_format():
    @settings(max_examples=300, deadline=None)
    @given(st.integers(min_value=0, max_value=10**9), st.sampled_from(range(len(FORMATS))))
    def counts(n, k):
        assert parse_blank(FORMATS[k](n)).value == n

    @settings(max_examples=200, deadline=None)
    @given(st.integers(min_value=1, max_value=99999))
    def numerals(n):
        assert parse_blank(cn2an.an2cn(n)).value == n

    @settings(max_examples=200, deadline=None)
    @given(st.integers(min_value=1, max_value=99999))
    def wan(n):
        assert parse_blank(f"{n / 10:g}万").value == n * 1000

    @settings(max_examples=300, deadline=None)
    @given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
    def money(d):
        for text in (
            f"{d}",
            f"{d}万元",
            f"{d}".translate(str.maketrans("0123456789.", "０１２３４５６７８９．")),
        ):
            assert parse_blank(text, money=True).value == d

    counts()
    numerals()
    wan()
    money()


def test_strict_mode_fails_on_a_rejected_file(tmp_path, form):
    inputs = tmp_path / "inputs"
    (inputs / "2013" / "submissions").mkdir(parents=True)
    shutil.copy(ROOT / "inputs" / "units.csv", inputs / "units.csv")
    vals = {c: 1 for c in form.codes}
    vals.update({"01A.1": 1000, "05.1": 4, "04C.1": 10, "09.1": 4, "09.2": 4, "10A.1": 10})
    template.write(
        form, inputs / "2013" / "submissions" / "a.xlsx", values=vals, header={"unit": "常熟市总工会"}
    )
    (inputs / "2013" / "submissions" / "坏.docx").write_bytes(b"garbage")
    (inputs / "2013" / "narrative.md").write_text(
        "## 典型经验\n\n好。\n\n## 存在问题\n\n无。\n\n## 下一步打算\n\n继续。\n", encoding="utf-8"
    )  # every section written: 定稿 is possible
    base = run_args(inputs, tmp_path / "out")
    plain = subprocess.run(base, capture_output=True, text=True, timeout=600)
    assert plain.returncode == 0 and "无法读取 1 个" in plain.stdout and "定稿" in plain.stdout
    strict = subprocess.run(base + ["--strict"], capture_output=True, text=True, timeout=600)
    assert strict.returncode == 1 and "坏.docx" in strict.stderr
    # every file read, but a section of the summary not written: still not 定稿, and strict says which
    (inputs / "2013" / "submissions" / "坏.docx").unlink()
    (inputs / "2013" / "narrative.md").unlink()
    strict = subprocess.run(base + ["--strict"], capture_output=True, text=True, timeout=600)
    assert strict.returncode == 1 and "待补充" in strict.stderr and "坏.docx" not in strict.stderr


def test_hostile_folder_among_good_ones_runs_clean_in_bounded_memory(tmp_path, form):
    """The whole run over a real-sized hostile inbox: default limits, a separate process,
    peak memory measured."""
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs", ignore=shutil.ignore_patterns("2011", "2012"))
    inbox = tmp_path / "inputs" / "2013" / "submissions"
    good = {p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()}
    bad = hostile_files(form, tmp_path)
    bad.pop("压缩炸弹.xlsx")  # 40 MB: a bomb only under the small limit of the test above
    bad["大炸弹.xlsx"] = (bomb(300 * 2**20), "压缩炸弹")  # over the default limit of 200 MB
    for name, (data, _) in bad.items():
        (inbox / name).write_bytes(data)
    before = tree_hash(tmp_path / "inputs")
    out = subprocess.run(
        run_args(tmp_path / "inputs", tmp_path / "outputs"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 1024, peak_mib
    log = Year(tmp_path / "inputs", tmp_path / "outputs").load("ingest_log").set_index("file")
    for name, (_, word) in bad.items():
        assert log.loc[name, "status"] == "rejected" and word in log.loc[name, "reason"], name
        assert name in out.stdout  # the summary names every rejected file
    rejected = log.loc[sorted(good)].query("status == 'rejected'")
    assert list(rejected.index) == [
        n for n in sorted(good) if n.endswith(".png")
    ]  # only the sample's own scan
    assert tree_hash(tmp_path / "inputs") == before
