"""A table made of the lines an earlier run wrote (step 01's splice on a re-run): each part's lines taken from
the cache when its key is the same as then, else rendered from its rows — exactly what `store.save_table`
writes for the same rows, so a re-run's file is byte for byte that of a run from scratch.
A large table rendered on another core while its step goes on is made here too (`rendered_apart`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import pandas as pd

from wennuan_lib.base import store
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.catalog import Dataset
from wennuan_lib.base.parallel import bytes_in_background, here_and_apart

APART = 200  # from this many parts on, the second half is rendered by a forked process (see `table`)


def table(
    ds: Dataset, kept: Artifacts, parts: Iterable[tuple[str, Callable[[], list[dict]]]]
) -> store.Rendered:
    """The table of `parts` — (key, its rows) each; a part keyed "" is always rendered — as file bytes, with
    its frame as the runner's loader would read it back from them (see `parsed`). From APART parts on, the
    second half is rendered (and kept), and parsed, by a forked process while this one does the first
    (3,000 forms from scratch: about 3 s of rendering and writing on one core; parsing the 200,000 rows back
    0.6 s, and a half of them pickled back 0.1 s)."""
    parts = list(parts)

    def lines(key: str, rows: Callable[[], list[dict]]) -> str:
        if key and (data := kept.get(key)) is not None:
            return data.decode("utf-8")
        text = store.csv_lines(store.row_texts(ds, rows()))
        if key:
            kept.put(key, text.encode("utf-8"))
        return text

    def text(some: list) -> str:
        return "".join(lines(key, rows) for key, rows in some)

    if len(parts) < APART:
        return parsed(ds, store.rendered(ds, text(parts)))

    def half(some: list) -> tuple[str, pd.DataFrame]:  # its lines, and its frame parsed with the header
        body = text(some)
        return body, parsed(ds, store.rendered(ds, body)).frame

    middle = len(parts) // 2
    (first, head), (second, tail) = here_and_apart(half, parts[:middle], parts[middle:])
    # the two frames together: the rows and types of the whole parsed at once
    return store.Rendered(store.rendered(ds, first + second).data, pd.concat([head, tail], ignore_index=True))


def parsed(ds: Dataset, made: store.Rendered) -> store.Rendered:
    """The rendered table with its frame, as the runner's loader would read it back from its file (parsed from
    the bytes in hand: nothing is read); the next step that reads it is given that frame (run.kept)."""
    return store.Rendered(made.data, store.typed(ds, store.read_csv(io.BytesIO(made.data))))


def rendered_here(ds: Dataset, frame: pd.DataFrame) -> store.Rendered:
    """The bytes `store.save_table` writes for `frame`, rendered now by the step (while a `rendered_apart`
    is still at work on the other core) rather than by the runner after it."""
    return store.Rendered(store.table_bytes(frame, ds))


def rendered_apart(ds: Dataset, frame: pd.DataFrame) -> Callable[[], store.Rendered]:
    """The bytes `store.save_table` writes for `frame`, rendered by a forked process while this one goes on;
    returns `result()` (the runner writes them as they are)."""
    there = bytes_in_background(lambda: store.table_bytes(frame, ds))
    return lambda: store.Rendered(there())
