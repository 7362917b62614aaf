"""Each inbox file's extraction, kept by content hash in outputs/<year>/cache/ so that a re-run reads only
what changed — as signed JSON (see `artifacts`): never a pickle, never executed, a damaged entry is a miss.
The cache is never a source of truth: deleting it changes nothing but time."""

from __future__ import annotations

from pathlib import Path

from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.parallel import gc_paused
from wennuan_lib.form import Form


class Cache:
    def __init__(self, folder: Path, form: Form):
        # the whole program (every form file included: a unit may have used another year's form), and the
        # form this year reads with
        self.store = Artifacts(folder, "extractions", form.form)

    def key(self, path: Path, digest: str) -> str:
        """The key of a file's extraction: its kind as named (the suffix) and `digest`, the sha256 of its
        bytes (computed once per run by the caller)."""
        return self.store.key(path.suffix.lower(), digest)

    def has(self, key: str) -> bool:
        return self.store.has(key)

    def get(self, key: str):
        value = self.store.get_json(key)
        return tuple(value) if isinstance(value, list) else None

    def get_many(self, keys: list[str]) -> list:
        """`get` for many keys."""
        with gc_paused():
            return [self.get(key) for key in keys]

    def put(self, key: str, value) -> None:
        self.store.put_json(key, list(value))
