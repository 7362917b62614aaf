"""The analyst's seat: notebooks that answer first, interactive tables, decisions recorded from the notebook
into the registers (in their own encoding), the review workbook, the printable detail workbook and
`status`."""

import io
import re
import shutil
import subprocess
from decimal import Decimal

import nbformat
import openpyxl
import pandas as pd
import pytest

from wennuan_lib import views, vocab
from wennuan_lib.base import catalog, config, textfiles
from wennuan_lib.check import findings
from wennuan_lib.check.corrections import CORRECTION_COLUMNS, WAIVER_COLUMNS, WAIVER_HEADER
from wennuan_lib.check.rules import AUDIT_ID, TOTALS, open_errors
from wennuan_lib.publish import detail_workbook, review_workbook, template, xlsx
from wennuan_lib.run import freeze, report_summary
from wennuan_lib.run.workspace import Workspace
from wennuan_lib.views import decisions

UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")


def outputs(notebook) -> str:
    """Every output of an executed notebook as text (the tables' data is JSON with \\uXXXX escapes:
    decoded)."""
    parts = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts += [str(v) for v in out.get("data", {}).values()]
    return UNICODE.sub(lambda m: chr(int(m.group(1), 16)), "\n".join(parts))


def cell_output(notebook, call: str) -> str:
    cell = next(c for c in notebook.cells if c.cell_type == "code" and call in c.source)
    return outputs(nbformat.v4.new_notebook(cells=[cell]))


@pytest.fixture(scope="module")
def executed(sample_run):
    _, year, _, _ = sample_run
    folder = year.run / catalog.dataset("notebooks").path
    return {p.stem: nbformat.read(p, as_version=4) for p in folder.glob("*.ipynb")}


# --- notebooks ---------------------------------------------------------------------------------------------


def test_each_notebook_answers_its_question_first_and_prints_no_progress(executed):
    questions = {
        "01_ingest": "读到了什么，哪些读不了",
        "02_clean": "哪里有问题，是哪些单位",
        "03_reconcile": "谁没报、谁逾期，什么要发回给谁",
        "04_report": "书面总结为",
    }
    for name, question in questions.items():
        nb = executed[name]
        step = next(k for k, c in enumerate(nb.cells) if c.cell_type == "code" and "run_step(" in c.source)
        assert question in outputs(nbformat.v4.new_notebook(cells=[nb.cells[step]])), name
        streams = "".join(
            o.get("text", "")
            for c in nb.cells
            for o in c.get("outputs", [])
            if o.get("output_type") == "stream"
        )
        assert "个文件" not in streams and "[1/" not in streams, (name, streams[:200])


def test_executed_notebooks_hold_interactive_tables_with_item_names(executed, form):
    ingest, clean = outputs(executed["01_ingest"]), outputs(executed["02_clean"])
    for text in (ingest, clean):
        assert "_itables_" in text  # the library is embedded: the saved HTML needs no server and no internet
    assert "wn_values_grid" in ingest and "wn_findings_grid" in clean
    grid = cell_output(executed["01_ingest"], "value_grid")
    money = next(i for i in form.items if i.is_money)
    assert money.label in grid and f"{money.code}（{money.unit}）" in grid  # item names as column headings
    assert "表式第" in grid  # hovering a heading shows the printed sentence
    findings = cell_output(executed["02_clean"], "findings_table")
    assert "searchPanes" in findings and "wn_findings" in findings
    for heading in ("类别", "审核类别", "规则", "单位", "项目"):
        assert f"<th>{heading}</th>" in findings or heading in findings
    assert "wn-nowrap" in findings  # 审核类别 is kept on one line


def test_status_board_marks_missing_late_and_unreadable_apart(executed):
    board = cell_output(executed["03_reconcile"], "status_table")
    kinds = ["wn-not_reported", "wn-late", "wn-form_unreadable", "wn-no_summary"]
    for kind in kinds:
        assert kind in board
    colours = {vocab.COLOURS[k.removeprefix("wn-")] for k in kinds}
    assert len(colours) == len(kinds)
    by_unit = cell_output(executed["03_reconcile"], "by_unit_table")
    assert TOTALS not in by_unit and "姑苏区总工汇" not in by_unit  # neither is a unit


def test_report_notebook_prints_figures_as_the_report_does(executed, sample_run):
    _, year, _, _ = sample_run
    totals = year.load("totals").set_index("item")
    shown = cell_output(executed["04_report"], "totals_table")
    money = [k for k, m in totals["measure"].items() if m == "万元" and totals.loc[k, "kind"] == "item"]
    filled = [totals.loc[k, "value"] for k in money if totals.loc[k, "value"]]
    assert len(filled) > 5
    for value in filled:  # 万元 with two decimals, as printed (a total of 12.5 shows as 12.50)
        assert f"{Decimal(value):.2f}" in shown, value
    assert "share_" not in shown.split("wn_totals", 1)[1] and totals.loc["share_05A.1", "label"] in shown
    assert "wn-num" in shown  # figures right-aligned


def test_city_total_findings_are_never_to_be_resubmitted():
    issues = pd.DataFrame(
        {"unit": [TOTALS, "甲工会"], "action": ["请核对……后重新报送", "请核对……后重新报送"]}
    )
    actions = findings.actions(issues)
    assert "不需要、也不能重新报送" in actions.iloc[0] and actions.iloc[1] == "请核对……后重新报送"


def test_tables_stay_bounded_for_3000_units(form):
    units = [f"单位{k:04d}" for k in range(3000)]
    n = len(form.codes)
    values = pd.DataFrame(
        {
            "unit": [u for u in units for _ in range(n)],
            "unit_type": "直属",
            "registered": True,
            "item": form.codes * len(units),
            "label": [i.label for i in form.items] * len(units),
            "measure": [i.unit for i in form.items] * len(units),
            "value": "12",
            "status": "ok",
            "approx": False,
            "original_value": "12",
            "original_status": "ok",
            "corrected": False,
            "correction_reason": "",
            "raw_text": "12",
            "file": "x.xlsx",
            "location": "统计表!D5",
            "note": "",
            "revised": False,
        }
    )
    values.loc[values.index % 97 == 0, ["value", "status"]] = ["", "missing"]
    missing = values[values["status"] == "missing"]
    issues = pd.DataFrame(
        {
            "unit": missing["unit"],
            "unit_type": "直属",
            "item": missing["item"],
            "items": missing["item"],
            "rule": "N01",
            "check_type": "提示性审核",
            "severity": "warning",
            "message": missing["item"] + " 未填",
            "action": "请补填",
            "waived": False,
            "waiver_reason": "",
        }
    )
    # every unit's figures all as last year's (H02): one finding on all items, its message listing them all
    same = "65项数字与上年完全相同（" + "；".join(f"{i.label} 12{i.unit}" for i in form.items) + "）"
    issues = pd.concat(
        [
            issues,
            pd.DataFrame(
                {
                    **{k: issues[k].iloc[0] for k in issues.columns},
                    "unit": units,
                    "item": form.codes[0],
                    "items": "|".join(form.codes),
                    "rule": "H02",
                    "message": same,
                }
            ),
        ],
        ignore_index=True,
    )
    html = [
        views.ingest.value_grid(values, form).data,
        views.clean.finding_grid(values, issues, form).data,
        views.clean.findings_table(issues, form).data,
        views.ingest.problems(values).data,
    ]
    size = [len(h.encode("utf-8")) for h in html]
    assert sum(size) < 12_000_000, size
    assert f"共 {len(units)} 个单位，这里显示 {views.blocks.GRID_UNITS} 个" in html[0]
    assert "另有" in html[2]  # the rest are named, not dropped in silence
    assert "全文见上面的审核意见清单" in html[1]  # a cell's hover is the beginning of each finding


# --- decisions ---------------------------------------------------------------------------------------------


def saved(rows: list[list[str]], how: str) -> bytes:
    sep = "\t" if how == "unicode-text" else ","
    eol = "\n" if how == "lf-no-final" else "\r\n"
    text = eol.join(sep.join(r) for r in rows) + ("" if how == "lf-no-final" else eol)
    return {
        "csv-gbk": lambda: text.encode("gbk"),
        "unicode-text": lambda: text.encode("utf-16"),
        "csv-utf8": lambda: text.encode("utf-8-sig"),
        "lf-no-final": lambda: text.encode("utf-8"),
    }[how]()


@pytest.mark.parametrize(
    "how,encoding,delimiter,eol",
    [
        ("csv-gbk", "gb18030", ",", "\r\n"),
        ("unicode-text", "utf-16-le", "\t", "\r\n"),
        ("csv-utf8", "utf-8-sig", ",", "\r\n"),
        ("lf-no-final", "utf-8", ",", "\n"),
    ],
)
def test_a_decision_is_appended_in_the_files_own_encoding_without_touching_its_lines(
    tmp_path, how, encoding, delimiter, eol
):
    path = tmp_path / "waivers.csv"
    old = saved(
        [["unit", "rule", "reason", "备注"], ["吴江区总工会", "W04", "已核实，含上年建档家庭", "张三"]], how
    )
    path.write_bytes(old)
    recorded = decisions.record_waiver(path, "常熟市总工会", "N01", "电话核实：确实没有开展，按0处理, 见记录")
    new = path.read_bytes()
    assert new.startswith(old)
    table = textfiles.read_table(path, WAIVER_COLUMNS)
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    assert table.rows[0]["reason"] == "已核实，含上年建档家庭"
    assert table.rows[-1] == {
        "unit": "常熟市总工会",
        "rule": "N01",
        "reason": "电话核实：确实没有开展，按0处理, 见记录",
        "备注": "",
    }
    assert recorded.line == table.lines[-1] == 3
    codec = {"utf-16-le": "utf-16-le", "utf-8-sig": "utf-8"}.get(encoding, encoding)
    assert new.endswith(eol.encode(codec))
    assert eol.encode(codec) * 2 not in new[len(old) - 4 :]  # no empty line slipped in


def test_a_missing_register_is_made_with_its_header(tmp_path, form):
    path = tmp_path / "2013" / "corrections.csv"
    path.parent.mkdir()
    decisions.record_correction(path, "常熟市总工会", form.codes[0], "1,234", "邮件确认", form)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfunit,item,value,reason\r\n")
    assert textfiles.read_table(path, CORRECTION_COLUMNS).rows == [
        {"unit": "常熟市总工会", "item": form.codes[0], "value": "1234", "reason": "邮件确认"}
    ]


@pytest.mark.parametrize(
    "call,words",
    [
        (lambda p, f: decisions.record_correction(p, TOTALS, f.codes[0], "1", "理由", f), "不能直接更正"),
        (
            lambda p, f: decisions.record_correction(p, "常熟市总工会", f.codes[0], "见附件", "理由", f),
            "不是一个数字",
        ),
        (lambda p, f: decisions.record_waiver(p, "常熟市总工会", "N01", "  "), "请写明理由"),
        (lambda p, f: decisions.record_waiver(p, "常熟市总工会", AUDIT_ID, "理由"), "不能豁免"),
    ],
)
def test_a_decision_that_cannot_be_right_is_refused_in_chinese_and_nothing_is_written(
    tmp_path, form, call, words
):
    path = tmp_path / "x.csv"
    with pytest.raises(decisions.DecisionError, match=words):
        call(path, form)
    assert not path.exists()


def test_decisions_recorded_in_the_notebook_form_are_applied_by_the_next_run(year_dir, form):
    total, part, rough = (
        form.codes[2],
        form.codes[3],
        form.codes[4],
    )  # a part above its total; an approximate figure
    template.write(
        form,
        year_dir.inbox / "常熟.xlsx",
        values={form.codes[0]: 500, total: 10, part: 12, rough: "约20"},
        header={"unit": "常熟市总工会"},
    )
    waivers, corrections = year_dir.year_inputs / "waivers.csv", year_dir.year_inputs / "corrections.csv"
    waivers.write_bytes(
        saved([WAIVER_COLUMNS, ["常熟市总工会", "N01", "电话核实：其余项目没有开展"]], "csv-gbk")
    )
    corrections.write_bytes(
        saved([CORRECTION_COLUMNS, ["常熟", form.codes[1], "300", "邮件确认"]], "unicode-text")
    )
    old = {p: p.read_bytes() for p in (waivers, corrections)}
    year_dir.ingest()
    issues = year_dir.clean()["issues"]
    mine = issues[issues["unit"] == "常熟市总工会"]
    error = open_errors(mine).iloc[0]
    assert part in error["items"] and (open_errors(issues)["unit"] == TOTALS).any()
    approx = mine[(mine["item"] == rough) & ~mine["waived"]].iloc[0]

    recorder = decisions.Recorder(issues, form, waivers, corrections, 2013)
    recorder.unit.value = "常熟市总工会"
    options = dict((recorder.findings.loc[k, "rule"], k) for _, k in recorder.finding.options)
    recorder.finding.value = options[approx["rule"]]
    recorder.kind.value = decisions.WAIVER
    recorder.reason.value = "电话核实：约数即为准确数"
    assert "将写入" in recorder.preview.value and approx["rule"] in recorder.preview.value
    assert recorder.submit() is not None, recorder.result.value
    recorder.finding.value = options[error["rule"]]
    recorder.kind.value = decisions.CORRECTION
    recorder.item.value = total
    recorder.value.value = "15"
    recorder.reason.value = "1月23日电话确认"
    assert recorder.submit() is not None, recorder.result.value
    assert "已写入" in recorder.result.value and "run --year 2013" in recorder.result.value
    for path, data in old.items():
        assert path.read_bytes().startswith(data)
    assert textfiles.read_text(waivers).encoding == "gb18030"
    assert textfiles.read_text(corrections).encoding == "utf-16-le"

    frames = year_dir.clean()
    issues, values = frames["issues"], frames["values"].set_index("item")
    assert open_errors(issues).empty, open_errors(issues)[
        "message"
    ].tolist()  # the unit's and the city total's
    assert issues.loc[(issues["rule"] == approx["rule"]) & (issues["item"] == rough), "waived"].all()
    assert values.loc[total, "value"] == "15" and values.loc[total, "corrected"]
    assert values.loc[form.codes[1], "value"] == "300"
    assert (frames["audit"]["status"] == "applied").all()


def test_ready_to_paste_lines_are_what_the_registers_read():
    finding = {"unit": "常熟市总工会", "rule": "P03", "items": "02A.2|02A.1", "item": "02A.2"}
    waiver, correction = decisions.paste_lines(finding)
    assert waiver == "常熟市总工会,P03,（理由）"
    assert correction == "常熟市总工会,02A.2,（正确数值）,（理由）"
    assert "不能更正" in decisions.paste_lines({**finding, "unit": TOTALS})[1]


def test_ready_to_paste_waivers_have_the_registers_columns(tmp_path, form):
    """A register with an item column (as the form makes it) takes lines naming the finding's item; an old
    three-column one lines without; the table's heading says which header the lines are for."""
    finding = {"unit": "常熟市总工会", "rule": "P03", "items": "02A.2", "item": "02A.2"}
    assert decisions.paste_lines(finding, WAIVER_HEADER)[0] == "常熟市总工会,P03,02A.2,（理由）"
    blank = dict.fromkeys(catalog.dataset("issues").column_names, "")
    issues = pd.DataFrame(
        [{**blank, **finding, "severity": "error", "message": "分项之和大于合计", "waived": False}]
    )
    path = tmp_path / "waivers.csv"
    for text, header in ((None, WAIVER_HEADER), ("unit,rule,reason\r\n", WAIVER_COLUMNS)):
        if text:
            path.write_text(text, encoding="utf-8-sig")
        shown = decisions.paste_table(issues, form, path).data
        assert f"豁免：粘贴到 waivers.csv（表头 {','.join(header)}）" in shown
        line = decisions.paste_lines(finding, header)[0].replace("（理由）", "电话核实")
        path.write_text(",".join(header) + "\r\n" + line + "\r\n", encoding="utf-8-sig")
        row = textfiles.read_table(path, WAIVER_COLUMNS).rows[0]
        assert row["reason"] == "电话核实" and row.get("item", "") == ("02A.2" if "item" in header else "")
        path.unlink()


# --- workbooks ---------------------------------------------------------------------------------------------


def test_review_workbook_keeps_codes_as_text_and_speaks_chinese(sample_run, form):
    _, year, frames, _ = sample_run
    wb = openpyxl.load_workbook(year.path("review_workbook"))
    assert (year.root / catalog.file_name("review_workbook")).exists()  # outputs/<year>/审核数据.xlsx
    money = next(
        i for i in form.items if i.is_money and re.fullmatch(r"\d\d\.\d", i.code)
    )  # 05.1: Excel's 5.1
    grid = wb["数值"]
    codes = {c.value: c for c in grid[2]}
    assert codes[money.code].data_type == "s"
    column = codes[money.code].column
    assert grid.cell(1, column).value == f"{money.label}（{money.unit}）"
    figures = [grid.cell(r, column) for r in range(3, grid.max_row + 1)]
    assert any(isinstance(c.value, float) for c in figures)
    assert all(c.number_format == "0.00" for c in figures if isinstance(c.value, float))
    assert "未填" in {c.value for row in grid.iter_rows(min_row=3) for c in row}
    assert {grid.cell(r, 3).value for r in range(3, grid.max_row + 1)} <= {"是", "否"}
    assert grid.freeze_panes == "D3" and grid.auto_filter.ref.startswith("A2:")
    for sheet in ("审核意见", "报送情况", "需核实的数值", "更正与豁免"):
        ws = wb[sheet]
        assert ws.freeze_panes == "B2" and ws.auto_filter.ref.startswith("A1:"), sheet
        assert ws.column_dimensions["A"].width >= 8
        header = [c.value for c in ws[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header
        if "项目代码" in header:
            k = header.index("项目代码")
            assert all(r[k].data_type == "s" for r in ws.iter_rows(min_row=2) if r[k].value), sheet
    findings = wb["审核意见"]
    assert [c.value for c in findings[1]][:4] == ["类别", "状态", "审核类别", "规则"]
    assert findings["A2"].value == "必须修改"  # most serious first
    assert {c.value for c in findings["L"][1:]} <= {"是", "否"}
    issues = year.path("issues").read_text(encoding="utf-8-sig").splitlines()[0]
    assert issues.startswith("unit,unit_type,item")  # the CSVs stay as they are
    again = review_workbook.build(
        frames["values"], frames["issues"], frames["reporting_status"], frames["audit"], form
    )
    assert again == review_workbook.build(
        frames["values"], frames["issues"], frames["reporting_status"], frames["audit"], form
    )


def test_detail_workbook_is_set_up_for_printing(sample_run, form):
    _, year, frames, _ = sample_run
    wb = openpyxl.load_workbook(year.path("detail_workbook"))
    ws = wb.active
    assert ws.print_title_cols == "$A:$B" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth >= 2
    money = [k + 3 for k, i in enumerate(form.items) if i.is_money]
    cells = [ws.cell(r, money[0]) for r in range(4, ws.max_row + 1)]
    assert all(c.number_format == "0.00" for c in cells if isinstance(c.value, float))
    texts = {c.value for row in ws.iter_rows(min_row=4) for c in row[2:]}
    assert "未填" in texts
    cfg = {"year": 2013}
    draft = openpyxl.load_workbook(
        io.BytesIO(detail_workbook.detail_workbook(form, frames["values"], frames["totals"], cfg, draft=True))
    ).active
    assert "（草稿）" in draft["A1"].value and "草稿" in draft.oddHeader.right.text


def test_a_workbook_written_row_by_row_refuses_a_row_above_instead_of_dropping_it():
    """分单位明细表 lets each row go as the next starts (xlsx.Book(rows_as_written=True)); XlsxWriter would
    silently leave out a cell written above: the program stops instead."""
    book = xlsx.Book(rows_as_written=True)
    ws = book.sheet("表")
    xlsx.cell(ws, 0, 0, "标题")
    xlsx.cell(ws, 2, 0, "甲")
    xlsx.cell(ws, 2, 1, 1.5)  # the same row, any column: still held
    with pytest.raises(ValueError, match="row 1 written after row 2"):
        xlsx.cell(ws, 1, 0, "乙")
    ws2 = openpyxl.load_workbook(io.BytesIO(book.bytes())).active
    assert [[c.value for c in r] for r in ws2.iter_rows()] == [["标题", None], [None, None], ["甲", 1.5]]


@pytest.mark.needs("soffice", "calc", "pdftotext")
def test_every_printed_page_of_the_detail_workbook_names_its_units(sample_run, tmp_path):
    _, year, frames, _ = sample_run
    shutil.copy(year.path("detail_workbook"), tmp_path / "detail.xlsx")
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "detail.xlsx"),
        ],
        capture_output=True,
        timeout=180,
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "detail.pdf"), "-"], capture_output=True, text=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    first = frames["values"]["unit"].iloc[0]
    assert len(pages) >= 2
    for page in pages:
        assert "单位" in page and (first in page or "全市合计" in page), page[:300]


# --- status ------------------------------------------------------------------------------------------------


def test_status_names_the_units_with_open_errors_and_the_next_command(sample_run):
    _, year, frames, _ = sample_run
    text = report_summary.status_text(year.workspace, year.year)
    errors = open_errors(frames["issues"])
    mine = errors[(errors["unit"] != TOTALS) & (errors["rule"] != AUDIT_ID)]
    top, count = mine["unit"].value_counts().index[0], mine["unit"].value_counts().iloc[0]
    assert f"{top} {count} 条" in text
    assert "下一步" in text and f"{config.program()} run --year {year.year}" in text
    assert "corrections.csv" in text and "waivers.csv" in text
    st = frames["reporting_status"]
    assert st.loc[st["form"] == "missing", "unit"].iloc[0] in text.split("下一步", 1)[1]
    for kind in set(frames["draft_reasons"]["kind"]) - {vocab.MUST_FIX}:
        assert vocab.DRAFT_LABELS[kind] in text.split("下一步", 1)[1]


def test_status_of_a_final_report_says_freeze(tmp_path, monkeypatch):
    run = tmp_path / "run"
    monkeypatch.setattr(
        freeze, "draft_reasons", lambda _: pd.DataFrame(columns=["kind", "unit", "item", "message"])
    )
    monkeypatch.setattr(report_summary, "_load", lambda *_a, **_k: None)

    class Scope:
        def sent_dirs(self):
            return []

    class NothingSent(Workspace):
        def scope(self, year):
            return Scope()

    lines = report_summary.next_steps(NothingSent(tmp_path / "inputs", tmp_path / "outputs"), 2013, run)
    # a command the shell runs as printed: no <placeholder> (a redirection in any shell)
    assert any(f"{config.program()} freeze --year 2013 " in line for line in lines)
    assert not any("<" in line for line in lines)


def test_a_summary_that_disagrees_with_its_form_is_marked_beside_the_figures(form):
    code = form.codes[0]
    values = pd.DataFrame(
        {
            "unit": ["甲工会"],
            "item": [code],
            "label": [form.item(code).label],
            "value": ["500"],
            "measure": [form.item(code).unit],
        }
    )
    summaries = pd.DataFrame(
        {"unit": ["甲工会"], "text": ["全年走访职工五百五十人。"], "file": ["总结.docx"]}
    )
    checks = pd.DataFrame(
        {
            "unit": ["甲工会"],
            "item": [code],
            "label": [form.item(code).label],
            "form_value": ["500"],
            "summary_value": ["550"],
            "approx": [False],
            "summary_text": ["走访职工五百五十人"],
            "summary_file": ["总结.docx"],
            "form_location": ["统计表!D5"],
            "verdict": ["differ"],
        }
    )
    html = views.reconcile.unit_dossiers(values, summaries, [code], checks).data
    assert "书面总结与统计表有 1 处不一致" in html and "wn-disagree" in html and "550" in html
    assert (
        "wn-disagree"
        not in views.reconcile.unit_dossiers(values, summaries, [code], checks.assign(verdict="match")).data
    )
    assert (
        "书面总结中" not in views.reconcile.unit_dossiers(values, summaries, [code]).data
    )  # before the comparison exists
    assert "不一致" in views.reconcile.summary_check_table(checks).data


def test_a_gap_in_a_whole_number_column_shows_as_empty():
    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})
    shown = views.blocks.table(frame, "gap").data
    assert "&lt;NA&gt;" not in shown and "<NA>" not in shown
