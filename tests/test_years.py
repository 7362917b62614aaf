"""Past years: regenerate exactly, compare across years by concept, never lose a report that was sent."""

import hashlib
import re
import shutil

import pandas as pd

from wennuan_lib.base import textfiles
from wennuan_lib.base.store import read_csv, write_csv
from wennuan_lib.check import corrections
from wennuan_lib.form import load_form
from wennuan_lib.run import freeze, manifest, report_summary
from wennuan_lib.steps import trends

from .conftest import Frames, Year, cli, trends_step


def test_forms_differ_and_concepts_join_them():
    f11, f13 = load_form(2011), load_form(2013)
    assert f13.code_of("10H.1") == "10H.1" and f11.code_of("10H.1") is None  # added
    assert f11.code_of("10G.1") == "11A.1" and f11.code_of("11A.1") == "11B.1"  # moved
    assert f11.item("07A.1").label != f13.item("07A.1").label and f11.item("07A.1").key == "07A.1"  # reworded


def test_trends_cover_every_year_and_join_by_concept(sample_years):
    results, _, _ = sample_years
    out = results[2013][1].outputs / "trends"
    wide = read_csv(out / "trends.csv")
    assert {"2011", "2012", "2013"} <= set(wide.columns)
    city = wide[wide["scope"] == "全市合计"].set_index("concept")
    assert city.loc["10H.1", "2011"] == trends.ABSENT and city.loc["10H.1", "2013"] != ""
    totals11 = results[2011][1].load("totals").set_index("item")
    assert city.loc["10G.1", "2011"] == totals11.loc["11A.1", "value"]  # tickets were 11A.1 in 2011
    assert city.loc["11A.1", "2011"] == totals11.loc["11B.1", "value"]
    for y in ("2011", "2012", "2013"):
        assert city.loc["05.1", y] not in ("", trends.ABSENT)
    for name in ("trends_funds", "trends_households", "trends_migrants"):
        assert (out / "charts" / f"{name}.png").stat().st_size > 10_000


def test_a_trend_chart_whose_figures_did_not_change_is_copied_not_drawn(sample_years, tmp_path, monkeypatch):
    """The trend charts go through the chart cache: drawn again only when their own city figures moved (a
    re-run after one unit's form changed moves the totals of that form's items, not every chart's), and a
    copied chart is byte for byte the one drawn."""
    from wennuan_lib.base.artifacts import Artifacts
    from wennuan_lib.base.catalog import dataset
    from wennuan_lib.base.store import load_table
    from wennuan_lib.publish import charts

    results, _, _ = sample_years
    current = results[2013][1].workspace.trends().current()
    long = load_table(dataset("trends_long"), current / dataset("trends_long").path)
    long["year"] = long["year"].astype(int)
    spec, cache = load_form(2013).policy.trends, Artifacts(tmp_path / "cache", "trend_charts")
    years = sorted(set(long["year"]))
    drawn, real = [], charts.subplots
    monkeypatch.setattr(charts, "subplots", lambda *a, **k: drawn.append(1) or real(*a, **k))
    first = trends._charts(long, years, spec, True, cache)
    assert first == {n: (current / "charts" / n).read_bytes() for n in first}  # what the run drew
    assert len(drawn) == len(spec) == len(first) >= 2
    assert trends._charts(long, years, spec, True, cache) == first and len(drawn) == len(spec)  # all copied
    concept = spec[0].concepts[0].item  # one figure of the first chart, nothing of the others
    moved = long.copy()
    city = (moved["scope"] == trends.CITY) & (moved["concept"] == concept) & (moved["year"] == years[-1])
    moved.loc[city, "value"] = "1"
    third = trends._charts(moved, years, spec, True, cache)
    assert len(drawn) == len(spec) + 1
    name = f"trends_{spec[0].id}.png"
    assert third[name] != first[name] and {n: b for n, b in third.items() if n != name} == {
        n: b for n, b in first.items() if n != name
    }
    assert third == trends._charts(moved, years, spec, True)  # as drawn without a cache


def test_a_long_trends_table_rendered_by_another_process_is_the_file_one_process_writes(
    sample_years, tmp_path, monkeypatch
):
    """From trends.APART_ROWS rows on, trends_long.csv is rendered by a forked process while the wide table
    and the charts are made, and trends.csv by the step meanwhile: byte for byte the files the runner writes
    from the tables, and the notebook is still shown the tables."""
    results, _, _ = sample_years
    sample = results[2013][1]
    outputs = tmp_path / "outputs"
    shutil.copytree(sample.outputs, outputs, symlinks=True)
    want = (sample.outputs / "trends" / "trends_long.csv").read_bytes()
    workspace = Year(sample.inputs, outputs).workspace
    monkeypatch.setattr(trends, "APART_ROWS", 1)
    shown = trends_step(workspace)
    got = workspace.trends().current() / "trends_long.csv"
    assert got.read_bytes() == want and len(want) > 100_000
    assert isinstance(shown["trends_long"], pd.DataFrame) and len(shown["trends_long"]) > 1000
    assert isinstance(shown["trends"], pd.DataFrame) and len(shown["trends"]) > 1000  # rendered in the step
    assert (workspace.trends().current() / "trends.csv").read_bytes() == (
        sample.outputs / "trends" / "trends.csv"
    ).read_bytes()


def test_renamed_unit_joins_across_years(sample_years):
    results, _, _ = sample_years
    subs11 = results[2011][1].load("submissions")
    row = subs11[subs11["unit"] == "吴江区总工会"].iloc[0]
    assert row["written_unit"].startswith("吴江市总工会")
    wide = read_csv(results[2013][1].outputs / "trends" / "trends.csv")
    wujiang = wide[(wide["scope"] == "吴江区总工会") & (wide["concept"] == "01A.1")].iloc[0]
    assert all(wujiang[y] != "" for y in ("2011", "2012", "2013"))


def test_history_checks_and_year_on_year_use_the_previous_year_by_concept(sample_years):
    results, _, _ = sample_years
    assert (
        Frames(results[2011][1])["has_previous"] is False and Frames(results[2013][1])["has_previous"] is True
    )
    t13 = results[2013][1].load("totals").set_index("item")
    t12 = results[2012][1].load("totals").set_index("item")
    assert t13.loc["05.1", "previous"] == t12.loc["05.1", "value"]
    t11 = results[2011][1].load("totals").set_index("item")
    assert t12.loc["10G.1", "previous"] == t11.loc["11A.1", "value"]
    assert t12.loc["10H.1", "previous"] == ""  # absent in 2011, not zero


def _copy_year_run(sample_years, tmp_path):
    results, _, _ = sample_years
    src = results[2013][1]
    shutil.copytree(src.inputs, tmp_path / "inputs")
    shutil.copytree(src.outputs, tmp_path / "outputs", symlinks=True)
    return Year(tmp_path / "inputs", tmp_path / "outputs", 2013)


def test_manifest_records_inputs_form_policy_and_packages(sample_run):
    _, paths, _, _ = sample_run
    m = manifest.load(paths.scope)
    assert m["form_version"] == "2013.1" and m["policy_version"] and m["packages"]["pandas"]
    assert any(k.startswith("2013/submissions/") for k in m["inputs"])
    assert {"2013/corrections.csv", "units.csv", "forms/2013.yaml", "policy.yaml"} <= set(m["inputs"])
    # last year's and earlier years' results are recorded by what they are made from: their inputs
    assert {"2012/corrections.csv", "2011/corrections.csv"} <= set(m["inputs"])
    assert any(k.startswith("2012/submissions/") for k in m["inputs"])
    assert not any("结果" in k for k in m["inputs"])  # never another year's outputs
    assert {"data/02_values/values.csv", "report/书面总结.pdf", "report/书面总结.docx"} <= set(m["outputs"])


def test_verify_names_changed_added_and_removed_inputs(sample_years, tmp_path):
    paths = _copy_year_run(sample_years, tmp_path)
    ok, lines = manifest.verify(paths.workspace, paths.scope)
    assert ok and not lines
    first = sorted(paths.inbox.glob("*.xlsx"))[0]
    first.write_bytes(first.read_bytes() + b"\0")
    (paths.inbox / "新来的.docx").write_bytes(b"x")
    gone = sorted(paths.inbox.glob("*.docx"))[0]
    gone.unlink()
    paths.path("totals").write_text("x", encoding="utf-8")
    ok, lines = manifest.verify(paths.workspace, paths.scope)
    text = "\n".join(lines)
    assert not ok
    assert f"输入文件已修改：2013/submissions/{first.name}" in text
    assert "输入文件是新增的：2013/submissions/新来的.docx" in text
    assert f"输入文件已删除：2013/submissions/{gone.name}" in text
    assert "输出文件与运行时不同：data/04_totals/totals.csv" in text


def test_freeze_seals_the_sent_copy_and_a_later_run_reports_the_difference(sample_years, tmp_path):
    paths = _copy_year_run(sample_years, tmp_path)
    sent = freeze.freeze(paths.workspace, 2013)
    hashes = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sent.rglob("*") if p.is_file()}
    assert (sent / "report" / "书面总结.pdf") in hashes and (sent / "data" / "manifest.json") in hashes
    assert {"SHA256SUMS", "SHA256SUMS.sig"} <= {p.name for p in hashes}
    assert not any(p.stat().st_mode & 0o222 for p in hashes)  # read-only
    fixes = corrections.load_table(paths.year_inputs / "corrections.csv", corrections.CORRECTION_COLUMNS)
    fixes = pd.concat(
        [
            fixes,
            pd.DataFrame(
                [
                    {"unit": "吴中区总工会", "item": "04A.1", "value": "999", "reason": "电话确认"},
                    # 11A.1's 同比 is not written in the report (last year's total in doubt): its change in
                    # totals.csv is nothing the report showed
                    {"unit": "吴江区总工会", "item": "11A.1", "value": "9.51", "reason": "电话确认"},
                ]
            ),
        ]
    )
    write_csv(fixes, paths.year_inputs / "corrections.csv")
    settings = paths.year_inputs / "year.yaml"  # who filled in the summary form: its header, sent too
    said = textfiles.read_text(settings)
    assert "reporter: 王建华" in said.text
    settings.write_bytes(said.text.replace("reporter: 王建华", "reporter: 李明").encode(said.encoding))
    # and the analyst's words: one sentence changed, one paragraph added (saved as Notepad saves it: GBK)
    story = paths.year_inputs / "narrative.md"
    text = textfiles.read_text(story).text
    assert "二是个别单位统计口径不统一" in text and "## 存在问题" in text
    text = text.replace("二是个别单位统计口径不统一", "二是少数单位统计口径仍不统一")
    text = text.replace("## 存在问题", "## 存在问题\r\n\r\n慰问资金使用情况已全部公示。\r\n", 1)
    story.write_bytes(text.encode("gbk"))
    out = cli("run", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs)
    assert out.returncode == 0, out.stderr
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sent.rglob("*") if p.is_file()} == hashes
    diff = paths.path("sent_diff").read_text(encoding="utf-8")
    assert "04A.1 走访企业：已报送" in diff and "吴中区总工会 04A.1 走访企业" in diff and "电话确认" in diff
    # the words are compared too (the report's text, not its figures alone), each change quoted, and why
    assert "书面总结和报表有" in diff and "新增了 「慰问资金使用情况已全部公示。」" in diff
    assert "统计口径不统一，报送的数字需要反…」 → 现在 「…的动态管理不够及时；二是少数单位" in diff
    assert (
        "11A.1 为农民工返乡争取经济补贴：已报送" in diff
        and "11A.1 为农民工返乡争取经济补贴 的同比" not in diff
    )
    assert "汇总统计表.xlsx 工作表「统计表」C3（填报人：）：已报送 「王建华」 → 现在 「李明」" in diff
    own = "inputs/2013/corrections.csv 已修改；inputs/2013/narrative.md 已修改；inputs/2013/year.yaml 已修改"
    assert f"原因：本年的输入变了（{own}）" in diff
    assert "原因：合计数变了（见上）" in diff
    state = freeze.state(paths.scope)
    assert state.startswith("已封存") and "此后数据或文字有变化" in state
    assert "报送的是草稿（当时" in state  # the sample was sent as a draft: status never calls it final
    # the difference file through the stable link, not in the run's own timestamped folder
    assert f"差异见 {paths.outputs / '2013' / 'report' / '与已报送版本的差异.txt'}" in state
    assert manifest.verify(paths.workspace, paths.scope)[0]
    second = freeze.freeze(paths.workspace, 2013)
    assert second != sent and second.parent == sent.parent


def test_a_byte_changed_in_what_was_sent_is_named_by_verify_and_status(sample_years, tmp_path):
    paths = _copy_year_run(sample_years, tmp_path)
    sent = freeze.freeze(paths.workspace, 2013, console=lambda line: None)
    pdf = sent / "report" / "书面总结.pdf"
    pdf.chmod(0o644)  # what anyone can do to a read-only file
    original = pdf.read_bytes()
    data = bytearray(original)
    data[len(data) // 2] ^= 1
    pdf.write_bytes(bytes(data))
    verify = cli("verify", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs)
    assert verify.returncode == 1 and "文件在封存后被改动过：report/书面总结.pdf" in verify.stdout
    # what a later run compares with is not what was sent: the difference says so before anything else
    assert freeze.differences(paths.scope)[1].startswith(
        "注意：这个已报送版本的文件在封存后有变化（文件在封存后被改动过：report/书面总结.pdf）"
    )
    # the run's outputs still match its inputs: a run is not what mends a sealed copy; the sent original is
    assert verify.stdout.startswith("2013年的输出与输入一致。") and "可以更新" not in verify.stdout
    assert "重新运行不能修复" in verify.stdout and "把报送的原件复制回原处" in verify.stdout
    status = cli("status", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs)
    assert "report/书面总结.pdf" in status.stdout
    # a run says it too (its summary compares with the sent copy as it is now), and so does the next one,
    # which has nothing to make …
    damaged = "注意：这个已报送版本的文件在封存后有变化（文件在封存后被改动过：report/书面总结.pdf）"
    for _ in range(2):
        again = cli("run", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs)
        assert damaged in again.stdout
    assert "全部步骤都是最新的" in again.stdout
    # … and once the sent original is put back, status and verify agree it is whole
    pdf.write_bytes(original)
    status = cli("status", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs)
    assert "已报送的版本：完好" in status.stdout and "封存后有变化" not in status.stdout
    assert cli("verify", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs).returncode == 0
    (sent / "SHA256SUMS").chmod(0o644)
    (sent / "SHA256SUMS").write_text("0" * 64 + "  report/书面总结.pdf\n", encoding="utf-8")  # forged sums
    verify = cli("verify", "--year", 2013, "--inputs", paths.inputs, "--outputs", paths.outputs)
    assert verify.returncode == 1 and "签名不符" in verify.stdout


def test_the_analysts_commands_on_the_sample(sample_years, tmp_path):
    """run --all (the shared fixture) then status, verify, freeze and run --strict,
    as the analyst types them."""
    _, _, out = sample_years
    assert (
        "[2011年 1/4]" in out.stdout
        and re.search(r"读取 \[\d+/\d+\]", out.stdout)
        and "历年对比" in out.stdout
    )
    # each year's summary, which the run's kernel makes, is the one made here from that year's files
    for year in (2011, 2012, 2013):
        y = sample_years[0][year][1]
        said = report_summary.run_summary(y.workspace, year)
        assert said.startswith(f"{year}年处理完成") and "下一步：" in said and f"\n{said}\n" in out.stdout
    paths = _copy_year_run(sample_years, tmp_path)
    args = ["--inputs", paths.inputs, "--outputs", paths.outputs]
    for year in (2011, 2012, 2013):
        assert (paths.outputs / str(year) / "report" / "书面总结.pdf").exists()
    assert (paths.outputs / "trends" / "trends.csv").exists()
    status = cli("status", "--year", 2013, *args)
    assert status.returncode == 0 and "未报统计表" in status.stdout and "书面总结：草稿" in status.stdout
    # the next command as it must be typed for these folders (not the project's own sample)
    assert f"run --year 2013 --inputs {paths.inputs} --outputs {paths.outputs}" in status.stdout
    assert cli("verify", "--year", 2013, *args).returncode == 0
    (paths.year_inputs / "waivers.csv").write_text("unit,rule,reason\n", encoding="utf-8")
    verify = cli("verify", "--year", 2013, *args)
    assert verify.returncode == 1 and "2013/waivers.csv" in verify.stdout
    frozen = cli("freeze", "--year", 2013, "--date", "2013-01-28", *args)
    assert frozen.returncode == 0 and "2013-01-28" in frozen.stdout
    history = paths.load("issues").query("rule == 'H01' and unit == '吴江区总工会'")
    assert len(history) > 0
    # the unit renamed as the README's 新的一年 says, its old name kept as an alias: last year is made again
    # with the same registry before this year's history checks read it
    registry = paths.inputs / "units.csv"
    text = registry.read_text(encoding="utf-8-sig")
    assert "\n吴江区总工会,吴江|" in text
    text = text.replace("\n吴江区总工会,吴江|", "\n苏州市吴江区总工会,吴江区总工会|吴江|")
    registry.write_text("\ufeff" + text, encoding="utf-8")
    strict = cli("run", "--year", 2013, "--strict", *args)
    assert strict.returncode == 1 and "必须修改" in strict.stderr
    assert "往年（2011、2012年）已按现在的输入重新处理" in strict.stdout
    renamed = paths.load("issues").query("rule == 'H01' and unit == '苏州市吴江区总工会'")
    assert list(renamed["item"]) == list(history["item"])
    # against the version sent before the rename: a unit renamed, its numbers counted as before — not a unit
    # whose figures left the totals; the words that changed are put down to units.csv
    diff = (paths.root / "report" / "与已报送版本的差异.txt").read_text(encoding="utf-8")
    assert "吴江区总工会：这次按单位名录（inputs/units.csv）改称「苏州市吴江区总工会」" in diff
    assert "不再计入" not in diff and "合计数变了" not in diff
    assert re.search(r"原因：本年的输入变了（[^）]*单位名录 inputs/units\.csv 已修改", diff)
    trends = paths.workspace.trends().current()
    units = set(pd.read_csv(trends / "trends_long.csv", encoding="utf-8-sig")["scope"])
    assert "苏州市吴江区总工会" in units and "吴江区总工会" not in units  # one unit in every year


def test_status_run_and_report_count_the_units_that_reported_alike(sample_years):
    """The report's first paragraph, `status` and the run's summary count the same units: 已报 includes the
    unit whose file could not be read (as the report says), and a unit outside the registry is said apart
    everywhere (the sample's 苏州市物流行业工会联合会), never folded into one count and not another."""
    y = sample_years[0][2013][1]
    text = re.sub(r"<[^>]+>|\s", "", (y.root / "report" / "书面总结.html").read_text(encoding="utf-8"))
    said = re.search(
        r"全市应报单位(\d+)个，已报送统计表(\d+)个（其中(\d+)个无法读取，未计入汇总），未报(\d+)个", text
    )
    assert said is not None
    due, sent, unreadable, missing = said.groups()
    status = report_summary.status_text(y.workspace, 2013)
    assert (
        f"应报 {due} 个单位，已报 {sent} 个（其中 {unreadable} 个无法读取，未计入汇总），未报 {missing} 个；"
        "另有不在单位名录中的 1 个单位报送（未计入汇总）"
    ) in status
    summary = report_summary.run_summary(y.workspace, 2013)
    assert "个单位的数据（含不在单位名录中的 1 个，未计入合计）" in summary
