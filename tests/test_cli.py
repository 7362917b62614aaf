"""The analyst's commands, end to end, and the sample they run on."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wennuan_lib.base import catalog, config
from wennuan_lib.cli import main

from .conftest import ROOT, cli, tree_hash


def test_committed_sample_is_what_the_seeded_generator_makes(sample_years):
    """inputs/ in the repository is the generator's output for seed 2013 (the shared fixture generates it
    afresh and runs it), so what the README's first command runs is what the tests check."""
    results, _, _ = sample_years
    fresh = tree_hash(results[2013][1].inputs)
    committed = tree_hash(ROOT / "inputs")
    assert set(fresh) == set(committed)
    # LibreOffice stamps each file it saves (.doc, .wps, .pdf); every other file is byte for byte the same
    assert {k for k in fresh if fresh[k] != committed[k]} <= {
        k for k in fresh if k.endswith((".doc", ".wps", ".pdf"))
    }


def test_run_all_executes_every_notebook_and_leaves_the_inputs_as_they_were(sample_years):
    results, before, out = sample_years
    assert (
        "处理完成" in out.stdout
        and "统计表已读取" in out.stdout
        and "Traceback" not in out.stdout + out.stderr
    )
    for year in (2011, 2012, 2013):
        run = results[year][1].run
        names = {p.name for p in (run / catalog.dataset("notebooks").path).glob("*.ipynb")}
        assert names == {s.notebook for s in catalog.steps(catalog.YEAR)}
        for ds in catalog.datasets(catalog.YEAR):
            assert (run / ds.path).exists() or ds.name == "sent_diff", ds.name
    trends = results[2013][1].workspace.trends().current()
    assert (trends / "notebooks" / "05_trends.ipynb").exists()
    assert tree_hash(results[2013][1].inputs) == before


def test_missing_year_is_a_chinese_error(tmp_path):
    out = cli("run", "--year", "1999", "--outputs", tmp_path)
    assert out.returncode != 0 and "收件箱" in out.stderr and "Traceback" not in out.stderr


def test_nothing_is_written_inside_the_checkout_by_default_paths():
    """conftest points the default inputs and outputs into a temporary folder before anything is imported."""
    assert not Path(config.OUTPUTS_DIR).resolve().is_relative_to(ROOT)
    assert not Path(config.INPUTS_DIR).resolve().is_relative_to(ROOT)


def test_help_and_mistyped_arguments_are_in_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    shown = capsys.readouterr().out
    assert "用法：" in shown and "显示本帮助并退出" in shown and "--year 年度" in shown
    assert not any(w in shown for w in ("usage", "options", "show this help"))
    for argv, said in [
        (["run", "--yeer", "2013"], "不认识的参数：--yeer 2013"),
        (["run", "--year", "abc"], "参数 --year 的值「abc」不是整数"),
        ([], "缺少必需的参数：命令"),
        (["runn"], "没有「runn」这个命令；可用的命令：run、verify"),
        (["status", "--year"], "参数 --year 后面要写一个值"),
    ]:
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and f"错误：{said}" in err, err
        assert "error" not in err and "usage" not in err


def test_a_freeze_date_that_is_not_a_date_is_said_in_chinese(tmp_path, capsys):
    for date in ("abc", "2013-13-45"):
        assert main(["freeze", "--year", "2013", "--date", date, "--outputs", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"--date「{date}」不是一个日期" in err and "Error" not in err
    assert not any(tmp_path.iterdir())  # nothing was frozen


def test_an_inputs_folder_that_does_not_exist_and_all_with_a_year_are_said(tmp_path, capsys):
    missing = tmp_path / "没有这个目录"
    assert main(["verify", "--year", "2013", "--inputs", str(missing), "--outputs", str(tmp_path)]) == 1
    assert f"找不到输入目录：{missing}" in capsys.readouterr().err  # not "every input deleted"
    assert main(["run", "--all", "--year", "2013", "--outputs", str(tmp_path)]) == 2
    assert "不能再用 --year" in capsys.readouterr().err


def shell_without_the_environment() -> dict:
    """The analyst's shell: the environment not activated (its bin/ not on PATH, no VIRTUAL_ENV)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    mine = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != mine)
    return env


def test_the_printed_next_command_runs_as_printed_in_a_shell_without_the_environment(sample_years, tmp_path):
    results, _, _ = sample_years
    year = results[2013][1]
    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    shutil.copytree(year.inputs, inputs)
    shutil.copytree(year.outputs, outputs, symlinks=True)
    env = shell_without_the_environment()
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "wennuan_lib",
            "status",
            "--year",
            "2013",
            "--inputs",
            inputs,
            "--outputs",
            outputs,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert status.returncode == 0, status.stderr
    printed = next(line for line in status.stdout.splitlines() if "然后运行：" in line).split("然后运行：")[1]
    assert printed.startswith(str(Path(sys.executable).parent / "wennuan") + " run --year 2013")
    done = subprocess.run(["bash", "-c", printed], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2013年" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_template_writes_into_the_years_outputs_by_default(tmp_path):
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "wennuan"),
            "template",
            "--year",
            "2013",
            "--inputs",
            ROOT / "inputs",
            "--outputs",
            tmp_path / "outputs",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=shell_without_the_environment(),
    )
    assert out.returncode == 0, out.stderr
    made = list((tmp_path / "outputs" / "2013").glob("*.xlsx"))
    assert len(made) == 1 and str(made[0]) in out.stdout
    assert not list(tmp_path.glob("*.xlsx"))


def test_a_year_without_a_form_file_says_which_file_to_copy_and_where(tmp_path):
    inputs = tmp_path / "inputs"
    (inputs / "2099").mkdir(parents=True)
    shutil.copy(ROOT / "inputs" / "units.csv", inputs / "units.csv")
    (inputs / "2099" / "year.yaml").write_text("form: 2099\n", encoding="utf-8")
    out = cli("template", "--year", 2099, "--inputs", inputs, "--outputs", tmp_path / "outputs")
    assert out.returncode != 0 and "Traceback" not in out.stdout + out.stderr
    newest = sorted(p.name for p in (ROOT / "wennuan_lib" / "forms").glob("*.yaml"))[-1]
    assert f"找不到 2099 年的表式文件 {ROOT / 'wennuan_lib' / 'forms' / '2099.yaml'}" in out.stderr
    assert f"请把最近一年的 {newest} 复制为 2099.yaml" in out.stderr and "docs/past-years.md" in out.stderr


def test_status_of_a_year_without_inputs_says_so_and_names_the_years_there(tmp_path):
    """`status --year 2010` where inputs/ has no 2010: not 'run it first' (that run could only fail)."""
    inputs = tmp_path / "inputs"
    (inputs / "2013" / "submissions").mkdir(parents=True)
    out = cli("status", "--year", 2010, "--inputs", inputs, "--outputs", tmp_path / "outputs")
    assert out.returncode == 0 and "2010年没有输入" in out.stdout and "有的年度：2013" in out.stdout
    assert "请先运行" not in out.stdout
