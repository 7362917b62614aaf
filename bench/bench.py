"""Benchmark: N synthetic units (mixed containers and layouts) through ingest and the whole run.

    .venv/bin/python bench/bench.py --units 30 300 3000

For each N it generates a registry and an inbox under a temporary folder, then times:
  * bare read:  the fastest reader for each container, single process (python-calamine for .xlsx and
                .xls, python-docx for .docx, LibreOffice once for all .doc) — the physical floor;
  * ingest:     wennuan's ingest step alone, cold cache (all cores);
  * run:        `python -m wennuan_lib run` end to end (four notebooks, PDF included), cold cache;
  * re-run:     the same run after one file changed (warm cache);
and the peak memory of the run. Results are printed as a Markdown table and written to bench/results.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from wennuan_lib import config, ingest, readers, sample, store, template  # noqa: E402
from wennuan_lib.form import load_form  # noqa: E402

YEAR = 2013
KINDS = ["template"] * 40 + ["docx"] * 30 + ["xlsx"] * 20 + ["xls"] * 9 + ["doc"]


def generate(root: Path, n: int, seed: int = 1) -> Path:
    inputs = root / "inputs"
    inbox = inputs / str(YEAR) / "submissions"
    inbox.mkdir(parents=True)
    rng = random.Random(seed)
    form = load_form(YEAR)
    messer = sample.Messer(rng)
    types = ["市、区", "局(公司)", "直属"]
    units = [(f"基准测试单位{k:04d}", types[k % 3]) for k in range(n)]
    store.write_csv(pd.DataFrame([{"name": u, "aliases": "", "type": t} for u, t in units]), inputs / "units.csv")
    (inputs / str(YEAR) / "year.yaml").write_text(
        f"year: {YEAR}\nform: '{YEAR}'\ndeadline: '{YEAR}-01-21'\ncity_unit: 基准测试市总工会\n"
        f"campaign: {YEAR}年送温暖活动（基准测试）\nsample: true\n", encoding="utf-8")
    for k, (unit, utype) in enumerate(units):
        values = sample.unit_values(rng, rng.randint(2_000, 400_000), utype)
        kind = KINDS[k % len(KINDS)] if (k % len(KINDS) != len(KINDS) - 1 or readers.soffice()) else "docx"
        header = {"unit": unit, "date": f"{YEAR}-01-{rng.randint(5, 20):02d}", "person": "张伟", "phone": "0512-65230000"}
        if kind == "template":
            template.write(form, inbox / f"{unit}.xlsx", values={c: (float(v) if form.item(c).is_money else int(v))
                                                                 for c, v in values.items()}, header=header)
            continue
        texts = {c: messer.text(values[i.key], i.is_money, i.unit, True)[0] for i in form.items for c in [i.code]}
        header["date_text"] = f"{YEAR}年1月{rng.randint(5, 20)}日"
        if kind in ("docx", "doc"):
            sample.write_sentence_docx(form, inbox / f"{unit}.docx", texts, header, rng)
            if kind == "doc" and sample.docx_to_doc(inbox / f"{unit}.docx", inbox / f"{unit}.doc"):
                (inbox / f"{unit}.docx").unlink()
        elif kind == "xlsx":
            sample.write_sentence_xlsx(form, inbox / f"{unit}.xlsx", texts, header, rng)
        else:
            sample.write_sentence_xls(form, inbox / f"{unit}.xls", texts, header, rng)
    return inputs


def bare_read(inbox: Path) -> float:
    import docx
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    files = sorted(p for p in inbox.rglob("*") if p.is_file())
    docs = [p for p in files if p.suffix == ".doc"]
    with tempfile.TemporaryDirectory() as tmp:
        converted = readers.convert_docs(docs, Path(tmp))
        for p in files:
            if p.suffix in (".xlsx", ".xls"):
                wb = CalamineWorkbook.from_path(str(p))
                for name in wb.sheet_names:
                    wb.get_sheet_by_name(name).to_python()
            elif p.suffix in (".docx", ".doc"):
                d = docx.Document(str(converted.get(p, p)))
                [par.text for par in d.paragraphs]
                [c.text for t in d.tables for row in t.rows for c in row.cells]
    return time.perf_counter() - start


# Runs a command and reports the peak resident memory of its whole process tree (the run, its kernel,
# the kernel's workers), apart from anything this benchmark process started before.
PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")


def timed_run(inputs: Path, outputs: Path) -> tuple[float, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "wennuan_lib", "run", "--year", str(YEAR),
                          "--inputs", str(inputs), "--outputs", str(outputs)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    peak = int(out.stderr.strip().splitlines()[-1]) / 1024
    return time.perf_counter() - start, peak


def split(inputs: Path, root: Path) -> dict:
    """Where the time goes, step by step, measured in-process (no notebooks) and serially (the run
    makes the detail workbook, the PDF and the trends on other cores; here each is timed alone)."""
    from wennuan_lib import charts, clean, reconcile, render, report

    os.environ["WENNUAN_SERIAL"] = "1"

    paths = config.year_paths(YEAR, inputs, root / "split")
    spent = {"charts_s": 0.0, "pdf_s": 0.0}

    def timing(module, name, key):
        fn = getattr(module, name)

        def wrapped(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.perf_counter() - t
        setattr(module, name, wrapped)
        return fn

    originals = [(charts, "make_all", timing(charts, "make_all", "charts_s")),
                 (render, "to_pdf", timing(render, "to_pdf", "pdf_s"))]
    report.charts.make_all = charts.make_all
    try:
        for key, step in (("ingest_s", ingest.run), ("rules_s", clean.run), ("feedback_s", reconcile.run),
                          ("report_s", report.run)):
            t = time.perf_counter()
            step(paths)
            spent[key] = time.perf_counter() - t
    finally:
        os.environ.pop("WENNUAN_SERIAL", None)
        for module, name, fn in originals:
            setattr(module, name, fn)
        report.charts.make_all = charts.make_all
    spent["report_other_s"] = spent["report_s"] - spent["charts_s"] - spent["pdf_s"]
    return spent


def bench(n: int, keep: Path | None) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"wennuan-bench-{n}-"))
    try:
        t0 = time.perf_counter()
        inputs = generate(root, n)
        gen = time.perf_counter() - t0
        inbox = inputs / str(YEAR) / "submissions"
        floor = bare_read(inbox)
        paths = config.year_paths(YEAR, inputs, root / "ingest-only")
        t0 = time.perf_counter()
        ingest.run(paths)
        ingest_s = time.perf_counter() - t0
        run_s, peak = timed_run(inputs, root / "outputs")
        changed = sorted(inbox.glob("*.xlsx"))[0]
        template.write(load_form(YEAR), changed, values={"01A.1": 1234}, header={"unit": changed.stem})
        rerun_s, rerun_peak = timed_run(inputs, root / "outputs")
        peak = max(peak, rerun_peak)
        parts = split(inputs, root)
        steps = sum(parts[k] for k in ("ingest_s", "rules_s", "feedback_s", "report_s"))
        return {"units": n, "files": len(list(inbox.iterdir())), "generate_s": gen, "bare_read_s": floor,
                "ingest_s": ingest_s, "ratio": ingest_s / floor, "run_s": run_s, "rerun_s": rerun_s,
                "rerun_share": rerun_s / run_s, "peak_mib": peak, **{f"split_{k}": v for k, v in parts.items()},
                "split_kernels_s": max(run_s - steps, 0)}
    finally:
        if keep:
            shutil.copytree(root, keep / f"bench-{n}", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, nargs="+", default=[30, 300, 3000])
    parser.add_argument("--keep", type=Path, help="keep the generated folders here")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="only profile the steps for N units with pyinstrument (bench/profile-N.txt)")
    args = parser.parse_args()
    if args.profile:
        from pyinstrument import Profiler

        root = Path(tempfile.mkdtemp(prefix="wennuan-profile-"))
        inputs = generate(root, args.profile)
        profiler = Profiler()
        profiler.start()
        parts = split(inputs, root)
        profiler.stop()
        out = ROOT / "bench" / f"profile-{args.profile}.txt"
        out.write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
        print({k: round(v, 2) for k, v in parts.items()}, "->", out)
        shutil.rmtree(root, ignore_errors=True)
        return
    rows = [bench(n, args.keep) for n in args.units]
    lines = [f"机器：{os.cpu_count()} 核；{time.strftime('%Y-%m-%d')}", "",
             "| 单位数 | 文件数 | 裸读取（秒） | 读取步骤（秒） | 读取/裸读取 | 全流程（秒） | 改一个文件后重跑（秒） | 重跑/全流程 | 峰值内存（MiB） |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['units']} | {r['files']} | {r['bare_read_s']:.1f} | {r['ingest_s']:.1f} | {r['ratio']:.2f}× | "
                     f"{r['run_s']:.1f} | {r['rerun_s']:.1f} | {r['rerun_share']:.2f} | {r['peak_mib']:.0f} |")
    lines += ["", "时间花在哪里（秒；步骤在同一进程内单独计时，“内核与其他”= 全流程 − 各步骤之和）：", "",
              "| 单位数 | 内核启动与其他 | 读取 | 审核 | 反馈表 | 图表 | PDF | 报告其余（Word、明细表等） |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['units']} | {r['split_kernels_s']:.1f} | {r['split_ingest_s']:.1f} | {r['split_rules_s']:.1f} | "
                     f"{r['split_feedback_s']:.1f} | {r['split_charts_s']:.1f} | {r['split_pdf_s']:.1f} | "
                     f"{r['split_report_other_s']:.1f} |")
    text = "\n".join(lines)
    print(text)
    (ROOT / "bench" / "results.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
