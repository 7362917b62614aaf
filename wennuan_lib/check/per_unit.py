"""Step 02's per-unit work, kept per unit: a re-run after one unit changed checks that unit again and takes
every other unit's results as the last run made them (issue 24 item 2).

A unit's own results — its findings (`rules.check_units`: blanks, dates, 填报单位, the form's year and
rules, the change against its own last year), its 书面总结 against its form (`summary_check.check_each`),
its versions (V01) and its lines of the values table as written — depend only on that unit's rows of the
tables the checks are given (`SLICES`: its values in force after corrections, its forms, the rows of its
forms' files when it sent two or more, its summaries, its values last year), on the form, the year and the
program. The key of a unit's entry is made of exactly those rows (each table's rows hashed once per run by
pandas, a unit's slice taken by position), each table's columns and types, the form, the year, the code
(`Artifacts`' own key) and the check functions as bound when the step runs (a function replaced at run time
is another program): derived from what the checks are handed, never listed by hand. What holds units
against each other (peers, magnitude, 元 slips, the totals and the city's checks) is made again by the step
from every unit's figures, and the analyst's waivers are applied to the whole table afterwards (a waiver may
name a finding of those). A unit whose check broke (X01) is not kept: it is checked again next run.

The units checked in a run are checked together (each unit's results are the same as checked alone) and
their values lines rendered in one go as `store.save_table` writes them, so the spliced file is byte for
byte that of a run from scratch.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wennuan_lib.base import catalog, store
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.parallel import here_and_apart
from wennuan_lib.check import rules, summary_check
from wennuan_lib.form import Form

NAMESPACE = "clean_units"
# What a unit's results are made from: one table each, sliced by unit (see `_slices`)
SLICES = ("values", "submissions", "versions", "summaries", "previous")


@dataclass
class Results:
    """The per-unit part of step 02 for every unit, in the order the step writes it."""

    values: store.Rendered  # the values table, as its file's bytes
    findings: list[dict] = field(default_factory=list)  # each unit's own findings, units in order
    summary_rows: list[dict] = field(default_factory=list)  # summary_checks, in the summaries' order
    said: list[dict] = field(default_factory=list)  # T01 (summaries' order), then V01 (units' order)
    checked: list[str] = field(default_factory=list)  # the units checked in this run (not from the cache)


def _runs(units: np.ndarray) -> list[tuple[str, int, int]]:
    """(unit, start, end) of each run of consecutive rows of one unit."""
    if not len(units):
        return []
    cuts = np.flatnonzero(units[1:] != units[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(units)]])
    return [(units[a], int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _positions(frame: pd.DataFrame | None, by: str = "unit") -> dict[str, np.ndarray]:
    if frame is None or not len(frame):
        return {}
    return frame.groupby(by, sort=False).indices


def _row_hashes(frame: pd.DataFrame | None) -> tuple[bytes, np.ndarray]:
    """A table's columns and types, and one 64-bit hash per row (the index left out: a unit's rows move when
    another unit's change)."""
    if frame is None:
        return b"none", np.zeros(0, dtype=np.uint64)
    head = "\0".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items()).encode("utf-8")
    if not len(frame):
        return head, np.zeros(0, dtype=np.uint64)
    return head, pd.util.hash_pandas_object(frame, index=False).to_numpy()


def bound_checks() -> str:
    """The functions of the check modules as bound now (a function replaced at run time — by a test, in a
    notebook — is another program than the files the code hash reads)."""
    out = []
    for module in (rules, summary_check):
        for name, obj in sorted(vars(module).items()):
            if inspect.isfunction(obj):
                out.append(f"{module.__name__}.{name}={obj.__module__}.{obj.__qualname__}")
    return "\n".join(out)


def row_lines(ds: catalog.Dataset, frame: pd.DataFrame) -> list[str]:
    """Each row of `frame` as `store.save_table` writes it (its record, a text with a line end; a value with
    a line break inside makes a record of several lines)."""
    typed = store.table_frame(frame, ds)
    body = store.csv_text(typed).split("\n", 1)[1]
    pieces = body.split("\n")[:-1]
    if len(pieces) == len(typed):
        return [p + "\n" for p in pieces]
    breaks = np.zeros(len(typed), dtype=np.int64)
    for _col, column in typed.items():
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            breaks += column.astype(object).fillna("").astype(str).str.count("\n").to_numpy(dtype=np.int64)
    out, k = [], 0
    for n in breaks.tolist():
        out.append("\n".join(pieces[k : k + n + 1]) + "\n")
        k += n + 1
    return out


class _Slices:
    """The tables a unit's results are made from (`SLICES`), each with every unit's rows in it (by
    position) and one hash per row: a unit's key, and its rows."""

    EMPTY = np.zeros(0, dtype=np.int64)

    def __init__(self, tables: dict[str, tuple[pd.DataFrame | None, dict[str, np.ndarray]]], shared: str):
        assert tuple(tables) == SLICES
        self.tables, self.shared = tables, shared
        self.hashed = {name: _row_hashes(frame) for name, (frame, _rows) in tables.items()}

    def key(self, kept: Artifacts, unit: str) -> str:
        parts = []
        for name, (_frame, rows) in self.tables.items():
            head, hashes = self.hashed[name]
            parts += [name, head, hashes[rows.get(unit, self.EMPTY)].tobytes()]
        return kept.key(self.shared, unit, *parts)

    def __call__(self, name: str, units: list[str]) -> pd.DataFrame | None:
        """The rows of `units` in a table, in each unit's order."""
        frame, rows = self.tables[name]
        if frame is None:
            return None
        return frame.iloc[np.concatenate([self.EMPTY, *(rows.get(u, self.EMPTY) for u in units)])]


def _versions(submissions: pd.DataFrame, extracted: pd.DataFrame):
    """The rows of extracted that `rules.check_versions` compares — those of the files of the units with two
    forms or more — and each such unit's rows among them."""
    forms = submissions[submissions["status"].isin(["read", "superseded"])] if len(submissions) else None
    several = forms[forms["unit"].duplicated(keep=False)] if forms is not None else submissions
    files_of = {u: set(g) for u, g in several.groupby("unit", sort=False)["file"]} if len(several) else {}
    if not files_of:
        return None, {}
    versions = extracted[extracted["file"].isin(set().union(*files_of.values()))]
    files = versions["file"].to_numpy(dtype=object)
    return versions, {u: np.flatnonzero(np.isin(files, list(fs))) for u, fs in files_of.items()}


APART = 200  # from this many units to check on, half of them are checked by a forked process (see run)


def run(
    values: pd.DataFrame,
    submissions: pd.DataFrame,
    extracted: pd.DataFrame,
    summaries: pd.DataFrame,
    previous: pd.DataFrame | None,
    form: Form,
    year: int,
    kept: Artifacts,
) -> Results:
    """Every unit's own results: from the cache when its slices are as in a run before, else checked now
    (and kept)."""
    ds = catalog.dataset("values")
    values = values.reset_index(drop=True)
    runs = _runs(values["unit"].to_numpy(dtype=object))
    first_run: dict[str, tuple[int, int]] = {}
    split = set()
    for unit, a, b in runs:
        if unit in first_run:
            split.add(unit)  # rows not together: made every run (never the case when ingest sorts by unit)
        first_run.setdefault(unit, (a, b))
    names = list(first_run)
    versions, version_rows = _versions(submissions, extracted)
    slices = _Slices(
        {
            "values": (values, {u: np.arange(a, b) for u, (a, b) in first_run.items()}),
            "submissions": (submissions, _positions(submissions)),
            "versions": (versions, version_rows),
            "summaries": (summaries, _positions(summaries)),
            "previous": (previous, _positions(previous)),
        },
        "\0".join([form.form, str(year), bound_checks()]),
    )
    keys = {u: slices.key(kept, u) for u in names if u not in split}
    entries: dict[str, dict] = {}
    for unit, k in keys.items():
        entry = kept.get_json(k)
        if isinstance(entry, dict) and set(entry) == {"lines", "findings", "summaries", "versions"}:
            entries[unit] = entry

    todo = [u for u in names if u not in entries]
    made, at = _check_all(todo, slices, values, first_run, split, keys, kept, form, year)
    entries.update(made)
    body = [
        entries[u]["lines"] if u not in split else "".join(at[i] for i in range(a, b)) for u, a, b in runs
    ]
    return _assemble(Results(store.rendered(ds, "".join(body)), checked=todo), names, entries, summaries)


def _check_all(todo, slices, values, first_run, split, keys, kept, form, year) -> tuple[dict, dict[int, str]]:
    """The units `todo` checked, their values lines rendered and their entries kept: (entries, lines by row).
    From APART units on, in two halves, the second by a forked process meanwhile (3,000 units: 2 s)."""
    ds = catalog.dataset("values")

    def check(units: list[str]) -> tuple[dict[str, dict], dict[int, str]]:
        made = _check(units, slices, form, year)
        mine = values["unit"].isin(units).to_numpy()
        rows = np.flatnonzero(mine).tolist()
        lines = dict(zip(rows, row_lines(ds, values[mine]), strict=True))
        for unit in units:
            failed = made[unit].pop("failed")
            if unit in split:
                continue
            a, b = first_run[unit]
            made[unit]["lines"] = "".join(lines[i] for i in range(a, b))
            if not failed:  # a check that broke is tried again next run
                kept.put_json(keys[unit], made[unit])
        # the lines by row only where a unit's rows are apart (the others' are in their entries): the half
        # made by the forked process comes back pickled, and every line twice was its rows twice in memory
        of = values["unit"].to_numpy()
        return made, ({i: lines[i] for i in rows if of[i] in split} if split else {})

    if len(todo) < APART:
        return check(todo) if todo else ({}, {})
    half = len(todo) // 2
    (made, at), (more, lines) = here_and_apart(check, todo[:half], todo[half:])
    return {**made, **more}, {**at, **lines}


def _assemble(out: Results, names: list[str], entries: dict[str, dict], summaries: pd.DataFrame) -> Results:
    """The units' findings and summary checks in the order a run of every unit makes them."""
    finding = rules.FINDING_COLUMNS
    for unit in names:
        out.findings += [dict(zip(finding, f, strict=True)) for f in entries[unit]["findings"]]
    columns = catalog.dataset("summary_checks").column_names
    parts: dict[str, Iterator] = {u: iter(entries[u]["summaries"]) for u in names}
    for unit in summaries["unit"].tolist():
        if unit in parts:
            rows, found = next(parts[unit])
            out.summary_rows += [dict(zip(columns, r, strict=True)) for r in rows]
            out.said += [dict(zip(finding, f, strict=True)) for f in found]
    for unit in names:
        out.said += [dict(zip(finding, f, strict=True)) for f in entries[unit]["versions"]]
    return out


def _check(todo: list[str], slice_of, form: Form, year: int) -> dict[str, dict]:
    """The own results of the units `todo`, checked together (each unit's are the same as checked alone), as
    their cache entries keep them (lists in the tables' column order)."""

    values, subs = slice_of("values", todo), slice_of("submissions", todo)
    previous, versions = slice_of("previous", todo), slice_of("versions", todo)
    out = {u: {"lines": "", "findings": [], "summaries": [], "versions": [], "failed": False} for u in todo}

    def add(field: str, findings: list[dict]) -> None:
        for f in findings:
            out[f["unit"]][field].append(_listed(f))
            out[f["unit"]]["failed"] |= f["rule"] == rules.CHECK_FAILED_ID

    add("findings", rules.check_units(values, form, subs, previous, year - 1))
    if versions is not None and len(versions):
        several = [u for u in todo if len(slice_of("versions", [u]))]
        forms = subs[subs["unit"].isin(several)]

        def versions_of(some: list[str]) -> list[dict]:
            files = set(forms.loc[forms["unit"].isin(some), "file"])
            return rules.check_versions(
                forms[forms["file"].isin(files)], versions[versions["file"].isin(files)], form
            )

        add("versions", rules.Guard(values).run("统计表版本比较", several, versions_of))
    summaries, columns = slice_of("summaries", todo), catalog.dataset("summary_checks").column_names
    for unit, (got, found) in zip(
        summaries["unit"].tolist(), summary_check.check_each(summaries, values, form), strict=True
    ):
        if unit in out:
            listed = [[r[c] for c in columns] for r in got]
            out[unit]["summaries"].append([listed, [_listed(f) for f in found]])
            out[unit]["failed"] |= any(f["rule"] == rules.CHECK_FAILED_ID for f in found)
    return out


def _listed(finding: dict) -> list:
    return [finding[c] for c in rules.FINDING_COLUMNS]
