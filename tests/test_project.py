"""The README stays true: CI runs its test command; the docs list what the catalog declares; the code stays
lint-clean."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat

from wennuan_lib.base import catalog, config


def readme_commands() -> list[str]:
    text = (config.ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)[:2]


def test_readme_leads_with_two_commands_and_ci_runs_the_test_one():
    run_cmd, test_cmd = readme_commands()
    assert "setup.sh" in run_cmd and "run --year 2013" in run_cmd
    assert "setup.sh" in test_cmd and "pytest" in test_cmd
    ci = (config.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd.strip() in ci


def test_docs_tables_of_what_is_read_and_made_are_the_catalog():
    """The analyst's reference of files (docs/reference-outputs.md) lists exactly what the catalog declares:
    a dataset added or renamed shows up there."""
    text = (config.ROOT / "docs" / "reference-outputs.md").read_text(encoding="utf-8")
    listed = re.search(r"<!-- catalog:begin -->\n(.*?)\n<!-- catalog:end -->", text, re.S)
    assert listed, "docs/reference-outputs.md has no catalog tables"
    assert listed.group(1).strip() == catalog.markdown().strip(), (
        "docs/reference-outputs.md 的表与 catalog.yaml 不符：运行 python -m wennuan_lib docs"
    )
    for ds in catalog.load().datasets.values():
        assert f"`{ds.path}" in listed.group(1), ds.name


def test_every_error_of_the_program_derives_from_one_base_and_is_shown_as_is():
    """One exception base class (errors.WennuanError), the Chinese message as data: every public exception
    class of the package derives from it; `explain` shows its message as it is (no class-name matching)."""
    import importlib
    import pkgutil

    import wennuan_lib
    from wennuan_lib import errors

    classes = {}
    for info in pkgutil.walk_packages(wennuan_lib.__path__, "wennuan_lib."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                if not name.startswith("_"):  # a private signal inside one module is not the analyst's error
                    classes[name] = obj
    assert len(classes) >= 13
    assert not [n for n, c in classes.items() if not issubclass(c, errors.WennuanError)]
    assert not hasattr(errors, "EXPECTED")
    for name in ("FontMissing", "LockTimeout", "PipelineError"):
        said = errors.explain(classes[name]("没有找到中文字体，请运行 bash setup.sh"))
        assert said == "没有找到中文字体，请运行 bash setup.sh"


def test_ruff_is_clean():
    """Lint and layout, with ruff's cache kept out of the checkout (--no-cache)."""
    cache = config.ROOT / ".ruff_cache"
    had_cache = cache.exists()
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(config.ROOT)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout
    laid_out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", str(config.ROOT)],
        capture_output=True,
        text=True,
    )
    assert laid_out.returncode == 0, laid_out.stdout
    assert had_cache or not cache.exists()


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
        assert f'run_step("{step.name}"' in "".join(c.source for c in nb.cells), step.notebook


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


# The package in folders by job, from the bottom up: each imports only what stands on its own floor or below.
FLOORS = [
    {"errors", "vocab", "__init__"},
    {"base"},
    {"policy", "form"},
    {"read"},
    {"check"},
    {"publish"},
    {"run"},
    {"steps", "views"},
    {"reference", "cli", "__main__"},
]


def test_the_package_is_in_folders_by_job_and_no_import_runs_back_up():
    import ast

    floor = {name: k for k, names in enumerate(FLOORS) for name in names}
    package = config.ROOT / "wennuan_lib"
    up = []
    for path in package.rglob("*.py"):
        part = path.relative_to(package).parts[0].removesuffix(".py")
        assert part in floor, f"{path}: a folder or module not placed on a floor"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                up.append(f"{path}: relative import")  # imports are absolute, so a move cannot change them
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wennuan_lib"):
                names = (
                    [f"{node.module}.{a.name}" for a in node.names]
                    if node.module == "wennuan_lib"
                    else [node.module]
                )
            for name in names:
                target = name.split(".")[1]
                if target in floor and floor[target] > floor[part]:
                    up.append(f"{path.relative_to(config.ROOT)} imports {name}")
    assert not up, up
