"""Each input is hashed once per run: the command hands its hashes to the run's kernel (issue 24)."""

from __future__ import annotations

import os

import pytest

from wennuan_lib.run import manifest


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.delenv(manifest.HASHES_ENV, raising=False)
    manifest.forget_hashes()
    yield
    manifest.forget_hashes()


@pytest.fixture
def counted(monkeypatch, fresh):
    """The files `manifest.sha256` reads (their names), and the real function."""
    hashed = []
    real = manifest.sha256
    monkeypatch.setattr(manifest, "sha256", lambda p: hashed.append(p.name) or real(p))
    return hashed, real


def test_the_kernel_takes_the_commands_hashes_and_hashes_only_a_file_changed_since(
    tmp_path, monkeypatch, counted
):
    hashed, real = counted
    a, b = tmp_path / "甲.xlsx", tmp_path / "乙.docx"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    before = {p: manifest.input_hash(p) for p in (a, b)}  # the command hashes the inbox
    shared = manifest.share_hashes(tmp_path / "hashes.json")

    # the kernel: another process, its own memory; it starts from what the command shared
    manifest._SEEN.clear()
    monkeypatch.setenv(manifest.HASHES_ENV, str(shared))
    hashed.clear()  # what the command hashed
    manifest.forget_hashes()  # what each step does first (context.open_step)
    assert {p: manifest.input_hash(p) for p in (a, b)} == before
    assert hashed == []  # nothing hashed twice

    b.write_bytes(b"second, sent again")  # a unit's new file lands while the run goes on
    os.utime(b, ns=(os.stat(b).st_atime_ns, os.stat(b).st_mtime_ns + 1_000_000_000))
    assert manifest.input_hash(b) == real(b) != before[b]
    assert hashed == ["乙.docx"]


def test_a_shared_record_that_cannot_be_read_means_hashing_as_usual(tmp_path, monkeypatch, fresh):
    f = tmp_path / "甲.xlsx"
    f.write_bytes(b"x")
    broken = tmp_path / "hashes.json"
    broken.write_text("[[1, 2", encoding="utf-8")
    monkeypatch.setenv(manifest.HASHES_ENV, str(broken))
    manifest.forget_hashes()
    assert manifest.input_hash(f) == manifest.sha256(f)
    monkeypatch.setenv(manifest.HASHES_ENV, str(tmp_path / "missing.json"))
    manifest.forget_hashes()
    assert manifest.input_hash(f) == manifest.sha256(f)


def _command(folder, hashed):
    """A command's view of a file's hash: afresh, with the digests the last one kept (run_scope)."""
    manifest.forget_hashes()
    manifest.recall_digests(folder)
    hashed.clear()


def test_an_edit_that_keeps_size_and_time_is_hashed_again_by_the_next_command(tmp_path, monkeypatch, counted):
    hashed, real = counted
    cache = tmp_path / "cache"
    f = tmp_path / "更正.csv"
    f.write_bytes(b"unit,item,value\n1,05.1,5\n")
    monkeypatch.setattr(manifest, "SETTLED_NS", -(10**12))  # as if written long before it was hashed
    _command(cache, hashed)
    first = manifest.input_hash(f)
    manifest.keep_digests(cache)

    _command(cache, hashed)  # the next command: the file as it was is not read again
    assert manifest.input_hash(f) == first and hashed == []
    manifest.keep_digests(cache)

    times = os.stat(f)
    f.write_bytes(b"unit,item,value\n1,05.1,6\n")  # same size; its time set back as `touch -r` would
    os.utime(f, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert os.stat(f).st_size == times.st_size and os.stat(f).st_mtime_ns == times.st_mtime_ns
    _command(cache, hashed)
    assert manifest.input_hash(f) == real(f) != first
    assert hashed == ["更正.csv"]


def test_a_file_hashed_just_after_it_was_written_is_hashed_again(tmp_path, monkeypatch, counted):
    """Within one tick of the file system's clock an edit would keep the change time: a file is kept only
    once it was left alone for SETTLED_NS before it was hashed (or the run wrote it itself)."""
    hashed, _ = counted
    cache = tmp_path / "cache"
    new, written = tmp_path / "甲.xlsx", tmp_path / "审核数据.xlsx"
    new.write_bytes(b"just sent")
    written.write_bytes(b"just made")
    _command(cache, hashed)
    manifest.input_hash(new)
    manifest.input_hash(written, written=True)
    manifest.keep_digests(cache)
    _command(cache, hashed)
    manifest.input_hash(new)
    manifest.input_hash(written)
    assert hashed == ["甲.xlsx"]


def test_kept_digests_that_were_changed_or_damaged_are_not_believed(tmp_path, monkeypatch, counted):
    hashed, real = counted
    cache = tmp_path / "cache"
    f = tmp_path / "甲.xlsx"
    f.write_bytes(b"sent")
    monkeypatch.setattr(manifest, "SETTLED_NS", -(10**12))
    _command(cache, hashed)
    manifest.input_hash(f)
    manifest.keep_digests(cache)
    (entry,) = [p for p in cache.rglob("*") if p.is_file()]
    blob = entry.read_bytes()
    planted = blob.replace(real(f).encode(), b"0" * 64)  # someone writes another digest for the same file
    assert planted != blob
    entry.write_bytes(planted)
    _command(cache, hashed)
    assert manifest.input_hash(f) == real(f) and hashed == ["甲.xlsx"]


def test_a_file_whose_name_is_not_utf8_is_hashed_by_every_command(tmp_path, monkeypatch, counted):
    hashed, _ = counted
    cache = tmp_path / "cache"
    gbk = tmp_path / os.fsdecode("常熟".encode("gbk") + b".xlsx")  # as an archive unpacked on Linux names it
    fine = tmp_path / "太仓.xlsx"
    for f in (gbk, fine):
        f.write_bytes(b"sent")
    monkeypatch.setattr(manifest, "SETTLED_NS", -(10**12))
    _command(cache, hashed)
    digests = [manifest.input_hash(f) for f in (gbk, fine)]
    manifest.keep_digests(cache)  # no UnicodeEncodeError: the run ends as it would have
    _command(cache, hashed)
    assert [manifest.input_hash(f) for f in (gbk, fine)] == digests
    assert hashed == [gbk.name]
