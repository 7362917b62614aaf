import pandas as pd
import pytest

from wennuan_lib.units import Registry


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


def test_unknown_name_is_not_guessed(registry):
    assert registry.resolve("苏州市物流行业工会联合会") is None
    assert registry.resolve("") is None


def test_bad_type_is_named(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("name,aliases,type\n某工会,,区\n", encoding="utf-8")
    with pytest.raises(ValueError, match="某工会"):
        Registry.load(path)
