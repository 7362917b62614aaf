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
import time
from functools import cache
from importlib import metadata
from pathlib import Path

from wennuan_lib.base import catalog, config
from wennuan_lib.base.artifacts import Artifacts, code_hash
from wennuan_lib.base.files import (
    atomic_write_bytes,
    sha256,  # noqa: F401 (manifest.sha256)
)
from wennuan_lib.errors import WennuanError
from wennuan_lib.form import form_path
from wennuan_lib.policy import POLICY_FILE

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


class ManifestError(WennuanError, ValueError):
    """A manifest that is missing, damaged or from an older version; Chinese message."""


_SEEN: dict[tuple, str] = {}
# Digests kept from one command to the next, as Bazel's digest cache and git's index keep them: a file whose
# device, inode, size, modification and change times are all as they were when it was hashed is not read again
# (3,000 units: the inbox and the last run's files, 160 MiB, about 0.3 s of a run with nothing to do). No
# program can set a file's change time (ctime) back: any write, rename or `touch -r` moves it to the clock's
# now. So an edit always shows, but for one made within the same tick of the file system's clock as the
# hashing: a file is kept only when it was left alone for SETTLED_NS before it was hashed (its later edit then
# has a later change time whatever the clock's tick), or when this run wrote it itself. FAT and exFAT keep no
# real change time: there `run --force` hashes every file afresh (recall_digests, docs/run.md).
SETTLED_NS = 3_000_000_000
_KEPT: dict[str, list] = {}  # path → [device, inode, size, mtime_ns, ctime_ns, sha256], recalled
_SETTLED: dict[str, list] = {}  # the same, for this command's files that may be kept
_USED: set[str] = set()  # the paths this scope looked at: what `keep_digests` keeps
MEMO = "digests"


def _signature(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def input_hash(path: Path | str, written: bool = False) -> str:
    """The sha256 of a file, computed once per command for a file left as it was (same size, modification
    time and inode): deciding what is up to date reads every earlier year's inputs for several steps; and not
    at all for a file the last commands hashed that is exactly as it was then (`recall_digests`). `written`:
    the run has just written it (its own folder, under the year's lock). `forget_hashes` starts afresh (each
    command, each notebook run by hand)."""
    st = os.stat(path)
    where = str(path)
    key = (where, st.st_size, st.st_mtime_ns, st.st_ino)
    digest = _SEEN.get(key)
    if digest is None:
        signature = _signature(st)
        kept = _KEPT.get(where)
        if kept is not None and kept[:5] == signature:
            digest, settled = kept[5], True
        else:
            began = time.time_ns()
            digest = sha256(Path(path))
            settled = written or max(st.st_mtime_ns, st.st_ctime_ns) < began - SETTLED_NS
        _SEEN[key] = digest
        if settled:
            _SETTLED[where] = [*signature, digest]
        else:
            _SETTLED.pop(where, None)
    if where in _SETTLED:
        _USED.add(where)
    return digest


def _memo(folder: Path):
    store = Artifacts(folder, MEMO)
    return store, store.key(MEMO)


def _storable(where: str) -> bool:
    """Whether a path can be kept: one whose name is not UTF-8 (a unit's file named in GBK, unpacked as
    bytes) is hashed by every command instead."""
    try:
        where.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def recall_digests(folder: Path, trust: bool = True) -> None:
    """Before a scope's run: the digests its last run kept in its cache folder (`keep_digests`). An entry
    that is missing, damaged, unsigned or made by another program is none: the files are hashed. Not
    `trust` (`run --force`): none, every file is hashed afresh (and the digests kept again)."""
    _KEPT.clear()
    _USED.clear()
    if not trust:
        return
    store, key = _memo(folder)
    kept = store.get_json(key)
    if isinstance(kept, dict):
        _KEPT.update({k: v for k, v in kept.items() if isinstance(v, list) and len(v) == 6})


def keep_digests(folder: Path) -> None:
    """After a scope's run: keep the digests of the files it looked at, for the next command (written only
    when they differ from those recalled)."""
    keep = {where: _SETTLED[where] for where in sorted(_USED) if where in _SETTLED and _storable(where)}
    if keep != _KEPT:
        store, key = _memo(folder)
        store.put_json(key, keep)


# The command's hashes, handed to the run's kernel (Kernel.run writes them, forget_hashes reads them), so that
# step 01 does not hash the inbox again: an entry holds only while the file keeps its size, time and inode.
HASHES_ENV = "WENNUAN_INPUT_HASHES"


def share_hashes(path: Path) -> Path:
    """Write this command's input hashes to `path` (JSON) for another process (see HASHES_ENV)."""
    rows = [[*key, digest] for key, digest in _SEEN.items()]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def forget_hashes() -> None:
    """Start afresh: from nothing, or from the hashes the command that started this kernel shared."""
    _SEEN.clear()
    _KEPT.clear()
    _SETTLED.clear()
    _USED.clear()
    shared = os.environ.get(HASHES_ENV)
    if not shared:
        return
    try:
        rows = json.loads(Path(shared).read_text(encoding="utf-8"))
        _SEEN.update({(str(r[0]), int(r[1]), int(r[2]), int(r[3])): str(r[4]) for r in rows})
    except (OSError, ValueError, TypeError, IndexError):  # not shared after all: hash as usual
        _SEEN.clear()


def tree(folder: Path, prefix: str) -> dict[str, str]:
    """Every entry under `folder`, by its path: regular files by content; links, pipes and devices by what
    they are (never followed, never opened)."""
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        # the folder's own path relative to `folder`, once (3,000 files: a Path each cost 0.04 s)
        here = Path(top).relative_to(folder).as_posix()
        here = "" if here == "." else here + "/"
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            path = os.path.join(top, name)
            rel = prefix + (here + name).encode("utf-8", "surrogateescape").decode(
                "utf-8", "backslashreplace"
            )
            try:
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    out[rel] = input_hash(path)
                elif stat.S_ISLNK(st.st_mode):
                    out[rel] = "link:" + os.readlink(path)
                else:
                    out[rel] = f"special:{stat.S_IFMT(st.st_mode)}"
            except OSError as exc:
                out[rel] = f"unreadable:{exc.errno}"
    return out


@cache
def code_fingerprint() -> str:
    """The program itself: the whole package (`artifacts.code_hash`: its code, forms, policy and templates,
    Python and every installed library) and the step notebooks as the pipeline runs them — their cells'
    kind, source and tags only. What JupyterLab adds when the analyst opens or saves a notebook (outputs,
    execution counts, metadata, .ipynb_checkpoints/) is not a change of program."""
    h = hashlib.sha256(code_hash().encode())
    for step in catalog.steps():
        h.update(step.notebook.encode() + b"\0")
        h.update(notebook_program(config.NOTEBOOKS_DIR / step.notebook).encode("utf-8"))
    return h.hexdigest()[:20]


def notebook_program(path: Path) -> str:
    """What of a notebook the pipeline runs: each cell's kind, tags and source (a notebook that cannot be
    read is its bytes, so that its change still counts)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return json.dumps(
            [[c["cell_type"], c.get("metadata", {}).get("tags", []), "".join(c["source"])] for c in cells],
            ensure_ascii=False,
        )
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return path.read_bytes().hex()
        except OSError:
            return "missing"


@cache
def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def dataset_hashes(run_dir: Path, ds: catalog.Dataset, written: bool = False) -> dict[str, str]:
    """A dataset's files in a run folder with their sha256 (`written`: the run has just written them)."""
    return {
        p.relative_to(run_dir).as_posix(): (input_hash(p, written) if ds.hashed else "")
        for p in catalog.files_in(run_dir, ds)
    }


def raw_hashes(workspace, name: str, year: int | None) -> dict[str, str]:
    path = workspace.raw(name, year)
    rel = path.relative_to(workspace.inputs).as_posix()
    if catalog.raw(name).kind == "folder":
        return tree(path, rel + "/")
    return {rel: input_hash(path)} if path.is_file() else {}


def earlier_inputs(step: catalog.Step, workspace, year: int | None) -> dict[str, str]:
    """What the other years' results a step reads are made from: those years' files under inputs/ (which
    files, and whether those results reach further back, derived from the catalog's reads). Never the
    results under outputs/: whether another year was run changes nothing here."""
    years: set[int] = set()
    names: set[str] = set()
    present = workspace.years()
    before = {y for y in present if year is None or y < year}
    for read in step.reads:
        kind, _, name = read.rpartition(":")
        if kind not in ("previous", "years"):
            continue
        raws, further = (frozenset([name]), False) if name in catalog.load().raw else catalog.depends_on(name)
        names |= raws
        years |= ({year - 1} if kind == "previous" else before) | (before if further else set())
    out: dict[str, str] = {}
    own = set(catalog.year_raw())
    for y in sorted(years & set(present)):
        for name in sorted(names):
            out.update(raw_hashes(workspace, name, y if name in own else None))
    return out


def run_date() -> dt.date:
    """The day of the run (StepContext.run_date)."""
    return dt.date.today()


def step_inputs(step: catalog.Step, workspace, year: int | None, made: dict[str, str]) -> dict[str, str]:
    """Everything `step` reads, each with its hash: raw files, datasets of this run (`made`: path → hash),
    the inputs other years' results are made from (`earlier_inputs`), and the run's date when the step
    depends on it (`run_date:year_config`)."""
    out: dict[str, str] = {}
    for read in step.reads:
        kind, _, name = read.rpartition(":")
        if kind == "run_date":
            if not workspace.year_config(year).get(RUN_DATE_UNLESS):
                out["运行日期"] = run_date().isoformat()
        elif kind in ("previous", "years"):
            continue  # below, once for all of them
        elif name in catalog.load().raw:
            out.update(raw_hashes(workspace, name, year))
        else:
            ds = catalog.dataset(name)
            prefix = ds.path + ("/" if ds.kind == "folder" else "")
            out.update({k: v for k, v in made.items() if k == ds.path or k.startswith(prefix)})
    out.update(earlier_inputs(step, workspace, year))
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


def read_record(run_dir: Path | None, scope) -> dict:
    """A run's record (the run_record dataset): each step's fingerprint, inputs and files; {} when missing
    or damaged."""
    if run_dir is None:
        return {}
    ds = catalog.dataset("run_record" if scope.kind == catalog.YEAR else "trend_run_record")
    try:
        data = json.loads((run_dir / ds.path).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) and isinstance(data.get("steps"), dict) else {}
    except (OSError, ValueError):
        return {}


def made_in(run_dir: Path, scope) -> dict[str, str]:
    """Every dataset file of a run folder, by path, with its hash."""
    made: dict[str, str] = {}
    for ds in catalog.datasets(scope.kind):
        made.update(dataset_hashes(run_dir, ds))
    return made


def step_label(step: catalog.Step) -> str:
    return f"第{step.name[:2].lstrip('0')}步（{step.label}）"


def stale(workspace, scope, run_dir: Path | None = None) -> list[str]:
    """Why a run's results no longer match their inputs and program, recomputed now (see `stale_steps`);
    Chinese lines, none when every step is up to date."""
    return [line for _, _, line in stale_steps(workspace, scope, run_dir)]


def stale_steps(workspace, scope, run_dir: Path | None = None) -> list[tuple[str, str, str]]:
    """(step, why, Chinese line) for every step of a run that is out of date: `inputs` — what it reads today
    differs from what it read (a raw file, an earlier step's output remade since — by a notebook run by hand
    in JupyterLab, say —, another year's inputs); `program` — made by another program; `missing` — made
    without another year's results it needed; `none` — never run in this run. The run's date is not
    compared: results made on another day are not stale for that."""
    run_dir = run_dir or scope.current()
    record = read_record(run_dir, scope)
    if run_dir is None or not record:
        return []
    out = []
    year = scope.key if scope.kind == catalog.YEAR else None
    made = made_in(run_dir, scope)
    redo: dict[str, str] = {}  # dataset → the earlier step that has to be done again first
    for step in catalog.steps(scope.kind):
        rec = record["steps"].get(step.name)
        label = step_label(step)
        before = len(out)
        after = sorted({redo[r] for r in step.reads if r in redo})
        if after:
            out.append((step.name, "inputs", f"{label}读取{'、'.join(after)}的结果，要在它之后重做"))
        if not isinstance(rec, dict):
            out.append((step.name, "none", f"{label}还没有运行"))
            redo.update({ds.name: label for ds in step.outputs})
            continue
        for y in rec.get("missing", []):
            out.append(
                (
                    step.name,
                    "missing",
                    f"{label}运行时{y}年的结果还没有生成或不是最新的（本年用到的上年或历年数据）",
                )
            )
        now = step_inputs(step, workspace, year, made)
        old = rec.get("inputs")
        if not isinstance(old, dict):  # a record of an older version: the fingerprint alone
            if rec.get("fingerprint") != fingerprint(step, now, year):
                out.append((step.name, "inputs", f"{label}读取的文件在它运行之后变了"))
                redo.update({ds.name: label for ds in step.outputs})
            continue
        if rec.get("fingerprint") != fingerprint(step, old, year):
            out.append((step.name, "program", f"{label}是用另一个版本的程序生成的（程序已更新或改动过）"))
        now.pop("运行日期", None)
        changed, added, removed = _diff({k: v for k, v in old.items() if k != "运行日期"}, now)
        why = changed + added + removed
        if why:
            more = f"等 {len(why)} 个文件" if len(why) > 3 else ""
            out.append(
                (
                    step.name,
                    "inputs",
                    f"{label}的结果已过期：它读取的 {'、'.join(why[:3])}{more}在它运行之后变了",
                )
            )
        if any(why != "missing" for _, why, _ in out[before:]):
            redo.update({ds.name: label for ds in step.outputs})
    return out


def verify(workspace, scope) -> tuple[bool, list[str]]:
    """Whether the current outputs still match the inputs they were made from, and the sent copies their
    checksums; Chinese lines saying what differs."""
    current, sent = verify_parts(workspace, scope)
    return not (current or sent), current + sent


def verify_parts(workspace, scope) -> tuple[list[str], list[str]]:
    """What differs, in Chinese lines, in two parts: the current outputs against the inputs they were made
    from (a run mends it), and the sent copies against their checksums (no run can: see freeze)."""
    # import cycle (freeze imports this module), and pandas (0.27 s): only `verify` and `status` need it
    from wennuan_lib.run import freeze

    sent = freeze.check_sent(scope) if scope.kind == catalog.YEAR else []
    try:
        saved = load(scope)
    except ManifestError as exc:
        return [str(exc)], sent
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
    lines += stale(workspace, scope, run_dir)
    return lines, sent
