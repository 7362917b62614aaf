"""The suite's own machinery (tests/conftest.py): shared fixtures made once, split between the workers."""

import pytest

from .conftest import made_once, share


def test_the_shared_fixtures_are_split_longest_first_each_made_by_one_worker():
    costs = {"sample": 40.0, "three": 30.0, "slip": 20.0, "tiny": 10.0}
    assert share(costs, costs, 2) == [["sample", "tiny"], ["three", "slip"]]
    assert share(["b", "a", "c"], {}, 2) == [["a", "c"], ["b"]]  # never timed: 1 s each, by name
    assert share(["a", "b"], {"b": 5.0}, 3) == [["b"], ["a"], []]
    assert share(costs, costs, 1) == [["sample", "three", "slip", "tiny"]]


class _Factory:
    """What made_once uses of pytest's tmp_path_factory, in a folder of this test's own."""

    def __init__(self, base):
        self.base = base

    def getbasetemp(self):
        return self.base


def test_a_shared_fixture_made_once_and_a_failure_told_to_the_other_workers(tmp_path):
    factory = _Factory(tmp_path / "base")
    made = []

    def make(folder):
        made.append(folder)
        (folder / "x").write_text("made", encoding="utf-8")
        return {"folder": folder}

    first = made_once(factory, "gw0", "thing", make)
    again = made_once(factory, "gw1", "thing", make)  # the other worker reads what the first made
    assert first == again and made == [tmp_path / "thing"] and (tmp_path / "thing" / "x").is_file()

    def broken(folder):
        raise ValueError("no LibreOffice")

    with pytest.raises(ValueError):
        made_once(factory, "gw0", "broken", broken)
    with pytest.raises(pytest.fail.Exception, match="no LibreOffice"):  # not made again, not FileExistsError
        made_once(factory, "gw1", "broken", broken)
