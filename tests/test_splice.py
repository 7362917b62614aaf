"""Issue 24 item 2: a re-run after a change costs what changed — and its tables are byte for byte those of a
run from scratch of the same inputs.

Steps 01 and 02 run once on a copy of the sample's 2013; then each change below is made on a copy of those
inputs and run twice: on a copy of the first run's outputs (the unchanged units' rows taken from that run) and
on new outputs (everything made again; only the files' extractions are shared, as a run from scratch finds
them in its cache after its first read). Every data file of the two must be the same bytes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import Year, ingest_and_clean, rerun_copy, run_data, sample_inputs
from wennuan_lib.base import catalog, store
from wennuan_lib.form import load_form
from wennuan_lib.publish import template
from wennuan_lib.read import cache, sniff, splice
from wennuan_lib.steps import ingest

YEAR = 2013
COMPANY = "市商贸工会"
COMPANY_FILE = "市商贸工会-统计表.xlsx"
# 苏州电信公司工会 sent two versions; the later one (修改稿) is in force
TELECOM_LATER = "苏州电信公司工会送温暖统计表（修改稿）.docx"


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    root = tmp_path_factory.mktemp("splice")
    inputs = sample_inputs(root, (YEAR,))
    return inputs, ingest_and_clean(inputs, root / "outputs", (YEAR,))


def _template(path: Path, unit: str, figure: int) -> None:
    """The file replaced by the federation's template filled in for `unit` (with 01A.1 = figure)."""
    header = {"unit": unit, "date": "2013-01-20"}
    template.write(load_form(YEAR), path, values={"01A.1": figure}, header=header)


def _append(path: Path, line: str, encoding: str) -> None:
    data = path.read_bytes()
    end = b"" if data.endswith(b"\n") else b"\r\n"
    path.write_bytes(data + end + (line + "\r\n").encode(encoding))


def change_one_file(inbox: Path, inputs: Path) -> None:
    _template(inbox / COMPANY_FILE, COMPANY, 4321)


def change_units(inbox: Path, inputs: Path) -> None:
    _append(inputs / "units.csv", "苏州市测试行业工会,测试行业,直属", "utf-8")


def change_corrections(inbox: Path, inputs: Path) -> None:
    _append(inputs / str(YEAR) / "corrections.csv", f"{COMPANY},01A.1,99,示例数据：单位电话确认", "gb18030")


def move_a_unit(inbox: Path, inputs: Path) -> None:
    """The telecom union's later version now carries the 市商贸工会's form: the telecom union's earlier
    version comes back in force, and 市商贸工会 has two versions (and a file whose name says another unit)."""
    _template(inbox / TELECOM_LATER, COMPANY, 1234)


@pytest.mark.parametrize("change", [change_one_file, change_units, change_corrections, move_a_unit])
def test_a_rerun_after_a_change_writes_what_a_run_from_scratch_writes(first, tmp_path, change):
    inputs, before = first
    changed, again = rerun_copy(
        inputs, before.outputs, tmp_path, lambda i: change(i / str(YEAR) / "submissions", i)
    )
    spliced = ingest_and_clean(changed, again, (YEAR,))
    scratch = tmp_path / "scratch"
    cache = Path("cache") / "extractions"
    shutil.copytree(before.scope.root / cache, scratch / str(YEAR) / cache)
    fresh = ingest_and_clean(changed, scratch, (YEAR,))

    got, want = run_data(spliced), run_data(fresh)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []
    assert run_data(before) != want  # the change changed something


def test_the_rerun_describes_only_the_changed_file(first, tmp_path, monkeypatch):
    """Only the changed file is read and described again; every other file comes from the last run's
    records, and the changed unit's figure is the new one."""
    inputs, before = first
    changed, again = rerun_copy(
        inputs, before.outputs, tmp_path, lambda i: change_one_file(i / str(YEAR) / "submissions", i)
    )
    described = []
    real = ingest._describe_all

    def spy(todo, results, subs, *args):
        described.extend(subs[k].file for k, _p in todo)
        return real(todo, results, subs, *args)

    monkeypatch.setattr(ingest, "_describe_all", spy)
    year = Year(changed, again, YEAR)
    year.ingest()
    assert described == [COMPANY_FILE]
    extracted = year.load("extracted")
    mine = extracted[(extracted["unit"] == COMPANY) & extracted["in_force"]]
    assert mine.loc[mine["item"] == "01A.1", "value"].tolist() == ["4321"]
    assert len(year.load("ingest_log")) == len(before.load("ingest_log"))


def test_a_file_is_parsed_where_it_is_read_and_kept_once(first, tmp_path, monkeypatch):
    """A form's blanks are parsed where it is read (a reading worker) and its extraction is kept in the cache
    once, with them, by that worker: a run from scratch writes each file's entry once, none from the kernel;
    a run that then finds every file's extraction there (new outputs, that cache) parses no blank, and its
    table of what was read is the first run's, byte for byte."""
    inputs, before = first
    cold = Year(inputs, tmp_path / "cold", YEAR)
    writes = tmp_path / "writes.txt"  # appended to by whichever process writes (the workers are forked)
    real_put, kernel = cache.Cache.put, os.getpid()

    def put(self, key, value):
        with open(writes, "a", encoding="utf-8") as log:
            log.write(f"{key} {'kernel' if os.getpid() == kernel else 'worker'}\n")
        real_put(self, key, value)

    monkeypatch.setattr(cache.Cache, "put", put)
    cold.ingest()
    kept = writes.read_text(encoding="utf-8").split()
    keys, where = kept[0::2], kept[1::2]
    assert keys and len(keys) == len(set(keys)) and set(where) == {"worker"}
    again = tmp_path / "outputs"
    shutil.copytree(cold.root / "cache" / "extractions", again / str(YEAR) / "cache" / "extractions")
    parsed = []
    real = ingest.parse_rows
    monkeypatch.setattr(ingest, "parse_rows", lambda m, form: parsed.append(m) or real(m, form))
    year = Year(inputs, again, YEAR)
    year.ingest()
    assert parsed == []
    assert year.path("extracted").read_bytes() == before.path("extracted").read_bytes()


def test_a_rerun_after_one_file_changed_opens_only_that_file_to_tell_what_it_is(first, tmp_path, monkeypatch):
    """Step 01 tells what each file of the inbox is by opening it (a Word or Excel package, an archive, an
    e-mail...). A re-run takes what the last run found for the same bytes: after one file changed, it is the
    only file of the inbox opened for that (an archive's members are unpacked afresh, and opened, every run).
    What it found is the same: the re-run's table of what was read is a run's from scratch (see above)."""
    inputs, before = first
    changed, again = rerun_copy(
        inputs, before.outputs, tmp_path, lambda i: change_one_file(i / str(YEAR) / "submissions", i)
    )
    opened, real = [], sniff.content_kind

    def content_kind(path: Path) -> str:
        opened.append((path, real(path)))
        return opened[-1][1]

    monkeypatch.setattr(sniff, "content_kind", content_kind)
    Year(changed, again, YEAR).ingest()
    inbox = changed / str(YEAR) / "submissions"
    unpacked = (sniff.ARCHIVE, sniff.RAR, sniff.SEVENZ, sniff.MIME)  # opened again to be unpacked
    loose = [p.relative_to(inbox) for p, kind in opened if p.is_relative_to(inbox) and kind not in unpacked]
    assert loose == [Path(COMPANY_FILE)]
    assert any(not p.is_relative_to(inbox) for p, _ in opened)  # the archives' members


def _apart_and_here(first, tmp_path, monkeypatch, module, threshold: str, namespace: str) -> dict:
    """Step 01 on new outputs (the first run's extractions in their cache) with `module.threshold` making the
    work go to a forked process, then with it keeping the work here: each run's Year and its cache entries
    in `namespace`, by whether the work went apart. Each run's extracted.csv is the first run's."""
    inputs, before = first
    out = {}
    for apart in (True, False):
        monkeypatch.setattr(module, threshold, 1 if apart else 10**9)
        outputs = tmp_path / f"apart-{apart}"
        shutil.copytree(before.root / "cache" / "extractions", outputs / str(YEAR) / "cache" / "extractions")
        year = Year(inputs, outputs, YEAR)
        year.ingest()
        assert year.path("extracted").read_bytes() == before.path("extracted").read_bytes()
        folder = outputs / str(YEAR) / "cache" / namespace
        out[apart] = year, {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return out


def test_records_written_apart_are_those_written_here_and_the_next_run_takes_them(
    first, tmp_path, monkeypatch
):
    """From ingest.RECORDS_APART files on, the files' records are written by a forked process while the
    kernel goes on: the same entries, byte for byte, as written in the kernel; and the next run takes every
    file from them (describes none again), its table of what was read the first run's."""
    runs = _apart_and_here(first, tmp_path, monkeypatch, ingest, "RECORDS_APART", ingest.KEPT_FILES)
    assert runs[True][1] and runs[True][1] == runs[False][1]
    described, real = [], ingest._describe_all
    monkeypatch.setattr(ingest, "_describe_all", lambda rest, *a: described.extend(rest) or real(rest, *a))
    again = runs[True][0]
    again.ingest()
    assert described == []
    assert again.path("extracted").read_bytes() == first[1].path("extracted").read_bytes()


def test_a_table_rendered_in_two_processes_is_the_one_rendered_in_one(first, tmp_path, monkeypatch):
    """From splice.APART forms on, the second half of extracted.csv's lines is rendered and kept by a forked
    process: the same file, byte for byte, and its lines kept for the next run as when rendered in one."""
    runs = _apart_and_here(first, tmp_path, monkeypatch, splice, "APART", ingest.KEPT_ROWS)
    assert runs[True][1] and runs[True][1] == runs[False][1]


def test_a_table_parsed_in_two_halves_is_the_table_parsed_at_once(monkeypatch):
    """From splice.APART parts on, each half of the table is parsed where it is rendered (the second by a
    forked process): the frame handed to the next step is the one the runner's loader reads from the whole
    file — rows, order, index and types — whatever its values hold (line breaks, formulas, flags, parts with
    no rows)."""
    ds = catalog.dataset("extracted")
    values = ["1", "多行\n文本", "=SUM(A1)", "'引号", "", "-3", "约 30万"]

    def rows(k: int) -> list[dict]:
        return [
            {
                c: (k % 3 == 0) if kind == "bool" else f"{values[(k + j) % len(values)]}{k}"
                for c, kind in ds.columns
            }
            for j in range(k % 4)  # every fourth part has no rows
        ]

    parts = [("", lambda k=k: rows(k)) for k in range(40)]
    whole = {}
    for apart in (True, False):
        monkeypatch.setattr(splice, "APART", 2 if apart else 10**9)
        whole[apart] = splice.table(ds, None, parts)
    assert whole[True].data == whole[False].data
    at_once = splice.parsed(ds, store.Rendered(whole[False].data)).frame
    for got in (whole[True].frame, whole[False].frame):
        pd.testing.assert_frame_equal(got, at_once)
    assert len(at_once) == sum(k % 4 for k in range(40)) and at_once.index.equals(pd.RangeIndex(len(at_once)))


def test_row_texts_are_the_text_of_each_cell_whatever_repeats():
    """The text each cell is written as (store.row_texts, made once per distinct value of a column): what
    save_table writes for it — True and 1 and 1.0 stay three texts in a text column, a formula is neutralized
    wherever it repeats, a missing value is empty."""
    ds = catalog.dataset("extracted")
    texts = [c for c, kind in ds.columns if kind not in ("bool", "int")]
    flags = [c for c, kind in ds.columns if kind == "bool"]
    values = [True, 1, 1.0, "1", "=SUM(A1)", "=SUM(A1)", None, float("nan"), "'引号", "-3", "-x"]
    records = [{**{c: v for c in texts}, **{c: v for c in flags}} for v in values]
    rows = store.row_texts(ds, records)
    column = [c for c, _ in ds.columns].index(texts[0])
    assert [r[column] for r in rows] == [
        "True",
        "1",
        "1.0",
        "1",
        "'=SUM(A1)",
        "'=SUM(A1)",
        "",
        "",
        "''引号",
        "-3",
        "'-x",
    ]
    flag = [c for c, _ in ds.columns].index(flags[0])
    assert [r[flag] for r in rows][:4] == ["True", "True", "True", "True"]
