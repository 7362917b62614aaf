"""Issue 24 item 3: the workbook writers, measured on 审核数据.xlsx (wennuan_lib/publish/review_workbook.py).

    .venv/bin/python bench/writers.py --units 3000 --pairs 3 [--run RUN_FOLDER] [--render DIR]

The same sheets (审核意见, 报送情况, 数值, 需核实的数值, 更正与豁免, 书面总结对照), from the same tables, by:
  * xlsxwriter                 the product as it is (XlsxWriter, in memory);
  * xlsxwriter-constant-memory the product's own code, XlsxWriter's constant_memory mode (rows streamed to
                               temporary files, strings inline);
  * openpyxl-write-only        the product's own code through a thin adapter onto openpyxl's write-only mode;
  * rustpy-xlsxwriter          (when installed: pip install rustpy-xlsxwriter) the same sheets as records
                               with column formats, header format, freeze, filter, print setup, and the
                               coloured texts as conditional formats. It cannot colour a cell by a flag that
                               is not its text (approximate and corrected figures in 数值), and formats
                               figures by column, not by row (需核实的数值: 0.00 for every decimal).
The tables come from a run's folder (--run, e.g. one kept by `bench.py --keep`) or from a 30-unit run made
here, repeated under other unit names up to --units. Each measurement is a fresh process (wall, CPU and peak
RSS of the build alone); a round measures every writer once, in an order rotated from round to round, and
ratios to xlsxwriter are taken within a round (median and range over the rounds).
Each writer's workbook of the unrepeated tables is read back (openpyxl) and checked: codes as text, money in
0.00, frozen header, filter, landscape A4 with the header repeated, coloured cells; --render DIR also opens
each in LibreOffice (PDF, then PNG of the first pages with pdftoppm) and checks the text the PDF shows.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from wennuan_lib.publish import review_workbook as rw  # noqa: E402
from wennuan_lib.publish import xlsx  # noqa: E402


@dataclass
class Tables:
    values: pd.DataFrame
    issues: pd.DataFrame
    status: pd.DataFrame
    audit: pd.DataFrame
    form: object
    checks: pd.DataFrame | None = None


@contextlib.contextmanager
def _book(cls):
    """The product's review_workbook code, writing through `cls` instead of xlsx.Book."""
    saved = xlsx.Book
    xlsx.Book = cls
    try:
        yield
    finally:
        xlsx.Book = saved


def _product(t: Tables) -> bytes:
    return rw.build(t.values, t.issues, t.status, t.audit, t.form, t.checks)


def xlsxwriter_default(t: Tables) -> bytes:
    return _product(t)


class _ConstantMemoryBook(xlsx.Book):
    def __init__(self, author: str = "wennuan"):
        import xlsxwriter

        self._buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self._buffer,
            {
                "constant_memory": True,  # in_memory would switch it off
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.wb.set_properties({"created": xlsx.STAMP, "author": author})
        self._formats = {}


def xlsxwriter_constant_memory(t: Tables) -> bytes:
    with _book(_ConstantMemoryBook):
        return _product(t)


class _OpenpyxlSheet:
    """The part of XlsxWriter's worksheet that the review workbook uses, onto an openpyxl write-only sheet
    (rows must come in order, as they do)."""

    def __init__(self, ws):
        self.ws, self.row, self.cells = ws, -1, {}

    @staticmethod
    def _col(c: int) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(c + 1)

    def set_column(self, first, last, width, fmt=None):
        for c in range(first, last + 1):
            self.ws.column_dimensions[self._col(c)].width = width

    def freeze_panes(self, r, c):
        self.ws.freeze_panes = f"{self._col(c)}{r + 1}"

    def autofilter(self, r1, c1, r2, c2):
        self.ws.auto_filter.ref = f"{self._col(c1)}{r1 + 1}:{self._col(c2)}{r2 + 1}"

    def repeat_rows(self, first, last=None):
        self.ws.print_title_rows = f"{first + 1}:{(first if last is None else last) + 1}"

    def set_landscape(self):
        self.ws.page_setup.orientation = "landscape"

    def set_paper(self, code):
        self.ws.page_setup.paperSize = code

    def set_row(self, r, height, fmt=None):
        self.ws.row_dimensions[r + 1].height = height

    def _put(self, r, c, value, fmt, text=False):
        if r != self.row:
            self.flush()
            for _ in range(self.row + 1, r):
                self.ws.append([])
            self.row = r
        self.cells[c] = (value, fmt, text)

    def write_blank(self, r, c, value, fmt=None):
        if fmt is not None:
            self._put(r, c, None, fmt)

    def write_string(self, r, c, value, fmt=None):
        self._put(r, c, value, fmt, True)

    def write_number(self, r, c, value, fmt=None):
        self._put(r, c, value, fmt)

    write_boolean = write_number

    def flush(self):
        if not self.cells:
            return
        from openpyxl.cell import WriteOnlyCell

        row = [None] * (max(self.cells) + 1)
        for c, (value, fmt, text) in self.cells.items():
            cell = WriteOnlyCell(self.ws, value=value)
            if text:
                cell.data_type = "s"  # text stays text: =… is not a formula
            if fmt is not None:
                font, fill, align, number = fmt
                if font is not None:
                    cell.font = font
                if fill is not None:
                    cell.fill = fill
                if align is not None:
                    cell.alignment = align
                if number is not None:
                    cell.number_format = number
            row[c] = cell
        self.ws.append(row)
        self.cells = {}


class _OpenpyxlBook:
    """xlsx.Book's interface onto openpyxl's write-only workbook."""

    def __init__(self, author: str = "wennuan"):
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)
        self.wb.properties.creator = author
        self.wb.properties.created = self.wb.properties.modified = xlsx.STAMP
        self._formats, self._sheets = {}, []

    def style(self, **spec):
        from openpyxl.styles import Alignment, Font, PatternFill

        key = tuple(sorted(spec.items()))
        if key not in self._formats:
            font = Font(name="Calibri", size=11, bold=True) if spec.get("bold") else None
            colour = spec.get("bg_color")
            fill = PatternFill("solid", fgColor=colour.lstrip("#")) if colour else None
            align = (
                Alignment(wrap_text=spec.get("text_wrap"), vertical=spec.get("valign"))
                if spec.get("text_wrap") or spec.get("valign")
                else None
            )
            self._formats[key] = (font, fill, align, spec.get("num_format"))
        return self._formats[key]

    def sheet(self, name: str):
        self._sheets.append(_OpenpyxlSheet(self.wb.create_sheet(name)))
        return self._sheets[-1]

    def bytes(self) -> bytes:
        for s in self._sheets:
            s.flush()
        buffer = io.BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


def openpyxl_write_only(t: Tables) -> bytes:
    with _book(_OpenpyxlBook):
        return _product(t)


def rustpy(t: Tables) -> bytes:
    """The same sheets with rustpy-xlsxwriter (records per sheet and options; see the module's docstring)."""
    import rustpy_xlsxwriter as rx

    def header_format():
        return rx.Format().set_bold().set_background_color("#DDEBF7").set_text_wrap().set_align("top")

    fills: dict[str, object] = {}

    def fill(text: str):
        if text not in fills:
            fills[text] = rx.Format().set_background_color(rw.FILLS[text])
        return fills[text]

    sheets, opts = (
        [],
        {
            k: {}
            for k in ("widths", "formats", "freeze", "filter", "page", "cond", "head", "rows", "row_formats")
        },
    )

    def coloured(name: str, texts) -> list[dict]:
        present = set(texts) & set(rw.FILLS)
        return [
            {"type": "text", "criteria": "begins_with", "value": s, "format": fill(s)}
            for s in sorted(present)
        ]

    def plain(title: str, columns, frame: pd.DataFrame) -> None:
        money = frame.attrs.get("money")
        data = {}
        for name, kind in columns:
            col = frame[name].tolist()
            if kind == rw.NUMBER:
                flags = money if money is not None else [False] * len(col)
                data[name] = [rw._number(v, bool(m)) for v, m in zip(col, flags, strict=True)]
            elif kind == rw.INT:
                data[name] = [None if rw._blank(v) else int(v) for v in col]
            else:
                data[name] = ["" if rw._blank(v) else str(v) for v in col]
        names = [n for n, _ in columns]
        records = [dict(zip(names, row, strict=True)) for row in zip(*(data[n] for n in names), strict=True)]
        widths = []
        for name, _ in columns:
            texts = pd.Series(frame[name]).map(lambda v: "" if rw._blank(v) else str(v)).drop_duplicates()
            widest = max([xlsx.display_width(name) + 2] + [xlsx.display_width(s) for s in texts.head(20000)])
            widths.append(min(rw.MAX_WIDTH, max(rw.MIN_WIDTH, widest + 2)))
        cond = {n: r for n, kind in columns if kind == rw.TEXT for r in [coloured(n, data[n])] if r}
        # no rows: a frame, so that the sheet still has its header (records without rows have no columns)
        sheets.append((title, records or pd.DataFrame({n: pd.Series(dtype=object) for n in names})))
        opts["widths"][title] = widths
        opts["freeze"][title] = {"row": 1, "col": 1}
        opts["filter"][title] = True
        opts["page"][title] = {"landscape": True, "paper_size": rw.PAPER_A4, "repeat_rows": 0}
        opts["head"][title] = header_format()
        if cond:
            opts["cond"][title] = cond

    for title, (columns, frame) in [
        ("审核意见", rw.findings_sheet(t.issues, t.form)),
        ("报送情况", rw.status_sheet(t.status)),
    ]:
        plain(title, columns, frame)
    # 数值: the item's name (header row) over its code (first row, text)
    values, form = t.values, t.form
    present = set(values["item"].unique())
    codes = [c for c in form.codes if c in present]
    heads = ["单位", "类型", "在名录中", *(f"{form.item(c).label}（{form.item(c).unit}）" for c in codes)]
    heads = [
        h if heads.count(h) == 1 else f"{h} {c}" for h, c in zip(heads, ["", "", "", *codes], strict=True)
    ]
    cells = {
        (u, i): (v, s)
        for u, i, v, s in zip(*(values[c].tolist() for c in ("unit", "item", "value", "status")), strict=True)
    }
    units = values.drop_duplicates("unit")
    money = [form.item(c).is_money for c in codes]
    records = [dict(zip(heads, ["代码", "", "", *codes], strict=True))]
    for unit, utype, registered in zip(units["unit"], units["unit_type"], units["registered"], strict=True):
        row = [unit, utype or None, rw._flag(registered)]
        for code, is_money in zip(codes, money, strict=True):
            cell = cells.get((unit, code))
            if cell is None:
                row.append(None)
            elif cell[1] != "ok":
                row.append(rw.VALUE_LABELS.get(cell[1], cell[1]))
            else:
                row.append(rw._number(cell[0], is_money))
        records.append(dict(zip(heads, row, strict=True)))
    grid = "数值"
    sheets.append((grid, records))
    opts["widths"][grid] = [
        min(rw.MAX_WIDTH, max([10] + [xlsx.display_width(u) + 2 for u in units["unit"]])),
        10,
        8,
        *(min(16, max(9, xlsx.display_width(form.item(c).label) // 2 + 2)) for c in codes),
    ]
    opts["formats"][grid] = {
        h: rx.Format().set_num_format(rw.MONEY_FORMAT if m else rw.COUNT_FORMAT)
        for h, m in zip(heads[3:], money, strict=True)
    }
    opts["freeze"][grid] = {"row": 2, "col": 3}
    opts["filter"][grid] = True
    opts["page"][grid] = {"landscape": True, "paper_size": rw.PAPER_A4, "repeat_rows": (0, 1)}
    opts["head"][grid] = header_format()
    opts["rows"][grid] = {0: 60}
    opts["row_formats"][grid] = {1: rx.Format().set_bold().set_background_color("#DDEBF7")}
    texts = set(rw.VALUE_LABELS.values())
    opts["cond"][grid] = {h: coloured(h, texts) for h in heads[3:]}
    rest = [("需核实的数值", rw.attention_sheet(values)), ("更正与豁免", rw.audit_sheet(t.audit))]
    if t.checks is not None:
        rest.append(("书面总结对照", rw.checks_sheet(t.checks)))
    for title, (columns, frame) in rest:
        plain(title, columns, frame)
    buffer = io.BytesIO()
    rx.write_worksheets(
        sheets,
        buffer,
        float_format=rw.MONEY_FORMAT,
        freeze_panes=opts["freeze"],
        column_widths=opts["widths"],
        column_formats=opts["formats"],
        header_format=opts["head"],
        row_heights=opts["rows"],
        row_formats=opts["row_formats"],
        autofilter=opts["filter"],
        page_setup=opts["page"],
        conditional_formats=opts["cond"],
    )
    return buffer.getvalue()


BACKENDS = {
    "xlsxwriter": xlsxwriter_default,
    "xlsxwriter-constant-memory": xlsxwriter_constant_memory,
    "openpyxl-write-only": openpyxl_write_only,
    "rustpy-xlsxwriter": rustpy,
}


def installed() -> list[str]:
    try:
        import rustpy_xlsxwriter  # noqa: F401
    except ImportError:
        return [b for b in BACKENDS if b != "rustpy-xlsxwriter"]
    return list(BACKENDS)


def fastest_installed() -> str:
    """The writer the benchmark's floor uses for 审核数据.xlsx: the fastest measured (see results.md) of those
    installed (constant_memory took more CPU than XlsxWriter's default mode; openpyxl's write-only mode twice
    as much)."""
    return "rustpy-xlsxwriter" if "rustpy-xlsxwriter" in installed() else "xlsxwriter"


# -- the tables ---------------------------------------------------------------------------------------------


def from_run(run: Path, form_year: str = "2013") -> Tables:
    from wennuan_lib.base import catalog, store
    from wennuan_lib.form import load_form

    def load(name: str):
        ds = catalog.dataset(name)
        return store.load_table(ds, run / ds.path) if (run / ds.path).is_file() else None

    return Tables(
        load("values"),
        load("issues"),
        load("reporting_status"),
        load("audit"),
        load_form(form_year),
        load("summary_checks"),
    )


def sample_run(root: Path, units: int = 30) -> Path:
    """A run of `units` synthetic units (bench.py's inbox), its folder."""
    sys.path.insert(0, str(ROOT / "bench"))
    import bench

    inputs = bench.generate(root, units)
    env = {**os.environ, "WENNUAN_SECRET_FILE": str(root / "secret.key")}
    subprocess.run(bench.run_cmd(inputs, root / "outputs"), check=True, env=env, capture_output=True)
    from wennuan_lib.run.workspace import Workspace

    return Workspace(inputs, root / "outputs").scope(bench.YEAR).current()


def tiled(t: Tables, units: int) -> Tables:
    """The tables repeated under other unit names until they hold `units` units."""
    have = t.values["unit"].nunique()
    copies = max(1, -(-units // have))
    keep = set(t.values["unit"].drop_duplicates().head(units)) if copies == 1 else None

    def grow(frame):
        if frame is None:
            return None
        parts = []
        for k in range(copies):
            f = frame.copy()
            if "unit" in f.columns:
                f["unit"] = f["unit"].where(f["unit"] == "", f["unit"] + (f"-{k}" if k else ""))
            parts.append(f)
        out = pd.concat(parts, ignore_index=True)
        out.attrs = frame.attrs
        if keep is not None and "unit" in out.columns:
            out = out[out["unit"].isin(keep) | (out["unit"] == "")].reset_index(drop=True)
        return out

    return Tables(grow(t.values), grow(t.issues), grow(t.status), grow(t.audit), t.form, grow(t.checks))


# -- what opens correctly -----------------------------------------------------------------------------------


def check(data: bytes, t: Tables) -> dict:
    """What a user would check in Excel, WPS or LibreOffice, read back with openpyxl."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    out = {"sheets": ",".join(wb.sheetnames)}
    grid = wb["数值"]
    codes_row = [c.value for c in grid[2]][3:]
    form = t.form
    out["codes_text"] = all(isinstance(v, str) for v in codes_row if v) and any(
        v and v.startswith("0") for v in codes_row
    )
    money_cols = [k + 4 for k, c in enumerate(codes_row) if c and form.item(c).is_money]
    nums = [
        grid.cell(r, c)
        for r in range(3, min(grid.max_row, 40) + 1)
        for c in money_cols
        if isinstance(grid.cell(r, c).value, int | float)
    ]
    out["money_0.00"] = bool(nums) and all(c.number_format == "0.00" for c in nums)
    f = wb["审核意见"]
    item_col = [c.value for c in f[1]].index("项目代码") + 1
    out["finding_codes_text"] = all(
        f.cell(r, item_col).data_type == "s"
        for r in range(2, min(f.max_row, 200) + 1)
        if f.cell(r, item_col).value
    )
    out["frozen"] = all(wb[s].freeze_panes for s in wb.sheetnames)
    out["filter"] = all(wb[s].auto_filter.ref for s in wb.sheetnames)
    out["landscape_a4"] = all(
        wb[s].page_setup.orientation == "landscape" and int(wb[s].page_setup.paperSize or 0) == 9
        for s in wb.sheetnames
    )
    out["header_repeated"] = all(wb[s].print_title_rows for s in wb.sheetnames)
    statics = sum(
        1 for row in grid.iter_rows(min_row=3) for c in row if c.fill is not None and c.fill.fill_type
    )
    out["coloured_cells"] = f"{statics} static, {len(list(grid.conditional_formatting))} conditional ranges"
    return out


def render(data: bytes, name: str, folder: Path) -> dict:
    """LibreOffice opens it: PDF, the first pages as PNG, and whether the codes print as written."""
    folder.mkdir(parents=True, exist_ok=True)
    book = folder / f"{name}.xlsx"
    book.write_bytes(data)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                str(book),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    pdf = book.with_suffix(".pdf")
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-l", "3", str(pdf), str(folder / name)], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return {"pdf_pages": text.count("\f"), "pdf_shows_05.1": "05.1" in text}


# -- timing -------------------------------------------------------------------------------------------------


def one(backend: str, tables: Path, out: Path | None) -> None:
    """Measure one build in this (fresh) process."""
    t = pickle.loads(tables.read_bytes())
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu0, wall0 = time.process_time(), time.perf_counter()
    data = BACKENDS[backend](t)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if out:
        out.write_bytes(data)
    # the build's peak above the tables it was given (ru_maxrss is a high-water mark)
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - loaded
    print("WRITER " + json.dumps({"wall": wall, "cpu": cpu, "grew_mib": grew, "bytes": len(data)}))


def spawn(backend: str, tables: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--one", backend, "--tables", str(tables)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = [s for s in done.stdout.splitlines() if s.startswith("WRITER ")][-1]
    return json.loads(line[len("WRITER ") :])


def spread(values: list[float], fmt: str) -> str:
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--pairs", type=int, default=3, help="rounds (each writer once per round)")
    parser.add_argument("--run", type=Path, help="a run's folder to take the tables from")
    parser.add_argument("--render", type=Path, help="open each writer's small workbook in LibreOffice here")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--tables", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.tables, args.out)
        return
    names = installed()
    with tempfile.TemporaryDirectory(prefix="wennuan-writers-") as tmp:
        tmp = Path(tmp)
        source = from_run(args.run) if args.run else from_run(sample_run(tmp / "sample"))
        small = tiled(source, min(30, source.values["unit"].nunique()))
        print(f"load {open('/proc/loadavg').read().split()[:3]}", flush=True)
        checks = {}
        for name in names:
            data = BACKENDS[name](small)
            checks[name] = check(data, small)
            if args.render:
                checks[name].update(render(data, name, args.render))
            print(name, json.dumps(checks[name], ensure_ascii=False), flush=True)
        big = tiled(source, args.units)
        pickled = tmp / "tables.pickle"
        pickled.write_bytes(pickle.dumps(big))
        load_before = open("/proc/loadavg").read().split()[:3]
        rounds = []
        for k in range(args.pairs):
            order = names[k % len(names) :] + names[: k % len(names)]
            rounds.append({name: spawn(name, pickled) for name in order})
            print(json.dumps(rounds[-1]), flush=True)
        load_after = open("/proc/loadavg").read().split()[:3]
    print(
        f"\n{args.units} 个单位（{len(big.values)} 个数值，{len(big.issues)} 条审核意见），{args.pairs} 轮，"
        f"负载 {' '.join(load_before)} → {' '.join(load_after)}\n"
    )
    print(
        "| 写法 | CPU（秒） | CPU 与 xlsxwriter 之比 | 墙钟（秒） | 墙钟与 xlsxwriter 之比 "
        "| 写的时候内存多用（MiB） | 文件大小（KB） |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        print(
            f"| {name} | {spread([r[name]['cpu'] for r in rounds], '{:.2f}')} | "
            f"{spread([r[name]['cpu'] / r['xlsxwriter']['cpu'] for r in rounds], '{:.2f}')} | "
            f"{spread([r[name]['wall'] for r in rounds], '{:.2f}')} | "
            f"{spread([r[name]['wall'] / r['xlsxwriter']['wall'] for r in rounds], '{:.2f}')} | "
            f"{statistics.median(r[name]['grew_mib'] for r in rounds):.0f} | "
            f"{statistics.median(r[name]['bytes'] for r in rounds) / 1024:.0f} |"
        )
    keys = list(next(iter(checks.values())))
    print("\n| 检查（打开后） | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in keys:
        print(f"| {key} | " + " | ".join(str(checks[n].get(key, "")) for n in names) + " |")


if __name__ == "__main__":
    main()
