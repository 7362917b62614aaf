"""The template to send out: reads like the paper form, validated inputs, a map by defined names."""

import datetime as dt
import time
from decimal import Decimal

import openpyxl
import pytest

from wennuan_lib import cli
from wennuan_lib.publish import template
from wennuan_lib.read import layouts, parts, readers


@pytest.fixture
def blank(tmp_path):
    out = tmp_path / "统计表.xlsx"
    assert cli.main(["template", "--year", "2013", "--out", str(out)]) == 0
    return out


def test_blank_template_has_a_name_per_item_and_the_form_version(blank, form):
    wb = openpyxl.load_workbook(blank)
    names = wb.defined_names
    for item in form.items:
        assert item.name in names
    for h in form.header:
        assert h.name in names
    assert names["WN_FORM_YEAR"].value == '"2013"'
    assert names["WN_FORM_VERSION"].value == f'"{form.version}"'


def test_template_reads_like_the_paper_form(blank):
    ws = openpyxl.load_workbook(blank).active
    col_a = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    rows = [v for v in col_a if v and str(v).isdigit()]
    assert rows == [f"{n:02d}" for n in range(1, 12)]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value]
    assert "当地职工总数" in texts and "（C）" in texts
    assert any("填报单位" in t for t in texts) and any("联系电话" in t for t in texts)


def test_inputs_are_validated_and_unlocked_labels_locked(blank, form):
    wb = openpyxl.load_workbook(blank)
    ws = wb.active
    assert ws.protection.sheet is True
    dvs = ws.data_validations.dataValidation
    by_type = {dv.type: dv for dv in dvs}
    assert by_type["whole"].operator == "greaterThanOrEqual" and by_type["whole"].formula1 == "0"
    assert by_type["decimal"].formula1 == "0" and by_type["decimal"].prompt
    for item in form.items:
        sheet, coord = next(wb.defined_names[item.name].destinations)
        cell = ws[coord.replace("$", "")]
        assert cell.protection.locked is False
        dv = by_type["decimal" if item.is_money else "whole"]
        assert coord.replace("$", "") in dv.sqref
    label = ws["C5"]
    assert label.value == "当地职工总数" and label.protection.locked is True


@pytest.mark.parametrize(
    "variant",
    [{}, {"inserted_rows": {3: "本单位补充说明"}}, {"remark_column": True}, {"sheet_title": "我的表"}],
)
def test_filled_template_is_read_by_names_wherever_cells_moved(tmp_path, form, variant):
    values = {c: (3.25 if form.item(c).is_money else i) for i, c in enumerate(form.codes)}
    path = template.write(
        form,
        tmp_path / "x.xlsx",
        values=values,
        header={
            "unit": "常熟市总工会",
            "date": dt.date(2013, 1, 15),
            "person": "张伟",
            "phone": "0512-52345678",
        },
        **variant,
    )
    m = parts.read_form(readers.read(path), form)
    assert m.layout == layouts.TEMPLATE
    assert m.form_year == "2013"
    assert {c: f.raw for c, f in m.values.items()} == values
    assert layouts.parse_date(m.header["date"].raw) == "2013-01-15"
    assert m.header["unit"].raw == "常熟市总工会"


def test_xlsm_template_reads_the_same(tmp_path, form, year_dir):
    template.write(
        form,
        year_dir.inbox / "常熟市总工会.xlsm",
        values={"01A.1": 100, "05.1": 2.5},
        header={"unit": "常熟市总工会"},
    )
    frames = year_dir.ingest()
    v = frames["values"].set_index("item")
    assert v.loc["01A.1", "value"] == "100" and v.loc["05.1", "value"] == "2.5"
    assert Decimal(v.loc["05.1", "value"]) == Decimal("2.5")


def test_template_is_byte_stable(tmp_path, form):
    a = template.write(form, tmp_path / "a.xlsx").read_bytes()
    time.sleep(1.1)  # openpyxl stamps the save time; it must not reach the file
    b = template.write(form, tmp_path / "b.xlsx").read_bytes()
    assert a == b
