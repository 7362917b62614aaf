"""The analyst's commands, end to end."""

import shutil
import subprocess
import sys

from wennuan_lib import config

from .conftest import tree_hash


def test_run_executes_the_notebooks_and_writes_the_data(tmp_path):
    shutil.copytree(config.ROOT / "inputs", tmp_path / "inputs")
    before = tree_hash(tmp_path / "inputs")
    out = subprocess.run([sys.executable, "-m", "wennuan_lib", "run", "--year", "2013", "--inputs",
                          str(tmp_path / "inputs"), "--outputs", str(tmp_path / "outputs")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "处理完成" in out.stdout and "统计表已读取" in out.stdout
    data = tmp_path / "outputs" / "2013" / "data"
    for name in ("values.csv", "ingest_log.csv", "extracted.csv", "submissions.csv", "summaries.csv"):
        assert (data / name).exists()
    assert (tmp_path / "outputs" / "2013" / "notebooks" / "01_ingest.ipynb").exists()
    assert tree_hash(tmp_path / "inputs") == before


def test_missing_year_is_a_chinese_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "wennuan_lib", "run", "--year", "1999", "--outputs", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "收件箱" in out.stderr
