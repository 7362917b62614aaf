"""The README stays true: CI runs its test command; the docs list what the catalog declares; the code stays
lint-clean."""

import json
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


# "No function longer than a screen without a reason" (issue 23): a function of more than LONGEST lines (its
# def to its last line, docstring included) must be listed here with the reason it is long.
LONGEST = 60
LONG_FUNCTIONS = {
    "publish/cjk_justify.py:inter_character": "one patch of WeasyPrint's line justification: the classes its "
    "parts subclass and call are imported inside it, so that a WeasyPrint without them (or none) leaves the "
    "lines ragged instead of failing the import of render",
    "steps/report.py:run": "the steps are being rewired to do no I/O of their own (issue 23 item 3)",
}


def _function_lengths() -> dict[str, int]:
    """{"folder/module.py:Class.function": lines} of every function of the package."""
    import ast

    package = config.ROOT / "wennuan_lib"
    lengths = {}
    for path in sorted(package.rglob("*.py")):
        todo = [(ast.parse(path.read_text(encoding="utf-8")), "")]
        while todo:
            node, prefix = todo.pop()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef):
                        lengths[f"{path.relative_to(package).as_posix()}:{name}"] = (
                            child.end_lineno - child.lineno + 1
                        )
                    todo.append((child, f"{name}."))
    return lengths


def test_no_function_is_longer_than_a_screen_without_a_reason():
    lengths = _function_lengths()
    assert lengths["policy.py:resolve"] < LONGEST  # the walk finds the package's functions by their names
    long = {name: n for name, n in lengths.items() if n > LONGEST and name not in LONG_FUNCTIONS}
    assert not long, f"over {LONGEST} lines: split them, or list them in LONG_FUNCTIONS with why: {long}"


def test_the_step_modules_import_no_jupyter_server_papermill_or_iri_grammar():
    """What a notebook's kernel imports (the run context, every step, the views) stays free of the Jupyter
    server, papermill and jsonschema's IRI grammar (rfc3987_syntax): each costs every process seconds of CPU
    (the grammar alone 1.1 s) that a step never uses. The package's __init__ blocks the grammar; a new import
    that pulls one of them back in fails here."""
    import pkgutil

    steps = [m.name for m in pkgutil.iter_modules([str(config.ROOT / "wennuan_lib" / "steps")])]
    modules = ["wennuan_lib.run.context", *(f"wennuan_lib.steps.{m}" for m in steps), "wennuan_lib.views"]
    assert len(modules) > 4, modules
    probe = (
        f"import importlib, json, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n, mod in sys.modules.items() if mod is not None})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=config.ROOT)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert {"wennuan_lib", "pandas"} <= loaded  # the probe saw the imports it made
    heavy = {"jupyter_server", "papermill", "rfc3987_syntax"}
    assert not loaded & heavy, f"{sorted(loaded & heavy)} imported by {modules}"


def test_the_command_validates_notebooks_without_jsonschemas_optional_format_modules():
    """nbformat validates every notebook papermill reads and writes with jsonschema, which imports a module
    for each string format it can check when that module is installed (0.04 s in every process: the command,
    the kernel, JupyterLab's server); nbformat's schemas use no format. The package's __init__ blocks them:
    the notebooks still validate, and none of them is loaded."""
    probe = (
        "import json, sys, wennuan_lib, nbformat\n"
        "nb = nbformat.read('notebooks/01_ingest.ipynb', as_version=4)\n"
        "nbformat.validate(nb)\n"
        "print(json.dumps(sorted(n for n, mod in sys.modules.items() if mod is not None)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=config.ROOT)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert "jsonschema" in loaded  # the probe validated with it
    formats = {"isoduration", "arrow", "rfc3986_validator", "rfc3339_validator", "webcolors", "uri_template"}
    assert not loaded & formats, sorted(loaded & formats)
