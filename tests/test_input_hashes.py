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


def test_the_kernel_takes_the_commands_hashes_and_hashes_only_a_file_changed_since(
    tmp_path, monkeypatch, fresh
):
    a, b = tmp_path / "甲.xlsx", tmp_path / "乙.docx"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    before = {p: manifest.input_hash(p) for p in (a, b)}  # the command hashes the inbox
    shared = manifest.share_hashes(tmp_path / "hashes.json")

    # the kernel: another process, its own memory; it starts from what the command shared
    manifest._SEEN.clear()
    monkeypatch.setenv(manifest.HASHES_ENV, str(shared))
    hashed = []
    real = manifest.sha256
    monkeypatch.setattr(manifest, "sha256", lambda p: hashed.append(p.name) or real(p))
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
