"""Benchmark: N synthetic units (mixed containers and layouts) through the whole run, against the targets.

    .venv/bin/python bench/bench.py --units 30 300 3000

For each N it generates a registry and an inbox under a temporary folder, then measures, in one go:
  * run:        `python -m wennuan_lib run` end to end (every notebook, PDF included), cold cache;
  * floor:      the same outputs made in one process by the fastest means, no notebooks: the fastest reader
                for each container (python-calamine for .xlsx/.xls, python-docx for .docx, LibreOffice once
                for all .doc), one matplotlib render of the same charts, one WeasyPrint render of the same
                report, one Word save — timed as a whole process, its imports included;
  * nothing:    the run again with nothing changed;
  * one file:   the run again after one unit's form changed;
  * one-file floor: what any run after one changed file must make again, whatever the code, while every run
                gives the same outputs: the kernel with the library loaded (papermill's, required), the two
                unit-by-item tables written and read back (extracted, values), the analyst's
                审核数据.xlsx, and the report's PDF and Word (from the floor above) — how far a re-run can go;
and the peak memory of the run: the sum of PSS (proportional set size, from /proc/<pid>/smaps_rollup) over the
whole process tree (the run, its kernel, the kernel's workers, LibreOffice), sampled every 50 ms.
Results are printed beside the targets and written to bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
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
from wennuan_lib import readers, store, template  # noqa: E402
from wennuan_lib.form import load_form  # noqa: E402

YEAR = 2013
# what a January inbox holds, interleaved so that every size has each kind: 4 templates, 3 Word, 2 Excel,
# 1 .xls in 10; one unit in a hundred sends a legacy .doc (LibreOffice converts them all in one go), and one
# of the first 30
KINDS = ["template", "docx", "xlsx", "template", "docx", "xls", "template", "docx", "xlsx", "template"]
TARGETS = {
    "nothing_s": 1.0,
    "floor_ratio_30": 1.4,
    "one_share_300": 1 / 3,
    "one_share_3000": 1 / 5,
    "run_s_3000": 45,
    "pss_mib_3000": 800,
}


def generate(root: Path, n: int, seed: int = 1) -> Path:
    inputs = root / "inputs"
    inbox = inputs / str(YEAR) / "submissions"
    inbox.mkdir(parents=True)
    rng = random.Random(seed)
    form = load_form(YEAR)
    messer = sample.Messer(rng)
    types = ["市、区", "局(公司)", "直属"]
    units = [(f"基准测试单位{k:04d}", types[k % 3]) for k in range(n)]
    store.write_csv(
        pd.DataFrame([{"name": u, "aliases": "", "type": t} for u, t in units]), inputs / "units.csv"
    )
    (inputs / str(YEAR) / "year.yaml").write_text(
        f"year: {YEAR}\nform: '{YEAR}'\ndeadline: '{YEAR}-01-21'\ncity_unit: 基准测试市总工会\n"
        f"campaign: {YEAR}年送温暖活动（基准测试）\nsample: true\nreport_date: '{YEAR}-01-28'\n"
        f"feedback_deadline: '{YEAR}-01-25'\n",
        encoding="utf-8",
    )
    for k, (unit, utype) in enumerate(units):
        values = sample.unit_values(rng, rng.randint(2_000, 400_000), utype)
        kind = "doc" if k % 100 == 29 and readers.soffice() else KINDS[k % len(KINDS)]
        header = {
            "unit": unit,
            "date": f"{YEAR}-01-{rng.randint(5, 20):02d}",
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
        header["date_text"] = f"{YEAR}年1月{rng.randint(5, 20)}日"
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


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak summed PSS of the process tree (MiB), and what it printed."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    peak = 0
    out = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))
    reader.start()
    while proc.poll() is None:
        peak = max(peak, sum(_pss_kib(p) for p in _tree(proc.pid)))
        time.sleep(0.05)
    reader.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{''.join(out)}")
    return seconds, peak / 1024, "".join(out)


def run_cmd(inputs: Path, outputs: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "wennuan_lib",
        "run",
        "--year",
        str(YEAR),
        "--inputs",
        str(inputs),
        "--outputs",
        str(outputs),
    ]


FLOOR = r"""
import sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
import docx
from python_calamine import CalamineWorkbook
from wennuan_lib import appendix, catalog, charts, narrative, readers, render, report, store
from wennuan_lib.form import load_form
from wennuan_lib.units import Registry
from wennuan_lib.workspace import Workspace
inputs, outputs, year = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
ws = Workspace(inputs, outputs)
inbox = ws.raw("inbox", year)
files = sorted(p for p in inbox.rglob("*") if p.is_file())
with tempfile.TemporaryDirectory() as tmp:
    converted = readers.convert_docs([p for p in files if p.suffix == ".doc"], Path(tmp))
    for p in files:
        if p.suffix in (".xlsx", ".xls"):
            wb = CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python()
        elif p.suffix in (".docx", ".doc"):
            d = docx.Document(str(converted.get(p, p)))
            [par.text for par in d.paragraphs]
            [c.text for t in d.tables for row in t.rows for c in row.cells]
read = time.perf_counter() - start
run = ws.scope(year).current()
load = lambda name: store.load_table(catalog.dataset(name), run / catalog.dataset(name).path)
cfg = ws.year_config(year)
form = load_form(cfg["form"])
totals, values = load("totals"), load("values")
status, summaries = load("reporting_status"), load("summaries")
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    made = charts.make_all(totals, values, {}, year, True, Path(tmp), form.policy.charts)
    draw = time.perf_counter() - t
    text = narrative.build(
        form, totals, cfg, ws.raw("narrative", year), summaries, Registry.load(ws.raw("registry")), ""
    )
    rep = render.Report(text, made, appendix.tables(form, totals, values, status, False), {}, [], True)
    t = time.perf_counter()
    render.pdf_bytes(rep)
    pdf = time.perf_counter() - t
    t = time.perf_counter()
    render.docx_bytes(rep)
    word = time.perf_counter() - t
print(json.dumps({"read": read, "charts": draw, "pdf": pdf, "word": word}))
""".replace("import sys,", "import json, sys,")


# What a re-run after one changed file must make again besides the PDF and Word (timed in the floor): the
# kernel with the library loaded, the two unit-by-item tables written and read back, 审核数据.xlsx
ONE_FILE_FLOOR = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
from jupyter_core.utils import run_sync
from wennuan_lib.kernel import Kernel
with Kernel() as kernel:
    kernel.start()
    run_sync(kernel.kc.wait_for_ready)(timeout=60)
    kernel._cell("1")  # the library is loaded (Kernel.WARM) before a step's first cell runs
    made = {"kernel": time.perf_counter() - start}
from wennuan_lib import catalog, review_workbook, store
from wennuan_lib.form import load_form
from wennuan_lib.workspace import Workspace
ws, year = Workspace(Path(sys.argv[2]), Path(sys.argv[3])), int(sys.argv[4])
run = ws.scope(year).current()
load = lambda name: store.load_table(catalog.dataset(name), run / catalog.dataset(name).path)
tables = {name: load(name) for name in ("extracted", "values", "issues", "reporting_status", "audit")}
checks, form = load("summary_checks"), load_form(ws.year_config(year)["form"])
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    for name in ("extracted", "values"):
        ds = catalog.dataset(name)
        store.save_table(tables[name], ds, Path(tmp) / "table.csv")
        store.load_table(ds, Path(tmp) / "table.csv")
    made["tables"] = time.perf_counter() - t
t = time.perf_counter()
review_workbook.build(
    tables["values"], tables["issues"], tables["reporting_status"], tables["audit"], form, checks
)
made["review"] = time.perf_counter() - t
print(json.dumps(made))
"""


def bench(n: int, keep: Path | None) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"wennuan-bench-{n}-"))
    env = {**os.environ, "WENNUAN_SECRET_FILE": str(root / "secret.key")}
    try:
        t0 = time.perf_counter()
        inputs = generate(root, n)
        gen = time.perf_counter() - t0
        inbox = inputs / str(YEAR) / "submissions"
        run_s, pss, _ = timed(run_cmd(inputs, root / "outputs"), env)
        floor_s, _, printed = timed(
            [sys.executable, "-c", FLOOR, str(ROOT), str(inputs), str(root / "outputs"), str(YEAR)], env
        )
        parts = json.loads(printed.strip().splitlines()[-1])
        nothing_s, _, said = timed(run_cmd(inputs, root / "outputs"), env)
        assert "全部步骤都是最新的" in said, said
        changed = sorted(inbox.glob("*.xlsx"))[0]
        template.write(load_form(YEAR), changed, values={"01A.1": 1234}, header={"unit": changed.stem})
        one_s, one_pss, _ = timed(run_cmd(inputs, root / "outputs"), env)
        _, _, printed = timed(
            [sys.executable, "-c", ONE_FILE_FLOOR, str(ROOT), str(inputs), str(root / "outputs"), str(YEAR)],
            env,
        )
        parts.update(json.loads(printed.strip().splitlines()[-1]))
        one_floor = sum(parts[k] for k in ("kernel", "tables", "review", "pdf", "word"))
        return {
            "units": n,
            "files": len(list(inbox.iterdir())),
            "generate_s": gen,
            "run_s": run_s,
            "floor_s": floor_s,
            "floor_ratio": run_s / floor_s,
            "nothing_s": nothing_s,
            "one_s": one_s,
            "one_share": one_s / run_s,
            "one_floor_s": one_floor,
            "one_floor_share": one_floor / run_s,
            "pss_mib": max(pss, one_pss),
            **{f"floor_{k}_s": v for k, v in parts.items()},
        }
    finally:
        if keep:
            shutil.copytree(root, keep / f"bench-{n}", dirs_exist_ok=True, symlinks=True)
        shutil.rmtree(root, ignore_errors=True)


def table(rows: list[dict]) -> str:
    lines = [
        f"机器：{os.cpu_count()} 核；{time.strftime('%Y-%m-%d')}；每行是同一次运行中测得的",
        "",
        "| 单位数 | 全流程（秒） | 同样产出的下限（秒） | 全流程/下限 | 无变化重跑（秒） "
        "| 改一个文件后重跑（秒） | 重跑/全流程 | 峰值内存，整个进程树 PSS 之和（MiB） |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['units']} | {r['run_s']:.1f} | {r['floor_s']:.1f} | {r['floor_ratio']:.2f}× | "
            f"{r['nothing_s']:.2f} | {r['one_s']:.1f} | {r['one_share']:.2f} | {r['pss_mib']:.0f} |"
        )
    lines += [
        "",
        "下限的组成（秒，同一进程内）：",
        "",
        "| 单位数 | 读取（最快的读取库） | 图表（matplotlib） | PDF（WeasyPrint） | Word |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['units']} | {r['floor_read_s']:.1f} | {r['floor_charts_s']:.1f} | "
            f"{r['floor_pdf_s']:.1f} | {r['floor_word_s']:.1f} |"
        )
    lines += [
        "",
        "改一个文件后的下限（秒）：无论怎样写程序，只要每次运行给出同样的产出，改一个文件后就必须重做这些：",
        "",
        "| 单位数 | 内核启动并载入程序库 | 两张单位×项目大表写出并读回 | 审核数据.xlsx | PDF | Word "
        "| 合计 | 合计/全流程 | 实测重跑/全流程 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['units']} | {r['floor_kernel_s']:.1f} | {r['floor_tables_s']:.1f} | "
            f"{r['floor_review_s']:.1f} | {r['floor_pdf_s']:.1f} | {r['floor_word_s']:.1f} | "
            f"{r['one_floor_s']:.1f} | {r['one_floor_share']:.2f} | {r['one_share']:.2f} |"
        )
    by = {r["units"]: r for r in rows}
    checks = [
        (
            "无变化重跑",
            "≤ 1 秒（任何规模）",
            max(r["nothing_s"] for r in rows),
            TARGETS["nothing_s"],
            "{:.2f} 秒",
        )
    ]
    if 30 in by:
        checks.append(
            ("30 个单位全流程/下限", "≤ 1.4×", by[30]["floor_ratio"], TARGETS["floor_ratio_30"], "{:.2f}×")
        )
    if 300 in by:
        checks.append(
            (
                "300 个单位改一个文件后重跑/全流程",
                "≤ 1/3",
                by[300]["one_share"],
                TARGETS["one_share_300"],
                "{:.2f}",
            )
        )
    if 3000 in by:
        checks += [
            (
                "3000 个单位改一个文件后重跑/全流程",
                "≤ 1/5",
                by[3000]["one_share"],
                TARGETS["one_share_3000"],
                "{:.2f}",
            ),
            ("3000 个单位全流程", "≤ 45 秒", by[3000]["run_s"], TARGETS["run_s_3000"], "{:.1f} 秒"),
            (
                "3000 个单位峰值内存（PSS 之和）",
                "≤ 800 MiB",
                by[3000]["pss_mib"],
                TARGETS["pss_mib_3000"],
                "{:.0f} MiB",
            ),
        ]
    lines += ["", "| 目标 | 要求 | 结果 | 达到 |", "|---|---|---:|---|"]
    for name, want, got, limit, fmt in checks:
        lines.append(f"| {name} | {want} | {fmt.format(got)} | {'是' if got <= limit else '否'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, nargs="+", default=[30, 300, 3000])
    parser.add_argument("--keep", type=Path, help="keep the generated folders here")
    args = parser.parse_args()
    rows = []
    for n in args.units:
        rows.append(bench(n, args.keep))
        print(
            json.dumps(
                {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()},
                ensure_ascii=False,
            ),
            flush=True,
        )
    text = table(rows)
    print(text)
    write_results(ROOT / "bench" / "results.md", text)


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
