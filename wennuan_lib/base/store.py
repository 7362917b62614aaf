"""Reading and writing the data layers: UTF-8 with BOM (so Excel opens them right), atomically, byte-stable,
and typed by the catalog (booleans stay booleans, whole numbers whole, codes and exact numbers text)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wennuan_lib import vocab
from wennuan_lib.base.catalog import CatalogError, Dataset
from wennuan_lib.base.files import atomic_write_bytes  # noqa: F401 - the writers of every layer use it through here too
from wennuan_lib.base.parallel import gc_paused  # noqa: F401 - store.gc_paused, as before


def safe_filename(name: str, fallback: str = "单位") -> str:
    """A unit's name as part of a file name: no path separators, no characters Windows refuses."""
    s = unicodedata.normalize("NFKC", str(name or ""))
    s = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "_", s).strip(" ._")
    return s[:60] or fallback


# A cell Excel would run as a formula (CSV injection): =…, @…, +… or -… that is not a plain number.
FORMULA = re.compile(r"^(?:[=@\t\r]|[+\-](?![\d.]+$|$))")


def neutralize(value):
    """Text that would start a formula in Excel gets a leading apostrophe; read_csv takes it off."""
    if isinstance(value, str) and (FORMULA.match(value) or value.startswith("'")):
        return "'" + value
    return value


def _neutralized(column: pd.Series) -> pd.Series:
    """A text column with every value Excel would run as a formula made safe (see `neutralize`)."""
    # distinct values are few next to the rows (units, items, files): test each once
    risky = {v: safe for v in column.dropna().unique() if (safe := neutralize(v)) is not v}
    if not risky:
        return column
    return column.where(~column.isin(list(risky)), column.map(risky))


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    atomic_write_bytes(path, _file_bytes(frame))
    return path


def _file_bytes(frame: pd.DataFrame) -> bytes:
    return ("\ufeff" + csv_text(frame)).encode("utf-8")


def csv_text(frame: pd.DataFrame) -> str:
    """What `write_csv` writes (without the BOM): the header line, then one record per row."""
    columns = {
        col: _neutralized(s) if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) else s
        for col, s in frame.items()
    }
    return pd.DataFrame(columns, index=frame.index, copy=False).to_csv(index=False, lineterminator="\n")


def read_csv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A data file as text columns (all, or only `columns`), with the apostrophe write_csv added taken off."""
    # object, not str: pandas 3 makes dtype=str a StringArray, whose every element read from Python goes
    # through __getitem__ (1 µs each; 2.3 million of them in step 04 at 3,000 units); the values are the same
    # Python strings either way
    frame = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig", usecols=columns)
    for col in frame.columns:
        quoted = {v: v[1:] for v in frame[col].unique() if v.startswith("'")}
        if quoted:
            frame[col] = frame[col].where(~frame[col].isin(list(quoted)), frame[col].map(quoted))
    return frame


def _as_text(value, kind: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if kind == "bool":
        if isinstance(value, str):
            return value if value in ("True", "False") else str(value.strip().lower() in ("true", "1", "是"))
        return str(bool(value))
    if kind == "int":
        return value if isinstance(value, str) else str(int(value))
    return value if isinstance(value, str) else str(value)


def save_table(frame: pd.DataFrame, ds: Dataset, path: Path) -> Path:
    """A table as its catalog entry declares it: exactly its columns, in order; booleans as True/False."""
    atomic_write_bytes(path, table_bytes(frame, ds))
    return path


def table_bytes(frame: pd.DataFrame, ds: Dataset) -> bytes:
    """The bytes `save_table` writes for `frame` (a step renders a large table on another core while it goes
    on, and the runner writes them as they are: splice.rendered_apart)."""
    return _file_bytes(table_frame(frame, ds))


def table_frame(frame: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """The table `save_table` writes for `frame` (checked against the catalog), its columns as they are
    written: `csv_text` of it is the file's text."""
    expected = ds.column_names
    got = [str(c) for c in frame.columns]
    if got[: len(expected)] != expected or (len(got) > len(expected) and not ds.more_columns):
        raise CatalogError(f"{ds.name} 的列与数据目录（catalog.yaml）不符：应为 {expected}，实为 {got}")
    for col, labels in vocab.coded_columns(ds.name).items():
        if stray := sorted(set(frame[col].dropna().unique()) - set(labels) - {""}, key=str):
            raise CatalogError(
                f"{ds.name} 的 {col} 列只能存代码（{'、'.join(labels)}），"
                f"实为 {'、'.join(map(str, stray[:5]))}：这是程序的错误，请把这句话告诉维护程序的人"
            )
    types = dict(ds.columns)
    out = {}
    for col, column in frame.items():
        kind = types.get(str(col), ds.more_columns or "str")
        if (kind == "bool" and column.dtype == bool) or (
            kind in ("str", "decimal") and isinstance(column.dtype, pd.StringDtype)
        ):
            out[col] = column  # written as they are: True/False, and text (missing → "")
        elif kind in ("bool", "int") or column.dtype != object:
            # each distinct value converted once (a column of 200,000 flags has two);
            # missing values (code -1) → ""
            codes, distinct = pd.factorize(column, use_na_sentinel=True)
            texts = np.array([_as_text(v, kind) for v in distinct] + [""], dtype=object)
            out[col] = pd.Series(texts[codes], index=frame.index)
        else:
            out[col] = column
    return pd.DataFrame(out, index=frame.index, copy=False)


def csv_header(ds: Dataset) -> str:
    """A table's header line, as `save_table` writes it (without the BOM)."""
    return csv_lines([ds.column_names])


def csv_lines(rows: list[list]) -> str:
    """Rows of text as `save_table` writes them (the same `csv` dialect pandas uses: minimal quoting,
    doubled quotes, "\\n" line ends): a table's text is its header and its rows' lines, in order, so a part
    of it made before is taken as it was."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue()


def row_texts(ds: Dataset, records: list[dict]) -> list[list]:
    """Records (dicts by column) as the text `save_table` writes for them: booleans True/False, missing
    values empty, text that Excel would run as a formula neutralized."""
    # a column's values repeat (units, items, labels, files, statuses): each distinct value is made text once,
    # known by its type as well (True and 1 are equal keys, and are other texts in a text column)
    columns = [(col, kind, {}) for col, kind in ds.columns]
    out = []
    for r in records:
        row = []
        for col, kind, made in columns:
            value = r.get(col)
            try:
                text = made[value.__class__, value]
            except KeyError:
                text = made[value.__class__, value] = neutralize(_as_text(value, kind))
            except TypeError:  # unhashable: never in the tables, made text each time all the same
                text = neutralize(_as_text(value, kind))
            row.append(text)
        out.append(row)
    return out


@dataclass(frozen=True)
class Rendered:
    """A table already rendered to the bytes `save_table` writes (BOM, header, its rows' text): a step that
    splices the lines of an earlier run returns it, and the runner writes it as it is. `frame`: the table as
    `load_table` reads it back from these bytes, when the step has parsed it (the next step takes it:
    run/kept.py)."""

    data: bytes
    frame: pd.DataFrame | None = field(default=None, compare=False, repr=False)


def rendered(ds: Dataset, body: str) -> Rendered:
    """A table from its rows' text (`csv_lines` of `row_texts`)."""
    return Rendered(("\ufeff" + csv_header(ds) + body).encode("utf-8"))


def load_table(ds: Dataset, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A table typed by its catalog entry: bool columns as bool, int columns as nullable integers,
    the rest text."""
    return typed(ds, read_csv(path, columns))


def typed(ds: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """A table's text columns typed by its catalog entry (see load_table)."""
    for col in ds.typed("bool"):
        if col in frame.columns:
            frame[col] = frame[col] == "True"
    for col in ds.typed("int"):
        if col in frame.columns:
            frame[col] = pd.array([int(v) if v != "" else None for v in frame[col].tolist()], dtype="Int64")
    return frame


def empty_table(ds: Dataset) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=bool if t == "bool" else object) for c, t in ds.columns})
