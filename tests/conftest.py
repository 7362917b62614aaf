import hashlib
import shutil
from pathlib import Path

import pytest

from wennuan_lib import clean, config, ingest, manifest, reconcile, report, sample, trends
from wennuan_lib.form import load_form

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
YEARS = (2011, 2012, 2013)


def tree_hash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def form():
    return load_form(2013)


@pytest.fixture(scope="session")
def sample_years(tmp_path_factory):
    """The sample's 2011–2013, generated with the default seed and run through every step in order."""
    root = tmp_path_factory.mktemp("sample")
    truths = {y: sample.generate(root / "inputs", y, 2013) for y in YEARS}
    before = tree_hash(root / "inputs")
    results = {}
    for y in YEARS:
        paths = config.year_paths(y, root / "inputs", root / "outputs")
        frames = ingest.run(paths)
        frames["read_values"] = frames.pop("values")  # as read, before corrections
        frames.update(clean.run(paths))
        frames.update(reconcile.run(paths))
        frames["report"] = report.run(paths)
        manifest.write(paths)
        results[y] = (truths[y], paths, frames)
    trends.build(root / "inputs", root / "outputs")
    return results, before


@pytest.fixture(scope="session")
def sample_run(sample_years):
    """2013 of the sample: truth, paths, frames of every step, and the inputs' hash before any run."""
    results, before = sample_years
    truth, paths, frames = results[2013]
    return truth, paths, frames, before


@pytest.fixture
def year_dir(tmp_path):
    """An empty year: registry copied from the sample, empty inbox."""
    inputs = tmp_path / "inputs"
    (inputs / "2013" / "submissions").mkdir(parents=True)
    shutil.copy(ROOT / "inputs" / "units.csv", inputs / "units.csv")
    return config.year_paths(2013, inputs, tmp_path / "outputs")
