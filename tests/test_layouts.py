"""The sentence layout: the notice's own table, filled in Word or pasted into Excel, read blank by blank.

The 'unseen' documents here are built from the seed attachment's own text, with its own odd
spacing, and filled the way a person types into the blanks: in the middle of the spaces.
"""

import re
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest

from wennuan_lib.read import layouts, readers
from wennuan_lib.read.readers import Block, Extract

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SLOT = re.compile(r"(?<=[^\s；;。：:])([ \u3000_\n]*[ \u3000_][ \u3000_\n]*)(?=\S)")

# (typed, expected value, approximate) by FORM.md's table, for count and for 万元 blanks
COUNT_MESS = [
    ("12,345", 12345, False),
    ("12，345", 12345, False),
    ("１２３４５", 12345, False),
    (" 12345 ", 12345, False),
    ("1.2万", 12000, False),
    ("约500", 500, True),
    ("500余", 500, True),
    ("500多", 500, True),
    ("一百二十", 120, False),
    ("四十", 40, False),
    ("0", 0, False),
    ("无", 0, False),
    ("没有", 0, False),
    ("零", 0, False),
    ("—", 0, False),
    ("-", 0, False),
    ("/", 0, False),
    ("／", 0, False),
    ("为320", 320, False),
    ("共88", 88, False),
    ("77{unit}", 77, False),  # the item's own counting word (another one is refused: test_parse)
    ("", None, False),
    ("____", None, False),
    ("215", 215, False),
]
MONEY_MESS = [
    ("3.5", "3.5", False),
    ("３．５", "3.5", False),
    ("3.50", "3.5", False),
    ("12.25万元", "12.25", False),
    ("共6.8", "6.8", False),
    ("", None, False),
    ("0", "0", False),
]


def seed_cells() -> list[str]:
    text = (FIXTURES / "seed_attachment.txt").read_text(encoding="utf-8").replace("\ue003", "")
    return re.split(r"\n?\t", text)


def is_sentence(cell: str) -> bool:
    return (
        bool(re.search(r"[\u4e00-\u9fff]{4}", cell))
        and "填报单位" not in cell
        and not cell.startswith("附件")
    )


def fill_seed(form, header: str) -> tuple[list[str], dict]:
    """The seed's cells with every blank typed into, and what each blank must read as."""
    codes = [c for line in form.layout for c in line.codes]
    counts = iter(COUNT_MESS * 5)
    moneys = iter(MONEY_MESS * 5)
    expected: dict[str, tuple] = {}
    k = 0
    cells = []
    for cell in seed_cells():
        if "填报单位" in cell:
            cell = header
        elif is_sentence(cell):

            def typed(m):
                nonlocal k
                code = codes[k]
                k += 1
                text, value, approx = next(moneys if form.item(code).is_money else counts)
                text = text.replace("{unit}", form.item(code).unit)
                expected[code] = (Decimal(str(value)) if value is not None else None, approx)
                run = m.group(1)
                cut = run.rfind("\n") + 1 if "\n" in run else len(run) // 2
                return run[:cut] + text + run[cut:]

            cell = SLOT.sub(typed, cell)
        cells.append(cell)
    assert k == 67, "the seed attachment has 67 blanks"
    return cells, expected


HEADER = (
    "填报单位：苏州市某某工会（盖章）          2013年1月18日  \n"
    "填报人: 李秀英          联系电话：0512-65236564"
)


def write_docx(cells: list[str], path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("附件：")
    document.add_paragraph("2013年全市工会送温暖活动统计表")
    table = document.add_table(rows=0, cols=4)
    for i in range(0, len(cells), 4):
        row = table.add_row().cells
        for j, text in enumerate(cells[i : i + 4]):
            row[j].text = text
    document.save(path)
    return path


def write_pasted_xlsx(cells: list[str], path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    r = 1
    for cell in cells:
        if not cell.strip():
            continue
        r += 1
        ws.cell(r, 1 if not is_sentence(cell) and "填报" not in cell else 3, cell)
    wb.save(path)
    return path


def check(frames, expected):
    values = frames["values"].set_index("item")
    assert len(values) == 67
    for code, (value, approx) in expected.items():
        row = values.loc[code]
        want = "" if value is None else str(value.normalize() if value % 1 else int(value))
        assert row["value"] == want, (code, row["raw_text"], row["value"], want)
        assert row["status"] == ("missing" if value is None else "ok"), (code, row["raw_text"])
        assert bool(row["approx"]) == approx, code
        assert row["location"], code


@pytest.mark.parametrize(
    "writer,name", [(write_docx, "某某工会统计表.docx"), (write_pasted_xlsx, "某某工会统计表.xlsx")]
)
def test_unseen_seed_layout_read_blank_by_blank(form, year_dir, writer, name):
    cells, expected = fill_seed(form, HEADER)
    writer(cells, year_dir.inbox / name)
    frames = year_dir.ingest()
    check(frames, expected)
    sub = frames["submissions"].iloc[0]
    assert sub["layout"] == "sentence" and sub["date"] == "2013-01-18"
    assert sub["written_unit"] == "苏州市某某工会" and sub["registered"] == False  # noqa: E712
    assert sub["person"] == "李秀英" and sub["phone"] == "0512-65236564"


def extract(*texts: str) -> Extract:
    return Extract(Path("x.docx"), "docx", [Block(f"第{i}段", t) for i, t in enumerate(texts, 1)])


def read_lines(form, *texts):
    flat = layouts.FlatText(extract(*texts))
    out = {}
    for line in form.blank_lines:
        found, _ = layouts._locate_line(line, flat)
        out.update({c: raw for c, (raw, _) in found.items()})
    return out


@pytest.mark.parametrize(
    "text",
    [
        "当地职工总数 12345 人,其中农民工总数 3000 人。",
        "当地职工总数12345人，其中农民工总数3000人",  # spaces deleted, punctuation changed
        "当 地 职工总数　12345　人 , 其中 农民工 总数　3000　人。",  # spaces inserted, full-width spaces
        "当地职工总数__12345__人,其中农民工总数___3000___人。",  # underscores kept around the number
        "当地职工总数为12345人,其中农民工总数共3000人。",  # 为/共 added
        "（A）当地职工总数 12345人,其中农民工总数\n3000 人。",  # letter in the cell, a line break in a blank
    ],
)
def test_tolerant_sentence_matching(form, text):
    found = read_lines(form, text)
    assert found["01A.1"].strip(" _\u3000") in ("12345", "为12345")
    assert found["01A.2"].strip(" _\u3000\n") in ("3000", "共3000")


def test_rows_merged_into_one_cell_with_line_breaks(form):
    cell = (
        "其中市县工会认定的特困职工家庭  31 户；\n"
        "其中因意外事件、重大疾病、自然灾害等造成生活困难的困难职工家庭 12 户；\n"
        "本年度经过工会帮扶实现脱贫的困难职工家庭  约9 户。"
    )
    found = read_lines(form, cell)
    assert (found["03C.1"].strip(), found["03D.1"].strip(), found["03E.1"].strip()) == ("31", "12", "约9")


def test_short_first_literal_is_anchored_by_the_rest(form):
    found = read_lines(
        form,
        "为困难职工提供法律援助 5 人次；",
        "与困难职工结对帮扶 6 对。",
        "为 18 名权益受损的职工开展维权工作，其中涉及新生代农民工 7 人；",
    )
    assert found["08A.1"].strip() == "18" and found["08A.2"].strip() == "7"


def test_prose_summary_is_not_a_form_and_its_numbers_are_not_values(form, year_dir):
    document = docx.Document()
    document.add_heading("吴中区总工会2013年送温暖活动总结", 1)
    for text in [
        "活动期间走访企业100家，走访职工家庭2000户，慰问困难家庭总数800户。",
        "筹集慰问款物总额150万元，其中：政府拨款30万元；工会投入100万元。",
        "帮助农民工平安返乡3000人次；共包汽车12辆，运送600人次。",
    ]:
        document.add_paragraph(text)
    document.save(year_dir.inbox / "吴中区总工会总结.docx")
    frames = year_dir.ingest()
    log = frames["ingest_log"].iloc[0]
    assert log["status"] == "summary" and log["unit"] == "吴中区总工会"
    assert frames["values"].empty
    summary = frames["summaries"].iloc[0]
    assert summary["unit"] == "吴中区总工会" and "走访企业100家" in summary["text"]


def test_header_read_from_text_around_the_table(form):
    flat = layouts.FlatText(
        extract("填报单位：常熟市总工会（盖章）   2013年01月15日", "填报人：张伟  联系电话：0512-52345678")
    )
    h = layouts.header_from_text(flat)
    assert h["unit"].raw == "常熟市总工会"
    assert layouts.parse_date(h["date"].raw) == "2013-01-15"
    assert h["person"].raw == "张伟" and h["phone"].raw == "0512-52345678"


def test_empty_header_gives_no_unit(form):
    flat = layouts.FlatText(
        extract("填报单位：                年     月     日", "填报人: 　　   联系电话：   ")
    )
    assert layouts.header_from_text(flat) == {}


def test_reader_gives_cell_locations(tmp_path, form):
    cells, _ = fill_seed(form, HEADER)
    path = write_docx(cells, tmp_path / "x.docx")
    ex = readers.read(path)
    assert any(b.loc.startswith("表1第") for b in ex.blocks)
