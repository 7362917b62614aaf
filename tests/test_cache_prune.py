"""The cache holds one program's entries: what an older program cached (before an update of the package, of
Python or of a library) can never be found again, and a finished run removes it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import Year, cli
from tests.test_runs import tiny  # noqa: F401 - the session's small year, run once by the command line
from wennuan_lib.base import artifacts


def test_prune_keeps_this_programs_entries_and_removes_every_other(tmp_path):
    cache = tmp_path / "cache"
    mine = artifacts.Artifacts(cache, "charts")
    key = mine.key("图")
    mine.put(key, b"png")
    older = cache / "charts" / "0123456789abcdef0123" / "ab" / "abcd"  # an entry of an earlier program
    older.parent.mkdir(parents=True)
    older.write_bytes(b"x" * 1000)
    flat = cache / "extractions" / "cd" / "cdef"  # the layout before entries were kept by program
    flat.parent.mkdir(parents=True)
    flat.write_bytes(b"y" * 500)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"z")
    os.symlink(outside, cache / "charts" / "link")  # never followed

    assert artifacts.prune(cache) >= 1500
    assert mine.get(key) == b"png"
    assert not older.exists() and not flat.exists() and not (cache / "charts" / "link").exists()
    assert (outside / "keep.txt").read_bytes() == b"z"
    assert sorted(p.name for p in (cache / "charts").iterdir()) == [artifacts.code_hash()]


def test_a_finished_run_leaves_only_the_current_programs_cache(tiny, tmp_path):  # noqa: F811
    shutil.copytree(tiny / "inputs", tmp_path / "inputs")
    shutil.copytree(tiny / "outputs", tmp_path / "outputs", symlinks=True)
    y = Year(tmp_path / "inputs", tmp_path / "outputs", 2013)
    cache = y.scope.folder("cache")
    planted = cache / "feedback" / "fedcba9876543210fedc" / "aa" / "aa11"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"old")
    before = sorted(p.relative_to(cache) for p in cache.rglob("*") if p.is_file() and p != planted)

    out = cli("run", "--year", 2013, "--inputs", y.inputs, "--outputs", y.outputs, "--force")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not planted.exists()
    after = sorted(p.relative_to(cache) for p in cache.rglob("*") if p.is_file())
    assert before and set(before) <= set(after)  # this program's entries stay
    assert {p.parts[1] for p in after} == {artifacts.code_hash()}


def test_an_entry_that_cannot_be_removed_is_left_and_the_rest_go(tmp_path, monkeypatch):
    """Tidying the cache comes after the run's results are in place: a folder it may not remove (a read-only
    disk, another user's files) is left as it is, never a failure of the run."""
    import shutil as real_shutil

    cache = tmp_path / "cache"
    stuck = cache / "charts" / "0123456789abcdef0123" / "ab" / "abcd"
    gone = cache / "feedback" / "fedcba9876543210fedc" / "aa" / "aa11"
    for entry in (stuck, gone):
        entry.parent.mkdir(parents=True)
        entry.write_bytes(b"old")
    rmtree = real_shutil.rmtree

    def refuse(path, *args, **kwargs):
        if "charts" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return rmtree(path, *args, **kwargs)

    flat = cache / "extractions" / "cdef"  # an entry of the layout before entries were kept by program
    flat.parent.mkdir(parents=True)
    flat.write_bytes(b"old")
    unlink = Path.unlink

    def refuse_file(path, *args, **kwargs):
        if path == flat:
            raise PermissionError(13, "Permission denied", str(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(real_shutil, "rmtree", refuse)
    monkeypatch.setattr(Path, "unlink", refuse_file)
    artifacts.prune(cache)
    assert stuck.exists() and flat.exists() and not gone.exists()
