"""Each inbox file's extraction, kept by content hash in outputs/<year>/cache/ so that a re-run reads only
what changed — as signed JSON (see `artifacts`): never a pickle, never executed, a damaged entry is a miss.
The cache is never a source of truth: deleting it changes nothing but time."""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import config, store
from .artifacts import Artifacts, code_hash
from .form import Form, form_path

# The code whose behaviour the cached results depend on: a change in any of these starts afresh.
CODE = [
    "readers.py",
    "layouts.py",
    "label_layout.py",
    "form.py",
    "parse.py",
    "ingest.py",
    "artifacts.py",
    "sniff.py",
    "word.py",
    "pdf.py",
    "extract.py",
    "dates.py",
    "archives.py",
    "inbox.py",
    "versions.py",
]


class Cache:
    def __init__(self, folder: Path, form: Form):
        forms = hashlib.sha256(form_path(form.form).read_bytes())
        for other in sorted(config.FORMS_DIR.glob("*.yaml")):  # a unit may have used another year's form
            forms.update(other.read_bytes())
        fingerprint = code_hash(*CODE) + forms.hexdigest()[:16]
        self.store = Artifacts(folder, "extractions", fingerprint)

    def key(self, path: Path) -> str:
        h = hashlib.sha256(path.suffix.lower().encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return self.store.key(h.hexdigest())

    def get(self, key: str):
        value = self.store.get_json(key)
        return tuple(value) if isinstance(value, list) else None

    def get_many(self, keys: list[str]) -> list:
        """`get` for many keys."""
        with store.gc_paused():
            return [self.get(key) for key in keys]

    def put(self, key: str, value) -> None:
        self.store.put_json(key, list(value))
