"""The analyst's own files as Excel and Notepad on Chinese Windows save them: any encoding, tab or comma,
CRLF, empty rows; the registry checked before anything is read; corrections and waivers checked."""

import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from wennuan_lib.base import config, textfiles
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.check import analyst_files, corrections
from wennuan_lib.form import load_form
from wennuan_lib.publish import feedback, narrative, template
from wennuan_lib.read import layouts, parts, readers
from wennuan_lib.read.parse import parse_blank
from wennuan_lib.read.units import Registry, RegistryError
from wennuan_lib.run import report_summary

from .conftest import Year, run_args

ROOT = config.ROOT
HEADER = ["unit", "item", "value", "reason"]


def excel(rows: list[list[str]], how: str, after: tuple[int, ...] = ()) -> bytes:
    """A table as Excel saves it: `how` is csv-gbk, csv-utf8 (BOM), csv-plain or unicode-text (UTF-16, tab).
    `after`: rows (0 = the header) after which Excel left an empty row (,,, or tabs)."""
    sep = "\t" if how == "unicode-text" else ","
    lines = []
    for k, row in enumerate(rows):
        lines.append(sep.join(row))
        if k in after:
            lines.append(sep * (len(rows[0]) - 1))
    text = "\r\n".join(lines) + "\r\n"
    return {
        "csv-gbk": lambda: text.encode("gbk"),
        "csv-utf8": lambda: text.encode("utf-8-sig"),
        "csv-plain": lambda: text.encode("utf-8"),
        "unicode-text": lambda: text.encode("utf-16"),
    }[how]()


def no_python_in(text: str) -> None:
    for english in ("Traceback", "UnicodeDecodeError", "EmptyDataError", "YAMLError", "KeyError"):
        assert english not in text


# --- reading text and tables -------------------------------------------------------------------------------

ROWS = [HEADER, ["常熟", "05.1", "12.5", "电话确认"], ["吴江区总工会", "02A.2", "8", "邮件更正"]]


@pytest.mark.parametrize(
    "how,encoding",
    [
        ("csv-gbk", "gb18030"),
        ("csv-utf8", "utf-8-sig"),
        ("csv-plain", "utf-8"),
        ("unicode-text", "utf-16-le"),
    ],
)
def test_every_encoding_excel_saves_reads_the_same_rows_with_their_lines(tmp_path, how, encoding):
    path = tmp_path / "corrections.csv"
    path.write_bytes(excel(ROWS, how, after=(1, 2)))
    table = textfiles.read_table(path, HEADER)
    assert table.encoding == encoding and table.delimiter == ("\t" if how == "unicode-text" else ",")
    assert [list(r.values()) for r in table.rows] == ROWS[1:]
    assert table.lines == [2, 4]  # the empty row after line 2 is skipped, not renumbered


@pytest.mark.parametrize("how", ["unicode-text", "csv-gbk"])
def test_a_line_pasted_with_the_other_separator_is_read_as_its_cells(tmp_path, how):
    """The line a notebook offers to copy is comma-separated; Excel's "Unicode 文本" is tab-separated, and
    cells copied out of Excel are tab-separated too. Pasted into a file of the other kind, the line counts."""
    path = tmp_path / "waivers.csv"
    other = "," if how == "unicode-text" else "\t"
    data = excel([["unit", "rule", "reason"], ["常熟市总工会", "W04", "已核实"]], how)
    pasted = other.join(["市卫生工会", "Q03", "电话核实，确属实际情况"]) + "\r\n"
    path.write_bytes(data + pasted.encode("utf-16-le" if how == "unicode-text" else "gbk"))
    table = textfiles.read_table(path, ["unit", "rule", "reason"])
    assert table.rows[1] == {"unit": "市卫生工会", "rule": "Q03", "reason": "电话核实，确属实际情况"}
    assert table.lines == [2, 3]


def test_gbk_text_whose_bytes_are_also_utf8_is_read_as_gbk(tmp_path):
    path = tmp_path / "corrections.csv"
    path.write_bytes("unit,item,value,reason\n一业,05.1,1,\n".encode("gbk"))  # 一业 in GBK is valid UTF-8 too
    table = textfiles.read_table(path, HEADER)
    assert table.encoding == "gb18030" and table.rows[0]["unit"] == "一业"


def test_utf8_with_latin_letters_beside_chinese_is_one_encoding(tmp_path):
    """What a UTF-8 file holds by itself is not taken for a GBK line: é ü × ° · beside Chinese."""
    path = tmp_path / "waivers.csv"
    rows = "unit,rule,reason\n阿卜杜拉·艾力,W04,Café Müller 3×4 °C\n钱平,W04,已核实\n"
    path.write_text(rows, encoding="utf-8")
    table = textfiles.read_table(path, ["unit", "rule", "reason"])
    assert table.encoding == "utf-8" and [r["unit"] for r in table.rows] == ["阿卜杜拉·艾力", "钱平"]


def test_cells_are_trimmed_and_extra_columns_allowed(tmp_path):
    path = tmp_path / "waivers.csv"
    path.write_text("  Unit , rule ,reason,备注\n 常熟市总工会\u3000, W04 , 已核实 ,x\n", encoding="utf-8")
    table = textfiles.read_table(path, ["unit", "rule", "reason"])
    assert table.rows == [{"unit": "常熟市总工会", "rule": "W04", "reason": "已核实", "备注": "x"}]


@pytest.mark.parametrize(
    "data,line,words",
    [
        (
            b"unit,item,value,reason\r\n" + "常熟,05.1,1,确认\r\n".encode("gbk") + b"\x80\x80,05.1,2,\r\n",
            3,
            "无法识别的字符",
        ),
        (b"PK\x03\x04" + bytes(40), None, "不是文本文件"),
        # one line added by another program: GBK read garbled, or not at all (each named, not garbled)
        (
            "unit,item,value,reason\r\n常熟,05.1,1,确认\r\n".encode("gbk") + "昆山,05.1,2,电话\r\n".encode(),
            3,
            "这一行是 UTF-8，其余是 GBK/GB18030",
        ),
        (  # GBK whose bytes are also UTF-8 (钱平 → Ǯƽ): read as UTF-8 it would be letters, not a name
            "unit,item,value,reason\r\n常熟,05.1,1,确认\r\n".encode() + "钱平,05.1,2,\r\n".encode("gbk"),
            3,
            "这一行是 GBK/GB18030，其余是 UTF-8",
        ),
        (
            "unit,item,value,reason\r\n常熟,05.1,1,确认\r\n".encode("utf-8-sig")
            + "昆山,05.1,2,\r\n".encode("gbk"),
            3,
            "这一行是 GBK/GB18030，其余是 UTF-8",
        ),
        ("单位,项目,数值\n".encode("gbk"), 1, "表头缺少列：unit"),
        # saved by Excel as Unicode text: the header it asks for is not shown with tabs (blank on screen)
        ("单位\t项目\t数值\r\n".encode("utf-16"), 1, "应为：unit、item、value、reason（用 Tab 分隔）"),
        ("unit,item,value,reason\n常熟,05.1,1,确认,另一句\n".encode(), 2, "比表头（4 列）多"),
    ],
)
def test_what_cannot_be_read_is_named_in_chinese(tmp_path, data, line, words):
    path = tmp_path / "corrections.csv"
    path.write_bytes(data)
    with pytest.raises(textfiles.InputFileError) as err:
        corrections.load_table(path, HEADER)
    message = str(err.value)
    assert str(path) in message and words in message and err.value.line == line
    if line:
        assert f"第{line}行" in message
    no_python_in(message)


def test_zero_byte_and_header_only_tables_have_no_entries(tmp_path):
    for data in (b"", "unit,item,value,reason\r\n".encode("utf-16"), b",,,\r\n,,,\r\n"):
        (tmp_path / "c.csv").write_bytes(data)
        assert corrections.load_table(tmp_path / "c.csv", HEADER).empty


def test_year_yaml_in_gbk_is_read_and_a_syntax_error_names_the_line(tmp_path):
    paths = Year(tmp_path / "inputs", tmp_path / "outputs", 2013)
    paths.year_inputs.mkdir(parents=True)
    paths.year_config.write_bytes(
        "# 年度设置\r\ncity_unit: 苏州市总工会\r\ndeadline: 2013-01-21\r\n".encode("gbk")
    )
    assert paths.workspace.year_config(paths.year)["city_unit"] == "苏州市总工会"
    paths.year_config.write_bytes(
        "city_unit: 苏州市总工会\r\ndeadline: [2013-01-21\r\nform: '2013'\r\n".encode("gbk")
    )
    with pytest.raises(textfiles.InputFileError) as err:
        paths.workspace.year_config(paths.year)
    assert "year.yaml" in str(err.value) and "第3行" in str(err.value) and "格式有误" in str(err.value)
    no_python_in(str(err.value))


def test_year_yaml_edited_between_two_reads_in_one_process_is_read_again(tmp_path):
    """A step reads year.yaml many times and parses each text once: an edit is still seen by the next read,
    and what one read's caller changes in what it got never reaches the next."""
    paths = Year(tmp_path / "inputs", tmp_path / "outputs", 2013)
    paths.year_inputs.mkdir(parents=True)
    paths.year_config.write_text("city_unit: 苏州市总工会\ndeadline: 2013-01-21\n", encoding="utf-8")
    first = paths.workspace.year_config(paths.year)
    first["city_unit"] = "改过的"
    assert paths.workspace.year_config(paths.year)["city_unit"] == "苏州市总工会"
    paths.year_config.write_text("city_unit: 昆山市总工会\ndeadline: 2013-01-21\n", encoding="utf-8")
    assert paths.workspace.year_config(paths.year)["city_unit"] == "昆山市总工会"


def test_the_programs_own_yaml_files_read_as_the_pure_python_loader_reads_them():
    """catalog.yaml, policy.yaml and every year's form are parsed by libyaml (textfiles.read_program_yaml):
    the same documents the pure-Python safe loader builds."""
    import yaml

    files = [config.PACKAGE_DIR / "catalog.yaml", config.PACKAGE_DIR / "policy.yaml"]
    files += sorted(config.FORMS_DIR.glob("*.yaml"))
    assert len(files) >= 5
    for path in files:
        assert textfiles.read_program_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-16"])
def test_narrative_in_any_encoding_fills_its_sections(tmp_path, encoding):
    md = tmp_path / "narrative.md"
    md.write_bytes(
        (
            "## 典型经验\r\n\r\n各地把送温暖与基层服务结合起来。\r\n\r\n"
            "## 存在问题\r\n\r\n档案管理不够及时。\r\n"
        ).encode(encoding)
    )
    sections, problems = narrative.parse_analyst(md)
    assert sections == {
        "experience": ["各地把送温暖与基层服务结合起来。"],
        "problems": ["档案管理不够及时。"],
    }
    assert problems == []


def test_sample_years_hold_the_analysts_files_as_windows_saves_them(sample_years):
    """So that every test on the sample reads them as the analyst's machine saves them."""
    paths = sample_years[0][2013][1]
    used = dict(analyst_files.check(paths.workspace, paths.year))
    assert used == {
        "units.csv": "UTF-8（带BOM）",
        "2013/year.yaml": "GBK/GB18030",
        "2013/corrections.csv": "GBK/GB18030",
        "2013/waivers.csv": "UTF-16（Unicode 文本）",
        "2013/narrative.md": "GBK/GB18030",
    }
    assert (paths.year_inputs / "corrections.csv").read_bytes().endswith(b"\r\n,,,\r\n")
    assert b"\r\n,,\r\n" in paths.registry.read_bytes()


# --- the registry ------------------------------------------------------------------------------------------

REGISTRY = [
    ["name", "aliases", "type"],
    ["常熟市总工会", "常熟|常熟市", "市、区"],
    ["吴江区总工会", "吴江|吴江市总工会", "市、区"],
    ["市教育工会", "教育局工会", "局（公司）"],
]


@pytest.mark.parametrize("how", ["csv-gbk", "unicode-text", "csv-utf8"])
def test_registry_saved_by_excel_is_read_and_applied(tmp_path, how):
    path = tmp_path / "units.csv"
    path.write_bytes(excel(REGISTRY, how, after=(1, 3)))
    registry = Registry.load(path)
    assert registry.names == ["常熟市总工会", "吴江区总工会", "市教育工会"]
    assert (
        registry.resolve("吴江市总工会").name == "吴江区总工会"
        and registry.resolve("常熟").name == "常熟市总工会"
    )
    assert registry.types["市教育工会"] == "局(公司)"  # typed with full-width brackets


@pytest.mark.parametrize(
    "line,words",
    [
        (
            ["常熟市 总工会", "", "市、区"],
            ["第2行「常熟市总工会」", "第6行「常熟市 总工会」", "同一个单位名称"],
        ),
        (
            ["ＡＢ工会", "吴江市总工会", "直属"],
            ["第3行单位「吴江区总工会」", "第6行单位「ＡＢ工会」", "吴江市总工会"],
        ),
        (
            ["太仓市总工会", "吴江区总工会", "市、区"],
            ["第6行单位「太仓市总工会」的别名「吴江区总工会」", "第3行单位「吴江区总工会」的名称"],
        ),
        (["某工会", "", "区"], ["第6行单位「某工会」的类型「区」有误", "市、区 / 局(公司) / 直属"]),
    ],
)
def test_registry_clash_names_both_entries_and_units_csv(tmp_path, line, words):
    path = tmp_path / "units.csv"
    path.write_bytes(excel(REGISTRY + [line], "csv-gbk", after=(2,)))
    with pytest.raises(RegistryError) as err:
        Registry.load(path)
    message = str(err.value)
    assert "units.csv" in message and "改正之前不读取任何报送文件" in message
    for w in words:
        assert w in message


def test_every_clash_is_listed_at_once():
    frame = pd.DataFrame(
        REGISTRY[1:]
        + [["常熟市总工会", "", "市、区"], ["太仓", "常熟", "市、区"], ["昆山", "教育局工会", "市"]],
        columns=REGISTRY[0],
    )
    with pytest.raises(RegistryError) as err:
        Registry(frame)
    assert str(err.value).count("\n  ") == 4  # a name twice, a wrong type, two aliases another unit has


def test_a_registry_clash_stops_ingest_before_any_file_is_read(year_dir, form):
    template.write(form, year_dir.inbox / "a.xlsx", values={"01A.1": 1}, header={"unit": "常熟"})
    with year_dir.registry.open("a", encoding="utf-8") as fh:
        fh.write("太仓市总工会,常熟|太仓,市、区\n")
    with pytest.raises(RegistryError, match="常熟"):
        year_dir.ingest()
    assert year_dir.run is None  # no run became current: nothing was read


# --- corrections and waivers on a small year ----------------------------------------------------------------

UNITS = {"常熟市总工会": "常熟", "吴江区总工会": "吴江"}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """Two units read from the template, with a GBK registry that Excel saved (empty row and all)."""
    form = load_form(2013)
    root = tmp_path_factory.mktemp("two_units")
    paths = Year(root / "inputs", root / "outputs", 2013)
    paths.inbox.mkdir(parents=True)
    paths.registry.write_bytes(excel(REGISTRY, "csv-gbk", after=(0,)))
    for k, (unit, written) in enumerate(UNITS.items()):
        values = {c: 1 for c in form.codes}
        values.update({"02A.1": 10, "02A.2": 12 + k, "03E.1": 9, "03A.1": 5})
        template.write(form, paths.inbox / f"{unit}.xlsx", values=values, header={"unit": written})
    extracted = paths.ingest()["values"]
    assert set(extracted["unit"]) == set(UNITS)  # the GBK registry's aliases were applied
    return root


@pytest.fixture
def year(ingested, tmp_path):
    shutil.copytree(ingested, tmp_path / "y", symlinks=True)
    return Year(tmp_path / "y" / "inputs", tmp_path / "y" / "outputs", 2013)


def _clean(paths, fixes: bytes | None = None, waivers: bytes | None = None):
    for name, data in (("corrections.csv", fixes), ("waivers.csv", waivers)):
        if data is not None:
            (paths.year_inputs / name).write_bytes(data)
    return paths.clean()


def _files(paths) -> dict[str, bytes]:
    return {n: paths.path(n).read_bytes() for n in ("values", "issues")}


FIXES = [HEADER, ["常熟", "02A.2", "8", "电话确认"], ["吴江区总工会", "04A.1", "3", "邮件更正"]]
WAIVERS = [["unit", "rule", "reason"], ["吴江", "W04", "已核实"]]


@pytest.mark.parametrize("how", ["csv-gbk", "unicode-text"])
def test_corrections_and_waivers_saved_by_excel_are_applied(year, how):
    out = _clean(year, excel(FIXES, how, after=(0, 1)), excel(WAIVERS, how, after=(0,)))
    v = out["values"].set_index(["unit", "item"])
    assert (
        v.loc[("常熟市总工会", "02A.2"), "value"] == "8" and v.loc[("吴江区总工会", "04A.1"), "value"] == "3"
    )
    assert out["audit"]["status"].tolist() == ["applied"] * 3
    assert out["audit"]["line"].tolist() == [3, 5, 3]  # lines in the files, the empty rows counted
    assert "A01" not in set(out["issues"]["rule"])
    waived = out["issues"][(out["issues"]["rule"] == "W04") & (out["issues"]["unit"] == "吴江区总工会")]
    assert len(waived) and waived["waived"].all()


def test_a_correction_that_breaks_a_check_is_named_beside_the_finding(year):
    """The analyst corrects a part above its whole: the must-fix finding that follows names the register's
    line beside it (下一步), so the correction just made is the first thing to look at."""
    query = "unit == '吴江区总工会' and severity == 'error' and items.str.contains('08A.2')"
    assert not len(_clean(year)["issues"].query(query))
    out = _clean(year, excel([HEADER, ["吴江", "08A.2", "5", "电话确认"]], "csv-gbk"))
    broken = out["issues"].query(query)
    assert len(broken) == 1
    said = "\n".join(report_summary.next_steps(year.workspace, 2013, year.scope.current()))
    assert f"更正后仍须修改：吴江区总工会：{broken['message'].iloc[0]}" in said
    assert "其中 08A.2（第2行：1 → 5） 是按 " in said and "corrections.csv 更正的数字，请核对这一行" in said
    assert said.count("更正后仍须修改") == 1  # the other findings hold no corrected figure


def test_excel_empty_rows_change_nothing(year, tmp_path):
    _clean(year, excel(FIXES, "csv-plain"), excel(WAIVERS, "csv-plain"))
    without = _files(year)
    _clean(year, excel(FIXES, "csv-gbk", after=(0, 1, 2)), excel(WAIVERS, "unicode-text", after=(0, 1)))
    assert _files(year) == without


def test_zero_byte_corrections_change_nothing(year):
    _clean(year)
    nothing = _files(year)
    out = _clean(year, b"", b"")
    assert _files(year) == nothing and out["audit"].empty


def test_two_values_for_one_item_are_an_error_naming_both(year):
    fixes = FIXES + [["常熟市总工会", "02A.2", "9", "第二次电话"]]
    out = _clean(year, excel(fixes, "csv-gbk", after=(2,)))
    audit = out["audit"].set_index("line")
    assert audit.loc[2, "status"] == audit.loc[5, "status"] == "unmatched"  # neither applied
    values = out["values"].set_index(["unit", "item"])
    assert (
        values.loc[("常熟市总工会", "02A.2"), "value"] == "12"
        and values.loc[("吴江区总工会", "04A.1"), "value"] == "3"
    )
    errors = out["issues"][(out["issues"]["rule"] == "A01") & (out["issues"]["severity"] == "error")]
    assert len(errors) == 2
    for message in errors["message"]:
        assert "第2行为 8" in message and "第5行为 9" in message


def test_an_exact_duplicate_is_a_warning_and_applied_once(year):
    fixes = FIXES + [["常熟市总工会", "02A.2", "8.0", "再记一次"]]
    waivers = WAIVERS + [["吴江区总工会", "W04", "重复"]]
    out = _clean(year, excel(fixes, "csv-utf8"), excel(waivers, "csv-utf8"))
    audit = out["audit"]
    assert audit["status"].tolist() == ["applied", "applied", "duplicate", "applied", "duplicate"]
    values = out["values"].set_index(["unit", "item"])
    assert values.loc[("常熟市总工会", "02A.2"), "value"] == "8"
    a01 = out["issues"][out["issues"]["rule"] == "A01"]
    assert a01["severity"].tolist() == ["warning", "warning"]
    assert set(a01["check_type"]) == {"提示性审核"}  # to confirm, as the README says, not a must-fix
    assert "更正登记表第4行重复" in a01["message"].iloc[0] and "与第2行重复" in a01["message"].iloc[0]
    assert "豁免登记表第3行重复" in a01["message"].iloc[1]


# --- through the command line ------------------------------------------------------------------------------


@pytest.fixture
def inputs_copy(tmp_path):
    """The sample's 2013 alone (no earlier year to process first): the check must stop the run at once."""
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs", ignore=shutil.ignore_patterns("2011", "2012"))
    return tmp_path / "inputs"


def _run(inputs, tmp_path):
    return subprocess.run(
        run_args(inputs, tmp_path / "outputs"),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "name,data,words",
    [
        (
            "2013/corrections.csv",
            b"unit,item,value,reason\r\n" + "常熟,05.1,1,确认\r\n".encode("gbk") + b"\xff\x80,05.1,2,\r\n",
            ["corrections.csv 第3行", "无法识别的字符", "另存为"],
        ),
        (
            "2013/year.yaml",
            "form: '2013'\r\ndeadline: 2013-01-21\r\ncity_unit: [苏州市总工会\r\n".encode("gbk"),
            ["year.yaml 第4行", "格式有误"],
        ),
        (
            "2013/year.yaml",
            "form: '2013'\r\nfeedbak_deadline: 2013-01-25\r\n".encode("gbk"),
            ["year.yaml 第2行", "不认识的设置项「feedbak_deadline」", "是否应为「feedback_deadline」"],
        ),
        (
            "units.csv",
            None,
            [
                "units.csv",
                "别名「常熟」同时属于",
                "「常熟市总工会」",
                "「吴江市工会」",
                "改正之前不读取任何报送文件",
            ],
        ),
    ],
)
def test_cli_stops_with_a_chinese_message_naming_the_file(inputs_copy, tmp_path, name, data, words):
    path = inputs_copy / name
    if data is None:  # a registry clash: an alias another unit already has
        with path.open("a", encoding="utf-8") as fh:
            fh.write("吴江市工会,常熟,市、区\n")
    else:
        path.write_bytes(data)
    out = _run(inputs_copy, tmp_path)
    assert out.returncode != 0
    for w in words:
        assert w in out.stderr, out.stderr
    no_python_in(out.stdout + out.stderr)
    assert not (tmp_path / "outputs" / "2013" / "data").exists()  # stopped before reading


# --- feedback file names ------------------------------------------------------------------------------------


def _feedback(units: list[str], form, folder):
    values, issues = [], []
    for unit in units:
        for code in form.codes:
            values.append(
                {
                    "unit": unit,
                    "item": code,
                    "value": "1",
                    "status": "ok",
                    "raw_text": "1",
                    "location": "统计表!D5",
                    "file": f"{unit[:10]}.xlsx",
                }
            )
        issues.append(
            {
                "unit": unit,
                "item": "01A.1",
                "items": "01A.1",
                "rule": "N01",
                "severity": "error",
                "message": f"{unit} 的问题",
                "action": "请补填",
                "waived": False,
            }
        )
    cfg = {"year": 2013}
    cache = Artifacts(folder.parent / "cache", "feedback")
    return feedback.write_all(pd.DataFrame(issues), pd.DataFrame(values), form, cfg, folder, cache)


def test_colliding_unit_names_get_a_feedback_file_each(tmp_path, form):
    long = (
        "苏州市某某行业协会所属各基层企业工会联合会暨职工服务中心送温暖活动领导小组办公室及其下属各分支机构"
    )
    units = ["苏州A?工会", "苏州A:工会", long + "甲", long + "乙", "常熟市总工会"]
    written = _feedback(units, form, tmp_path / "feedback")
    assert len({p.name for p in written}) == len(units) == len(list((tmp_path / "feedback").glob("*.xlsx")))
    for unit, path in zip(units, written):
        assert openpyxl.load_workbook(path)["审核意见"]["A2"].value == f"单位：{unit}"
    assert written[-1].name == "常熟市总工会.xlsx"  # a safe name is left as it is
    again = _feedback(list(reversed(units)), form, tmp_path / "feedback2")
    assert sorted(p.name for p in again) == sorted(p.name for p in written)  # stable across runs


# --- the template -------------------------------------------------------------------------------------------


def test_template_date_cell_is_validated_and_labels_use_chinese_punctuation(tmp_path, form):
    wb = openpyxl.load_workbook(template.write(form, tmp_path / "t.xlsx"))
    ws = wb.active
    date_name = next(h.name for h in form.header if h.key == "date")
    coord = next(wb.defined_names[date_name].destinations)[1].replace("$", "")
    dv = next(dv for dv in ws.data_validations.dataValidation if coord in dv.sqref)
    assert (
        dv.type == "date"
        and "请填写填报日期，例如 2013-01-15" in dv.prompt
        and dv.error
        and dv.showErrorMessage
    )
    labels = [str(c.value) for row in ws.iter_rows(min_row=5) for c in row if isinstance(c.value, str)]
    assert "人，其中农民工总数" in labels and not [t for t in labels if "," in t or ";" in t]


def test_template_that_lost_its_names_is_read_by_its_sentences(tmp_path, form):
    """Copied into a new workbook, the template's names are gone: the sentence matcher reads the
    full-width punctuation the template prints as it reads the notice's ASCII comma."""
    values = {c: k + 1 for k, c in enumerate(form.codes)}
    wb = template.build(form, values=values, header={"unit": "常熟市总工会"})
    for n in list(wb.defined_names):
        del wb.defined_names[n]
    wb.save(tmp_path / "copy.xlsx")
    m = parts.read_form(readers.read(tmp_path / "copy.xlsx"), form)
    assert m.layout == layouts.SENTENCE and not m.not_found
    assert {c: parse_blank(f.raw).value for c, f in m.values.items()} == {c: v for c, v in values.items()}
