import hashlib
import shutil
from pathlib import Path

import pytest

from wennuan_lib import config, ingest, sample
from wennuan_lib.form import load_form

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def tree_hash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def form():
    return load_form(2013)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """A sample year generated with the default seed, ingested once; with its truth."""
    root = tmp_path_factory.mktemp("sample")
    truth = sample.generate(root / "inputs", 2013, 2013)
    paths = config.year_paths(2013, root / "inputs", root / "outputs")
    before = tree_hash(root / "inputs")
    frames = ingest.run(paths)
    return truth, paths, frames, before


@pytest.fixture
def year_dir(tmp_path):
    """An empty year: registry copied from the sample, empty inbox."""
    inputs = tmp_path / "inputs"
    (inputs / "2013" / "submissions").mkdir(parents=True)
    shutil.copy(ROOT / "inputs" / "units.csv", inputs / "units.csv")
    return config.year_paths(2013, inputs, tmp_path / "outputs")
