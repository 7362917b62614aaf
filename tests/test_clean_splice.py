"""Issue 24 item 2, step 02: a re-run checks again only the units whose rows changed, takes every other unit's
own results from the last run (`check/per_unit.py`), makes the cross-unit checks and totals again — and its
tables are byte for byte those of a run from scratch of the same inputs.

The sample's 2012 and 2013 run once (steps 01 and 02; 2012 gives 2013 its 上年 values); then each change
below is made on a copy of those inputs and run twice: on a copy of the first run's outputs (the cache of
per-unit results in hand) and on new outputs with only the files' extractions shared. Every data file of
2013's run must be the same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Year, ingest_and_clean, rerun_copy, run_data, sample_inputs
from wennuan_lib.check import per_unit, rules
from wennuan_lib.form import load_form
from wennuan_lib.publish import template

YEAR = 2013
COMPANY = "市商贸工会"
COMPANY_FILE = "市商贸工会-统计表.xlsx"


YEARS = (YEAR - 1, YEAR)  # 2013 with last year's values


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean-splice")
    inputs = sample_inputs(root, YEARS)
    return inputs, ingest_and_clean(inputs, root / "outputs", YEARS)


def _append(path: Path, line: str, encoding: str) -> None:
    data = path.read_bytes()
    end = "" if data.decode(encoding).endswith("\n") else "\r\n"
    path.write_bytes(data + (end + line + "\r\n").encode(encoding))


def change_one_file(inputs: Path, before: Year) -> None:
    header = {"unit": COMPANY, "date": "2013-01-20"}
    inbox = inputs / str(YEAR) / "submissions"
    template.write(load_form(YEAR), inbox / COMPANY_FILE, values={"01A.1": 4321}, header=header)


def change_corrections(inputs: Path, before: Year) -> None:
    _append(inputs / str(YEAR) / "corrections.csv", f"{COMPANY},01A.1,99,示例数据：单位电话确认", "gb18030")


def drop_a_corrections_line(inputs: Path, before: Year) -> None:
    """The register's first line taken out: its unit's figure is as read again, and every later line's
    number moves up one (the audit names lines by number)."""
    path = inputs / str(YEAR) / "corrections.csv"
    lines = path.read_bytes().split(b"\r\n")
    assert lines[1].count(b",") == 3
    path.write_bytes(b"\r\n".join(lines[:1] + lines[2:]))


def change_waivers(inputs: Path, before: Year) -> None:
    """A waiver of a finding the first run made and left open."""
    issues = before.load("issues")
    unit, rule = issues.loc[~issues["waived"] & (issues["unit"] != ""), ["unit", "rule"]].iloc[0]
    _append(inputs / str(YEAR) / "waivers.csv", f"{unit}\t{rule}\t示例数据：已电话核实", "utf-16-le")


def add_a_unit(inputs: Path, before: Year) -> None:
    _append(inputs / "units.csv", "苏州市测试行业工会,测试行业,直属", "utf-8")


def remove_a_unit(inputs: Path, before: Year) -> None:
    """The 市商贸工会 taken out of units.csv: its form is an unregistered unit's (not in the totals)."""
    path = inputs / "units.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(COMPANY + ",")]
    assert len(kept) == len(lines) - 1
    path.write_bytes("".join(kept).encode("utf-8"))


def change_last_year(inputs: Path, before: Year) -> None:
    """A correction of 2012's figure of the 市商贸工会: its 上年 values change (and its history check)."""
    _append(
        inputs / str(YEAR - 1) / "corrections.csv",
        f"{COMPANY}\t01A.1\t98765\t示例数据：上年更正",
        "utf-16-le",
    )


CHANGES = [
    change_one_file,
    change_corrections,
    drop_a_corrections_line,
    change_waivers,
    add_a_unit,
    remove_a_unit,
    change_last_year,
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_rerun_of_step_02_writes_what_a_run_from_scratch_writes(first, tmp_path, change):
    inputs, before = first
    changed, again = rerun_copy(inputs, before.outputs, tmp_path, lambda i: change(i, before))
    spliced = ingest_and_clean(changed, again, YEARS)
    scratch = tmp_path / "scratch"
    for year in (YEAR - 1, YEAR):
        cache = Path(str(year)) / "cache" / "extractions"
        shutil.copytree(before.outputs / cache, scratch / cache)
    fresh = ingest_and_clean(changed, scratch, YEARS)

    got, want = run_data(spliced), run_data(fresh)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []
    assert run_data(before) != want  # the change changed something


def test_units_checked_in_two_processes_give_what_one_process_gives(first, tmp_path, monkeypatch):
    """From per_unit.APART units to check on, half of them are checked (their lines rendered, their entries
    kept) by a forked process: the same data files, byte for byte, and the same entries for the next run."""
    inputs, before = first
    monkeypatch.setattr(per_unit, "APART", 1)
    apart = tmp_path / "apart"
    for year in YEARS:
        cache = Path(str(year)) / "cache" / "extractions"
        shutil.copytree(before.outputs / cache, apart / cache)
    got = ingest_and_clean(inputs, apart, YEARS)
    assert run_data(got) == run_data(before)

    def entries(outputs: Path) -> dict:
        folder = outputs / str(YEAR) / "cache" / per_unit.NAMESPACE
        return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert entries(apart) and entries(apart) == entries(before.outputs)


def test_only_the_changed_unit_is_checked_again(first, tmp_path, monkeypatch):
    """After one unit's file changed, step 02 checks that unit alone; the others' results come from the last
    run, and the changed unit's new figure is checked (its findings are the new figure's)."""
    inputs, before = first
    changed, again = rerun_copy(inputs, before.outputs, tmp_path, lambda i: change_one_file(i, before))
    checked: list[list[str]] = []
    real = per_unit._check

    def spy(todo, *args, **kwargs):
        checked.append(sorted(todo))
        return real(todo, *args, **kwargs)

    monkeypatch.setattr(per_unit, "_check", spy)  # not a check: the cache's key stays as it was
    year = Year(changed, again, YEAR)
    year.ingest()
    out = year.clean()
    assert checked == [[COMPANY]]
    assert out["checked"] == [COMPANY]
    values = out["values"]
    mine = values[(values["unit"] == COMPANY) & (values["item"] == "01A.1")]
    assert mine["value"].tolist() == ["4321"]
    assert not year.load("values").equals(before.load("values"))


def test_a_check_replaced_at_run_time_is_not_taken_from_the_cache(first, tmp_path, monkeypatch):
    """The key holds the check functions as bound when the step runs: a replaced check runs on every unit."""
    inputs, before = first
    again = tmp_path / "again"
    shutil.copytree(before.outputs, again, symlinks=True)
    year = Year(inputs, again, YEAR)
    assert year.clean()["checked"] == []  # nothing changed: every unit from the cache
    real = rules.check_blanks
    monkeypatch.setattr(rules, "check_blanks", lambda values, form: real(values, form))
    assert per_unit.bound_checks() != ""
    out = year.clean()
    assert sorted(out["checked"]) == sorted(set(out["values"]["unit"]))
