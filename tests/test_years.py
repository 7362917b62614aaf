"""Past years: regenerate exactly, compare across years by concept, never lose a report that was sent."""

import hashlib
import re
import shutil
import subprocess
import sys

import pandas as pd

from wennuan_lib import clean, config, corrections, freeze, ingest, manifest, reconcile, report, trends
from wennuan_lib.form import load_form
from wennuan_lib.store import read_csv, write_csv


def test_forms_differ_and_concepts_join_them():
    f11, f13 = load_form(2011), load_form(2013)
    assert f13.code_of("10H.1") == "10H.1" and f11.code_of("10H.1") is None  # added
    assert f11.code_of("10G.1") == "11A.1" and f11.code_of("11A.1") == "11B.1"  # moved
    assert f11.item("07A.1").label != f13.item("07A.1").label and f11.item("07A.1").key == "07A.1"  # reworded


def test_trends_cover_every_year_and_join_by_concept(sample_years):
    results, _ = sample_years
    out = results[2013][1].outputs / "trends"
    wide = read_csv(out / "trends.csv")
    assert {"2011", "2012", "2013"} <= set(wide.columns)
    city = wide[wide["scope"] == "全市合计"].set_index("concept")
    assert city.loc["10H.1", "2011"] == trends.ABSENT and city.loc["10H.1", "2013"] != ""
    totals11 = read_csv(results[2011][1].data / "totals.csv").set_index("item")
    assert city.loc["10G.1", "2011"] == totals11.loc["11A.1", "value"]  # tickets were 11A.1 in 2011
    assert city.loc["11A.1", "2011"] == totals11.loc["11B.1", "value"]
    for y in ("2011", "2012", "2013"):
        assert city.loc["05.1", y] not in ("", trends.ABSENT)
    for name in ("trends_funds", "trends_households", "trends_migrants"):
        assert (out / "charts" / f"{name}.png").stat().st_size > 10_000


def test_renamed_unit_joins_across_years(sample_years):
    results, _ = sample_years
    subs11 = results[2011][2]["submissions"]
    row = subs11[subs11["unit"] == "吴江区总工会"].iloc[0]
    assert row["written_unit"].startswith("吴江市总工会")
    wide = read_csv(results[2013][1].outputs / "trends" / "trends.csv")
    wujiang = wide[(wide["scope"] == "吴江区总工会") & (wide["concept"] == "01A.1")].iloc[0]
    assert all(wujiang[y] != "" for y in ("2011", "2012", "2013"))


def test_history_checks_and_year_on_year_use_the_previous_year_by_concept(sample_years):
    results, _ = sample_years
    assert results[2011][2]["has_previous"] is False and results[2013][2]["has_previous"] is True
    t13 = read_csv(results[2013][1].data / "totals.csv").set_index("item")
    t12 = read_csv(results[2012][1].data / "totals.csv").set_index("item")
    assert t13.loc["05.1", "previous"] == t12.loc["05.1", "value"]
    t11 = read_csv(results[2011][1].data / "totals.csv").set_index("item")
    assert t12.loc["10G.1", "previous"] == t11.loc["11A.1", "value"]
    assert t12.loc["10H.1", "previous"] == ""  # absent in 2011, not zero


def _copy_year_run(sample_years, tmp_path):
    results, _ = sample_years
    src = results[2013][1]
    shutil.copytree(src.inputs, tmp_path / "inputs")
    shutil.copytree(src.outputs, tmp_path / "outputs")
    return config.year_paths(2013, tmp_path / "inputs", tmp_path / "outputs")


def _run(paths):
    ingest.run(paths)
    clean.run(paths)
    reconcile.run(paths)
    report.run(paths)
    freeze.compare(paths)
    manifest.write(paths)


def test_manifest_records_inputs_form_and_packages(sample_run):
    _, paths, _, _ = sample_run
    m = manifest.load(paths)
    assert m["form_version"] == "2013.1" and m["packages"]["pandas"]
    assert any(k.startswith("2013/submissions/") for k in m["inputs"])
    assert "2013/corrections.csv" in m["inputs"] and "units.csv" in m["inputs"] and "forms/2013.yaml" in m["inputs"]
    assert "上年结果/2012/values.csv" in m["inputs"]
    assert "data/values.csv" in m["outputs"] and "report/书面总结.pdf" in m["reports"]


def test_verify_names_changed_added_and_removed_inputs(sample_years, tmp_path):
    paths = _copy_year_run(sample_years, tmp_path)
    ok, lines = manifest.verify(paths)
    assert ok and not lines
    first = sorted(paths.inbox.glob("*.xlsx"))[0]
    first.write_bytes(first.read_bytes() + b"\0")
    (paths.inbox / "新来的.docx").write_bytes(b"x")
    gone = sorted(paths.inbox.glob("*.docx"))[0]
    gone.unlink()
    (paths.data / "totals.csv").write_text("x", encoding="utf-8")
    ok, lines = manifest.verify(paths)
    text = "\n".join(lines)
    assert not ok
    assert f"输入文件已修改：2013/submissions/{first.name}" in text
    assert "输入文件是新增的：2013/submissions/新来的.docx" in text
    assert f"输入文件已删除：2013/submissions/{gone.name}" in text
    assert "输出文件与运行时不同：data/totals.csv" in text


def test_freeze_protects_the_sent_copy_and_reports_the_difference(sample_years, tmp_path):
    paths = _copy_year_run(sample_years, tmp_path)
    sent = freeze.freeze(paths)
    hashes = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sent.rglob("*") if p.is_file()}
    assert (sent / "report" / "书面总结.pdf") in hashes and (sent / "data" / "manifest.json") in hashes
    fixes = corrections.load_table(paths.year_inputs / "corrections.csv", corrections.CORRECTION_COLUMNS)
    fixes = pd.concat([fixes, pd.DataFrame([{"unit": "吴中区总工会", "item": "04A.1", "value": "999",
                                             "reason": "电话确认"}])])
    write_csv(fixes, paths.year_inputs / "corrections.csv")
    _run(paths)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sent.rglob("*") if p.is_file()} == hashes
    diff = (paths.year_outputs / "report" / freeze.DIFF_TEXT).read_text(encoding="utf-8")
    assert "04A.1 走访企业：已报送" in diff and "吴中区总工会 04A.1 走访企业" in diff and "电话确认" in diff
    assert freeze.state(paths).startswith("已封存") and "此后数据有变化" in freeze.state(paths)
    second = freeze.freeze(paths)
    assert second != sent and second.parent == sent.parent


def test_cli_run_all_status_verify(tmp_path):
    shutil.copytree(config.ROOT / "inputs", tmp_path / "inputs")
    args = ["--inputs", str(tmp_path / "inputs"), "--outputs", str(tmp_path / "outputs")]

    def cli(*words):
        return subprocess.run([sys.executable, "-m", "wennuan_lib", *words, *args], capture_output=True, text=True,
                              timeout=600)

    out = cli("run", "--all")
    assert out.returncode == 0, out.stderr
    assert "[2011年 1/4]" in out.stdout and re.search(r"读取 \[\d+/43\]", out.stdout) and "历年对比" in out.stdout
    for year in (2011, 2012, 2013):
        assert (tmp_path / "outputs" / str(year) / "report" / "书面总结.pdf").exists()
    assert (tmp_path / "outputs" / "trends" / "trends.csv").exists()
    status = cli("status", "--year", "2013")
    assert status.returncode == 0 and "未报统计表" in status.stdout and "书面总结：草稿" in status.stdout
    assert cli("verify", "--year", "2013").returncode == 0
    (tmp_path / "inputs" / "2013" / "waivers.csv").write_text("unit,rule,reason\n", encoding="utf-8")
    verify = cli("verify", "--year", "2013")
    assert verify.returncode == 1 and "2013/waivers.csv" in verify.stdout
    frozen = cli("freeze", "--year", "2013", "--date", "2013-01-28")
    assert frozen.returncode == 0 and "2013-01-28" in frozen.stdout
    strict = cli("run", "--year", "2013", "--strict")
    assert strict.returncode == 1 and "必须修改" in strict.stderr
