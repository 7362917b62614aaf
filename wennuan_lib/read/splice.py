"""A table made of the lines an earlier run wrote (step 01's splice on a re-run): each part's lines taken from
the cache when its key is the same as then, else rendered from its rows — exactly what `store.save_table`
writes for the same rows, so a re-run's file is byte for byte that of a run from scratch."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import pandas as pd

from wennuan_lib.base import store
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.catalog import Dataset


def table(
    ds: Dataset, kept: Artifacts, parts: Iterable[tuple[str, Callable[[], list[dict]]]]
) -> store.Rendered:
    """The table of `parts` — (key, its rows) each; a part keyed "" is always rendered — as file bytes."""

    def lines(key: str, rows: Callable[[], list[dict]]) -> str:
        if key and (data := kept.get(key)) is not None:
            return data.decode("utf-8")
        text = store.csv_lines(store.row_texts(ds, rows()))
        if key:
            kept.put(key, text.encode("utf-8"))
        return text

    return store.rendered(ds, "".join(lines(key, rows) for key, rows in parts))


def frame(ds: Dataset, made: store.Rendered) -> pd.DataFrame:
    """The rendered table as the runner's loader would read it back from its file (parsed from the bytes in
    hand: nothing is read)."""
    return store.typed(ds, store.read_csv(io.BytesIO(made.data)))
