"""What a run read and what it made, by sha256 (the manifest dataset),
and `verify`: do the outputs still match?

Also the fingerprints the pipeline uses to skip a step: a step is done again only when something it reads —
a raw file, a dataset of an earlier step, the previous year's results — or the program itself changed.
Nothing here imports pandas: deciding that nothing changed must stay fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import stat
from functools import cache
from importlib import metadata
from pathlib import Path

from . import catalog, config
from .files import atomic_write_bytes
from .form import form_path
from .policy import POLICY_FILE

PACKAGES = [
    "wennuan",
    "pandas",
    "openpyxl",
    "python-docx",
    "xlrd",
    "cn2an",
    "matplotlib",
    "Jinja2",
    "weasyprint",
    "papermill",
    "defusedxml",
    "python-calamine",
]
FORMAT = 2  # the manifest's own format; an older one is reported as such
# A step that reads `run_date:year_config` depends on the day it runs unless year.yaml sets this (step 03: the
# feedback workbooks' deadline counts from the run's date when year.yaml gives none).
RUN_DATE_UNLESS = "feedback_deadline"


class ManifestError(ValueError):
    """A manifest that is missing, damaged or from an older version; Chinese message."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree(folder: Path, prefix: str) -> dict[str, str]:
    """Every entry under `folder`, by its path: regular files by content; links, pipes and devices by what
    they are (never followed, never opened)."""
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            path = os.path.join(top, name)
            rel = prefix + Path(path).relative_to(folder).as_posix().encode(
                "utf-8", "surrogateescape"
            ).decode("utf-8", "backslashreplace")
            try:
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    out[rel] = sha256(Path(path))
                elif stat.S_ISLNK(st.st_mode):
                    out[rel] = "link:" + os.readlink(path)
                else:
                    out[rel] = f"special:{stat.S_IFMT(st.st_mode)}"
            except OSError as exc:
                out[rel] = f"unreadable:{exc.errno}"
    return out


@cache
def code_fingerprint() -> str:
    """The program itself: the package's code, forms, policy and templates, the notebooks,
    Python and libraries."""
    h = hashlib.sha256(platform.python_version().encode())
    for root in (config.PACKAGE_DIR, config.NOTEBOOKS_DIR):
        for path in sorted(root.rglob("*")):
            if (
                path.is_file()
                and path.suffix in (".py", ".yaml", ".j2", ".ipynb", ".css")
                and "__pycache__" not in path.parts
            ):
                h.update(path.relative_to(root).as_posix().encode())
                h.update(path.read_bytes())
    for name, version in package_versions().items():
        h.update(f"{name}={version}".encode())
    return h.hexdigest()[:20]


@cache
def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def dataset_hashes(run_dir: Path, ds: catalog.Dataset) -> dict[str, str]:
    return {
        p.relative_to(run_dir).as_posix(): (sha256(p) if ds.hashed else "")
        for p in catalog.files_in(run_dir, ds)
    }


def raw_hashes(workspace, name: str, year: int | None) -> dict[str, str]:
    path = workspace.raw(name, year)
    rel = path.relative_to(workspace.inputs).as_posix()
    if catalog.raw(name).kind == "folder":
        return tree(path, rel + "/")
    return {rel: sha256(path)} if path.is_file() else {}


def other_year_hashes(workspace, year: int, name: str, label: str) -> dict[str, str]:
    current = workspace.scope(year).current()
    ds = catalog.dataset(name) if name in catalog.load().datasets else None
    if ds is None:  # a raw file of that year (years:year_config)
        return {f"{label}/{k}": v for k, v in raw_hashes(workspace, name, year).items()}
    if current is None:
        return {}
    return {f"{label}/{k}": v for k, v in dataset_hashes(current, ds).items()}


def run_date() -> dt.date:
    """The day of the run (StepContext.run_date)."""
    return dt.date.today()


def step_inputs(step: catalog.Step, workspace, year: int | None, made: dict[str, str]) -> dict[str, str]:
    """Everything `step` reads, each with its hash: raw files, datasets of this run (`made`: path → hash),
    other years' results, and the run's date when the step depends on it (`run_date:year_config`)."""
    out: dict[str, str] = {}
    for read in step.reads:
        kind, _, name = read.rpartition(":")
        if kind == "run_date":
            if not workspace.year_config(year).get(RUN_DATE_UNLESS):
                out["运行日期"] = run_date().isoformat()
        elif kind == "previous":
            out.update(other_year_hashes(workspace, year - 1, name, f"上年结果/{year - 1}"))
        elif kind == "years":
            for y in workspace.years():
                if year is None or y < year:
                    out.update(other_year_hashes(workspace, y, name, f"{y}年结果"))
        elif name in catalog.load().raw:
            out.update(raw_hashes(workspace, name, year))
        else:
            ds = catalog.dataset(name)
            prefix = ds.path + ("/" if ds.kind == "folder" else "")
            out.update({k: v for k, v in made.items() if k == ds.path or k.startswith(prefix)})
    return dict(sorted(out.items()))


def fingerprint(step: catalog.Step, inputs: dict[str, str], year: int | None) -> str:
    h = hashlib.sha256(f"{step.name}\0{year}\0{code_fingerprint()}\0".encode())
    h.update(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def form_files(workspace, years: list[int]) -> dict[str, str]:
    """The form and policy files the outputs were made by (listed among the inputs, for `verify`)."""
    out = {"policy.yaml": sha256(POLICY_FILE)}
    for y in years:
        path = form_path(workspace.year_config(y)["form"])
        if path.exists():
            out[f"forms/{path.name}"] = sha256(path)
    return out


def build(scope, run_dir: Path, inputs: dict[str, str], form=None) -> dict:
    outputs = {}
    for ds in catalog.datasets(scope.kind):
        if ds.hashed and ds.name not in ("manifest", "trend_manifest"):
            outputs.update(dataset_hashes(run_dir, ds))
    data = {"format": FORMAT, "scope": str(scope.key)}
    if form is not None:
        data.update({"form": form.form, "form_version": form.version, "policy_version": form.policy.version})
    data.update(
        {
            "python": platform.python_version(),
            "packages": package_versions(),
            "inputs": dict(sorted(inputs.items())),
            "outputs": dict(sorted(outputs.items())),
        }
    )
    return data


def manifest_dataset(scope) -> catalog.Dataset:
    return catalog.dataset("manifest" if scope.kind == catalog.YEAR else "trend_manifest")


def write(scope, run_dir: Path, inputs: dict[str, str], form=None) -> Path:
    path = run_dir / manifest_dataset(scope).path
    text = json.dumps(build(scope, run_dir, inputs, form), ensure_ascii=False, indent=1) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def load(scope, run_dir: Path | None = None) -> dict:
    """The manifest of a run (the current one by default), or a Chinese ManifestError saying what to do."""
    run_dir = run_dir or scope.current()
    again = (
        f"请重新运行 {config.program()} run "
        f"{'--all' if scope.kind == catalog.TRENDS else f'--year {scope.key}'}"
    )
    if run_dir is None:
        raise ManifestError(f"{scope.label}还没有运行过（{scope.root} 中没有完整的运行结果）。{again}")
    path = run_dir / manifest_dataset(scope).path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"找不到运行记录 {path}。{again}") from None
    except (OSError, ValueError, UnicodeDecodeError):
        raise ManifestError(f"运行记录 {path} 已损坏（可能被截断或改动过）。{again}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not all(isinstance(data.get(k), dict) for k in ("inputs", "outputs"))
    ):
        raise ManifestError(f"运行记录 {path} 是旧版本程序写的，或内容不完整。{again}")
    return data


def _diff(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    return changed, sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())


def all_inputs(workspace, scope) -> dict[str, str]:
    """Every raw file and other year's result the scope's steps read, and the form and policy files."""
    year = scope.key if scope.kind == catalog.YEAR else None
    out: dict[str, str] = {}
    for step in catalog.steps(scope.kind):
        out.update(step_inputs(step, workspace, year, {}))
    years = [year] if year is not None else workspace.years()
    out.update(form_files(workspace, years))
    return dict(sorted(out.items()))


def verify(workspace, scope) -> tuple[bool, list[str]]:
    """Whether the current outputs still match the inputs they were made from, and the sent copies their
    checksums; Chinese lines saying what differs."""
    # import cycle (freeze imports this module), and pandas (0.27 s): only `verify` and `status` need it
    from . import freeze

    try:
        saved = load(scope)
    except ManifestError as exc:
        return False, [str(exc)]
    lines = []
    changed, added, removed = _diff(saved["inputs"], all_inputs(workspace, scope))
    lines += [f"输入文件已修改：{k}" for k in changed]
    lines += [f"输入文件是新增的：{k}" for k in added]
    lines += [f"输入文件已删除：{k}" for k in removed]
    run_dir = scope.current()
    now = {}
    for ds in catalog.datasets(scope.kind):
        if ds.hashed and ds.name not in ("manifest", "trend_manifest"):
            now.update(dataset_hashes(run_dir, ds))
    o_changed, o_added, o_removed = _diff(saved["outputs"], now)
    lines += [f"输出文件与运行时不同：{k}" for k in o_changed]
    lines += [f"输出文件是运行后新增的：{k}" for k in o_added]
    lines += [f"输出文件缺失：{k}" for k in o_removed]
    if scope.kind == catalog.YEAR:
        lines += freeze.check_sent(scope)
    return not lines, lines
