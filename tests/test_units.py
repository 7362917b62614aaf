import pandas as pd
import pytest

from wennuan_lib.publish import template
from wennuan_lib.read.units import Registry


@pytest.fixture
def registry():
    return Registry(
        pd.DataFrame(
            [
                {"name": "姑苏区总工会", "aliases": "姑苏区|平江区总工会", "type": "市、区"},
                {"name": "市教育工会", "aliases": "市教育局工会", "type": "局(公司)"},
            ]
        )
    )


@pytest.mark.parametrize(
    "written,how",
    [
        ("姑苏区总工会", "名称一致"),
        ("平江区总工会", "别名"),
        ("姑 苏 区", "别名"),
        ("姑苏区总工会（盖章）", "名称一致"),
        ("市教育局工会办公室", "名称包含"),
    ],
)
def test_written_names_resolve(registry, written, how):
    r = registry.resolve(written)
    assert r.registered and r.how == how
    assert r.name in ("姑苏区总工会", "市教育工会")


@pytest.mark.parametrize(
    "written,unit",
    [
        ("姑苏区工会", "姑苏区总工会"),  # a short form: only generic words around the registered name
        ("苏州市姑苏区总工会", "姑苏区总工会"),
        ("姑苏区总工会保障部", "姑苏区总工会"),
        ("市教育局工会办公室", "市教育工会"),
        ("姑苏区人民医院工会", None),  # another body in 姑苏区, not the district's union
        ("姑苏区教育局工会", None),
        ("吴江市教育工会", None),  # a county's union, not the city's 市教育工会
    ],
)
def test_a_name_field_counts_a_registered_name_inside_it_only_with_generic_words_around(
    registry, written, unit
):
    r = registry.resolve(written, field=True)
    assert (r.name if r else None) == unit


def test_a_form_of_a_body_not_registered_is_never_given_to_the_unit_its_name_contains(form, year_dir):
    """常熟市人民医院工会 sends a form (its file named after it): it is not 常熟市总工会, whose alias 常熟市
    stands in its name — it is a unit not in the registry, shown as such, its figures not in the totals."""

    for unit in ("常熟市人民医院工会", "常熟工会"):
        template.write(form, year_dir.inbox / f"{unit}.xlsx", values={"01A.1": 10}, header={"unit": unit})
    subs = year_dir.ingest()["submissions"].set_index("file")
    assert subs.loc["常熟市人民医院工会.xlsx", "unit"] == "常熟市人民医院工会"
    assert not subs.loc["常熟市人民医院工会.xlsx", "registered"]
    assert subs.loc["常熟工会.xlsx", "unit"] == "常熟市总工会" and subs.loc["常熟工会.xlsx", "registered"]


def test_unknown_name_is_not_guessed(registry):
    assert registry.resolve("苏州市物流行业工会联合会") is None
    assert registry.resolve("") is None


def test_bad_type_is_named(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("name,aliases,type\n某工会,,区\n", encoding="utf-8")
    with pytest.raises(ValueError, match="某工会"):
        Registry.load(path)


def test_a_form_whose_file_name_names_another_unit_must_be_confirmed(form, year_dir):
    """吴江区总工会 written on a form whose file is named for 吴中区总工会 (a form copied from a neighbour):
    its figures go to 吴江区 and 吴中区 would be listed as not reported — so it is a must-fix finding (U01)
    until confirmed. A file named for its own unit, or for no unit, raises nothing."""
    copied = year_dir.inbox / "2013年送温暖统计表（吴中区总工会）.xlsx"
    template.write(form, copied, values={}, header={"unit": "吴江区总工会"})
    template.write(form, year_dir.inbox / "常熟市总工会.xlsx", values={}, header={"unit": "常熟市总工会"})
    template.write(form, year_dir.inbox / "统计表.xlsx", values={}, header={"unit": "太仓市总工会"})
    year_dir.ingest()
    issues = year_dir.clean()["issues"]
    u01 = issues[issues["rule"] == "U01"]
    assert list(u01["unit"]) == ["吴江区总工会"] and list(u01["severity"]) == ["error"]
    assert "文件名写的却是「吴中区总工会」" in u01["message"].iloc[0]


def test_a_form_in_a_package_named_for_another_unit_must_be_confirmed(form, year_dir):
    """The same copy inside a zip (or a folder) named for the unit that sent it, the form itself called just
    统计表.xlsx: its folder names 太仓市总工会, its 填报单位 吴江区总工会 — a must-fix finding (U01) as for a
    file name, never 吴江's figures taken from 太仓's package in silence. A package named for its own unit
    raises nothing."""
    import io
    import zipfile

    def package(name: str, folder: str, unit: str) -> None:
        form_file = year_dir.inbox / "统计表.xlsx"
        template.write(form, form_file, values={}, header={"unit": unit})
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as z:
            z.writestr(f"{folder}/统计表.xlsx", form_file.read_bytes())
        form_file.unlink()
        (year_dir.inbox / name).write_bytes(data.getvalue())

    package("太仓市总工会送温暖材料.zip", "太仓市总工会", "吴江区总工会")
    package("常熟市总工会.zip", "材料", "常熟市总工会")
    year_dir.ingest()
    issues = year_dir.clean()["issues"]
    u01 = issues[issues["rule"] == "U01"]
    assert list(u01["unit"]) == ["吴江区总工会"]
    assert "文件名或所在的文件夹、压缩包、邮件写的却是「太仓市总工会」" in u01["message"].iloc[0]


def test_a_mis_named_form_that_replaced_the_units_own_says_so(form, year_dir):
    """吴江区总工会's own form (dated the 10th), then a copy from a neighbour's file with 吴江 written on it
    (dated the 12th): the later one is in force, and its U01 says it replaced the unit's own form — a unit
    that only confirms "yes, that is ours" must know its own figures were dropped."""
    import datetime as dt

    own = year_dir.inbox / "吴江区总工会.xlsx"
    template.write(
        form, own, values={"01A.1": 5}, header={"unit": "吴江区总工会", "date": dt.date(2013, 1, 10)}
    )
    copied = year_dir.inbox / "2013年送温暖统计表（吴中区总工会）.xlsx"
    template.write(
        form, copied, values={"01A.1": 7}, header={"unit": "吴江区总工会", "date": dt.date(2013, 1, 12)}
    )
    frames = year_dir.ingest()
    status = frames["ingest_log"].set_index("file")["status"]
    assert status[copied.name] == "read" and status[own.name] == "superseded"
    issues = year_dir.clean()["issues"]
    u01 = issues[issues["rule"] == "U01"]["message"]
    assert len(u01) == 1 and "它取代了吴江区总工会另报的「吴江区总工会.xlsx」（已不计入）" in u01.iloc[0]
