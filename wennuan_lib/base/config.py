"""The project's roots (package, notebooks, inputs, outputs) and limits, never relative to the working
directory. Every file under them is named by the catalog (catalog.yaml)."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from wennuan_lib.base import dates
from wennuan_lib.base.textfiles import InputFileError, read_text, read_yaml_lines

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # wennuan_lib/
ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = PACKAGE_DIR / "forms"
NOTEBOOKS_DIR = ROOT / "notebooks"
# Tests and scripts may point the defaults elsewhere; the analyst never needs to.
INPUTS_DIR = Path(os.environ.get("WENNUAN_INPUTS", ROOT / "inputs"))
OUTPUTS_DIR = Path(os.environ.get("WENNUAN_OUTPUTS", ROOT / "outputs"))
KERNEL_NAME = "wennuan"
# Set by `run` in its kernel, which runs a scope's steps one after another: a product no step reads, made on
# another core by a step that is not the last of its scope, is saved when made, while the run goes on with the
# next step; `run` waits for every such file before it records the run (runner.save_outputs,
# runner.save_later). And a file a step has parsed is kept for a later step that reads the same bytes (kept).
RUN_KERNEL_ENV = "WENNUAN_RUN_KERNEL"


def in_run_kernel() -> bool:
    """Whether this is `run`'s kernel (see RUN_KERNEL_ENV)."""
    return bool(os.environ.get(RUN_KERNEL_ENV))


# Limits on what a submitted file may be: a form is a few hundred KB; anything near these is hostile.
MAX_FILE_BYTES = int(os.environ.get("WENNUAN_MAX_FILE_BYTES", 50 * 2**20))
MAX_INFLATED_BYTES = int(os.environ.get("WENNUAN_MAX_INFLATED_BYTES", 200 * 2**20))
# A sheet's grid (A1 to its last cell) is allocated whole by the spreadsheet reader: a form is a few
# thousand cells; one cell at XFD1048576 makes 17 billion. Checked in the sheet's XML before reading.
MAX_SHEET_CELLS = int(os.environ.get("WENNUAN_MAX_SHEET_CELLS", 2_000_000))
# Seconds one file may take to read (a form takes well under one): past it, it is refused with its reason.
MAX_READ_SECONDS = int(os.environ.get("WENNUAN_MAX_READ_SECONDS", 120))
# Memory one file may take to read, in MB over what the reading process holds before it (a form takes tens):
# every file is read in a process of its own kind (a pool worker) under this address-space limit, so that a
# reader that allocates without bound fails there, as that file's reason, never in the kernel. 0: no limit.
MAX_READ_MB = int(os.environ.get("WENNUAN_MAX_READ_MB", 1024))


def program() -> str:
    """The program as the analyst's shell runs it: `wennuan` when this environment's console command is the
    one the shell finds (the environment is activated), else that command's full path (it works without
    activating anything); with no console command installed, this Python's full path with `-m wennuan_lib`."""
    script = Path(sys.executable).parent / "wennuan"  # the venv's bin/, not the interpreter it links to
    if script.is_file() and os.access(script, os.X_OK):
        found = shutil.which("wennuan")
        if found and Path(found).resolve() == script.resolve():
            return "wennuan"
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m wennuan_lib"


def read_year_config(path: Path, year: int) -> dict:
    """A year's settings (inputs/<year>/year.yaml: form, deadline, city unit, campaign title…); defaults when
    absent. year.yaml may be saved in any encoding Notepad saves; a syntax error, an unknown key, a value that
    is not one value, a date that is not a date and dates in an impossible order are Chinese messages naming
    its line. Dates are read in every form a unit's 填报日期 is (2013-01-21, 2013年1月21日, 2013/1/21, …)
    and kept as ISO text."""
    cfg = {"year": year, "form": str(year), "sample": False}
    if path.exists():
        data, _, lines = read_yaml_lines(path)
        for key in data:
            if key not in YEAR_KEYS:
                raise InputFileError(
                    path, _unknown_key(str(key)), lines.get(str(key)) or _line_of(path, str(key))
                )
            if isinstance(data[key], dict | list):
                raise InputFileError(
                    path,
                    f"{key}（{YEAR_KEYS[key]}）应为一个值，写在冒号后面的同一行。请用记事本打开改正后再运行",
                    lines.get(key),
                )
        for key in DATE_KEYS:
            if data.get(key) not in (None, ""):
                data[key] = _date(path, key, data[key], year, lines.get(key))
        cfg.update(data)
        _check_year(path, cfg, lines, year)
        _check_order(path, cfg, lines)
    return cfg


YEAR_RX = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")


def _check_year(path: Path, cfg: dict, lines: dict[str, int], year: int) -> None:
    """A year.yaml copied from another year and not yet changed: its year, its campaign's year or a date
    before last year (a notice may go out in December) is named, rather than a report titled with the
    wrong year or every unit told it used the wrong form."""
    copied = "这个文件是不是从别的年度复制来的？请把各项设置改成本年度的，再运行"
    written = str(cfg.get("year", year)).strip()
    if written != str(year):
        raise InputFileError(
            path,
            f"year（年度）写的是 {written}，但这个文件在 {year} 年度的文件夹中。{copied}",
            lines.get("year"),
        )
    named = {int(y) for y in YEAR_RX.findall(str(cfg.get("campaign", "")))}
    if named and year not in named:
        raise InputFileError(
            path,
            f"campaign（{YEAR_KEYS['campaign']}）「{cfg['campaign']}」写的不是 {year} 年。{copied}",
            lines.get("campaign"),
        )
    for key in DATE_KEYS:
        if cfg.get(key) and int(cfg[key][:4]) < year - 1:
            raise InputFileError(
                path,
                f"{key}（{YEAR_KEYS[key]}）{cfg[key]} 早于 {year - 1} 年，不像是 {year} 年度的日期。{copied}",
                lines.get(key),
            )


# The settings that are dates, each kept as ISO text (2013-01-21).
DATE_KEYS = ("notice_date", "deadline", "feedback_deadline", "report_date")
TIME_RX = re.compile(r"[0-9]{1,2}\s*[:：]\s*[0-9]{2}|[0-9]{1,2}\s*[时点]")


def _date(path: Path, key: str, value, year: int, line: int | None) -> str:
    """A date setting as ISO text, or InputFileError naming the line and the value as written."""
    what = f"{key}（{YEAR_KEYS[key]}）「{value}」"
    example = f"请写成 {year}-01-21 或 {year}年1月21日 这样的日期。请用记事本打开改正后再运行"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputFileError(path, f"{what}不是日期。{example}", line)
    text = str(value).strip()
    found = dates.find(text) if isinstance(value, str) else None
    if found is not None:
        rest = (dates.nfkc(text)[: found.start()] + dates.nfkc(text)[found.end() :]).strip()
        if TIME_RX.search(rest):
            raise InputFileError(path, f"{what}带有时间；这里只写日期（不写几点几分）。{example}", line)
        if rest.strip("日号 "):
            raise InputFileError(path, f"{what}中除日期外还有其他文字「{rest}」。{example}", line)
    iso, note = dates.parse(text if isinstance(value, str) else value, year)
    if iso is None:
        why = "不是有效的日期（没有这一天）" if "不是有效的日期" in note else "不是日期"
        raise InputFileError(path, f"{what}{why}。{example}", line)
    return iso


def _check_order(path: Path, cfg: dict, lines: dict[str, int]) -> None:
    """The notice goes out first: a deadline or a report dated before it is a slip in year.yaml (or a wrong
    computer clock), said once here, not as a wrong date on every unit's form."""
    notice = cfg.get("notice_date")
    if not notice:
        return
    said = f"notice_date（{YEAR_KEYS['notice_date']}）{notice}"
    for key in ("deadline", "report_date"):
        when = cfg.get(key)
        if when and when < notice:
            raise InputFileError(
                path,
                f"{key}（{YEAR_KEYS[key]}）{when} 早于{said}（第{lines.get('notice_date')}行），"
                "不可能先于通知。请核对这两个日期，改正后再运行",
                lines.get(key),
            )
    if not cfg.get("report_date") and dt.date.today().isoformat() < notice:
        raise InputFileError(
            path,
            f"今天（电脑的日期 {dt.date.today().isoformat()}）早于{said}，而没有写 report_date"
            f"（{YEAR_KEYS['report_date']}，不写则为运行当天）。请核对电脑的日期，或在这个文件中写上 "
            "report_date，然后再运行",
            lines.get("notice_date"),
        )


# What year.yaml may set (README, 年度设置). A key spelt otherwise would be ignored and its default used in
# silence (a misspelt deadline: no unit late), so it stops the run instead.
YEAR_KEYS = {
    "year": "年度",
    "form": "使用哪一年的表式",
    "deadline": "报送截止日期",
    "city_unit": "市总工会名称",
    "campaign": "活动名称",
    "notice": "通知文号",
    "notice_date": "通知日期",
    "recipient": "报送对象",
    "reporter": "填报人",
    "report_date": "书面总结的日期",
    "feedback_deadline": "反馈的修改期限",
    "contact": "联系部门",
    "phone": "联系电话",
    "email": "电子信箱",
    "sample": "示例数据",
}


def _unknown_key(key: str) -> str:
    close = difflib.get_close_matches(key, list(YEAR_KEYS), n=1, cutoff=0.6)
    guess = f"，是否应为「{close[0]}」（{YEAR_KEYS[close[0]]}）？" if close else "。"
    known = "、".join(f"{k}（{v}）" for k, v in YEAR_KEYS.items())
    return (
        f"有不认识的设置项「{key}」{guess}写错的设置项不起作用，程序会改用默认值。"
        f"可用的设置项：{known}。请用记事本打开改正后再运行"
    )


def _line_of(path: Path, key: str) -> int | None:
    for n, line in enumerate(read_text(path).text.splitlines(), 1):
        if line.split(":", 1)[0].strip().strip("'\"") == key:
            return n
    return None
