"""outputs/<year>/data/manifest.json: what a run read and what it produced, by sha256.

`verify` recomputes it and names every input that changed, appeared or disappeared since the
run, and every output that no longer matches.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from . import config, store
from .form import form_path

PACKAGES = ["wennuan", "pandas", "openpyxl", "python-docx", "xlrd", "cn2an", "matplotlib", "Jinja2", "weasyprint",
            "papermill", "defusedxml"]
# Outputs whose bytes depend only on the inputs (reports carry a generation date and are listed by name).
HASHED = ["data/*.csv", "feedback/*.xlsx", "report/*.xlsx", "report/charts/*.png"]
LISTED = ["report/书面总结.html", "report/书面总结.pdf", "report/书面总结.docx", "notebooks/*.ipynb"]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def inputs_of(paths: config.YearPaths) -> dict[str, str]:
    """Every file the year's outputs depend on: the inbox, the analyst's files, the registry, the
    form file, and the previous year's results that the history checks and 同比 read."""
    cfg = config.load_year_config(paths)
    files: dict[str, Path] = {}
    if paths.inbox.is_dir():
        for p in sorted(paths.inbox.rglob("*")):
            if p.is_file():
                files[f"{paths.year}/submissions/{p.relative_to(paths.inbox).as_posix()}"] = p
    for name in ("year.yaml", "corrections.csv", "waivers.csv", "narrative.md"):
        if (paths.year_inputs / name).exists():
            files[f"{paths.year}/{name}"] = paths.year_inputs / name
    if paths.registry.exists():
        files["units.csv"] = paths.registry
    form_file = form_path(cfg["form"])
    if form_file.exists():
        files[f"forms/{form_file.name}"] = form_file
    previous = config.year_paths(paths.year - 1, paths.inputs, paths.outputs)
    for name in ("values.csv", "totals.csv"):
        if (previous.data / name).exists():
            files[f"上年结果/{previous.year}/{name}"] = previous.data / name
    return {k: sha256(v) for k, v in sorted(files.items())}


def outputs_of(paths: config.YearPaths) -> tuple[dict[str, str], list[str]]:
    root = paths.year_outputs
    hashed = {p.relative_to(root).as_posix(): sha256(p) for pattern in HASHED for p in sorted(root.glob(pattern))
              if p.name != "manifest.json"}
    listed = [p.relative_to(root).as_posix() for pattern in LISTED for p in sorted(root.glob(pattern))]
    return dict(sorted(hashed.items())), listed


def build(paths: config.YearPaths) -> dict:
    from .form import load_form

    cfg = config.load_year_config(paths)
    form = load_form(cfg["form"])
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    hashed, listed = outputs_of(paths)
    return {"year": paths.year, "form": form.form, "form_version": form.version,
            "python": platform.python_version(), "packages": versions,
            "inputs": inputs_of(paths), "outputs": hashed, "reports": listed}


def write(paths: config.YearPaths) -> Path:
    path = paths.data / "manifest.json"
    text = json.dumps(build(paths), ensure_ascii=False, indent=1, sort_keys=False) + "\n"
    store.atomic_write_bytes(path, text.encode("utf-8"))
    return path


def load(paths: config.YearPaths) -> dict | None:
    path = paths.data / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _diff(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    return changed, sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())


def verify(paths: config.YearPaths) -> tuple[bool, list[str]]:
    """Whether the outputs still match the inputs they were made from; Chinese lines saying why not."""
    saved = load(paths)
    if saved is None:
        return False, [f"{paths.year}年还没有运行过（没有 {paths.data / 'manifest.json'}），请先运行 run --year {paths.year}"]
    lines = []
    changed, added, removed = _diff(saved["inputs"], inputs_of(paths))
    lines += [f"输入文件已修改：{k}" for k in changed]
    lines += [f"输入文件是新增的：{k}" for k in added]
    lines += [f"输入文件已删除：{k}" for k in removed]
    hashed, _ = outputs_of(paths)
    o_changed, o_added, o_removed = _diff(saved["outputs"], hashed)
    lines += [f"输出文件与运行时不同：{k}" for k in o_changed]
    lines += [f"输出文件是运行后新增的：{k}" for k in o_added]
    lines += [f"输出文件缺失：{k}" for k in o_removed]
    return not lines, lines
