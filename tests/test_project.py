"""The README stays true: CI runs its test command; the code stays lint-clean."""

import re
import subprocess
import sys

from wennuan_lib import config


def readme_commands() -> list[str]:
    text = (config.ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)[:2]


def test_readme_leads_with_two_commands_and_ci_runs_the_test_one():
    run_cmd, test_cmd = readme_commands()
    assert "setup.sh" in run_cmd and "run --year 2013" in run_cmd
    assert "setup.sh" in test_cmd and "pytest" in test_cmd
    ci = (config.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd.strip() in ci


def test_ruff_is_clean():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", str(config.ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in config.NOTEBOOKS_DIR.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == config.KERNEL_NAME
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
