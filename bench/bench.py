"""Benchmark: N synthetic units (mixed containers and layouts) through the whole run, against its floor.

    .venv/bin/python bench/bench.py --units 30 300 3000 --pairs 3      (make bench)
    .venv/bin/python bench/bench.py --units 30 --pairs 3               (a quick check, about a minute)

For each N it generates a registry and an inbox under a temporary folder, then runs PAIRS rounds. A round
measures, each as a separate process tree:
  * run:       `python -m wennuan_lib run` end to end (every notebook, PDF included), cold cache, new outputs;
  * one file:  the run again on that round's outputs after one unit's form changed;
  * nothing:   the run again with nothing changed;
  * floor:     one process that times, part by part, what the floors are made of (below).
Then, unless --no-previous, THE JANUARY CASE: the same units' previous year (the same form; each unit's
figures its last year's, as the sample's are) is
generated and run once; PAIRS times, on a copy of those outputs, the year is run (its previous year current:
history checks and 同比 included), then the one-file run; and again for the peak memory, sampled.
Rounds alternate the order of run and floor (run first in even rounds, floor first in odd ones), so that a
change of the machine's load hits both sides of a ratio alike; every ratio is taken within a round and the
page gives the median and the range over the rounds. Beside each wall time: the CPU time (user + sys) of the
whole process tree — the run, its kernel, the kernel's workers, LibreOffice — counted by the kernel when they
end (this process is their subreaper, so none escapes the count), and the peak of their summed PSS
(/proc/<pid>/smaps_rollup, sampled every 50 ms). And what the REST of the machine did meanwhile: the CPU time
the whole machine was busy (/proc/stat) less the tree's and this process's own, so that a shared machine's
other work is seen as it was during each timed process (/proc/loadavg, read before and after each size, counts
the benchmark's own processes too: a 3,000-unit run alone takes a 2-core machine's load to about 2).

THE FLOOR — one definition for both the full and the one-file run: the 2-core critical path of the SAME
outputs, each part timed alone (one process, nothing else of the benchmark running):
    floor = max(kernel, convert) + read / 2 + max(P, longest single job of W, (P + sum of W) / 2)
  * kernel: start the step kernel and load the library (papermill's kernel is required, as in the run);
  * convert: LibreOffice once for all .doc, on the other core while the kernel starts (as the run does it);
  * read: every file of the inbox by the fastest reader for its container (python-calamine for .xlsx/.xls,
    python-docx for .docx and the converted .doc); split over 2 cores (hence / 2). For the one-file run:
    the one changed file (converted too if it is a .doc), after the kernel;
  * P, the report branch: charts (matplotlib), then the PDF (WeasyPrint) — the PDF needs the charts;
  * W, everything else, in any order on either core: every table of the run written and read back (pandas'
    C writer and reader, as the steps do; pyarrow is not installed), 审核数据.xlsx by the fastest writer
    installed (bench/writers.py: rustpy-xlsxwriter when installed, else XlsxWriter as the product uses it),
    分单位明细表 and the feedback workbooks (XlsxWriter, the product's own code; each workbook a job of its
    own, so that their sum is shared by the 2 cores), 汇总统计表 (openpyxl, into the template), the HTML and
    the Word (python-docx). The one-file run makes only the changed unit's
    feedback workbook again; everything else above depends on every unit and is made again.
The checks and the totals themselves are counted as nothing: the floor is a lower bound.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from tests import sample_data as sample  # noqa: E402
from wennuan_lib.base import store  # noqa: E402
from wennuan_lib.form import load_form  # noqa: E402
from wennuan_lib.publish import template  # noqa: E402
from wennuan_lib.read import convert  # noqa: E402

YEAR = 2013
# what a January inbox holds, interleaved so that every size has each kind: 4 templates, 3 Word, 2 Excel,
# 1 .xls in 10; one unit in a hundred sends a legacy .doc (LibreOffice converts them all in one go), and one
# of the first 30
KINDS = ["template", "docx", "xlsx", "template", "docx", "xls", "template", "docx", "xlsx", "template"]
# issue 24's targets (medians of paired rounds)
TARGETS = {
    "nothing_s": 0.5,
    "floor_ratio_30": 1.3,
    "floor_ratio_3000": 1.5,
    "one_share_300": 0.45,
    "one_share_3000": 0.20,
    "one_floor_ratio_3000": 1.6,
    "run_s_3000": 32,
    "pss_mib_3000": 800,
}
PR_SET_CHILD_SUBREAPER = 36


def units_of(n: int) -> list[tuple[str, str]]:
    types = ["市、区", "局(公司)", "直属"]
    return [(f"基准测试单位{k:04d}", types[k % 3]) for k in range(n)]


def generate(root: Path, n: int, seed: int = 1, year: int = YEAR) -> Path:
    """The registry (when not there yet) and `year`'s inbox of n units, on this year's form. A unit's figures
    are the sample's (sample_data.yearly_values): the same unit compares with its previous year as a real
    unit's does (about the same size and shares, within the history rule), so the January case checks what a
    real January checks."""
    inputs = root / "inputs"
    inbox = inputs / str(year) / "submissions"
    inbox.mkdir(parents=True)
    rng = random.Random(f"{seed}:{year}")
    form = load_form(YEAR)
    messer = sample.Messer(rng)
    units = units_of(n)
    if not (inputs / "units.csv").exists():
        store.write_csv(
            pd.DataFrame([{"name": u, "aliases": "", "type": t} for u, t in units]), inputs / "units.csv"
        )
    (inputs / str(year) / "year.yaml").write_text(
        f"year: {year}\nform: '{YEAR}'\ndeadline: '{year}-01-21'\ncity_unit: 基准测试市总工会\n"
        f"campaign: {year}年送温暖活动（基准测试）\nsample: true\nreport_date: '{year}-01-28'\n"
        f"feedback_deadline: '{year}-01-25'\n",
        encoding="utf-8",
    )
    for k, (unit, utype) in enumerate(units):
        size = random.Random(f"{seed}:{unit}").randint(2_000, 400_000)  # the unit's, every year
        values = sample.yearly_values(seed, unit, utype, size, year)
        kind = "doc" if k % 100 == 29 and convert.soffice() else KINDS[k % len(KINDS)]
        header = {
            "unit": unit,
            "date": f"{year}-01-{rng.randint(5, 20):02d}",
            "person": "张伟",
            "phone": "0512-65230000",
        }
        if kind == "template":
            template.write(
                form,
                inbox / f"{unit}.xlsx",
                values={c: (float(v) if form.item(c).is_money else int(v)) for c, v in values.items()},
                header=header,
            )
            continue
        texts = {
            c: messer.text(values[i.key], i.is_money, i.unit, True)[0] for i in form.items for c in [i.code]
        }
        header["date_text"] = f"{year}年1月{rng.randint(5, 20)}日"
        if kind in ("docx", "doc"):
            sample.write_sentence_docx(form, inbox / f"{unit}.docx", texts, header, rng)
            if kind == "doc" and sample.convert_with_libreoffice(
                inbox / f"{unit}.docx", inbox / f"{unit}.doc", "doc:MS Word 97"
            ):
                (inbox / f"{unit}.docx").unlink()
        elif kind == "xlsx":
            sample.write_sentence_xlsx(form, inbox / f"{unit}.xlsx", texts, header, rng)
        else:
            sample.write_sentence_xls(form, inbox / f"{unit}.xls", texts, header, rng)
    return inputs


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def loadavg() -> str:
    """The machine's load average over 1, 5 and 15 minutes."""
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


# Other processes busy for more than this many cores on average while the benchmark timed: its wall times
# are not judged against the targets.
BUSY_CORES = 0.1


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy since it started, every core together: /proc/stat's user,
    nice, system, irq, softirq and steal (what the hypervisor gave to others while this machine wanted it)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def become_subreaper() -> None:
    """Linux: processes orphaned under this one (a kernel its run did not wait for) are re-parented here, so
    that reaping them adds their CPU time to this process's RUSAGE_CHILDREN."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap_orphans(patience: float = 60.0) -> None:
    """Wait for the processes left behind (returns as soon as none is left), so their CPU time is counted."""
    end = time.monotonic() + patience
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def measure(cmd: list[str], env: dict | None = None, pss: bool = False) -> dict:
    """Run `cmd`; its wall seconds, the CPU seconds (user + sys) of its whole process tree, what it printed,
    and with `pss` the peak of the tree's summed PSS (MiB), sampled every 50 ms — which costs about a sixth of
    a core (smaps_rollup walks every page table: 1.2 s of CPU over a 7.5 s run of 30 units, 0.3–0.45 s of its
    wall time), so that the timed runs are never the sampled ones."""
    before, busy_before = os.times(), machine_busy()
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
        peak, done = [0], threading.Event()

        def sample_pss() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], sum(_pss_kib(p) for p in _tree(proc.pid)))
                done.wait(0.05)

        sampler = threading.Thread(target=sample_pss if pss else done.wait, daemon=True)
        sampler.start()
        _, status, _ = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        _reap_orphans()
        after, busy_after = os.times(), machine_busy()
        log.seek(0)
        out = log.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    own = (after.user - before.user) + (after.system - before.system)  # this process: waiting, sampling
    # the rest of the machine over the same time (the orphans' reaping adds at most a few ms of wall)
    others = max(0.0, (busy_after - busy_before) - cpu - own)
    return {"wall": wall, "cpu": cpu, "pss": peak[0] / 1024, "others": others, "out": out}


def run_cmd(inputs: Path, outputs: Path, year: int = YEAR) -> list[str]:
    return [
        sys.executable,
        "-m",
        "wennuan_lib",
        "run",
        "--year",
        str(year),
        "--inputs",
        str(inputs),
        "--outputs",
        str(outputs),
    ]


# The floor's parts, each timed alone in this one process (see the module's docstring). Arguments: the
# project root, the inputs, an outputs folder holding a complete run (its tables are the parts' input), the
# year, the file that changed.
FLOOR = r"""
import contextlib, json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, str(Path(sys.argv[1]) / "bench"))
parts, cpu = {}, {}

def cpu_now():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime

@contextlib.contextmanager
def part(name):
    # wall and CPU (this process and the children it waited for: the kernel, LibreOffice)
    c, t = cpu_now(), time.perf_counter()
    yield
    parts[name], cpu[name] = time.perf_counter() - t, cpu_now() - c

c = cpu_now()
t = time.perf_counter()
from jupyter_core.utils import run_sync
from wennuan_lib.run.kernel import Kernel
with Kernel() as kernel:
    kernel.start()
    run_sync(kernel.kc.wait_for_ready)(timeout=60)
    kernel._cell("1")  # the library is loaded (Kernel.WARM) before a step's first cell runs
    parts["kernel"] = time.perf_counter() - t
cpu["kernel"] = cpu_now() - c  # the kernel's own CPU is counted once it has been waited for
import docx
from python_calamine import CalamineWorkbook
import writers
from wennuan_lib.base import catalog, store
from wennuan_lib.publish import appendix, charts, detail_workbook, feedback, narrative, render
from wennuan_lib.read import convert
from wennuan_lib.steps import report
from wennuan_lib.form import load_form
from wennuan_lib.check.rules import is_open
from wennuan_lib.read.units import Registry
from wennuan_lib.run.workspace import Workspace
import gc
gc.freeze()  # as the run's kernel does once it has loaded the library (kernel.warm); its PDF worker too
inputs, outputs, year, changed = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
ws = Workspace(inputs, outputs)

def read(files, converted):
    for p in files:
        if p.suffix in (".xlsx", ".xls"):
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python()
        elif p.suffix in (".docx", ".doc"):
            d = docx.Document(str(converted.get(p, p)))
            [par.text for par in d.paragraphs]
            [c.text for t in d.tables for row in t.rows for c in row.cells]

every = sorted(p for p in ws.raw("inbox", year).rglob("*") if p.is_file())
with tempfile.TemporaryDirectory() as tmp:
    with part("convert"):  # LibreOffice, once for all .doc: while the kernel starts, as the run does it
        converted = convert.convert_docs([p for p in every if p.suffix == ".doc"], Path(tmp))
    with part("read"):
        read(every, converted)
with tempfile.TemporaryDirectory() as tmp, part("read_one"):
    read([changed], convert.convert_docs([changed] if changed.suffix == ".doc" else [], Path(tmp)))
run = ws.scope(year).current()
tables = [d for d in catalog.datasets(catalog.YEAR) if d.is_table and (run / d.path).is_file()]
loaded = {d.name: store.load_table(d, run / d.path) for d in tables}
load = loaded.__getitem__
cfg = ws.year_config(year)
form = load_form(cfg["form"])
totals, values, status = load("totals"), load("values"), load("reporting_status")
summaries, issues, audit = load("summaries"), load("issues"), load("audit")
checks = loaded.get("summary_checks")
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    with part("tables"):
        for d in tables:
            store.save_table(loaded[d.name], d, tmp / "table.csv")
            store.load_table(d, tmp / "table.csv")
    with part("charts"):
        made = charts.make_all(totals, values, {}, year, True, tmp / "charts", form.policy.charts)
    text = narrative.build(
        form, totals, cfg, ws.raw("narrative", year), summaries, Registry.load(ws.raw("registry")), ""
    )
    rep = render.Report(text, made, appendix.tables(form, totals, values, status, False), {}, [], True)
    with part("pdf"):
        render.pdf_bytes(rep)
    with part("word"):
        render.docx_bytes(rep)
    with part("html"):
        render.to_html(rep)
    writer = writers.fastest_installed()
    with part("review"):
        writers.BACKENDS[writer](writers.Tables(values, issues, status, audit, form, checks))
    with part("detail"):
        detail_workbook.detail_workbook(form, values, totals, cfg)
    with part("summary_form"):
        report.summary_form(form, totals, cfg, report.report_date(cfg), tmp / "form.xlsx")
    cfg = {**cfg, "year": year, "feedback_deadline": cfg.get("feedback_deadline") or f"{year}-01-25"}
    open_ = issues[is_open(issues) & issues["unit"].isin(set(values["unit"]))].reset_index(drop=True)
    values = values.reset_index(drop=True)
    by_unit = values.groupby("unit", sort=False).indices
    walls, cpus = [], []
    findings, figures = feedback.Rows(open_), feedback.Rows(values)  # made once, as the product does
    for unit, index in open_.groupby("unit", sort=False).indices.items():
        with part("one"):
            feedback.build(unit, findings.tuples(index), figures.records(by_unit[unit]), form, cfg)
        walls.append(parts.pop("one"))
        cpus.append(cpu.pop("one"))
    # all of them; and the changed unit's, taken as the dearest one, to be safe
    parts["feedback"], parts["feedback_one"] = sum(walls), max(walls, default=0.0)
    cpu["feedback"], cpu["feedback_one"] = sum(cpus), max(cpus, default=0.0)
    parts["feedback_files"] = cpu["feedback_files"] = len(walls)
print("FLOOR " + json.dumps({"wall": parts, "cpu": cpu, "review_writer": writer}))
"""

PARTS = [
    ("kernel", "内核启动并载入程序库"),
    ("convert", "LibreOffice 转换全部 .doc"),
    ("read", "读取全部文件（单核，不含转换）"),
    ("read_one", "读取改动的文件"),
    ("charts", "图表"),
    ("pdf", "PDF"),
    ("tables", "大表写出并读回"),
    ("review", "审核数据.xlsx"),
    ("detail", "分单位明细表"),
    ("summary_form", "汇总统计表"),
    ("html", "HTML"),
    ("word", "Word"),
    ("feedback", "反馈表（全部，单核）"),
    ("feedback_files", "反馈表份数"),
]
BRANCH_W = ["tables", "review", "detail", "summary_form", "html", "word"]


def work(parts: dict) -> dict:
    """The floors' CPU work: every part once, the way each floor needs it (for CPU time against CPU time)."""
    shared = parts["kernel"] + parts["charts"] + parts["pdf"] + sum(parts[k] for k in BRANCH_W)
    return {
        "floor": shared + parts["convert"] + parts["read"] + parts["feedback"],
        "one_floor": shared + parts["read_one"] + parts["feedback_one"],
    }


def floors(parts: dict) -> dict:
    """The two floors from the parts (see the module's docstring)."""

    def path(start: float, read: float, feedback: float) -> float:
        # the feedback workbooks are one job each (the longest of them, feedback_one), in any order on either
        # core: their sum is shared by the 2 cores like the rest of W, never one job as long as all of them
        p = parts["charts"] + parts["pdf"]
        w = [parts[k] for k in BRANCH_W]
        longest = max([*w, parts["feedback_one"]])
        return start + read + max(p, longest, (p + sum(w) + feedback) / 2)

    return {
        # LibreOffice converts the .doc files on the other core while the kernel starts
        "floor": path(max(parts["kernel"], parts["convert"]), parts["read"] / 2, parts["feedback"]),
        "one_floor": path(parts["kernel"], parts["read_one"], parts["feedback_one"]),
    }


def measure_floor(state: Path, inputs: Path, changed: Path, env: dict) -> dict:
    """The floor's parts, timed in one process from the tables of the complete run in `state`."""
    m = measure(
        [sys.executable, "-c", FLOOR, str(ROOT), str(inputs), str(state), str(YEAR), str(changed)], env
    )
    line = [s for s in m["out"].splitlines() if s.startswith("FLOOR ")][-1]
    got = json.loads(line[len("FLOOR ") :])
    by_cpu = floors(got["cpu"])
    return {
        "parts": got["wall"],
        "parts_cpu": got["cpu"],
        "review_writer": got["review_writer"],
        "floor_process_cpu": m["cpu"],
        "floor_process_wall": m["wall"],
        "floor_process_others": m["others"],
        **floors(got["wall"]),
        "floor_c": by_cpu["floor"],
        "one_floor_c": by_cpu["one_floor"],
        "floor_work": work(got["cpu"])["floor"],
        "one_floor_work": work(got["cpu"])["one_floor"],
    }


def bench(n: int, pairs: int, keep: Path | None, with_previous: bool = True) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"wennuan-bench-{n}-"))
    env = {**os.environ, "WENNUAN_SECRET_FILE": str(root / "secret.key")}
    load_before = loadavg()
    try:
        t0 = time.perf_counter()
        inputs = generate(root, n)
        gen = time.perf_counter() - t0
        inbox = inputs / str(YEAR) / "submissions"
        changed = sorted(inbox.glob("*.xlsx"))[0]
        original = changed.read_bytes()
        rounds, last = [], None
        for k in range(pairs):
            outputs = root / f"outputs-{k}"
            got = {"load": loadavg()}

            # run and floor alternate: the floor reads the tables of a complete run (the last round's when it
            # goes first)
            floor = functools.partial(measure_floor, inputs=inputs, changed=changed, env=env)
            if k % 2 and last is not None:
                got.update(floor(last))
            got["run"] = measure(run_cmd(inputs, outputs), env)
            if "parts" not in got:
                got.update(floor(outputs))
            if last is not None:
                shutil.rmtree(last, ignore_errors=True)
            changed_form(changed, 1234 + k)
            got["one"] = measure(run_cmd(inputs, outputs), env)
            got["nothing"] = measure(run_cmd(inputs, outputs), env)
            assert "全部步骤都是最新的" in got["nothing"]["out"], got["nothing"]["out"]
            changed.write_bytes(original)
            last = outputs
            for name in ("run", "one", "nothing"):
                got[name].pop("out")
            rounds.append(got)
            print(json.dumps({"units": n, "round": k, **got}, ensure_ascii=False, default=str), flush=True)
        # the peak memory, in runs of their own (see measure), as many as the rounds (it varies from run to
        # run as the forked processes overlap: 3,000 units, the same code, 760-831 MiB): each a full run, then
        # the one-file run after it
        memory = []
        for k in range(pairs):
            outputs = root / f"outputs-memory-{k}"
            peaks = {"run": measure(run_cmd(inputs, outputs), env, pss=True)["pss"]}
            changed_form(changed, 999 - k)
            peaks["one"] = measure(run_cmd(inputs, outputs), env, pss=True)["pss"]
            changed.write_bytes(original)
            shutil.rmtree(outputs, ignore_errors=True)
            memory.append(peaks)
            print(json.dumps({"units": n, "memory": peaks}), flush=True)
        previous = january(root, n, pairs, env, changed) if with_previous else None
        return {
            "units": n,
            "files": len(list(inbox.iterdir())),
            "memory": memory,
            "previous": previous,
            "generate_s": gen,
            "pairs": pairs,
            "load_before": load_before,
            "load_after": loadavg(),
            "rounds": rounds,
        }
    finally:
        if keep:
            shutil.copytree(root, keep / f"bench-{n}", dirs_exist_ok=True, symlinks=True)
        shutil.rmtree(root, ignore_errors=True)


def changed_form(changed: Path, value: int) -> None:
    """The unit of `changed` sends its form again, one figure different."""
    template.write(load_form(YEAR), changed, values={"01A.1": value}, header={"unit": changed.stem})


def january(root: Path, n: int, pairs: int, env: dict, changed: Path) -> dict:
    """The January case (see the module's docstring): the previous year run once, then `pairs` times, on a
    copy of its outputs, the year and the one-file run, timed; then the same again, their peak PSS sampled."""
    inputs = root / "inputs"
    t0 = time.perf_counter()
    generate(root, n, year=YEAR - 1)  # the same units, last year's figures
    gen = time.perf_counter() - t0
    base = root / "outputs-previous"
    first = measure(run_cmd(inputs, base, YEAR - 1), env)
    original = changed.read_bytes()
    rounds = []
    for k in range(pairs):
        got: dict = {}
        for sampled in (False, True):
            outputs = root / f"outputs-january-{k}"
            shutil.copytree(base, outputs, symlinks=True)
            run = measure(run_cmd(inputs, outputs), env, pss=sampled)
            changed_form(changed, 4321 + k)
            one = measure(run_cmd(inputs, outputs), env, pss=sampled)
            changed.write_bytes(original)
            shutil.rmtree(outputs, ignore_errors=True)
            if sampled:
                got["pss"] = max(run["pss"], one["pss"])
            else:
                got |= {"run": run["wall"], "run_cpu": run["cpu"], "one": one["wall"], "one_cpu": one["cpu"]}
        rounds.append(got)
        print(json.dumps({"units": n, "january": k, **got}), flush=True)
    return {"generate_s": gen, "previous_s": first["wall"], "rounds": rounds}


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """Median (lowest–highest)."""
    med = statistics.median(values)
    if len(values) < 2:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def summary(row: dict) -> dict:
    """Per-round figures and ratios, each ratio taken within its round."""
    rs = row["rounds"]
    col = {
        "run_s": [r["run"]["wall"] for r in rs],
        "run_cpu": [r["run"]["cpu"] for r in rs],
        "floor_s": [r["floor"] for r in rs],
        "floor_ratio": [r["run"]["wall"] / r["floor"] for r in rs],
        "floor_c": [r["floor_c"] for r in rs],
        "floor_ratio_c": [r["run"]["wall"] / r["floor_c"] for r in rs],
        "work_ratio": [r["run"]["cpu"] / r["floor_work"] for r in rs],
        "one_s": [r["one"]["wall"] for r in rs],
        "one_cpu": [r["one"]["cpu"] for r in rs],
        "one_floor_s": [r["one_floor"] for r in rs],
        "one_share": [r["one"]["wall"] / r["run"]["wall"] for r in rs],
        "one_share_cpu": [r["one"]["cpu"] / r["run"]["cpu"] for r in rs],
        "one_floor_ratio": [r["one"]["wall"] / r["one_floor"] for r in rs],
        "one_floor_c": [r["one_floor_c"] for r in rs],
        "one_floor_ratio_c": [r["one"]["wall"] / r["one_floor_c"] for r in rs],
        "one_work_ratio": [r["one"]["cpu"] / r["one_floor_work"] for r in rs],
        "one_floor_share": [r["one_floor"] / r["run"]["wall"] for r in rs],
        "nothing_s": [r["nothing"]["wall"] for r in rs],
        "nothing_cpu": [r["nothing"]["cpu"] for r in rs],
        "pss_mib": [max(m["run"], m["one"]) for m in row["memory"]],
    }
    for part, _ in PARTS:
        col[f"part_{part}"] = [r["parts"][part] for r in rs]
        col[f"cpu_{part}"] = [r["parts_cpu"][part] for r in rs]
    return col


BUSY_NOTE = "墙钟时间偏慢且波动大，全流程/下限这类比值只能看大致情况；CPU 时间受影响小得多。"


def timed_processes(row: dict) -> list[tuple[float, float]] | None:
    """(the others' CPU seconds, wall seconds) of every process timed for a size: the three runs and the
    floor's process of every round; None for rounds recorded before the others' CPU was measured."""
    got = []
    for r in row["rounds"]:
        if "others" not in r["run"]:
            return None
        got += [(m["others"], m["wall"]) for m in (r["run"], r["one"], r["nothing"])]
        got.append((r["floor_process_others"], r["floor_process_wall"]))
    return got


def january_summary(row: dict) -> dict | None:
    """The January case's figures per round (see `january`), None when it was left out."""
    if not row.get("previous"):
        return None
    rs = row["previous"]["rounds"]
    return {
        "run_s": [r["run"] for r in rs],
        "run_cpu": [r["run_cpu"] for r in rs],
        "one_s": [r["one"] for r in rs],
        "one_cpu": [r["one_cpu"] for r in rs],
        "one_share": [r["one"] / r["run"] for r in rs],
        "pss_mib": [r["pss"] for r in rs],
    }


def january_table(rows: list[dict]) -> list[str]:
    had = [(r, january_summary(r)) for r in rows if january_summary(r)]
    if not had:
        return []
    lines = [
        "",
        "**有上一年时（1 月份的常态）**：同样的单位另有上一年的收件箱（每个单位的数字和它本年的相近，"
        "和示例数据一样生成；表式相同），上一年先处理好；"
        "在它的输出的副本上处理本年（“全流程”只是本年：上一年已是最新的，但有历史审核和同比），再改一个文件后重跑。"
        "峰值内存在另外的同样两次运行里测：",
        "",
        "| 单位数 | 上一年全流程（秒，一次） | 全流程（秒） | 全流程 CPU（秒） | 改一个文件后重跑（秒） "
        "| 重跑 CPU（秒） | 重跑/全流程 | 峰值内存 PSS（MiB） |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r, j in had:
        lines.append(
            f"| {r['units']} | {r['previous']['previous_s']:.1f} | {spread(j['run_s'])} "
            f"| {spread(j['run_cpu'])} | {spread(j['one_s'])} | {spread(j['one_cpu'])} "
            f"| {spread(j['one_share'], '{:.2f}')} "
            f"| {spread(j['pss_mib'], '{:.0f}')} |"
        )
    return lines


def table(rows: list[dict]) -> str:
    loads = "；".join(f"{r['units']} 个单位：{r['load_before']} → {r['load_after']}" for r in rows)
    timed = {r["units"]: timed_processes(r) for r in rows}
    if all(t is not None for t in timed.values()):
        # per size, the others' CPU over the whole time timed (a short run's spike is short), and the range
        # over the processes
        mean = {n: sum(o for o, _ in t) / sum(w for _, w in t) for n, t in timed.items()}
        each = {n: [o / w for o, w in t] for n, t in timed.items()}
        busy = any(v > BUSY_CORES for v in mean.values())
        seen = "；".join(
            f"{n} 个单位：平均 {mean[n]:.2f} 核（各次 {min(each[n]):.2f}–{max(each[n]):.2f}）" for n in timed
        )
        load_line = (
            f"计时期间别的进程（不属于基准测试的）占用的 CPU：{seen}。"
            f"机器负载（/proc/loadavg 的 1、5、15 分钟平均，测前 → 测后，含基准测试自己的进程）：{loads}。"
            + (f"**别的进程平均占用超过 {BUSY_CORES} 个核：{BUSY_NOTE}**" if busy else "")
        )
    else:  # rounds recorded before the others' CPU was measured: the load average is all there is
        busy = any(
            float(x.split()[0]) > (os.cpu_count() or 1)
            for r in rows
            for x in (r["load_before"], r["load_after"], *(k["load"] for k in r["rounds"]))
            if x != "?"
        )
        load_line = f"机器负载（/proc/loadavg 的 1、5、15 分钟平均，测前 → 测后）：{loads}。" + (
            f"**负载高于核数：这台机器同时在做别的事，{BUSY_NOTE}**" if busy else ""
        )
    writer = rows[0]["rounds"][0]["review_writer"]
    lines = [
        f"机器：{os.cpu_count()} 核；{time.strftime('%Y-%m-%d %H:%M')}；每个规模 {rows[0]['pairs']} 轮，"
        "每轮全流程与下限交替先后；表中是各轮的中位数（括号里是最小–最大），比值都在同一轮内计算。"
        "“下限”按各部分的墙钟时间算；“下限（CPU）”按各部分的 CPU 时间算，机器忙时它不受别人影响。",
        "",
        load_line,
        "",
        "| 单位数 | 全流程（秒） | 全流程 CPU（秒） | 下限（秒） | 下限（CPU，秒） | 全流程/下限 "
        "| 全流程/下限（CPU） | 全流程 CPU/下限各部分 CPU 之和 | 峰值内存 PSS（MiB） |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sums = [(r, summary(r)) for r in rows]
    for r, s in sums:
        lines.append(
            f"| {r['units']} | {spread(s['run_s'])} | {spread(s['run_cpu'])} | {spread(s['floor_s'])} | "
            f"{spread(s['floor_c'])} | {spread(s['floor_ratio'], '{:.2f}')}× | "
            f"{spread(s['floor_ratio_c'], '{:.2f}')}× | {spread(s['work_ratio'], '{:.2f}')}× | "
            f"{spread(s['pss_mib'], '{:.0f}')} |"
        )
    lines += [
        "",
        "| 单位数 | 改一个文件后重跑（秒） | 重跑 CPU（秒） | 重跑/全流程 | 重跑 CPU/全流程 CPU "
        "| 重跑的下限（秒） | 重跑的下限（CPU，秒） | 重跑/它的下限 | 重跑/它的下限（CPU） "
        "| 重跑 CPU/它的下限各部分 CPU 之和 "
        "| 无变化重跑（秒） | 无变化重跑 CPU（秒） |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r, s in sums:
        lines.append(
            f"| {r['units']} | {spread(s['one_s'])} | {spread(s['one_cpu'])} | "
            f"{spread(s['one_share'], '{:.2f}')} | {spread(s['one_share_cpu'], '{:.2f}')} | "
            f"{spread(s['one_floor_s'])} | {spread(s['one_floor_c'])} | "
            f"{spread(s['one_floor_ratio'], '{:.2f}')}× | {spread(s['one_floor_ratio_c'], '{:.2f}')}× | "
            f"{spread(s['one_work_ratio'], '{:.2f}')}× | {spread(s['nothing_s'], '{:.2f}')} | "
            f"{spread(s['nothing_cpu'], '{:.2f}')} |"
        )
    lines += january_table(rows)
    lines += [
        "",
        "下限的组成：各部分在同一个进程里单独计时，CPU 秒（墙钟秒），中位数；审核数据.xlsx 用 "
        f"{writer}；反馈表一栏是全部反馈表在一个核上的合计：",
        "",
        "| 单位数 | " + " | ".join(label for _, label in PARTS) + " |",
        "|---:|" + "---:|" * len(PARTS),
    ]
    for r, s in sums:
        m = {k: statistics.median(v) for k, v in s.items()}
        cells = [
            f"{m['part_' + k]:.0f}"
            if k == "feedback_files"
            else f"{m['cpu_' + k]:.2f}（{m['part_' + k]:.2f}）"
            for k, _ in PARTS
        ]
        lines.append(f"| {r['units']} | " + " | ".join(cells) + " |")
    med = {r["units"]: {k: statistics.median(v) for k, v in s.items()} for r, s in sums}
    # each check: (name, the target as written, the result, its limit, format, the result a run exactly at its
    # floor would have in the same rounds — None where that is the floor ratio itself, 1.00×, or no floor)
    checks = [
        (
            "无变化重跑",
            "≤ 0.5 秒",
            max(m["nothing_s"] for m in med.values()),
            TARGETS["nothing_s"],
            "{:.2f} 秒",
            None,
        )
    ]
    if 30 in med:
        checks.append(
            (
                "30 个单位全流程/下限",
                "≤ 1.3×",
                med[30]["floor_ratio"],
                TARGETS["floor_ratio_30"],
                "{:.2f}×",
                None,
            )
        )
    if 300 in med:
        checks.append(
            (
                "300 个单位改一个文件后重跑/全流程",
                "≤ 0.45",
                med[300]["one_share"],
                TARGETS["one_share_300"],
                "{:.2f}",
                med[300]["one_floor_share"],
            )
        )
    if 3000 in med:
        m = med[3000]
        checks += [
            (
                "3000 个单位全流程/下限",
                "≤ 1.5×",
                m["floor_ratio"],
                TARGETS["floor_ratio_3000"],
                "{:.2f}×",
                None,
            ),
            (
                "3000 个单位改一个文件后重跑/全流程",
                "≤ 0.20",
                m["one_share"],
                TARGETS["one_share_3000"],
                "{:.2f}",
                m["one_floor_share"],
            ),
            (
                "3000 个单位改一个文件后重跑/它的下限",
                "≤ 1.6×",
                m["one_floor_ratio"],
                TARGETS["one_floor_ratio_3000"],
                "{:.2f}×",
                None,
            ),
            ("3000 个单位全流程", "≤ 32 秒", m["run_s"], TARGETS["run_s_3000"], "{:.1f} 秒", m["floor_s"]),
            (
                "3000 个单位峰值内存（PSS 之和）",
                "≤ 800 MiB",
                m["pss_mib"],
                TARGETS["pss_mib_3000"],
                "{:.0f} MiB",
                None,
            ),
        ]
    january_3000 = next((january_summary(r) for r in rows if r["units"] == 3000), None)
    if january_3000:
        m = {k: statistics.median(v) for k, v in january_3000.items()}
        checks += [
            (
                "3000 个单位改一个文件后重跑/全流程（有上一年）",
                "≤ 0.20",
                m["one_share"],
                TARGETS["one_share_3000"],
                "{:.2f}",
                None,
            ),
            (
                "3000 个单位峰值内存（有上一年）",
                "≤ 800 MiB",
                m["pss_mib"],
                TARGETS["pss_mib_3000"],
                "{:.0f} MiB",
                None,
            ),
        ]
    lines += [
        "",
        "“正好在下限时”：运行若正好等于它的下限，这一项会是多少（同一轮的下限与全流程之比，或下限的秒数，各轮中位数）；"
        "它本身就达不到要求时，目标低于这台机器上测得的下限，再快的程序也达不到。",
        "",
        "| 目标（议题 24） | 要求 | 结果（中位数） | 正好在下限时 | 达到 |",
        "|---|---|---:|---:|---|",
    ]
    for name, want, got, limit, fmt, at_floor in checks:
        verdict = "是" if got <= limit else "否"
        if at_floor is not None and got > limit and at_floor > limit:
            verdict = "否（目标低于下限）"
        if busy and "内存" not in name:  # a wall time taken on a busy machine proves nothing either way
            verdict = f"不作判断（机器忙；按这次的数字：{verdict}）"
        shown = "—" if at_floor is None else fmt.format(at_floor)
        lines.append(f"| {name} | {want} | {fmt.format(got)} | {shown} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, nargs="+", default=[30, 300, 3000], help="sizes to measure")
    parser.add_argument("--pairs", type=int, default=3, help="paired rounds per size (at least 3)")
    parser.add_argument("--keep", type=Path, help="keep the generated folders here")
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench" / "results.md",
        help="the page to write the tables into",
    )
    parser.add_argument("--no-write", action="store_true", help="print the tables, leave the page alone")
    parser.add_argument(
        "--no-previous", action="store_true", help="leave out the January case (a previous year run first)"
    )
    args = parser.parse_args()
    if args.pairs < 3:
        parser.error("--pairs: at least 3 (a median of fewer rounds says nothing about the noise)")
    become_subreaper()
    rows = [bench(n, args.pairs, args.keep, not args.no_previous) for n in args.units]
    text = table(rows)
    print(text)
    if not args.no_write:
        write_results(args.results, text)


def write_results(path: Path, text: str) -> None:
    """The tables go between the page's bench markers; the method and the analysis around them stay."""
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    page = path.read_text(encoding="utf-8") if path.is_file() else f"{begin}\n{end}\n"
    if begin not in page or end not in page:
        page = f"{page.rstrip()}\n\n{begin}\n{end}\n"
    head, rest = page.split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{begin}\n{text.strip()}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
