"""The README stays true: CI runs its test command; the code stays lint-clean."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat

from wennuan_lib import catalog, config


def readme_commands() -> list[str]:
    text = (config.ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)[:2]


def test_readme_leads_with_two_commands_and_ci_runs_the_test_one():
    run_cmd, test_cmd = readme_commands()
    assert "setup.sh" in run_cmd and "run --year 2013" in run_cmd
    assert "setup.sh" in test_cmd and "pytest" in test_cmd
    ci = (config.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd.strip() in ci


def test_readme_tables_of_what_is_read_and_made_are_the_catalog():
    """The analyst's guide lists exactly what the catalog declares:
    a dataset added or renamed shows up there."""
    text = (config.ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"<!-- catalog:begin -->\n(.*?)\n<!-- catalog:end -->", text, re.S)
    assert listed, "README.md has no catalog tables"
    assert listed.group(1).strip() == catalog.markdown().strip(), (
        "README 的表与 catalog.yaml 不符：运行 python -m wennuan_lib catalog"
    )
    for ds in catalog.load().datasets.values():
        assert f"`{ds.path}" in listed.group(1), ds.name


def test_ruff_is_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(config.ROOT)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout
    laid_out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(config.ROOT)], capture_output=True, text=True
    )
    assert laid_out.returncode == 0, laid_out.stdout


def test_notebooks_are_committed_without_outputs():
    for path in config.NOTEBOOKS_DIR.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == config.KERNEL_NAME
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


def test_every_step_is_a_notebook_with_the_same_parameters():
    for step in catalog.steps():
        nb = nbformat.read(config.NOTEBOOKS_DIR / step.notebook, as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for name in ("year", "inputs_dir", "outputs_dir", "run_dir"):
            assert re.search(rf"^{name} = ", params.source, re.M), (step.notebook, name)
        assert f'open_step("{step.name}"' in "".join(c.source for c in nb.cells), step.notebook


def _python_sources():
    return list((config.ROOT / "wennuan_lib").rglob("*.py"))


def test_no_output_file_name_outside_the_catalog():
    names = {Path(d.path).name for d in catalog.datasets() if d.kind == "file"}
    found = [(p.name, n) for p in _python_sources() for n in names if n in p.read_text(encoding="utf-8")]
    assert not found


def test_no_item_code_in_python_outside_the_form_policy_and_tests():
    code = re.compile(r"""["'](\d\d[A-Z]?\.\d)["']""")
    found = [
        (p.name, m.group(1)) for p in _python_sources() for m in code.finditer(p.read_text(encoding="utf-8"))
    ]
    assert not found
