"""The project's roots (package, notebooks, inputs, outputs) and limits, never relative to the working
directory. Every file under them is named by the catalog (catalog.yaml)."""

from __future__ import annotations

import difflib
import os
import shlex
import shutil
import sys
from pathlib import Path

from .textfiles import InputFileError, read_text, read_yaml_mapping

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[1]
FORMS_DIR = PACKAGE_DIR / "forms"
NOTEBOOKS_DIR = ROOT / "notebooks"
# Tests and scripts may point the defaults elsewhere; the analyst never needs to.
INPUTS_DIR = Path(os.environ.get("WENNUAN_INPUTS", ROOT / "inputs"))
OUTPUTS_DIR = Path(os.environ.get("WENNUAN_OUTPUTS", ROOT / "outputs"))
KERNEL_NAME = "wennuan"
# Limits on what a submitted file may be: a form is a few hundred KB; anything near these is hostile.
MAX_FILE_BYTES = int(os.environ.get("WENNUAN_MAX_FILE_BYTES", 50 * 2**20))
MAX_INFLATED_BYTES = int(os.environ.get("WENNUAN_MAX_INFLATED_BYTES", 200 * 2**20))


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
    absent. year.yaml may be saved in any encoding Notepad saves; a syntax error is a Chinese message naming
    its line."""
    cfg = {"year": year, "form": str(year), "sample": False}
    if path.exists():
        data = read_yaml_mapping(path)[0]
        for key in data:
            if key not in YEAR_KEYS:
                raise InputFileError(path, _unknown_key(str(key)), _line_of(path, str(key)))
        cfg.update(data)
    return cfg


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
