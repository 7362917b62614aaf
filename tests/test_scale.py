"""What makes a province's inbox and its re-runs fast, checked for what the analyst relies on:
one kernel for the four notebooks without leaking between them, work on other cores that still
fails loudly, and a report whose appendix stays readable with thousands of units."""

import json
import os
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from wennuan_lib.base import catalog, config, parallel
from wennuan_lib.base.parallel import in_background, on_all_cores
from wennuan_lib.form import load_form
from wennuan_lib.publish import appendix
from wennuan_lib.run.kernel import Kernel, StepFailed

from .conftest import one_unit_tables


def _notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": config.KERNEL_NAME, "language": "python", "display_name": "wennuan"}
    nbformat.write(nb, path)


def _step(name: str) -> catalog.Step:
    return catalog.Step(name, name, catalog.YEAR, ())


PARAMS = {"year": 0, "inputs_dir": None, "outputs_dir": None, "run_dir": None}


def test_one_kernel_runs_every_notebook_and_each_starts_clean(tmp_path, monkeypatch):
    books = tmp_path / "notebooks"
    books.mkdir()
    _notebook(
        books / "a.ipynb",
        "year = 0\ninputs_dir = None\noutputs_dir = None\nrun_dir = None",
        "import os, sys\nleft_behind = 'from a'\nprint('pid', os.getpid())\n"
        "print('loaded', *sorted(m for m in sys.modules if m.startswith(('wennuan_lib.steps.',\n"
        "                                                               'wennuan_lib.views.'))))",
    )
    _notebook(
        books / "b.ipynb",
        "year = 0\ninputs_dir = None\noutputs_dir = None\nrun_dir = None",
        "import os\nprint('pid', os.getpid())\nprint('leak' if 'left_behind' in globals() else 'clean')",
    )
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", books)
    run = tmp_path / "run"
    with Kernel() as kernel:
        kernel.run(_step("a"), PARAMS, run)
        sockets = Path(kernel.sockets)
        kernel.run(_step("b"), PARAMS, run)
    assert not sockets.exists() and not list(books.glob("kernel-*"))  # no socket files left anywhere

    def outputs(name):
        nb = json.loads((run / "notebooks" / name).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        text = "".join("".join(o.get("text", "")) for c in code for o in c["outputs"])
        return [c["execution_count"] for c in code], text

    counts_a, text_a = outputs("a.ipynb")
    counts_b, text_b = outputs("b.ipynb")
    assert counts_a[0] == 1 and counts_b[0] == 1  # each executed notebook numbers its cells from 1
    pid = [line for line in text_a.splitlines() if line.startswith("pid")]
    assert pid and pid[0] in text_b  # the same kernel process ran both
    assert "clean" in text_b and "leak" not in text_b
    # the kernel loaded every step and view module before the first notebook ran (Kernel.WARM runs silently:
    # an import it failed would go unseen, and the first step would pay for it)
    loaded = next(line for line in text_a.splitlines() if line.startswith("loaded")).split()[1:]
    package = Path(config.__file__).parents[1]
    expected = {
        f"wennuan_lib.{folder}.{f.stem}"
        for folder in ("steps", "views")
        for f in (package / folder).glob("*.py")
        if f.stem != "__init__"
    }
    assert expected <= set(loaded), expected - set(loaded)


def test_no_kernel_starts_when_no_step_has_anything_to_do():
    with Kernel() as kernel:
        pass
    assert not kernel.started and kernel.km is None


def test_a_failing_step_names_the_step_and_its_notebook_in_chinese(tmp_path, monkeypatch):
    books = tmp_path / "notebooks"
    books.mkdir()
    _notebook(books / "bad.ipynb", "year = 0\ninputs_dir = None\noutputs_dir = None\nrun_dir = None", "1 / 0")
    _notebook(
        books / "said.ipynb",
        "year = 0\ninputs_dir = None\noutputs_dir = None\nrun_dir = None",
        "raise ValueError('单位名录 units.csv 第3行有误')",
    )
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", books)
    with Kernel() as kernel:
        with pytest.raises(StepFailed, match="bad.ipynb") as caught:
            kernel.run(_step("bad"), PARAMS, tmp_path / "run")
        assert "程序内部错误" in str(caught.value) and "ZeroDivisionError" in str(caught.value)
        with pytest.raises(StepFailed, match="单位名录 units.csv 第3行有误") as caught:
            kernel.run(_step("said"), PARAMS, tmp_path / "run")
        assert "程序内部错误" not in str(caught.value)
    assert (tmp_path / "run" / "notebooks" / "bad.ipynb").exists()  # kept for the analyst to read


def test_work_on_another_core_is_done_and_its_failure_is_raised_here(tmp_path, capfd):
    out = tmp_path / "made.txt"
    wait = in_background(lambda: out.write_text("做好了", encoding="utf-8"))
    wait()
    assert out.read_text(encoding="utf-8") == "做好了"

    calls = []

    def broken():
        calls.append(1)
        raise ValueError("坏了")

    wait = in_background(broken)
    with pytest.raises(ValueError, match="坏了"):
        wait()  # re-run here, so the real error and its traceback reach the notebook
    assert capfd.readouterr().err == ""  # the forked process that failed first printed no traceback


def _last_waits_for_the_eighth(flag: Path, job: int) -> str:
    """Job 15 of 16 is done once `each` has been told of the eighth result (or, failing that, in 60 s)."""
    end = time.monotonic() + 60
    while job == 15 and not flag.exists() and time.monotonic() < end:
        time.sleep(0.01)
    return "waited" if job == 15 and not flag.exists() else f"done {job}"


def test_work_on_all_cores_tells_its_progress_as_the_results_come_in(tmp_path):
    """Reading 3,000 files, the progress moves as they are read, not all at once at the end: the last
    job here can only end after `each` was told of the eighth result."""
    flag = tmp_path / "eighth"
    told = []

    def each(n: int) -> None:
        told.append(n)
        if n == 8:
            flag.write_text("in", encoding="utf-8")

    results = on_all_cores(_last_waits_for_the_eighth, list(range(16)), shared=flag, each=each)
    assert results == [f"done {k}" for k in range(16)]
    assert told == list(range(1, 17))


def _held_until(release: Path) -> bytes:
    """Bytes made once `release` exists (or, failing that, in 60 s)."""
    end = time.monotonic() + 60
    while not release.exists() and time.monotonic() < end:
        time.sleep(0.01)
    return b"made"


def test_while_work_set_aside_goes_on_a_job_split_in_two_is_made_here_not_after_waiting(tmp_path):
    """Step 04 draws its charts in two halves, one in a forked process; a fork first waits for the work set
    aside (step 03's 审核数据.xlsx, still being written). While that work goes on, both halves are made in
    this process at once, without waiting; once it has ended, the second half is forked again."""
    release = tmp_path / "release"
    aside = parallel.bytes_in_background(lambda: _held_until(release))
    parallel.set_aside(aside)
    try:
        assert parallel.aside_busy()
        here, apart = parallel.here_and_apart(lambda half: (half, os.getpid()), "here", "apart")
        assert here == ("here", os.getpid()) and apart == ("apart", os.getpid())
        assert not release.exists()  # made while the work set aside was still held: nothing waited for it
    finally:
        release.write_text("go", encoding="utf-8")
    assert aside() == b"made"
    while parallel.aside_busy():  # its bytes are in once the process has sent them
        time.sleep(0.01)
    here, apart = parallel.here_and_apart(lambda half: (half, os.getpid()), "here", "apart")
    assert here == ("here", os.getpid()) and apart[0] == "apart" and apart[1] != os.getpid()


def _resident_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="Linux: the resident memory of a process")
def test_while_it_waits_for_a_forked_process_a_process_gives_back_the_memory_it_freed(tmp_path):
    """Step 04 waits for the PDF after writing the Word and the detail workbook, at the run's peak memory:
    what it freed meanwhile goes back to the system while it waits, not at the end of the run. Here 150 MB
    of medium-sized objects (the C library's heap, which keeps what is freed), every 50th kept alive."""
    release = tmp_path / "release"
    made = parallel.bytes_in_background(lambda: _held_until(release))
    objects = [bytes(1000) for _ in range(150_000)]
    kept = objects[::50]
    del objects
    held = _resident_mib()
    waiter = threading.Thread(target=made)
    waiter.start()
    try:
        end = time.monotonic() + 30
        while _resident_mib() > held - 100 and time.monotonic() < end:
            time.sleep(0.01)
        given_back = held - _resident_mib()
        assert not release.exists()  # while the forked process was still at work
    finally:
        release.write_text("go", encoding="utf-8")
        waiter.join()
    assert given_back > 100, f"{given_back:.0f} MiB given back while waiting"
    assert made() == b"made" and len(kept) == 3000


def _status(n_sent: int, n_missing: int) -> pd.DataFrame:
    rows = [
        {
            "unit": f"单位{k:04d}",
            "unit_type": "直属",
            "form": "reported",
            "form_date": "2013-01-10",
            "late": "on_time",
            "summary": "reported",
        }
        for k in range(n_sent)
    ]
    rows += [
        {
            "unit": f"未报单位{k}",
            "unit_type": "直属",
            "form": "missing",
            "form_date": "",
            "late": "",
            "summary": "missing",
        }
        for k in range(n_missing)
    ]
    return pd.DataFrame(rows)


def test_a_provinces_appendix_counts_large_groups_and_names_small_ones():
    form = load_form(2013)
    totals, values = one_unit_tables(form, "单位0000", "直属")
    *_, t3 = appendix.tables(form, totals, values, _status(appendix.MAX_TABLE_UNITS + 50, 12), False)
    by_kind = {r[0]: r for r in t3.rows if r[0]}
    big = by_kind["统计表已报、书面总结已报"]
    assert big[1] == str(appendix.MAX_TABLE_UNITS + 50) and "reporting_status.csv" in big[2]
    small = by_kind["统计表未报、书面总结未报"]
    named = "、".join(r[2] for r in t3.rows[t3.rows.index(small) :])
    assert small[1] == "12" and all(f"未报单位{k}" in named for k in range(12))
    assert "reporting_status.csv" in t3.note

    *_, t3 = appendix.tables(form, totals, values, _status(5, 1), False)
    assert [r[0] for r in t3.rows] == [f"单位{k:04d}" for k in range(5)] + [
        "未报单位0"
    ]  # a city: one row per unit
