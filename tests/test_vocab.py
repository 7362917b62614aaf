"""One vocabulary: tables store codes, the analyst reads the Chinese words (issue 23 item 2)."""

import openpyxl
import pandas as pd
import pytest

from wennuan_lib import vocab
from wennuan_lib.base import catalog, store
from wennuan_lib.base.catalog import CatalogError
from wennuan_lib.run import freeze, report_summary


def test_the_run_stores_codes_and_the_review_workbook_shows_the_words(sample_run):
    """Every coded column of the sample's tables holds only codes (the sample has every state: a unit that
    did not report, one whose file could not be read, a late one, a summary that disagrees); 审核数据.xlsx
    shows the same rows in the words the analyst knows."""
    _, year, frames, _ = sample_run
    for key, labels in vocab.LABELS.items():
        name, column = key.split(".")
        stored = set(frames[name][column])
        assert stored <= set(labels) | {""}, (key, stored - set(labels))
    st = frames["reporting_status"]
    assert set(st["form"]) == {"reported", "unreadable", "missing"}
    assert {"late", "on_time"} <= set(st["late"]) and set(st["summary"]) == {"reported", "missing"}
    assert set(frames["summary_checks"]["verdict"]) == {"match", "approx", "differ"}

    book = openpyxl.load_workbook(year.path("review_workbook"), read_only=True)

    def column(sheet: str, heading: str) -> list:
        rows = list(book[sheet].values)
        k = rows[0].index(heading)
        return [r[k] for r in rows[1:]]

    assert column("报送情况", "统计表") == [vocab.FORM_LABELS[c] for c in st["form"]]
    assert set(column("报送情况", "统计表")) == {"已报", "已报但无法读取", "未报"}
    assert set(column("报送情况", "是否按时")) - {None} == {"按时", "逾期"}
    assert set(column("报送情况", "书面总结")) == {"已报", "未报"}
    assert set(column("书面总结对照", "结果")) == {"一致", "约数相符", "不一致"}
    assert set(column("更正与豁免", "登记表")) == {"更正登记表", "豁免登记表"}
    assert "未能应用（错误）" in column("更正与豁免", "结果")


def test_every_coded_column_says_its_codes_and_words_in_the_catalog():
    """docs/reference-outputs.md is made from the catalog: each code is named there with its Chinese word."""
    for key, labels in vocab.LABELS.items():
        name, column = key.split(".")
        described = catalog.dataset(name).description
        assert column in described, key
        for code, word in labels.items():
            assert f"{code} {word}" in described, (key, code, word)


def test_a_table_with_a_chinese_state_is_refused_when_saved(tmp_path):
    ds = catalog.dataset("reporting_status")
    row = {c: "" for c in ds.column_names} | {"unit": "甲区总工会", "form": "已报", "summary": "reported"}
    row |= {"registered": True, "errors": 0, "warnings": 0, "waived": 0, "days_late": None}
    said = "reporting_status 的 form 列只能存代码（reported、unreadable、missing），实为 已报"
    with pytest.raises(CatalogError, match=said):
        store.save_table(pd.DataFrame([row]), ds, tmp_path / "st.csv")
    store.save_table(pd.DataFrame([row | {"form": "reported"}]), ds, tmp_path / "st.csv")
    assert store.load_table(ds, tmp_path / "st.csv")["form"].tolist() == ["reported"]


def _older_run(folder):
    """A run folder as an older version of the program left it: Chinese states in the tables."""
    audit = pd.DataFrame(
        [
            {"kind": "更正", "line": 2, "unit": "甲区总工会", "item": "05.1", "status": "applied"},
            {"kind": "豁免", "line": 2, "unit": "乙区总工会", "rule": "W04", "status": "applied"},
        ]
    )
    status = pd.DataFrame(
        [
            {"unit": "甲区总工会", "registered": True, "form": "已报", "late": "逾期", "summary": "未报"},
            {"unit": "乙区总工会", "registered": True, "form": "未报", "late": "", "summary": "已报"},
        ]
    )
    log = pd.DataFrame(
        [
            {"file": "a.docx", "status": "read", "status_label": "全部未填", "unit": "甲区总工会"},
            {"file": "b.docx", "status": "read", "status_label": "已读取", "unit": "乙区总工会"},
        ]
    )
    reasons = pd.DataFrame(
        [{"kind": "待补充", "unit": "", "item": "", "message": "“下一步打算”一节尚未撰写"}]
    )
    for name, frame in (
        ("audit", audit),
        ("reporting_status", status),
        ("ingest_log", log),
        ("draft_reasons", reasons),
    ):
        path = folder / catalog.dataset(name).path
        path.parent.mkdir(parents=True, exist_ok=True)
        store.write_csv(frame.fillna(""), path)


def test_tables_an_older_version_stored_read_as_codes(tmp_path):
    """A version sent (封存) or a year run by an older program stored Chinese labels: the comparison with the
    sent version and `status` read them as codes, so nothing differs only because the words became codes."""
    _older_run(tmp_path)
    audit = freeze._table(tmp_path, "audit")
    assert audit["kind"].tolist() == ["correction", "waiver"]
    st = report_summary._load(tmp_path, "reporting_status")
    assert st[["form", "late", "summary"]].to_dict("records") == [
        {"form": "reported", "late": "late", "summary": "missing"},
        {"form": "missing", "late": "", "summary": "reported"},
    ]
    log = report_summary._load(tmp_path, "ingest_log")
    assert log["figures"].tolist() == ["all_blank", ""]
    assert [vocab.file_label(s, f) for s, f in zip(log["status"], log["figures"], strict=True)] == [
        "全部未填",
        "已读取",
    ]
    assert freeze.draft_reasons(tmp_path)["kind"].tolist() == ["gap"]
    # codes stay codes
    assert vocab.coded(st, "reporting_status") is st
