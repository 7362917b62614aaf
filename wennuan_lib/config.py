"""The project's roots (package, notebooks, inputs, outputs) and limits, never relative to the working
directory. Every file under them is named by the catalog (catalog.yaml)."""

from __future__ import annotations

import os
from pathlib import Path

from .textfiles import read_yaml_mapping

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[1]
FORMS_DIR = PACKAGE_DIR / "forms"
NOTEBOOKS_DIR = ROOT / "notebooks"
# Tests and scripts may point the defaults elsewhere; the analyst never needs to.
INPUTS_DIR = Path(os.environ.get("WENNUAN_INPUTS", ROOT / "inputs"))
OUTPUTS_DIR = Path(os.environ.get("WENNUAN_OUTPUTS", ROOT / "outputs"))
KERNEL_NAME = "wennuan"
# Limits on what a submitted file may be: a form is a few hundred KB; anything near these is hostile.
MAX_FILE_BYTES = int(os.environ.get("WENNUAN_MAX_FILE_BYTES", 50 * 2**20))
MAX_INFLATED_BYTES = int(os.environ.get("WENNUAN_MAX_INFLATED_BYTES", 200 * 2**20))


def read_year_config(path: Path, year: int) -> dict:
    """A year's settings (inputs/<year>/year.yaml: form, deadline, city unit, campaign title…); defaults when
    absent. year.yaml may be saved in any encoding Notepad saves; a syntax error is a Chinese message naming
    its line."""
    cfg = {"year": year, "form": str(year), "sample": False}
    if path.exists():
        cfg.update(read_yaml_mapping(path)[0])
    return cfg
