"""The data catalog (catalog.yaml): every file the workflow reads or writes, declared once — its layer, file,
columns and types, and the step that writes it — and the pipeline's steps with what each reads.

This module only declares and resolves paths; it imports nothing heavy, so that `run` can decide that nothing
changed without loading pandas or papermill. Typed loading and saving of tables is in `store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from wennuan_lib.base import config
from wennuan_lib.base.textfiles import read_program_yaml
from wennuan_lib.errors import WennuanError

CATALOG_FILE = config.PACKAGE_DIR / "catalog.yaml"
TYPES = ("str", "bool", "int", "decimal")
YEAR, TRENDS = "year", "trends"


@dataclass(frozen=True)
class Raw:
    """A file of the raw layer under inputs/: the units' inbox and the analyst's own files."""

    name: str
    path: str  # relative to inputs/, "{year}" for the year
    kind: str
    description: str
    loader: str = ""  # how the runner loads it (run/runner.py LOADERS)


@dataclass(frozen=True)
class Dataset:
    name: str
    layer: str
    path: str  # relative to the run's folder
    producer: str
    description: str
    kind: str = "file"  # file / folder
    scope: str = YEAR
    columns: tuple[tuple[str, str], ...] = ()  # (column, type) for tables
    more_columns: str = ""  # type of further columns (one per year in the trends table)
    hashed: bool = True
    sent: bool = False  # copied into sent/<date>/ by freeze

    @property
    def is_table(self) -> bool:
        return bool(self.columns)

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def typed(self, kind: str) -> list[str]:
        return [c for c, t in self.columns if t == kind]


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    scope: str
    reads: tuple[str, ...]
    # (read, its columns) for the reads of which the step loads only some columns
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def columns_of(self, read: str) -> list[str] | None:
        """The columns the step loads of `read` (None: all)."""
        return next((list(cols) for r, cols in self.columns if r == read), None)

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def executed(self) -> str:
        """Its executed notebook, relative to a run's folder."""
        return f"{dataset('notebooks').path}/{self.notebook}"

    @property
    def outputs(self) -> list[Dataset]:
        return [d for d in datasets() if d.producer == self.name]


@dataclass(frozen=True)
class ScopeLayout:
    runs: str
    current: str
    lock: str
    cache: str
    sent: str
    logs: str


@dataclass(frozen=True)
class Catalog:
    scope: ScopeLayout
    raw: dict[str, Raw]
    datasets: dict[str, Dataset]
    steps: tuple[Step, ...]
    earlier_years: int  # how many years before a year its trend figure may show (see catalog.yaml)


class CatalogError(WennuanError, ValueError):
    pass


@cache
def load() -> Catalog:
    data = read_program_yaml(CATALOG_FILE)
    s = data["scope"]
    layout = ScopeLayout(s["runs"], s["current"], s["lock"], s["cache"], s["sent"], s["logs"])
    raw = {
        name: Raw(name, str(r["path"]), r.get("kind", "file"), r["description"], str(r.get("loader", "")))
        for name, r in data["raw"].items()
    }
    sets = {}
    for name, d in data["datasets"].items():
        columns = tuple((str(c), str(t)) for c, t in (d.get("columns") or {}).items())
        bad = [c for c, t in columns if t not in TYPES]
        if bad:
            raise CatalogError(f"catalog.yaml：{name} 的列类型有误：{'、'.join(bad)}")
        sets[name] = Dataset(
            name,
            d["layer"],
            d["path"],
            d["producer"],
            d["description"],
            d.get("kind", "file"),
            d.get("scope", YEAR),
            columns,
            str(d.get("more_columns", "")),
            bool(d.get("hashed", True)),
            bool(d.get("sent", False)),
        )
    steps = tuple(
        Step(
            name,
            st["label"],
            st.get("scope", YEAR),
            tuple(st.get("reads", [])),
            tuple((str(r), tuple(map(str, cols))) for r, cols in (st.get("columns") or {}).items()),
        )
        for name, st in data["steps"].items()
    )
    catalog = Catalog(layout, raw, sets, steps, int(data.get("earlier_years", 4)))
    _validate(catalog)
    return catalog


def _validate(catalog: Catalog) -> None:
    names = {s.name for s in catalog.steps} | {"pipeline"}
    problems = [
        f"{d.name} 的 producer「{d.producer}」不是一个步骤"
        for d in catalog.datasets.values()
        if d.producer not in names
    ]
    for st in catalog.steps:
        for read in st.reads:
            base = read.split(":", 1)[-1]
            if base not in catalog.raw and base not in catalog.datasets:
                problems.append(f"步骤 {st.name} 读取的「{read}」没有声明")
        for read, cols in st.columns:
            problems += _column_problems(st.name, read, cols, st.reads, catalog)
    paths = [(d.scope, d.path) for d in catalog.datasets.values()]
    if len(set(paths)) != len(paths):
        problems.append("有两个数据集的文件相同")
    if problems:
        raise CatalogError("catalog.yaml 有误：" + "；".join(problems))


def _column_problems(step: str, read: str, cols: tuple, reads: tuple, catalog: Catalog) -> list[str]:
    """What is wrong with a step's `columns:` entry for `read` (loaded in the table's order)."""
    known = catalog.datasets.get(read.split(":", 1)[-1])
    where = f"步骤 {step} 的 columns 中「{read}」"
    if read not in reads or known is None:
        return [f"{where}不是它读取的数据表"]
    unknown = [c for c in cols if c not in known.column_names]
    if unknown:
        return [f"{where}：数据表中没有列 {'、'.join(unknown)}"]
    if list(cols) != [c for c in known.column_names if c in cols]:
        return [f"{where}：列的次序要与数据表相同（{'、'.join(c for c in known.column_names if c in cols)}）"]
    return []


def dataset(name: str) -> Dataset:
    try:
        return load().datasets[name]
    except KeyError:
        raise CatalogError(f"数据目录中没有「{name}」") from None


def datasets(scope: str | None = None) -> list[Dataset]:
    return [d for d in load().datasets.values() if scope is None or d.scope == scope]


def raw(name: str) -> Raw:
    return load().raw[name]


def steps(scope: str | None = None) -> list[Step]:
    return [s for s in load().steps if scope is None or s.scope == scope]


def step(name: str) -> Step:
    return next(s for s in load().steps if s.name == name)


def later_steps(step: Step) -> list[Step]:
    """The steps of `step`'s scope that run after it."""
    in_scope = steps(step.scope)
    return in_scope[in_scope.index(step) + 1 :]


def names_read(by: list[Step]) -> set[str]:
    """The datasets and raw files the steps read (this year's, the previous year's or other years')."""
    return {read.rpartition(":")[2] for st in by for read in st.reads}


def read_by_a_step(name: str) -> bool:
    """Whether any step reads the dataset: one that none does is a product only, which a run may save after
    its step's notebook has ended (runner.save_later)."""
    return name in names_read(load().steps)


def layout() -> ScopeLayout:
    return load().scope


def file_name(name: str) -> str:
    """A dataset's file name, as the analyst sees it (for messages that point at it)."""
    return Path(dataset(name).path).name


def raw_path(inputs: Path, name: str, year: int | None = None) -> Path:
    return Path(inputs) / raw(name).path.replace("{year}", str(year))


def files_in(run_dir: Path, ds: Dataset) -> list[Path]:
    """The files a dataset holds in a run's folder: the file, or every file under the folder."""
    path = run_dir / ds.path
    if ds.kind == "folder":
        return (
            sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if path.is_dir()
            else []
        )
    return [path] if path.is_file() else []


LAYER_LABELS = {
    "01_extracted": "读取结果",
    "02_values": "有效数值",
    "03_findings": "审核与报送情况",
    "04_totals": "合计",
    "05_reporting": "给人看的文件",
}


def markdown() -> str:
    """The README's tables of what is read and what a run makes, from this catalog
    (python -m wennuan_lib catalog)."""
    lines = ["| 读取的文件（inputs/，只读不改） | 内容 |", "|---|---|"]
    lines += [
        f"| `{r.path.replace('{year}', '<年度>')}{'/' if r.kind == 'folder' else ''}` | {r.description} |"
        for r in load().raw.values()
    ]
    for scope, root in ((YEAR, "outputs/<年度>/"), (TRENDS, "outputs/trends/")):
        lines += ["", f"| 生成的文件（{root}） | 层 | 由哪一步生成 | 内容 |", "|---|---|---|---|"]
        for d in datasets(scope):
            step = next((s.label for s in load().steps if s.name == d.producer), "每次运行")
            lines.append(
                f"| `{d.path}{'/' if d.kind == 'folder' else ''}` | {LAYER_LABELS.get(d.layer, d.layer)} | "
                f"{step} | {d.description} |"
            )
    return "\n".join(lines)


def year_raw() -> list[str]:
    """The raw files that belong to one year (under inputs/<year>/)."""
    return [r.name for r in load().raw.values() if "{year}" in r.path]


@cache
def depends_on(name: str) -> tuple[frozenset[str], bool]:
    """What a dataset is made from, derived from the steps' reads: the raw files of its own year (and the
    shared ones), and whether it depends on earlier years' results too (through `previous:`/`years:`)."""
    raws: set[str] = set()
    earlier = False
    seen: set[str] = set()
    todo = [name]
    while todo:
        ds = dataset(todo.pop())
        if ds.name in seen or ds.producer == "pipeline":
            continue
        seen.add(ds.name)
        for read in step(ds.producer).reads:
            kind, _, base = read.rpartition(":")
            if kind == "run_date":
                continue
            if kind in ("previous", "years"):
                earlier = True
            if base in load().raw:
                raws.add(base)
            else:
                todo.append(base)
    return frozenset(raws), earlier
