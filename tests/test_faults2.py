"""Faults, round two (issue 25): the analyst's notes in narrative.md never print, the analyst's figures are
checked against the totals, year.yaml is read safely with line-numbered Chinese answers, invisible characters
in units.csv are named, an interrupted freeze is recognised and cleaned, outputs copied without links still
run, an outputs path that is a file and a full disk name the file. Each fault is made deterministically."""

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wennuan_lib import errors, vocab
from wennuan_lib.base import config, files
from wennuan_lib.base.textfiles import InputFileError
from wennuan_lib.publish import narrative
from wennuan_lib.read.units import Registry

from .conftest import ROOT, cli, made_once, shared_fixture

SECRET = ("数字是编的", "待核实后删除")


# --- 25.2 narrative.md: comments of any length ----------------------------------------------------------


def test_comments_of_any_length_are_left_out_and_counted():
    text = (
        "<!-- 说明：\n  数字是编的\n  待核实后删除 -->\n\n## 典型经验\n\n"
        "做法一<!-- 数字是编的 -->很好。\n\n"
        "    缩进四格的一段，也是正文。\n\n"
        "> 张家港市总工会：原文\n\n"
        "##存在问题\n\n<!--\n待核实后删除\n-->\n问题一。\n"
    )
    parsed = narrative.parse_analyst_text(text)
    printed = "".join(p for paras in parsed.sections.values() for p in paras)
    assert not any(s in printed for s in SECRET)
    assert parsed.sections["experience"] == [
        "做法一很好。",
        "缩进四格的一段，也是正文。",
        "> 张家港市总工会：原文",
    ]
    assert parsed.sections["problems"] == ["问题一。"]
    assert parsed.comments == [(1, 3), (7, 7), (15, 17)]
    assert not parsed.problems


def test_an_unclosed_comment_is_a_problem_naming_its_line():
    parsed = narrative.parse_analyst_text("## 典型经验\n\n做法。\n\n<!-- 忘了结束\n\n## 存在问题\n\n问题。\n")
    assert parsed.sections == {"experience": ["做法。"]}
    assert len(parsed.problems) == 1 and "第5行" in parsed.problems[0] and "-->" in parsed.problems[0]
    parsed = narrative.parse_analyst_text("## 典型经验\n\n做法，\n还有<!-- 数字是编的\n")
    assert parsed.sections == {"experience": ["做法，\n还有"]} and "第4行" in parsed.problems[0]


def test_the_samples_multi_line_comment_never_reaches_its_report(tmp_path):
    path = ROOT / "inputs" / "2013" / "narrative.md"
    text = path.read_bytes().decode("gbk")
    first = text.index("<!--")
    hidden = [ln.strip() for ln in text[first : text.index("-->")].splitlines()[1:] if ln.strip()]
    assert hidden  # the sample's comment runs over several lines
    sections, problems = narrative.parse_analyst(path)
    printed = "\n".join(p for paras in sections.values() for p in paras)
    assert not any(h[:8] in printed for h in hidden) and "<!--" not in printed
    note = narrative.comments_note(path)
    assert "1 段注释" in note and "第1–3行" in note


def test_the_sample_report_never_prints_its_analysts_comment(sample_run):
    _, year, _, _ = sample_run
    text = year.workspace.raw("narrative", 2013).read_bytes().decode("gbk")
    hidden = [ln.strip() for ln in text[: text.index("-->")].splitlines()[1:] if ln.strip()]
    html = year.path("report_html").read_text(encoding="utf-8")
    assert hidden and not any(h[:8] in html for h in hidden)
    assert "&lt;!--" not in html and "<!-- " not in html.split("<body", 1)[-1]


# --- 25.3 / 25.4 / 25.9 year.yaml ---------------------------------------------------------------------------

YEAR = "year: 2013\nform: '2013'\nnotice_date: '2012-12-27'\nreport_date: '2013-01-28'\n"


def _year_yaml(tmp_path, text: str, encoding="gbk"):
    path = tmp_path / "year.yaml"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("written", ["2013年1月21日", "2013-1-21", "2013/1/21", "'2013-01-21'", "2013.1.21"])
def test_year_yaml_dates_are_read_in_every_form_units_write(tmp_path, written):
    path = _year_yaml(tmp_path, YEAR + f"deadline: {written}\nfeedback_deadline: 2013年1月25日\n")
    cfg = config.read_year_config(path, 2013)
    assert cfg["deadline"] == "2013-01-21" and cfg["feedback_deadline"] == "2013-01-25"
    assert cfg["report_date"] == "2013-01-28"


@pytest.mark.parametrize(
    "written, words",
    [
        ("'2013-02-30'", "不是有效的日期"),
        ("2013年2月30日", "不是有效的日期"),
        ("2013-01-21 10:00", "带有时间"),
        ("2013-01-21T17:30:00", "带有时间"),
        ("下周一", "不是日期"),
    ],
)
def test_impossible_dates_and_datetimes_name_file_line_and_value(tmp_path, written, words):
    path = _year_yaml(tmp_path, YEAR + f"deadline: {written}\n")
    with pytest.raises(InputFileError) as err:
        config.read_year_config(path, 2013)
    message = str(err.value)
    assert str(path) in message and "第5行" in message and words in message
    assert written.strip("'") in message and "deadline" in message


def test_an_anchor_bomb_is_refused_at_once_naming_the_file(tmp_path):
    rows = ['a: &a ["哈","哈","哈","哈","哈","哈","哈","哈","哈"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = _year_yaml(tmp_path, YEAR + "\n".join(rows) + "\n")
    start = time.monotonic()
    with pytest.raises(InputFileError) as err:
        config.read_year_config(path, 2013)
    assert time.monotonic() - start < 1
    assert str(path) in str(err.value) and "别名" in str(err.value) and "已拒绝读取" in str(err.value)


def test_an_oversized_year_yaml_is_refused_before_it_is_read(tmp_path):
    path = _year_yaml(tmp_path, YEAR + "# " + "很长的注释" * 10000 + "\n", "utf-8")
    with pytest.raises(InputFileError, match="文件太大"):
        config.read_year_config(path, 2013)


def test_a_report_date_before_the_notice_is_one_year_yaml_error(tmp_path):
    path = _year_yaml(tmp_path, "year: 2013\nnotice_date: 2013年1月5日\nreport_date: 2013-01-01\n")
    with pytest.raises(InputFileError) as err:
        config.read_year_config(path, 2013)
    message = str(err.value)
    assert str(path) in message and "第3行" in message and "report_date" in message
    assert "早于" in message and "2013-01-05" in message


def test_a_computer_clock_before_the_notice_is_named_when_no_report_date_is_set(tmp_path):
    path = _year_yaml(tmp_path, "year: 2013\nnotice_date: 2099-12-27\ndeadline: 2100-01-21\n")
    with pytest.raises(InputFileError) as err:
        config.read_year_config(path, 2013)
    message = str(err.value)
    assert str(path) in message and "第2行" in message
    assert "电脑的日期" in message and "report_date" in message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("form: '2013'\nyear: 2012\n", "第2行", "year（年度）写的是 2012"),
        (
            "year: 2013\ncampaign: 2012年元旦春节期间送温暖活动\n",
            "第2行",
            "「2012年元旦春节期间送温暖活动」写的不是 2013 年",
        ),
        (
            "year: 2013\ndeadline: '2013-01-21'\nnotice_date: '2011-12-27'\n",
            "第3行",
            "2011-12-27 早于 2012 年",
        ),
    ],
)
def test_a_year_yaml_copied_from_another_year_is_named(tmp_path, text, line, words):
    """Last year's year.yaml copied into this year's folder and not yet changed: said at once, naming the
    line, rather than a report titled with last year or every unit told it used the wrong form."""
    path = _year_yaml(tmp_path, text)
    with pytest.raises(InputFileError) as err:
        config.read_year_config(path, 2013)
    message = str(err.value)
    assert str(path) in message and line in message and words in message and "复制" in message


def test_a_campaign_spanning_two_years_or_a_december_notice_is_this_years(tmp_path):
    path = _year_yaml(
        tmp_path, "year: 2013\ncampaign: 2012年底至2013年春节送温暖活动\nnotice_date: '2012-12-27'\n"
    )
    assert config.read_year_config(path, 2013)["notice_date"] == "2012-12-27"


def test_a_bad_year_yaml_stops_the_run_with_its_line_and_no_traceback(tmp_path):
    inputs = tmp_path / "inputs"
    shutil.copytree(ROOT / "inputs", inputs)  # 2012 not run yet: the run would do it first
    config_file = inputs / "2013" / "year.yaml"
    text = config_file.read_bytes().decode("gbk").replace("deadline: '2013-01-21'", "deadline: '2013-02-30'")
    config_file.write_bytes(text.encode("gbk"))
    out = cli("run", "--year", 2013, "--inputs", inputs, "--outputs", tmp_path / "outputs")
    assert out.returncode == 1
    assert "year.yaml 第4行" in out.stderr and "2013-02-30" in out.stderr and "不是有效的日期" in out.stderr
    assert "Traceback" not in out.stdout + out.stderr and "ValueError" not in out.stderr
    assert "2012" not in out.stdout and not (tmp_path / "outputs").exists()  # said before anything ran


# --- 25.8 units.csv: invisible characters -------------------------------------------------------------------


def test_an_invisible_character_in_a_registered_name_is_removed_and_named(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        "name,aliases,type\n常熟市总工会,常熟,市、区\n太仓市\u200b总工会,太\u2060仓,市、区\n",
        encoding="utf-8",
    )
    registry = Registry.load(path)
    assert registry.names == ["常熟市总工会", "太仓市总工会"]
    assert registry.resolve("太仓市总工会").name == "太仓市总工会"
    assert registry.resolve("太仓").name == "太仓市总工会"
    assert registry.resolve("太仓市\ufeff总工会").name == "太仓市总工会"
    assert len(registry.notes) == 2
    assert "units.csv 第3行单位名称「太仓市总工会」" in registry.notes[0] and "U+200B" in registry.notes[0]
    assert "别名" in registry.notes[1] and "U+2060" in registry.notes[1]


def test_a_name_that_differs_only_by_an_invisible_character_is_a_clash(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("name,aliases,type\n太仓市总工会,,市、区\n太仓市\u200b总工会,,市、区\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="第2行.*第3行"):
        Registry.load(path)


# --- 25.12 the analyst's own figures ------------------------------------------------------------------------


def _said(totals, values, *paragraphs):
    from wennuan_lib.publish import draft

    blocks = [narrative.Block("para", p, "analyst") for p in paragraphs]
    text = narrative.Narrative("", "", "", "", [narrative.Section("", blocks)], [])
    return [r["message"] for r in draft.analyst_figures(text, totals, values, 2013)]


def test_an_analyst_figure_is_compared_with_the_total_its_words_name(form):
    from .conftest import one_unit_tables

    totals, values = one_unit_tables(form, "常熟市总工会", "市、区")
    by_label = dict(zip(totals["label"], totals.index, strict=False))
    totals.loc[by_label["筹集慰问款物总额"], "value"] = "4397.56"
    totals.loc[by_label["慰问困难家庭总数"], "value"] = "28996"
    totals.loc[by_label["筹集慰问款物总额"], "previous"] = "3900.12"
    right = [
        "全市共筹集慰问款物4397.56万元。",  # as the total
        "筹集慰问款物4397.6万元，慰问困难职工家庭2.90万户。",  # rounded as written; 万户
        "共筹集慰问款物4300余万元，约4400万元。",  # hedged
        "上年筹集慰问款物3900.12万元。",  # last year's total
        "全市慰问困难家庭1户。",  # a unit's own figure
        "同比增长12.3%，召开会议2013年1月。",  # no item's words before them
    ]
    assert _said(totals, values, *right) == []
    wrong = _said(totals, values, "全市共筹集慰问款物12345.67万元，各地做法多样。", "筹集慰问款物1.2亿元")
    assert len(wrong) == 2
    assert "“全市共筹集慰问款物12345.67万元，各地做法多样。”" in wrong[0] and "4397.56万元" in wrong[0]
    assert "筹集慰问款物总额" in wrong[0] and "narrative.md" in wrong[0]
    assert "1.2亿元" in wrong[1]


def test_an_analyst_change_is_the_one_on_the_comparable_basis(form):
    """A 同比 the analyst typed is checked as the generated prose states it: on the units that filled the
    item both years. The two years' totals compared directly (another set of units), a wrong figure and a
    同比 the data cannot give are each named; the comparable one, as rounded as written, passes."""
    from wennuan_lib.publish import draft

    from .conftest import one_unit_tables

    totals, _ = one_unit_tables(form, "常熟市总工会", "市、区")
    row = totals.index[totals["label"] == "筹集慰问款物总额"][0]
    totals.loc[row, ["value", "previous", "change_pct", "units_comparable"]] = [
        "4219.82",
        "3384",
        "1.3",
        "28",
    ]

    def said(*paragraphs):
        blocks = [narrative.Block("para", p, "analyst") for p in paragraphs]
        text = narrative.Narrative("", "", "", "", [narrative.Section("", blocks)], [])
        return [r["message"] for r in draft.analyst_changes(text, totals, 2013)]

    assert (
        said("全市共筹集慰问款物4219.82万元，同比增长1.3%。", "筹集慰问款物比上年增长1.30%，召开会议8场。")
        == []
    )
    direct, wrong, none = said(
        "全市共筹集慰问款物4219.82万元，比上年增长24.7%。",
        "筹集慰问款物同比下降1.3%。",
        "慰问困难家庭比上年增加5%。",
    )
    assert (
        "“比上年增长24.7%”是两年全市合计直接相比" in direct and "两年均填报的28个单位）同比增长1.3%" in direct
    )
    assert "与数据不符" in wrong and "同比增长1.3%" in wrong and "直接相比为增长24.7%" in wrong
    assert "没有依据" in none and "慰问困难家庭总数" in none and "narrative.md" in none


def test_labels_that_read_alike_agree_with_either_row(form):
    from .conftest import one_unit_tables

    totals, values = one_unit_tables(form, "常熟市总工会", "市、区")
    rows = totals[(totals["label"] == "其中困难农民工") & (totals["measure"] == "户")].index
    assert len(rows) == 2  # 建档 and 慰问: the same words, the same measure
    totals.loc[rows[0], "value"], totals.loc[rows[1], "value"] = "500", "321"
    assert _said(totals, values, "其中困难农民工321户。", "其中困难农民工500户。") == []
    assert len(_said(totals, values, "其中困难农民工999户。")) == 1


# --- a small year, run once by the command line, copied by the tests that change it -------------------------

UNITS = ["常熟市总工会", "太仓市总工会"]
NARRATIVE = (
    "<!-- 给自己的备注：\n数字是编的\n待核实后删除 -->\n\n"
    "## 典型经验\n\n全市共筹集慰问款物12345.67万元，各地做法多样。\n\n"
    "## 存在问题\n\n全市慰问困难家庭{households}户，仍有不足。\n\n"
    "## 下一步打算\n\n继续做好。\n"
)


def _values(k: int) -> dict:
    from wennuan_lib.form import load_form

    form = load_form(2013)
    return {code: (k + 1) * 10 for code in form.codes}


@shared_fixture
def small(tmp_path_factory, worker_id):
    """Two units' forms, a narrative.md with a multi-line comment, a wrong total and a right one;
    run once by the command line. Returns (root, stdout of the run). Made once for all workers; tests only
    read it."""
    return made_once(tmp_path_factory, worker_id, "small", _small)


def _small(root):
    from wennuan_lib.form import load_form
    from wennuan_lib.publish import template

    inbox = root / "inputs" / "2013" / "submissions"
    inbox.mkdir(parents=True)
    (root / "inputs" / "units.csv").write_text(
        "name,aliases,type\n常熟市总工会,常熟,市、区\n太仓市\u200b总工会,太仓,市、区\n", encoding="utf-8"
    )
    shutil.copy(ROOT / "inputs" / "2013" / "year.yaml", root / "inputs" / "2013" / "year.yaml")
    form = load_form(2013)
    for k, unit in enumerate(UNITS):
        template.write(form, inbox / f"{unit}.xlsx", values=_values(k), header={"unit": unit})
    households = sum(_values(k)[form.items[0].code] for k in range(2))  # every blank holds the same figure
    (root / "inputs" / "2013" / "narrative.md").write_text(
        NARRATIVE.format(households=households), encoding="utf-8"
    )
    out = cli("run", "--year", 2013, "--inputs", root / "inputs", "--outputs", root / "outputs")
    assert out.returncode == 0, out.stdout + out.stderr
    return root, out.stdout


def _year(root):
    from .conftest import Year

    return Year(root / "inputs", root / "outputs", 2013)


def test_the_report_never_prints_a_comment_and_the_summary_counts_them(small):
    root, stdout = small
    y = _year(root)
    html = y.path("report_html").read_text(encoding="utf-8")
    assert "各地做法多样" in html and not any(s in html for s in SECRET)
    assert "narrative.md 中的 1 段注释" in stdout and "第1–3行" in stdout


def test_an_analyst_figure_unlike_the_total_keeps_the_report_a_draft(small):
    root, _ = small
    y = _year(root)
    reasons = y.load("draft_reasons")
    figures = reasons[reasons["message"].str.contains("与数据不符")]
    assert len(figures) == 1  # the households figure is right, the money figure is not
    message = figures.iloc[0]["message"]
    total = y.load("totals").set_index("label").loc["筹集慰问款物总额", "value"]
    assert "全市共筹集慰问款物12345.67万元" in message and f"{total}万元" in message
    assert vocab.label("draft_reasons.kind", figures.iloc[0]["kind"]) == "书面总结"  # stored as a code


def test_invisible_characters_in_units_csv_are_named_and_never_make_two_units(small):
    root, stdout = small
    y = _year(root)
    assert set(y.load("values")["unit"]) == set(UNITS)
    assert "units.csv 第3行单位名称「太仓市总工会」中有看不见的字符（U+200B零宽空格）" in stdout


def _copy_small(small, tmp_path, symlinks=True):
    root, _ = small
    shutil.copytree(root / "inputs", tmp_path / "inputs")
    shutil.copytree(root / "outputs", tmp_path / "outputs", symlinks=symlinks)
    return _year(tmp_path)


# --- 25.5 a freeze killed just before it publishes ---------------------------------------------------------


def test_a_freeze_killed_before_it_publishes_is_named_by_verify_and_cleaned_by_the_next(small, tmp_path):
    y = _copy_small(small, tmp_path)
    where = ("--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs)
    env = {**os.environ, "WENNUAN_STOP_AT": "freeze:before-publish"}
    killed = cli("freeze", *where, "--date", "2013-01-28", env=env)
    assert killed.returncode == -signal.SIGKILL
    sent = y.root / "sent"
    left = sent / ".2013-01-28.tmp"
    assert left.is_dir() and all(not p.stat().st_mode & 0o222 for p in left.rglob("*"))  # read-only, as left
    assert not (sent / "2013-01-28").exists()
    out = cli("verify", *where)
    assert out.returncode == 1 and "已报送的版本完好" not in out.stdout
    assert "封存被中断" in out.stdout and ".2013-01-28.tmp" in out.stdout
    out = cli("freeze", *where, "--date", "2013-01-28")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "上次封存被中断" in out.stdout and ".2013-01-28.tmp" in out.stdout and "已清理" in out.stdout
    assert not left.exists() and (sent / "2013-01-28" / "SHA256SUMS").is_file()
    out = cli("verify", *where)
    assert out.returncode == 0 and "已报送的版本完好" in out.stdout


# --- 25.7 / 25.10 clear messages: an outputs path that is a file, a full disk ------------------------------


@pytest.mark.parametrize("below", [False, True])
def test_outputs_that_is_a_file_is_a_chinese_message_and_exit_code_2(tmp_path, below):
    a_file = tmp_path / "结果.txt"
    a_file.write_text("不是文件夹", encoding="utf-8")
    outputs = a_file / "2013" if below else a_file
    for command in ("run", "status", "verify"):
        out = cli(command, "--year", 2013, "--outputs", outputs)
        assert out.returncode == 2, out.stderr
        assert (
            str(a_file) in out.stderr and "是一个文件，不是文件夹" in out.stderr and "--outputs" in out.stderr
        )
        assert "Traceback" not in out.stdout + out.stderr and "NotADirectoryError" not in out.stderr
    assert a_file.read_text(encoding="utf-8") == "不是文件夹"


def test_a_write_that_fills_the_disk_names_its_file(tmp_path):
    """The write itself (not the open) fails on a full disk: its error names no file unless we add it."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("需要 root 权限挂载一个小的临时文件系统来模拟磁盘已满")
    target = tmp_path / "满了"
    target.mkdir()
    script = (
        "import sys; from pathlib import Path\n"
        "from wennuan_lib import errors\nfrom wennuan_lib.base import files\n"
        "path = Path(sys.argv[1]) / '审核数据.xlsx'\n"
        "try:\n    files.atomic_write_bytes(path, b'x' * 2_000_000)\n"
        "except OSError as exc:\n    print(errors.explain(exc, Path(sys.argv[1]) / 'logs'))\n"
    )
    setup = f"mount -t tmpfs -o size=256k tmpfs '{target}'"
    cmd = [
        "unshare",
        "-m",
        "sh",
        "-c",
        f'{setup} && exec "$@"',
        "sh",
        sys.executable,
        "-c",
        script,
        str(target),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert f"磁盘空间不足，写入 {target / '审核数据.xlsx'} 时失败" in out.stdout, out.stdout + out.stderr


def test_a_full_disk_named_by_no_file_still_says_where():
    said = errors.explain(OSError(errno.ENOSPC, "No space left on device"), Path("/出") / "2013" / "logs")
    assert "写入 输出文件夹 /出/2013 中的文件 时失败" in said
    said = errors.from_text("OSError", "[Errno 28] No space left on device", "/出/2013/runs/1")
    assert "写入 运行文件夹 /出/2013/runs/1 中的文件 时失败" in said


# --- 25.6 outputs copied without links ----------------------------------------------------------------------


def _where(y):
    return ("--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs)


def test_current_is_a_file_that_survives_a_copy_without_links(small, tmp_path):
    root, _ = small
    pointer = root / "outputs" / "2013" / "current"
    assert pointer.is_file() and not pointer.is_symlink()
    y = _copy_small(small, tmp_path, symlinks=False)  # shortcuts become folders, as on a USB stick
    assert (y.root / "report").is_dir() and not (y.root / "report").is_symlink()
    before = y.run
    assert before.parent == y.root / "runs" and y.load("totals") is not None
    out = cli("verify", *_where(y))
    assert out.returncode == 0, out.stdout + out.stderr
    (y.inputs / "2013" / "narrative.md").write_text("## 典型经验\n\n复制后改了。\n", encoding="utf-8")
    out = cli("run", *_where(y))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and y.run != before
    assert (y.root / "report").is_symlink() and (y.root / "report" / "书面总结.html").is_file()
    assert "复制后改了" in (y.root / "report" / "书面总结.html").read_text(encoding="utf-8")


def test_an_older_versions_link_copied_as_a_folder_is_taken_as_the_last_run(small, tmp_path):
    y = _copy_small(small, tmp_path)
    pointer = y.scope.current_link  # made as an older version made it: a link, and shortcuts through it
    run = y.run
    pointer.unlink()
    pointer.symlink_to(run.relative_to(y.root))
    for link in [p for p in y.root.iterdir() if p.is_symlink() and p != pointer]:
        link.unlink()
        link.symlink_to(Path("current") / link.name)
    copy = tmp_path / "copy"
    shutil.copytree(y.inputs, copy / "inputs")
    shutil.copytree(y.outputs, copy / "outputs")  # links followed: current/ is a whole folder now
    c = _year(copy)
    assert c.scope.current_link.is_dir() and not c.scope.current_link.is_symlink()
    totals = (c.scope.current_link / "data" / "04_totals" / "totals.csv").read_bytes()
    assert c.run == c.scope.current_link and c.path("totals").read_bytes() == totals
    for command in ("status", "verify"):
        out = cli(command, *_where(c))
        assert out.returncode == 0 and "Traceback" not in out.stdout + out.stderr, out.stdout + out.stderr
    out = cli("run", *_where(c))  # nothing changed: carried, nothing written
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stdout + out.stderr
    (c.inputs / "2013" / "narrative.md").write_text("## 典型经验\n\n又改了。\n", encoding="utf-8")
    out = cli("run", *_where(c))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stdout + out.stderr
    assert c.scope.current_link.is_file() and c.run.parent == c.root / "runs"
    assert c.path("totals").read_bytes() == totals  # the same figures, carried from the copied run
    assert any(p.name.endswith("复制的结果") for p in (c.root / "runs").iterdir())  # kept: the previous run
    out = cli("run", *_where(c))
    assert out.returncode == 0 and "全部步骤都是最新的" in out.stdout, out.stdout + out.stderr


def test_a_file_larger_than_one_write_is_written_whole_by_both_writers(tmp_path):
    """Files are written in pieces (files.WRITE_PIECE): a file of two and a half pieces, whether written
    beside its old version or new in a run's folder, holds every byte and leaves nothing else behind."""
    data = random.Random(24).randbytes(files.WRITE_PIECE * 5 // 2)
    target = tmp_path / "values.csv"
    target.write_bytes(b"old")
    files.atomic_write_bytes(target, data)
    files.write_new(tmp_path / "新" / "extracted.csv", data)
    assert target.read_bytes() == data
    assert (tmp_path / "新" / "extracted.csv").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values.csv", "新"]
