"""A run is all or nothing, skips what did not change, and fails in Chinese: killed at any point, run twice at
once, on a read-only or full disk, with a damaged record, a planted cache or an older version's outputs."""

import os
import pickle
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from wennuan_lib.base import catalog
from wennuan_lib.form import load_form
from wennuan_lib.publish import template
from wennuan_lib.run import freeze, manifest

from .conftest import ROOT, Year, cli, made_once, run_args, shared_fixture, tree_hash

UNITS = ["常熟市总工会", "太仓市总工会"]


def _form_values(k: int) -> dict:
    form = load_form(2013)
    vals = {c: k + 1 for c in form.codes}
    vals.update(
        {
            "01A.1": 1000 * (k + 1),
            "05.1": 4 * (k + 1),
            "04C.1": 10 * (k + 1),
            "09.1": 4 * (k + 1),
            "09.2": 4 * (k + 1),
            "10A.1": 10 * (k + 1),
        }
    )
    return vals


@shared_fixture
def tiny(tmp_path_factory, worker_id):
    """A small year run once by the command line: two units' forms,
    the sample's registry and year settings. Made once for all workers; tests copy it."""
    return made_once(tmp_path_factory, worker_id, "tiny", _tiny)


def _tiny(root: Path) -> Path:
    inbox = root / "inputs" / "2013" / "submissions"
    inbox.mkdir(parents=True)
    (root / "inputs" / "units.csv").write_text(  # a small registry: a small report, so each run here is quick
        "name,aliases,type\n常熟市总工会,常熟,市、区\n太仓市总工会,太仓,市、区\n苏州大学工会,苏大工会,直属\n"
        "市教育工会,,局(公司)\n",
        encoding="utf-8",
    )
    shutil.copy(ROOT / "inputs" / "2013" / "year.yaml", root / "inputs" / "2013" / "year.yaml")
    for k, unit in enumerate(UNITS):
        template.write(load_form(2013), inbox / f"{unit}.xlsx", values=_form_values(k), header={"unit": unit})
    out = cli("run", "--year", 2013, "--inputs", root / "inputs", "--outputs", root / "outputs")
    assert out.returncode == 0, out.stdout + out.stderr
    return root


def _copy(tiny: Path, tmp_path: Path) -> Year:
    shutil.copytree(tiny / "inputs", tmp_path / "inputs")
    shutil.copytree(tiny / "outputs", tmp_path / "outputs", symlinks=True)
    return Year(tmp_path / "inputs", tmp_path / "outputs", 2013)


def _run(y: Year, *extra, env=None, **kw):
    return cli("run", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs, *extra, env=env, **kw)


def _snapshot(y: Year) -> tuple:
    """What the analyst has: which run is current (the pointer file's bytes) and every byte of it."""
    return y.scope.current_link.read_bytes(), tree_hash(y.run)


def _add_a_unit(y: Year) -> None:
    template.write(
        load_form(2013),
        y.inbox / "苏州大学工会.xlsx",
        values=_form_values(2),
        header={"unit": "苏州大学工会"},
    )


def _wait_gone(token: str, timeout: float = 20) -> list[int]:
    """Processes whose environment carries `token` (the run and everything it started);
    waits for them to end."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if token.encode() in Path(f"/proc/{pid}/environ").read_bytes():
                        alive.append(int(pid))
                except OSError:
                    pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_a_rerun_with_nothing_changed_does_nothing(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    before = _snapshot(y)
    out = _run(y)
    assert out.returncode == 0
    assert "2013年：全部步骤都是最新的" in out.stdout and "历年对比：inputs/ 下的年度不足两个" in out.stdout
    assert "书面总结为" in out.stdout
    assert _snapshot(y) == before  # no new run folder, nothing rewritten


def test_run_force_hashes_every_input_afresh_rather_than_take_a_kept_digest(tiny, tmp_path):
    """A run takes a file's digest from the last command's record while its device, inode, size, mtime and
    ctime are as they were. On a disk whose ctime can be set back (FAT's is the file's creation time) a kept
    digest could outlive an edit: `run --force` hashes every input afresh, as docs/run.md says."""
    y = _copy(tiny, tmp_path)
    units = y.inputs / "units.csv"
    store, key = manifest._memo(y.scope.folder("cache"))  # a kept digest that no longer tells the truth
    store.put_json(key, {str(units): [*manifest._signature(os.stat(units)), "0" * 64]})
    assert _run(y).returncode == 0
    assert manifest.load(y.scope)["inputs"]["units.csv"] == "0" * 64  # believed, as kept
    assert _run(y, "--force").returncode == 0
    truth = manifest.sha256(units)
    assert manifest.load(y.scope)["inputs"]["units.csv"] == truth
    assert _run(y).returncode == 0  # and what --force found is what is kept from then on
    assert manifest.load(y.scope)["inputs"]["units.csv"] == truth


def test_a_changed_correction_reruns_only_the_steps_that_read_it_and_older_runs_are_removed(tiny, tmp_path):
    """Each run that made something is a new folder under runs/; the current one and the one before it (a
    reader may still be on it) are kept, older ones are removed (while the kernel says what the run found)."""
    y = _copy(tiny, tmp_path)
    oldest = y.run
    notebook = y.path("notebooks") / "01_ingest.ipynb"
    first = notebook.read_bytes()
    (y.year_inputs / "corrections.csv").write_text(
        "unit,item,value,reason\n常熟市总工会,04A.1,77,电话确认\n", encoding="utf-8"
    )
    out = _run(y)
    assert out.returncode == 0, out.stderr
    assert "[2013年 1/4] 读取收件箱：输入没有变化，沿用上次的结果" in out.stdout
    assert "[2013年 2/4] 更正与审核（02_clean.ipynb）" in out.stdout
    assert (
        y.path("notebooks") / "01_ingest.ipynb"
    ).read_bytes() == first  # the notebook that made the outputs
    values = y.load("values").set_index(["unit", "item"])
    assert values.loc[("常熟市总工会", "04A.1"), "value"] == "77"
    previous = y.run
    assert {p.name for p in y.scope.folder("runs").iterdir()} == {oldest.name, previous.name}
    forced = _run(y, "--force")
    assert forced.returncode == 0 and "输入没有变化，沿用上次的结果" not in forced.stdout  # every step runs
    assert {p.name for p in y.scope.folder("runs").iterdir()} == {previous.name, y.run.name}
    assert not oldest.exists() and y.run != previous


def test_a_run_killed_anywhere_leaves_the_previous_results_whole_and_nothing_running(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    before = _snapshot(y)
    _add_a_unit(y)  # every step has something to do
    for point in (
        "after:01_ingest",
        "after:02_clean",
        "after:03_reconcile",
        "in:04_report",
        "before:promote",
    ):
        token = uuid.uuid4().hex
        out = _run(y, env={**os.environ, "WENNUAN_STOP_AT": point, "WENNUAN_TEST_TOKEN": token})
        assert out.returncode == -9, point  # killed, as by kill -9
        assert not _wait_gone(token), f"{point}: a process of the killed run is still running"
        assert _snapshot(y) == before, point
    again = _run(y)
    assert again.returncode == 0, again.stderr
    assert "苏州大学工会" in set(y.load("values")["unit"])
    assert [p for p in y.scope.folder("runs").iterdir() if (p / ".staging").exists()] == []
    kept = [p for p in y.scope.folder("runs").iterdir() if p.name.endswith("-未完成")]
    assert len(kept) == 1 and (kept[0] / "logs" / "run.log").exists()  # the last killed run, for its log
    assert "上次的运行没有做完就被中断了" in again.stdout and kept[0].name in again.stdout


def _held_after_step_01(y: Year, release: Path, **env) -> subprocess.Popen:
    """`run` started on `y` and holding after step 01 (the pause hook), with the lock taken and its kernel up,
    until `release` exists; `env`: more variables for it."""
    run = subprocess.Popen(
        run_args(y.inputs, y.outputs),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WENNUAN_PAUSE_AT": f"after:01_ingest:{release}", **env},
    )
    waiting = Path(str(release) + ".waiting")
    deadline = time.monotonic() + 120
    while not waiting.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting.exists(), run.communicate()
    return run


def test_two_runs_at_once_take_turns(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    _add_a_unit(y)
    release = tmp_path / "release"
    cmd = run_args(y.inputs, y.outputs)
    first = _held_after_step_01(y, release)
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = second.stdout.readline()
    while line and "另一个运行" not in line:
        line = second.stdout.readline()
    assert "等待它结束" in line  # the second says why it waits
    release.write_text("go", encoding="utf-8")
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert "全部步骤都是最新的" in out2  # the first did the work; the second found nothing left to do
    assert "苏州大学工会" in set(y.load("values")["unit"])


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the run's kernel among them), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_run_told_to_stop_ends_as_ctrl_c_does(tiny, tmp_path, signum):
    """kill, a shutdown (SIGTERM) or the terminal window closed (SIGHUP) in the middle of a run: a Chinese
    message, the last results kept, the kernel gone, and nothing of the run left in the temporary folder (its
    sockets and the converted copies of the units' files)."""
    y = _copy(tiny, tmp_path)
    before = _snapshot(y)
    _add_a_unit(y)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = _held_after_step_01(y, tmp_path / "release", TMPDIR=str(scratch))
    kernels = _children(run.pid)
    assert kernels and list(scratch.glob("wennuan-kernel-*"))
    run.send_signal(signum)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signum, err
    assert "已中断：本次运行没有完成，上一次的结果保持不变。" in err and "Traceback" not in out + err
    assert not list(scratch.iterdir())
    assert not [pid for pid in kernels if Path(f"/proc/{pid}").exists()]
    assert _snapshot(y) == before


def _unshare(args: list[str], setup: str) -> list[str] | None:
    """`args` run in a private mount namespace after `setup` (root only),
    or None where that is not possible."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "-m", "sh", "-c", f'{setup} && exec "$@"', "sh", *args]


def test_a_read_only_outputs_folder_is_a_chinese_message(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    before = _snapshot(y)
    _add_a_unit(y)
    args = run_args(y.inputs, y.outputs)
    target = str(y.outputs)
    cmd = _unshare(args, f"mount --bind '{target}' '{target}' && mount -o remount,bind,ro '{target}'")
    if cmd is None:  # not root: a folder without write permission
        os.chmod(y.root, 0o555)
        cmd = args
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(y.root, 0o755)
    assert out.returncode == 1
    assert "只读" in out.stderr and str(y.outputs) in out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert _snapshot(y) == before


def test_a_full_disk_during_a_run_leaves_the_previous_results(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    size = sum(p.stat().st_size for p in y.outputs.rglob("*") if p.is_file() and not p.is_symlink())
    _add_a_unit(y)
    snapshot = tmp_path / "snap"
    shutil.copytree(y.outputs, snapshot, symlinks=True)
    args = run_args(y.inputs, y.outputs)
    kb = size // 1024 + 600  # the last run fits; a second whole run does not
    cmd = _unshare(
        args, f"mount -t tmpfs -o size={kb}k tmpfs '{y.outputs}' && cp -a '{snapshot}/.' '{y.outputs}/'"
    )
    if cmd is None:
        pytest.skip("需要 root 权限挂载一个小的临时文件系统来模拟磁盘已满")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "磁盘空间不足" in out.stderr and "Traceback" not in out.stdout + out.stderr
    assert f"写入 {y.outputs}" in out.stderr  # the file it was writing is named (issue 25.10)
    # (the tmpfs is gone with its namespace: the run never touched the real folder)
    assert tree_hash(y.outputs) == tree_hash(snapshot)


def test_a_damaged_or_old_record_is_a_chinese_message_and_the_next_run_mends_it(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    record = y.path("manifest")
    record.write_text(record.read_text(encoding="utf-8")[:200], encoding="utf-8")  # truncated
    for command in ("verify", "status"):
        out = cli(command, "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs)
        assert "已损坏" in out.stdout + out.stderr and "Traceback" not in out.stdout + out.stderr
    record.write_text('{"inputs": {}}', encoding="utf-8")  # an older version's format
    out = cli("verify", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs)
    assert out.returncode == 1 and "旧版本" in out.stdout
    assert _run(y).returncode == 0
    assert manifest.verify(y.workspace, y.scope)[0]


def test_a_year_folder_with_stray_spaces_is_named(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    (y.inputs / "2014 " / "submissions").mkdir(parents=True)
    out = cli("run", "--all", "--inputs", y.inputs, "--outputs", y.outputs)
    assert out.returncode == 1 and "「2014 」" in out.stderr and "改名" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_planted_cache_entry_is_never_executed_and_changes_no_figure(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    figures = y.path("totals").read_bytes()
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    planted = pickle.dumps(Evil())
    entries = [p for p in y.scope.folder("cache").rglob("*") if p.is_file()]
    assert entries
    for p in entries:  # every entry replaced by a crafted pickle
        p.write_bytes(planted)
    (y.inbox / "说明.txt").write_text("x", encoding="utf-8")  # something changed: every file is looked up
    out = _run(y, "--force")
    assert out.returncode == 0, out.stderr
    assert not marker.exists()
    assert y.path("totals").read_bytes() == figures


def test_stale_files_of_an_older_version_are_never_carried_or_sent(tiny, tmp_path):
    y = _copy(tiny, tmp_path)
    shutil.rmtree(y.outputs / "2013")
    legacy = y.outputs / "2013"
    (legacy / "data").mkdir(parents=True)
    (legacy / "data" / "values.csv").write_text("stale", encoding="utf-8")
    (legacy / "report" / "charts").mkdir(parents=True)
    (legacy / "report" / "书面总结.pdf").write_bytes(b"%PDF stale")
    (legacy / "report" / "charts" / "old.png").write_bytes(b"stale")
    out = _run(y)
    assert out.returncode == 0, out.stderr
    assert (legacy / "data").is_symlink() and (legacy / "report").is_symlink()
    saved = manifest.load(y.scope)
    assert not any("old.png" in k or k == "data/values.csv" for k in saved["outputs"])
    assert (legacy / "report" / "书面总结.pdf").read_bytes() != b"%PDF stale"
    sent = freeze.freeze(y.workspace, 2013, console=lambda line: None)
    assert not (sent / "report" / "charts" / "old.png").exists()
    assert {p.relative_to(sent).parts[0] for p in sent.rglob("*") if p.is_file()} == {
        "data",
        "report",
        "SHA256SUMS",
        "SHA256SUMS.sig",
    }
    assert freeze.check_sent(y.scope) == []


def test_the_catalog_is_the_one_list_of_outputs(tiny):
    """Every file a run makes is declared in the catalog (no module joins an output path by hand)."""
    run = Year(tiny / "inputs", tiny / "outputs", 2013).run
    declared = set()
    for ds in catalog.datasets(catalog.YEAR):
        declared |= {p.relative_to(run).as_posix() for p in catalog.files_in(run, ds)}
    made = {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}
    assert made == declared


def test_after_freeze_a_unit_added_to_units_csv_is_the_cause_of_the_totals_it_moved(tiny, tmp_path):
    """A unit not in units.csv sent its form before the year was frozen (not counted); added to units.csv
    since, its figures are counted: each total it moved says so, never "未能确定" (steps run in-process)."""
    y = _copy(tiny, tmp_path)
    unit = "苏州市物流行业工会联合会"
    template.write(load_form(2013), y.inbox / f"{unit}.xlsx", values=_form_values(4), header={"unit": unit})
    y.all()
    freeze.freeze(y.workspace, 2013, console=lambda line: None)
    with y.registry.open("a", encoding="utf-8") as registry:
        registry.write(f"{unit},物流行业工会,直属\n")
    y.all()
    text = "\n".join(freeze.differences(y.scope))
    assert "01A.1 当地职工总数：已报送 3000 人 → 现在 8000 人（+5000 人）" in text
    assert f"    原因：{unit} 这次在单位名录（inputs/units.csv）中，其数字 5000 计入合计" in text
    assert "未能确定（请核对收件箱和登记表的变化）" not in text


def test_after_freeze_a_unit_no_longer_read_is_one_line_naming_its_file(tiny, tmp_path):
    """A unit whose form the sent version read and this run does not (its file taken out of the inbox, or
    now unreadable) is explained once, by the file the sent version read; the totals it moved are listed
    under it, never as one "未能确定" per item. A new unit is still named as 新报送."""
    y = _copy(tiny, tmp_path)
    freeze.freeze(y.workspace, 2013, console=lambda line: None)
    taicang = y.inbox / "太仓市总工会.xlsx"
    taicang.unlink()
    out = _run(y)
    assert out.returncode == 0, out.stderr
    diff = y.path("sent_diff").read_text(encoding="utf-8").splitlines()
    assert "未能确定" not in "\n".join(diff)
    said = [line for line in diff if line.startswith("太仓市总工会：")]
    assert said == [
        "太仓市总工会：已报送版本中读取了 太仓市总工会.xlsx，这次收件箱里没有这份文件，其数字不再计入合计；"
        "因此变化的合计数67项："
    ]
    assert "    01A.1 当地职工总数：已报送 3000 人 → 现在 1000 人（-2000 人）" in diff
    charts = next(k for k, line in enumerate(diff) if line.startswith("图表有"))
    assert charts == 2 + 67  # then the charts and the report's paragraphs whose figures moved, and why
    assert diff[-2:] == [
        "    原因：本年的输入变了（inputs/2013/submissions/太仓市总工会.xlsx 已删除）",
        "    原因：合计数变了（见上）",
    ]

    taicang.write_bytes(b"not a workbook")  # back in the inbox, but unreadable; and a new unit reports
    _add_a_unit(y)
    out = _run(y)
    assert out.returncode == 0, out.stderr
    text = y.path("sent_diff").read_text(encoding="utf-8")
    assert "未能确定" not in text
    assert "太仓市总工会：已报送版本中读取了 太仓市总工会.xlsx，这份文件这次无法读取（" in text
    assert "苏州大学工会 的数值由 未填 变为 3000（新报送或重新报送）" in text
    assert "原因：太仓市总工会 的数字不再计入（已报送版本中为 2000，见上）" in text


def test_the_files_every_year_reads_are_told_apart_from_a_years_inbox(tmp_path):
    """The causes of a difference from the sent version: units.csv (read by every year) counts for this
    year and is returned apart, as what re-made the other years too; many changed files of this year's inbox
    are counted in one line, which is this year's own and never taken for a file every year reads."""
    import json

    old = {
        "units.csv": "a",
        "2013/corrections.csv": "a",
        **{f"2013/submissions/{k}.xlsx": "a" for k in range(5)},
    }
    new = {
        "units.csv": "b",
        "2013/corrections.csv": "a",
        **{f"2013/submissions/{k}.xlsx": "b" for k in range(5)},
    }
    last = tmp_path / "sent"
    (last / "data").mkdir(parents=True)
    (last / "data" / "manifest.json").write_text(json.dumps({"inputs": old}), encoding="utf-8")
    changes, shared = freeze._input_changes(last, tmp_path, new, 2013)
    assert shared == ["单位名录 inputs/units.csv 已修改"]
    assert changes == {
        2013: ["收件箱 inputs/2013/submissions 中 5 个文件有变化", "单位名录 inputs/units.csv 已修改"]
    }
