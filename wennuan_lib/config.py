"""Every path the project uses, rooted at the package, never at the working directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
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
# The notebooks of the pipeline, run in this order by `run`.
PIPELINE_NOTEBOOKS = ["01_ingest.ipynb", "02_clean.ipynb", "03_reconcile.ipynb", "04_report.ipynb"]
STEP_LABELS = {"01_ingest.ipynb": "读取收件箱", "02_clean.ipynb": "更正与审核", "03_reconcile.ipynb": "报送情况与反馈",
               "04_report.ipynb": "汇总与书面总结"}


@dataclass(frozen=True)
class YearPaths:
    """The files of one reporting year, by data layer."""

    year: int
    inputs: Path
    outputs: Path

    @property
    def year_inputs(self) -> Path:
        return self.inputs / str(self.year)

    @property
    def inbox(self) -> Path:  # raw layer: what the units sent, never modified
        return self.year_inputs / "submissions"

    @property
    def registry(self) -> Path:
        return self.inputs / "units.csv"

    @property
    def year_config(self) -> Path:
        return self.year_inputs / "year.yaml"

    @property
    def year_outputs(self) -> Path:
        return self.outputs / str(self.year)

    @property
    def data(self) -> Path:
        return self.year_outputs / "data"

    @property
    def notebooks(self) -> Path:
        return self.year_outputs / "notebooks"

    @property
    def work(self) -> Path:  # scratch space, e.g. .doc converted by LibreOffice
        return self.year_outputs / "work"


def year_paths(year: int, inputs: str | Path | None = None, outputs: str | Path | None = None) -> YearPaths:
    return YearPaths(
        int(year),
        Path(inputs).resolve() if inputs else INPUTS_DIR,
        Path(outputs).resolve() if outputs else OUTPUTS_DIR,
    )


def load_year_config(paths: YearPaths) -> dict:
    """The year's settings (deadline, form, city unit, campaign title); defaults when absent. year.yaml
    may be saved in any encoding Notepad saves; a syntax error is a Chinese message naming its line."""
    cfg = {"year": paths.year, "form": str(paths.year), "sample": False}
    if paths.year_config.exists():
        cfg.update(read_yaml_mapping(paths.year_config)[0])
    return cfg


def years_present(inputs: Path | None = None) -> list[int]:
    """The years with an inbox under inputs/, in order."""
    root = Path(inputs) if inputs else INPUTS_DIR
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / "submissions").is_dir()) \
        if root.is_dir() else []
