"""What `run`'s kernel has parsed, kept for the later steps that read the same bytes (as Kedro's
CachedDataset keeps a dataset in memory for the rest of a run).

`run` runs a scope's steps one after another in one kernel (config.RUN_KERNEL_ENV). Each step loads what it
declares from the files: a table two steps read (values: steps 03 and 04) was parsed twice, the registry four
times, and a table a step parses as it writes it (step 01's extracted, from the lines it spliced) once more by
the next step. Here a parsed file is kept while a later step of the scope reads it, by its path, with the
digest of its bytes; a later read of that path whose bytes have the same digest takes it instead of parsing.

A file that is kept, or could be taken, is read and hashed at every read (3,000 units: 20 ms for the 30 MB of
the values table): a file changed in between — by the analyst, by another run — is parsed afresh, never served
stale; one nothing is kept for and no later step reads is parsed as before, without hashing. The last step
that reads a file takes the kept table itself; an earlier one a copy (copy-on-write: a column is copied only
when changed), so what a step does to its inputs never reaches the next. A notebook run by hand keeps
nothing (its kernel runs one step).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from wennuan_lib.base import config, files

T = TypeVar("T")


class _Kept:
    __slots__ = ("digest", "value", "name", "run_dir")

    def __init__(self, digest: str, value: Any, name: str, run_dir: Path):
        self.digest, self.value, self.name, self.run_dir = digest, value, name, run_dir


_KEPT: dict[tuple, _Kept] = {}  # (path, what of it) → what was parsed from it


def _identity(path: Path) -> tuple:
    st = path.stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _copy(value: T) -> T:
    # a table is handed as a new frame over the same columns: pandas' copy-on-write (always on from pandas 3)
    # copies a column only when one of the two frames changes it, so what a step does to its inputs never
    # reaches the next (a deep copy of 3,000 units' values took 0.3 s in the kernel, at every hand-over);
    # anything else kept (the registry) is read-only by its nature
    return value.copy(deep=False) if isinstance(value, pd.DataFrame) else value


def parsed(
    path: Path, parse: Callable[[Path], T], name: str, run_dir: Path, later: bool, what: tuple = ()
) -> T:
    """`parse(path)`, or what an earlier step of this run parsed from the same bytes. `name`: the dataset or
    raw file; `later`: whether a later step of the scope reads it (then it is kept). `what`: which part of the
    file is parsed (the columns), part of the key."""
    hit = _KEPT.pop((path, what), None)
    # some columns, taken from the whole table kept (the whole stays for a later step that reads it all)
    whole = _KEPT.get((path, ())) if what and hit is None else None
    if not config.in_run_kernel() or (hit is None and whole is None and not later):  # nothing to take or keep
        return parse(path)
    before = _identity(path)
    digest = files.sha256(path)  # hashlib's fastest here (SHA extensions), read in pieces
    if hit is not None and hit.digest == digest:
        value = hit.value
    elif whole is not None and whole.digest == digest:
        value = whole.value[[c for c in whole.value.columns if c in what]]  # in the file's order, as parsed
    else:
        # parsed from the file, not from its bytes in hand: pandas reading 30 MB from a BytesIO left the
        # kernel's heap 50 MiB larger at the run's peak (3,000 units, 766 MiB against 715)
        value = parse(path)
        if _identity(path) != before:  # written while it was hashed or parsed: not kept under that digest
            return value
    if later:
        _KEPT[(path, what)] = _Kept(digest, value, name, run_dir)
        return _copy(value)
    return value


def put(path: Path, data: bytes, value: Any, name: str, run_dir: Path) -> None:
    """A table a step parsed from the very bytes it has written to `path` (see store.Rendered.frame), kept
    for the next step that reads it."""
    if config.in_run_kernel():
        _KEPT[(path, ())] = _Kept(hashlib.sha256(data).hexdigest(), _copy(value), name, run_dir)


def only_for(run_dir: Path, names: set[str]) -> None:
    """Let go of what no later step of this run reads: what was kept for another run folder (another year,
    an earlier run), or under a name no step after this one reads."""
    for key in [k for k, v in _KEPT.items() if v.run_dir != run_dir or v.name not in names]:
        del _KEPT[key]
