"""Each file's extraction, kept by content hash in outputs/<year>/cache/ so that a re-run reads only
what changed. The cache is never a source of truth: deleting it changes nothing but time."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from . import __version__, config, store
from .form import Form, form_path

# The code whose behaviour the cached results depend on: a change in any of these starts afresh.
CODE = ["readers.py", "layouts.py", "label_layout.py", "form.py", "parse.py", "ingest.py"]


def _fingerprint(form: Form) -> str:
    h = hashlib.sha256(__version__.encode())
    for name in CODE:
        h.update((config.PACKAGE_DIR / name).read_bytes())
    h.update(form_path(form.form).read_bytes())
    for other in sorted(config.FORMS_DIR.glob("*.yaml")):  # a unit may have used another year's form
        h.update(other.read_bytes())
    return h.hexdigest()[:16]


class Cache:
    def __init__(self, folder: Path, form: Form):
        self.folder = folder / _fingerprint(form)

    def key(self, path: Path) -> str:
        h = hashlib.sha256(path.suffix.lower().encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pkl"

    def get(self, key: str):
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return pickle.loads(path.read_bytes())
        except Exception:  # a damaged entry is just a miss
            return None

    def get_many(self, keys: list[str]) -> list:
        """`get` for many keys."""
        with store.gc_paused():
            return [self.get(key) for key in keys]

    def put(self, key: str, value) -> None:
        store.atomic_write_bytes(self._path(key), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
