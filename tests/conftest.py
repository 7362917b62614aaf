"""Shared test fixtures. No test writes inside the checkout: before anything of the project is imported, the
default inputs and outputs (and the cache's signing secret) point into a temporary folder, so that nbval —
which runs the committed notebooks with their default parameters — and any default path land there too."""

import base64
import functools
import gc
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout_outputs() -> dict[str, tuple[int, int]]:
    """Every file under the checkout's outputs/ (git ignores it; the analyst's real results may be there)."""
    folder = ROOT / "outputs"
    return (
        {
            p.relative_to(folder).as_posix(): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))
        }
        if folder.is_dir()
        else {}
    )


def checkout_status() -> str:
    """`git status` of the checkout ('' outside a git checkout)."""
    if not (ROOT / ".git").exists() or not shutil.which("git"):
        return ""
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True
    ).stdout


OUTPUTS_BEFORE, STATUS_BEFORE = checkout_outputs(), checkout_status()
# The system's temporary folder, as the first process of the session found it (its workers inherit TMPDIR
# below): what the tests keep from one session to the next lives there.
SYSTEM_TMP = Path(os.environ.setdefault("WENNUAN_TESTS_SYSTEM_TMP", tempfile.gettempdir()))
SESSION = Path(tempfile.mkdtemp(prefix="wennuan-tests-"))
# What the programs the tests start leave in a temporary folder (a run killed on purpose leaves its kernel's
# sockets and converted copies; an error report with nowhere else to go lands there) goes into this session's
# folder, removed at its end, not into the machine's.
(SESSION / "tmp").mkdir()
os.environ["TMPDIR"] = str(SESSION / "tmp")
shutil.copytree(ROOT / "inputs", SESSION / "default" / "inputs")
os.environ["WENNUAN_INPUTS"] = str(SESSION / "default" / "inputs")
os.environ["WENNUAN_OUTPUTS"] = str(SESSION / "default" / "outputs")
os.environ["WENNUAN_SECRET_FILE"] = str(SESSION / "secret.key")
# runs sign the notebooks they execute (wennuan_lib/run/kernel.py: trust): in the tests' own trust database
os.environ["JUPYTER_DATA_DIR"] = str(SESSION / "jupyter")

import pickle  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from filelock import FileLock  # noqa: E402

from wennuan_lib.base import artifacts, catalog, store  # noqa: E402
from wennuan_lib.form import load_form  # noqa: E402
from wennuan_lib.publish import narrative  # noqa: E402
from wennuan_lib.read.units import Registry  # noqa: E402
from wennuan_lib.run.runner import Result, run_step  # noqa: E402
from wennuan_lib.run.workspace import Workspace  # noqa: E402
from wennuan_lib.steps import clean, ingest, reconcile, report, trends  # noqa: E402

from . import sample_data as sample  # noqa: E402

# What this process has loaded lives as long as it does: set aside from garbage collection, as the run's
# kernel does (kernel.warm), so that the collections the tests' in-process steps set off skip its objects
gc.freeze()

FIXTURES = Path(__file__).resolve().parent / "fixtures"
YEARS = (2011, 2012, 2013)
STEPS = {
    "01_ingest": ingest.run,
    "02_clean": clean.run,
    "03_reconcile": reconcile.run,
    "04_report": report.run,
}


def work_unit(nodeid: str) -> str:
    """What one xdist worker runs as a whole: the notebooks all together, in order (nbval runs each on the
    outputs of the one before); a test file that keeps state for its tests (a module- or class-scoped fixture:
    made once for the file, so the file stays on one worker); else the single test. Derived from the file,
    not listed by hand: a file that gains a module fixture is grouped again. The session fixtures that cost a
    run are shared by every worker (`made_once`), so a test may run on any worker."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "notebooks"
    return path if _keeps_state(path) else nodeid


@functools.cache
def _keeps_state(path: str) -> bool:
    source = ROOT / path
    text = source.read_text(encoding="utf-8") if source.is_file() else ""
    return re.search(r"""scope\s*=\s*["'](module|class|package)["']""", text) is not None


# The programs setup.sh installs for the tests that look at the outputs as they print. A test marked
# `@pytest.mark.needs("soffice", ...)` fails, naming what is missing, where one is absent (never skips).
# "calc" is LibreOffice's spreadsheet part (a package of its own: Writer alone cannot open a workbook).
def missing_programs(names) -> list[str]:
    soffice = shutil.which("soffice")
    found = {
        "calc": soffice is not None and (Path(os.path.realpath(soffice)).parent / "libsclo.so").is_file()
    }
    return [n for n in names if not (found[n] if n in found else shutil.which(n))]


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*programs): programs setup.sh installs that the test runs")


def require_programs(*names) -> None:
    if missing := missing_programs(names):
        pytest.fail(f"缺少 {'、'.join(missing)}：请以 root 运行 bash setup.sh（它会安装）", pytrace=False)


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs"):
        require_programs(*mark.args)


# The last run's time per test, kept outside the checkout (the system's temporary folder), so that the next
# run hands the longest work first and the two workers end together. Only the order depends on it.
DURATIONS = SYSTEM_TMP / f"wennuan-test-durations-{hashlib.md5(str(ROOT).encode()).hexdigest()[:8]}.json"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With xdist (`-n`): each work unit (work_unit above) goes whole to one worker. xdist's own `loadgroup`
    would do it by marks, but on pytest 9.2 it silently stops grouping (pytest-dev/pytest-xdist#1386)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByWorkUnit(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """In an xdist worker (each collects the same tests in the same order, which the scheduler hands out in
    turn): the work units by their time in the last run, longest first (the tail is short tests that fill
    the gaps); a unit's own tests keep their order. A test not timed yet counts 0 (a new test runs in the tail
    once, then by its time); without any record, the order collected."""
    if not hasattr(config, "workerinput"):
        return
    try:
        last = json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    cost: dict[str, float] = {}
    for item in items:
        unit = work_unit(item.nodeid)
        cost[unit] = cost.get(unit, 0.0) + last.get(item.nodeid, 0.0)
    first = {}
    for k, item in enumerate(items):
        first.setdefault(work_unit(item.nodeid), k)
    items.sort(key=lambda item: (-cost[work_unit(item.nodeid)], first[work_unit(item.nodeid)]))


_timed: dict[str, float] = {}


def pytest_runtest_logreport(report):
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SESSION, ignore_errors=True)
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the checkout is checked once, by the controller, after every worker ended
    if _timed and session.config.getoption("numprocesses", None):
        _keep_durations()
    changed = checkout_status() != STATUS_BEFORE or checkout_outputs() != OUTPUTS_BEFORE
    if changed and not session.config.getoption("collectonly"):
        print("\nFAILED: the suite wrote inside the checkout (git status or outputs/)", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _keep_durations() -> None:
    try:
        last = json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = {}
    last.update(_timed)
    tmp = DURATIONS.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(last, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        tmp.replace(DURATIONS)
    except OSError:
        tmp.unlink(missing_ok=True)  # only the next run's order would have used it


def run_data(year) -> dict[str, bytes]:
    """Every data file of a year's current run, by its path in the run (what a splice must equal)."""
    return {
        p.relative_to(year.run).as_posix(): p.read_bytes()
        for p in sorted((year.run / "data").rglob("*"))
        if p.is_file()
    }


def sample_inputs(to: Path, years: tuple[int, ...]) -> Path:
    """A copy of the committed sample's `years` and its units.csv under `to`/inputs."""
    inputs = to / "inputs"
    inputs.mkdir(parents=True)
    for year in years:
        shutil.copytree(ROOT / "inputs" / str(year), inputs / str(year))
    shutil.copy(ROOT / "inputs" / "units.csv", inputs / "units.csv")
    return inputs


def with_part(data: bytes, part: str, body: bytes) -> bytes:
    """The same zip package (OOXML, ODF) with one part replaced."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, body if info.filename == part else src.read(info))
    return out.getvalue()


def rerun_copy(inputs: Path, outputs: Path, tmp_path: Path, change) -> tuple[Path, Path]:
    """Copies of a run's inputs (changed by `change(inputs)`) and outputs, for a re-run after the change."""
    changed = tmp_path / "changed" / "inputs"
    shutil.copytree(inputs, changed)
    change(changed)
    again = tmp_path / "again"
    shutil.copytree(outputs, again, symlinks=True)
    return changed, again


def tree_hash(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_unit_tables(form, unit: str, unit_type: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """totals.csv and values.csv as the run writes them when one unit reported 1 in every blank."""
    totals = pd.DataFrame(
        [
            {
                "item": i.code,
                "kind": "item",
                "label": i.label,
                "measure": i.unit,
                "value": "1",
                **{t: "1" if t == unit_type else "" for t in ("市、区", "局(公司)", "直属")},
                "units_reported": "1",
                "units_missing": "0",
                "previous": "",
                "change_pct": "",
            }
            for i in form.items
        ]
    )
    values = pd.DataFrame(
        [
            {"unit": unit, "unit_type": unit_type, "registered": True, "item": c, "value": "1"}
            for c in form.codes
        ]
    )
    return totals, values


def run_args(inputs, outputs, *extra, year=2013) -> list[str]:
    """The command line of `run` on one workspace, as the analyst types it."""
    words = ["run", "--year", year, "--inputs", inputs, "--outputs", outputs, *extra]
    return [sys.executable, "-m", "wennuan_lib", *map(str, words)]


def cli(*words, timeout=600, env=None):
    """python -m wennuan_lib … as the analyst types it."""
    return subprocess.run(
        [sys.executable, "-m", "wennuan_lib", *map(str, words)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


class Year:
    """One year of a workspace in a temporary folder: its raw files, its current run's datasets, and its steps
    run in this process (each as a notebook run by itself would: a new run folder, switched to when done)."""

    def __init__(self, inputs: Path, outputs: Path, year: int = 2013):
        self.workspace = Workspace(inputs, outputs)
        self.year = year
        self.inputs, self.outputs = self.workspace.inputs, self.workspace.outputs

    @property
    def scope(self):
        return self.workspace.scope(self.year)

    @property
    def inbox(self) -> Path:
        return self.workspace.raw("inbox", self.year)

    @property
    def year_inputs(self) -> Path:
        return self.workspace.raw("year_config", self.year).parent

    @property
    def registry(self) -> Path:
        return self.workspace.raw("registry")

    @property
    def year_config(self) -> Path:
        return self.workspace.raw("year_config", self.year)

    @property
    def run(self) -> Path:
        return self.scope.current()

    @property
    def root(self) -> Path:
        """outputs/<year>/ (the analyst's shortcuts report/, feedback/ … lead into the current run)."""
        return self.scope.root

    def path(self, name: str) -> Path:
        return self.run / catalog.dataset(name).path

    def load(self, name: str, columns=None):
        return store.load_table(catalog.dataset(name), self.path(name), columns)

    def step(self, name: str):
        """The step run through the runner, as its notebook runs it; what it made, by name."""
        return shown(run_step(name, STEPS[name], self.year, self.inputs, self.outputs))

    def ingest(self):
        return self.step("01_ingest")

    def clean(self):
        return self.step("02_clean")

    def reconcile(self):
        return self.step("03_reconcile")

    def report(self):
        return self.step("04_report")

    def all(self) -> dict:
        frames = {}
        for name in STEPS:
            out = self.step(name)
            frames.update(out if name != "04_report" else {"report": out})
        return frames


def ingest_and_clean(inputs: Path, outputs: Path, years: tuple[int, ...]) -> Year:
    """Steps 01 and 02 of each of `years` in order, through the runner; the last year."""
    for year in years:
        done = Year(inputs, outputs, year)
        done.ingest()
        done.clean()
    return done


def trends_step(workspace: Workspace):
    return shown(run_step("05_trends", trends.run, None, workspace.inputs, workspace.outputs))


def shown(result: Result) -> dict:
    """What a step made, by name, with where its folders and report went (as the notebooks show them)."""
    out = dict(result.outputs)
    if "feedback" in result.saved:
        out["feedback_files"] = result.files("feedback")
    if "report_pdf" in result.saved:
        out["folder"] = result.saved["report_pdf"].parent
    return out


class Frames(dict):
    """A run's datasets by name, loaded when first asked for; "read_values" are the values as read (before
    corrections) and "report" the report as step 04 made it (its narrative rebuilt from the data)."""

    def __init__(self, year: Year):
        super().__init__()
        self.year = year

    def __missing__(self, name):
        y = self.year
        if name == "read_values":
            extracted = y.load("extracted")
            value = extracted[extracted["in_force"]].drop(columns=["in_force"]).reset_index(drop=True)
        elif name == "report":
            value = {"draft": len(y.load("draft_reasons")) > 0, "report": _Rebuilt(y)}
        elif name == "has_previous":
            value = y.workspace.scope(y.year - 1).current() is not None
        else:
            value = y.load(name)
        self[name] = value
        return value


class _Rebuilt:
    """The report's narrative, built again from the run's data exactly as step 04 builds it."""

    def __init__(self, y: Year):
        cfg = y.workspace.year_config(y.year)
        form = load_form(cfg["form"])
        self.narrative = narrative.build(
            form,
            y.load("totals"),
            cfg,
            y.workspace.raw("narrative", y.year),
            y.load("summaries"),
            Registry.load(y.registry),
            report.cn_date(report.report_date(cfg)),
        )


@pytest.fixture(scope="session")
def form():
    return load_form(2013)


def made_once(tmp_path_factory, worker_id: str, name: str, make):
    """A session fixture's result made once for all the workers (pytest-xdist's recipe): the first worker to
    need it makes it in a folder they share, the others wait for it and read it. For fixtures the tests only
    read (they copy it to change it). When making it failed, the other workers fail with the same reason
    rather than make it again."""
    if worker_id == "master":
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    record = shared / f"{name}.pickle"  # the tests' own objects, in the run's private temporary folder
    failed = shared / f"{name}.failed"
    with FileLock(str(shared / f"{name}.lock")):
        if record.is_file():
            return pickle.loads(record.read_bytes())
        if failed.is_file():
            pytest.fail(f"the shared fixture {name!r} failed on another worker:\n{failed.read_text()}")
        (shared / name).mkdir()
        _MADE_HERE.add(name)
        try:
            result = make(shared / name)
        except BaseException:
            failed.write_text(traceback.format_exc(), encoding="utf-8")
            raise
        record.write_bytes(pickle.dumps(result))
        return result


_MADE_HERE: set[str] = set()  # the made_once results this process made (not read from another worker)
SHARED: dict = {}  # name → function of the session fixtures that call made_once (see shared_fixture)
# How long making each shared fixture took in the last run (seconds), kept beside the durations: the workers
# split the making between them by it (shared_fixtures_made_first). Only who makes what depends on it.
SHARED_COSTS = DURATIONS.with_name(DURATIONS.name.replace("durations", "shared-fixtures"))


def shared_fixture(fn):
    """A session fixture whose result is made once for all workers (its body: `return made_once(
    tmp_path_factory, worker_id, …)`). Registered so that with xdist the workers make, first thing, every one
    that the collected tests use — each worker its share, longest first — instead of a worker waiting idle
    for the one the other is making when its first test needs it."""
    SHARED[fn.__name__] = fn
    return pytest.fixture(scope="session")(fn)


@pytest.fixture(scope="session", autouse=True)
def one_secret_for_all_workers(tmp_path_factory, worker_id):
    """Every worker (and every run it starts) signs the cache with one secret, so that a run on a copy of a
    shared fixture finds that fixture's cache."""
    if worker_id == "master":
        return
    path = tmp_path_factory.getbasetemp().parent / "secret.key"
    with FileLock(str(path) + ".lock"):
        if not path.is_file():
            path.write_bytes(os.urandom(32))
        notary = path.parent / "jupyter" / "notebook_secret"  # made here: two workers would each make one
        if not notary.is_file():
            notary.parent.mkdir(exist_ok=True)
            notary.write_bytes(base64.encodebytes(os.urandom(1024)))
    os.environ["WENNUAN_SECRET_FILE"] = str(path)
    os.environ["JUPYTER_DATA_DIR"] = str(notary.parent)  # one trust database for every worker, as one secret
    artifacts.forget_secret()


def share(names, costs: dict[str, float], workers: int) -> list[list[str]]:
    """`names` split between `workers`: longest first (a name never timed counts 1 s), each to the worker
    with the least so far."""
    loads, shares = [0.0] * workers, [[] for _ in range(workers)]
    for name in sorted(names, key=lambda n: (-costs.get(n, 1.0), n)):
        k = loads.index(min(loads))
        loads[k] += costs.get(name, 1.0)
        shares[k].append(name)
    return shares


@pytest.fixture(scope="session", autouse=True)
def shared_fixtures_made_first(request, tmp_path_factory, worker_id, one_secret_for_all_workers):
    """With xdist: before its first test, each worker makes its share of the shared fixtures the collected
    tests use (every worker collects the same tests, so all compute the same split): by their cost in the
    last run, longest first, each to the worker with the least so far. A fixture that fails here fails again,
    with its reason, in the tests that use it."""
    if worker_id == "master":
        return
    used = {n for item in request.session.items for n in getattr(item, "fixturenames", ()) if n in SHARED}
    try:
        costs = json.loads(SHARED_COSTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        costs = {}
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    made = {}
    for name in share(used, costs, workers)[int(worker_id.removeprefix("gw"))]:
        before, start = set(_MADE_HERE), time.perf_counter()
        try:
            SHARED[name](tmp_path_factory, worker_id)
        except (Exception, pytest.fail.Exception):
            continue  # the tests that use it fail with its reason (made_once keeps it)
        if _MADE_HERE != before:
            made[name] = round(time.perf_counter() - start, 1)
    if made:
        with FileLock(str(SHARED_COSTS) + ".lock"):
            try:
                costs = json.loads(SHARED_COSTS.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                costs = {}
            costs.update(made)
            try:
                SHARED_COSTS.write_text(json.dumps(costs, sort_keys=True), encoding="utf-8")
            except OSError:
                pass  # only the next run's split would have used it


def _sample_years(root: Path):
    truths = sample.generate_years(root / "inputs", YEARS, 2013)
    before = tree_hash(root / "inputs")
    out = cli("run", "--all", "--inputs", root / "inputs", "--outputs", root / "outputs")
    assert out.returncode == 0, out.stdout + out.stderr
    results = {y: (truths[y], Year(root / "inputs", root / "outputs", y)) for y in YEARS}
    return results, before, out


@shared_fixture
def sample_years(tmp_path_factory, worker_id):
    """The sample's 2011–2013, generated with the default seed, then run as the analyst runs them:
    `python -m wennuan_lib run --all` (every notebook, in one kernel). Made once for all workers; tests only
    read it (copy it to change it)."""
    return made_once(tmp_path_factory, worker_id, "sample", _sample_years)


@pytest.fixture(scope="session")
def sample_run(sample_years):
    """2013 of the sample: truth, the year, its datasets (loaded on demand),
    and the inputs' hash before any run."""
    results, before, _ = sample_years
    truth, year = results[2013]
    return truth, year, Frames(year), before


def _other_seed(root: Path):
    truths = sample.generate_years(root / "inputs", (2012, 2013), seed=7)
    for year in (2012, 2013):
        y = Year(root / "inputs", root / "outputs", year)
        read = y.ingest()["values"]
        out = y.clean()
    return truths, y, read, out["issues"]


@shared_fixture
def other_seed(tmp_path_factory, worker_id):
    """The sample's 2012 and 2013 with another seed (no numbers tuned to it), read and checked in-process:
    (truths by year, the 2013 Year, the values as read, the 2013 findings). Made once for all workers."""
    return made_once(tmp_path_factory, worker_id, "seed7", _other_seed)


@pytest.fixture
def year_dir(tmp_path):
    """An empty year: registry copied from the sample, empty inbox."""
    inputs = tmp_path / "inputs"
    (inputs / "2013" / "submissions").mkdir(parents=True)
    shutil.copy(ROOT / "inputs" / "units.csv", inputs / "units.csv")
    return Year(inputs, tmp_path / "outputs")


# The small three-year workspace of the freshness tests (one fixture for both of their files).
from .fresh_workspace import three  # noqa: E402, F401
