"""Writing the data layers: UTF-8 with BOM (so Excel opens them right), atomically, byte-stable."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import tempfile
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def gc_paused():
    """Building a data layer makes hundreds of thousands of small objects that all live on; the cyclic
    garbage collector would re-scan the growing heap again and again. It is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; outputs are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_filename(name: str, fallback: str = "单位") -> str:
    """A unit's name as part of a file name: no path separators, no characters Windows refuses."""
    import re
    import unicodedata

    s = unicodedata.normalize("NFKC", str(name or ""))
    s = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "_", s).strip(" ._")
    return s[:60] or fallback


# A cell Excel would run as a formula (CSV injection): =…, @…, +… or -… that is not a plain number.
FORMULA = re.compile(r"^(?:[=@\t\r]|[+\-](?![\d.]+$|$))")


def flag(series: pd.Series) -> pd.Series:
    """True/False columns, whether read from CSV (text) or fresh from a step (bool)."""
    return series.astype(str) == "True"


def neutralize(value):
    """Text that would start a formula in Excel gets a leading apostrophe; read_csv takes it off."""
    if isinstance(value, str) and (FORMULA.match(value) or value.startswith("'")):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or str(frame[col].dtype).startswith(("str", "string")):
            # distinct values are few next to the rows (units, items, files): test each once
            risky = {v: safe for v in frame[col].dropna().unique() if (safe := neutralize(v)) is not v}
            if risky:
                frame[col] = frame[col].where(~frame[col].isin(list(risky)), frame[col].map(risky))
    text = frame.to_csv(index=False, lineterminator="\n")
    atomic_write_bytes(path, ("\ufeff" + text).encode("utf-8"))
    return path


def read_csv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A data file as text columns (all, or only `columns`), with the apostrophe write_csv added taken off."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", usecols=columns)
    for col in frame.columns:
        quoted = {v: v[1:] for v in frame[col].unique() if v.startswith("'")}
        if quoted:
            frame[col] = frame[col].where(~frame[col].isin(list(quoted)), frame[col].map(quoted))
    return frame


def read_data(paths, *names: str) -> list[pd.DataFrame]:
    """Data files of a year, by name (values → outputs/<year>/data/values.csv)."""
    return [read_csv(paths.data / f"{name}.csv") for name in names]
