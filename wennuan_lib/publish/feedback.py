"""Feedback workbooks (退回修改): one per unit with open findings, ready to email to the unit's clerk.

Sheet 审核意见: one row per cell of the unit's form (item) with all its problems merged — the problem in plain
words first, what to do, the item, the figure as the unit wrote it and where it is in the unit's own file; the
rule codes only in a narrow last column, for when the clerk phones the analyst. Above the table: the date by
which corrections are due (year.yaml ``feedback_deadline``, else 3 working days after the run) and where to
send them.
Sheet 本单位数据: every item of the form with the unit's figure, problems beside the cells concerned.
Each row is given a height for its wrapped text, counted generously (a Chinese character as 2.2 widths, a
digit as 1.3, 16 points a line): LibreOffice does not fit rows to their text when it opens a workbook, and a
row too low clips its text.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import math
import shutil
import unicodedata
from pathlib import Path

import pandas as pd

from wennuan_lib.base import dates, store
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.base.parallel import on_all_cores
from wennuan_lib.base.progress import report as report_progress
from wennuan_lib.base.textfiles import InputFileError
from wennuan_lib.check.rules import (
    ATTACHED,
    AUDIT_ID,
    ERROR,
    SEVERITY_LABELS,
    Describer,
    is_open,
    says_attached,
)
from wennuan_lib.form import Form
from wennuan_lib.publish import xlsx

ERROR_FILL, WARN_FILL, HEAD_FILL = "#F8B4B4", "#FFF3B0", "#DDEBF7"
CODE_COLOUR = "#808080"
WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
LINE_POINTS, PAD_POINTS = 16, 4  # a wrapped line of 11-point text, with room for CJK fonts' line gap
WIDE, NARROW = 2.2, 1.3  # column-width units a character takes (Chinese, Latin), rounded up
WORKING_DAYS = 3  # the default time for corrections: working days (Mon–Fri) after the run
WEEKDAYS = "一二三四五六日"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
WHOLE_FORM = "整份统计表"
# 审核意见: (heading, width); the problem first in the form's own words, the item codes and rule ids last and
# narrow (for when the clerk phones the analyst), never in the text a clerk reads.
COLUMNS = [
    ("序号", 5),
    ("问题", 58),
    ("处理意见", 34),
    ("项目", 24),
    ("填报的数字", 12),
    ("位置", 24),
    ("类别", 9),
    ("代码", 7),
]
# 本单位数据: (heading, width)
DATA_COLUMNS = [
    ("行", 6),
    ("项目", 34),
    ("计量单位", 8),
    ("报送原文", 16),
    ("读取数值", 12),
    ("位置", 18),
    ("问题", 70),
    ("代码", 8),
]


def working_days_after(day: dt.date, n: int) -> dt.date:
    """The n-th working day (Monday to Friday) after `day`; holidays are not known here."""
    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def deadline(cfg: dict, run_date: dt.date, source: Path | str = "year.yaml") -> dt.date:
    """The date corrections are due: year.yaml's ``feedback_deadline`` (2013-01-25, 2013年1月25日), else
    WORKING_DAYS working days after `run_date`. A value that is not a date is a Chinese error naming the
    file."""
    given = cfg.get("feedback_deadline")
    if given in (None, ""):
        return working_days_after(run_date, WORKING_DAYS)
    iso, _ = dates.parse(given, int(cfg["year"]) if cfg.get("year") else None)
    if iso is None:
        raise InputFileError(
            source,
            f"feedback_deadline（反馈表中的修改期限）「{given}」不是日期。请写成 "
            f"{cfg.get('year', 2013)}-01-25 这样的日期，或删去这一行"
            f"（删去后为运行当天之后的第{WORKING_DAYS}个工作日）",
        )
    return dt.date.fromisoformat(iso)


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def lines_needed(value, width: int) -> int:
    """How many lines a wrapped cell of `width` column units needs, counted generously."""
    return _lines_needed("" if value is None else str(value), width)


@functools.lru_cache(maxsize=4096)  # a form's labels and actions repeat in every unit's workbook
def _lines_needed(text: str, width: int) -> int:
    count = 0
    for line in text.split("\n"):
        units = sum(_char_units(ch) for ch in line)
        count += max(1, math.ceil(units / max(width - 1.5, 1)))
    return count


@functools.lru_cache(maxsize=8192)
def _char_units(ch: str) -> float:
    return WIDE if unicodedata.east_asian_width(ch) in "WFA" else NARROW  # “” wide


def row_height(values: list, widths: list[int]) -> float:
    """Points for a row whose wrapped cells must all show in full."""
    return LINE_POINTS * max(lines_needed(v, w) for v, w in zip(values, widths, strict=True)) + PAD_POINTS


def _table(
    book: xlsx.Book,
    ws,
    top: int,
    columns: list[tuple[str, int]],
    rows: list[list],
    fills: list | None = None,
    small_last: bool = False,
) -> None:
    """A table with wrapped cells (`top` is the 0-based heading row), each row as high as its longest cell
    needs."""
    widths = [w for _, w in columns]
    head = book.style(bold=True, bg_color=HEAD_FILL, text_wrap=True, valign="top")
    for c, (heading, width) in enumerate(columns):
        xlsx.cell(ws, top, c, heading, head)
        ws.set_column(c, c, width)
    ws.set_row(top, row_height([h for h, _ in columns], widths))
    for r, row in enumerate(rows, top + 1):
        fill = fills[r - top - 1] if fills else None
        spec = {"text_wrap": True, "valign": "top", **({"bg_color": fill} if fill else {})}
        plain = book.style(**spec)
        last = book.style(**spec, font_size=9, font_color=CODE_COLOUR) if small_last else plain
        for c, value in enumerate(row):
            xlsx.cell(ws, r, c, value, last if c == len(row) - 1 else plain)
        ws.set_row(r, row_height(row, widths))
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(top)


def _numbered(texts: list[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    return "\n".join(f"{CIRCLED[k] if k < len(CIRCLED) else f'{k + 1}.'}{t}" for k, t in enumerate(texts))


def problem_rows(findings: list, values: list[dict], form: Form, by_item: dict | None = None) -> list[dict]:
    """One row per cell (item) of the unit's form with its open findings merged, must-fix rows first, then in
    the form's order; findings on the whole form (its date, its year) share a row of their own. `findings`
    and `values` as `build` takes them."""
    by_item = _by_item(values) if by_item is None else by_item
    order = {c: k for k, c in enumerate(form.codes)}
    say = Describer(form)  # items in the form's own terms: 02行“其中困难农民工”
    groups: dict[str, list] = {}
    for f in findings:
        groups.setdefault(f.item if f.item in by_item else "", []).append(f)
    rows = []
    for item, group in groups.items():
        group.sort(key=lambda f: f.severity != ERROR)  # stable: must-fix first
        worst = ERROR if any(f.severity == ERROR for f in group) else group[0].severity
        mixed = len({f.severity for f in group}) > 1
        problems = [(f"（{SEVERITY_LABELS[f.severity]}）" if mixed else "") + f.message for f in group]
        actions = list(dict.fromkeys(f.action for f in group))
        if len(actions) > 1:
            actions = [f.action for f in group]
        others = [
            c
            for f in group
            for c in f.items.split("|")  # the other cells a problem names
            if c != item and c in by_item and say.name(c) in f.message
        ]
        codes = list(dict.fromkeys(([item] if item else []) + sorted(others, key=order.get)))
        if item:
            row = by_item[item]
            shown = _shown(row) + (form.item(item).unit if row["status"] == "ok" else "")
            label = say.name(item)
        else:
            shown, label = "", WHOLE_FORM
        places = [by_item[c]["location"] or "—" for c in codes]
        where = (
            places[0]
            if len(codes) == 1
            else "\n".join(f"“{form.item(c).label}”：{p}" for c, p in zip(codes, places, strict=True))
        )
        rows.append(
            {
                "item": item,
                "severity": worst,
                "problem": _numbered(problems),
                "action": _numbered(actions) if len(actions) == len(problems) else actions[0],
                "label": label,
                "shown": shown,
                "where": where,
                "rules": "\n".join([*codes, *dict.fromkeys(f.rule for f in group)]),
            }
        )
    rows.sort(key=lambda r: (r["severity"] != ERROR, order.get(r["item"], -1)))
    return rows


def build(unit: str, findings: list, values: list[dict], form: Form, cfg: dict) -> bytes:
    """The unit's workbook, as the bytes of an .xlsx file: the problems to act on, and the unit's figures as
    read. `findings` are the unit's open findings (rows with the issues table's columns as attributes) and
    `values` its figures (one dict a blank), as `Rows` takes them out of the tables."""
    mark = "（示例数据）" if cfg.get("sample") else ""
    by_item = _by_item(values)
    book = xlsx.Book()
    _problems_sheet(book, unit, problem_rows(findings, values, form, by_item), values, cfg, mark)
    _data_sheet(book, unit, findings, form, by_item, cfg["year"], mark)
    return book.bytes()


def _problems_sheet(book: xlsx.Book, unit: str, rows: list[dict], values: list[dict], cfg: dict, mark: str):
    """审核意见: what to do by when, one row per problem (必须修改 first)."""
    year = cfg["year"]
    files = sorted({v["file"] for v in values} - {""})
    due = deadline(cfg, dt.date.today())
    ws = book.sheet("审核意见")
    bold = book.style(bold=True)
    xlsx.cell(ws, 0, 0, f"{year}年送温暖活动统计表审核意见{mark}", book.style(bold=True, font_size=14))
    xlsx.cell(ws, 1, 0, f"单位：{unit}")
    xlsx.cell(ws, 2, 0, f"报送文件：{'、'.join(files)}")
    errors = sum(r["severity"] == ERROR for r in rows)
    xlsx.cell(
        ws,
        3,
        0,
        f"共 {len(rows)} 处需要处理，其中必须修改 {errors} 处、请核实 {len(rows) - errors} 处。"
        "“位置”是该数字在贵单位报送文件中的位置（未填的，是应填写的格）。",
    )
    xlsx.cell(
        ws,
        4,
        0,
        f"请于{cn_date(due)}前，按“处理意见”修改或核实，将修改后的统计表（或核实情况）报{send_to(cfg)}。",
        bold,
    )
    table = [
        [
            n,
            r["problem"],
            r["action"],
            r["label"],
            r["shown"],
            r["where"],
            SEVERITY_LABELS[r["severity"]],
            r["rules"],
        ]
        for n, r in enumerate(rows, 1)
    ]
    fills = [ERROR_FILL if r["severity"] == ERROR else WARN_FILL for r in rows]
    _table(book, ws, 6, COLUMNS, table, fills, small_last=True)
    ws.freeze_panes(7, 0)


def _data_sheet(
    book: xlsx.Book, unit: str, findings: list, form: Form, by_item: dict, year, mark: str
) -> None:
    """本单位数据: every item of the form as written, as read, where, and its problems (coloured by the
    worst)."""
    ws2 = book.sheet("本单位数据")
    xlsx.cell(
        ws2,
        0,
        0,
        f"{unit} {year}年送温暖活动统计表（系统读取结果）{mark}",
        book.style(bold=True, font_size=12),
    )
    problems: dict[str, list[str]] = {}
    worst: dict[str, str] = {}
    for f in findings:
        for c in f.items.split("|"):
            problems.setdefault(c, []).append(f.message)
            worst[c] = ERROR if f.severity == ERROR or worst.get(c) == ERROR else "warning"
    data, fills = [], []
    for item in form.items:
        row = by_item.get(item.code)
        data.append(
            [
                f"{item.code[:2]}行",
                item.label,
                item.unit,
                "" if row is None else row["raw_text"].strip(),
                "" if row is None else _shown(row),
                "" if row is None else row["location"],
                _numbered(list(dict.fromkeys(problems[item.code]))) if item.code in problems else "",
                item.code,
            ]
        )
        fills.append({ERROR: ERROR_FILL, "warning": WARN_FILL}.get(worst.get(item.code)))
    _table(book, ws2, 2, DATA_COLUMNS, data, fills, small_last=True)
    ws2.freeze_panes(3, 0)


def send_to(cfg: dict) -> str:
    """Whom corrections go to, with the phone and e-mail year.yaml gives: 市总工会保障工作部（电话 …）."""
    reach = "，".join(
        x
        for x in (
            f"电话 {cfg['phone']}" if cfg.get("phone") else "",
            f"电子信箱 {cfg['email']}" if cfg.get("email") else "",
        )
        if x
    )
    return cfg.get("contact", "市总工会") + (f"（{reach}）" if reach else "")


RESEND = (
    "请重新报送本单位的统计表：用市总工会下发的Excel表格填写后发送原文件（也可以是Word文件，或在Word中"
    "“另存为PDF”得到的PDF）；不要拍照、扫描或截图，也不要加密或压缩成无法打开的文件"
)


def unreadable_book(unit: str, problems: list[tuple[str, str]], cfg: dict) -> bytes:
    """The workbook of a unit that sent its form but none of its files could be read: which file, why, and
    what to send instead (the unit most needs to resend, so it gets a workbook like every other unit)."""
    year = cfg["year"]
    mark = "（示例数据）" if cfg.get("sample") else ""
    due = deadline(cfg, dt.date.today())
    book = xlsx.Book()
    ws = book.sheet("审核意见")
    xlsx.cell(ws, 0, 0, f"{year}年送温暖活动统计表审核意见{mark}", book.style(bold=True, font_size=14))
    xlsx.cell(ws, 1, 0, f"单位：{unit}")
    xlsx.cell(ws, 2, 0, f"报送文件：{'、'.join(f for f, _ in problems)}")
    xlsx.cell(ws, 3, 0, "贵单位报送的统计表无法读取，本单位的数字都没有计入全市汇总。")
    xlsx.cell(
        ws,
        4,
        0,
        f"请于{cn_date(due)}前，按“处理意见”重新报送统计表，报{send_to(cfg)}。",
        book.style(bold=True),
    )
    rows = [
        [n, f"报送的文件「{file}」无法读取：{why}", RESEND, WHOLE_FORM, "", file, SEVERITY_LABELS[ERROR], ""]
        for n, (file, why) in enumerate(problems, 1)
    ]
    _table(book, ws, 6, COLUMNS, rows, [ERROR_FILL] * len(rows), small_last=True)
    ws.freeze_panes(7, 0)
    return book.bytes()


def _by_item(values: list[dict]) -> dict[str, dict]:
    """A unit's values by item."""
    return {r["item"]: r for r in values}


@functools.cache
def _row_type(columns: tuple[str, ...]):
    """A row of these columns, named as DataFrame.itertuples names them (made where it is used: a class made
    at run time does not travel to another process by pickle)."""
    return collections.namedtuple("Row", columns, rename=True)


class Rows:
    """A table as plain Python, its columns made lists once, from which each unit's rows are taken by their
    positions: a workbook takes about 9 ms, and taking a unit's rows out of the DataFrames (.iloc, then
    itertuples and a column's list each) took about a fifth of it."""

    def __init__(self, frame: pd.DataFrame):
        self.columns = list(frame.columns)
        self.lists = [frame[c].tolist() for c in self.columns]  # Python's own values, as itertuples gives

    def tuples(self, positions) -> list:
        """The rows at `positions`, each with the columns as attributes (as DataFrame.itertuples)."""
        row = _row_type(tuple(self.columns))
        return [row._make([c[i] for c in self.lists]) for i in positions]

    def records(self, positions) -> list[dict]:
        """The rows at `positions`, each a dict by column."""
        return [dict(zip(self.columns, [c[i] for c in self.lists], strict=True)) for i in positions]


def _shown(row) -> str:
    """A blank as the unit's clerk knows it: the figure, or what it holds instead."""
    if row["status"] == "ok":
        return row["value"]
    if row["status"] == "unreadable" and says_attached(row.get("raw_text", "")):
        return f"{ATTACHED}（待补报）"  # what the unit wrote: the figure is asked for, not misread
    return {"missing": "未填", "unreadable": "无法识别", "not_found": "未找到"}.get(
        row["status"], row["status"]
    )


def _build(shared, job) -> bytes | str:
    """A unit's workbook, or (str) what broke making it: one unit's text never stops the others'. A workbook
    made is kept in the cache by the process that made it, not one by one on the kernel's core afterwards
    (1,800 workbooks: about 0.5 s)."""
    findings, values, form, cfg, cache = shared
    unit, mine, index, key = job
    try:
        data = build(unit, findings.tuples(index), values.records(mine), form, cfg)
    except Exception as exc:
        return type(exc).__name__
    cache.put(key, data)
    return data


def not_made_line(unit: str, files: str, why: str = "") -> str:
    """The run summary's line for a unit whose feedback workbook could not be made."""
    because = f"（{why}）" if why else ""
    return (
        f"反馈表未能生成：{unit}（报来的{files or '文件'}）生成反馈表时程序出错{because}；"
        "这个单位的审核意见在审核结果汇总表中照常列出，请从那里转告单位，并把运行记录转给维护人员"
    )


def unit_files(values: pd.DataFrame, unit: str) -> str:
    """The unit's files in force, as a message names them: 「a.xlsx」、「b.docx」."""
    files = values.loc[values["unit"] == unit, "file"] if "file" in values else []
    return "、".join(f"「{f}」" for f in dict.fromkeys(files) if isinstance(f, str) and f)


def _row_hashes(frame: pd.DataFrame):
    """One 64-bit hash per row (vectorised), so a unit's slice can be hashed without re-hashing it."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def file_names(units: list[str]) -> dict[str, str]:
    """Each unit's feedback file name (without .xlsx): its name made safe for a file name, plus a short
    stable hash of the full name whenever making it safe changed or cut it, or when two units would get
    the same file name (compared as Windows does, ignoring case). The same unit keeps its file name from
    run to run, and no two units share one."""

    def tagged(unit: str, base: str) -> str:
        return f"{base}_{hashlib.sha256(unit.encode('utf-8')).hexdigest()[:8]}"

    names = {}
    for unit in units:
        base = store.safe_filename(unit)
        changed = (
            base != unicodedata.normalize("NFKC", unit) or base.split(".")[0].upper() in WINDOWS_RESERVED
        )
        names[unit] = tagged(unit, base) if changed else base
    taken: dict[str, list[str]] = {}
    for unit, name in names.items():
        taken.setdefault(name.casefold(), []).append(unit)
    for same in taken.values():
        if len(same) > 1:
            for unit in same:
                names[unit] = tagged(unit, store.safe_filename(unit))
    return names


def for_units(issues: pd.DataFrame, units) -> pd.Series:
    """The findings a unit's feedback carries: open, on one of `units` (those that sent a form), and about its
    form — not the analyst's own registers (A01: a line of corrections.csv or waivers.csv that could not be
    applied is the analyst's to mend; it names the registers' lines and item codes, which the unit has never
    seen)."""
    return is_open(issues) & issues["unit"].isin(units) & (issues["rule"] != AUDIT_ID)


def missing_units(issues: pd.DataFrame, values: pd.DataFrame, made: list) -> list[str]:
    """The units with open findings whose feedback workbook is not among `made` (write_all could not make
    it), in the findings' order."""
    units = list(dict.fromkeys(issues.loc[for_units(issues, set(values["unit"])), "unit"]))
    have = {Path(p).name for p in made}
    return [u for u, stem in file_names(units).items() if f"{stem}.xlsx" not in have]


def write_all(
    issues: pd.DataFrame,
    values: pd.DataFrame,
    form: Form,
    cfg: dict,
    folder: Path,
    cache: Artifacts,
    unreadable: dict[str, list[tuple[str, str]]] | None = None,
) -> list[Path]:
    """`build_all`, written into `folder` (made afresh): the paths of the workbooks."""
    books = build_all(issues, values, form, cfg, cache, unreadable)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in books.items():
        store.atomic_write_bytes(folder / name, data)
    return [folder / n for n in books]


def build_all(
    issues: pd.DataFrame,
    values: pd.DataFrame,
    form: Form,
    cfg: dict,
    cache: Artifacts,
    unreadable: dict[str, list[tuple[str, str]]] | None = None,
) -> dict[str, bytes]:
    """One workbook per unit with open findings, and one per unit whose form could not be read (`unreadable`:
    unit → its files and why), by file name. A workbook whose findings and figures did not change since it
    was last made is taken from the cache; the others are made on all cores. `cfg` is the year's settings;
    step 03 sets its ``feedback_deadline`` (see `deadline`)."""
    if not cfg.get("feedback_deadline"):  # called without step 03's date: the deadline counts from today
        cfg = {**cfg, "feedback_deadline": deadline(cfg, dt.date.today()).isoformat()}
    open_ = issues[for_units(issues, set(values["unit"]))]
    values = values.reset_index(drop=True)
    open_ = open_.reset_index(drop=True)
    by_unit = values.groupby("unit", sort=False).indices
    value_hashes, finding_hashes = _row_hashes(values), _row_hashes(open_)
    context = form.version + repr(sorted(cfg.items())) + ",".join(values.columns) + ",".join(open_.columns)
    books: dict[str, bytes | None] = {}
    jobs, names = [], []
    groups = open_.groupby("unit", sort=False).indices
    stems = file_names(list(groups))
    for unit, index in groups.items():
        mine = by_unit[unit]
        name = f"{stems[unit]}.xlsx"
        key = cache.key(context, unit, finding_hashes[index].tobytes(), value_hashes[mine].tobytes())
        books[name] = cache.get(key)
        if books[name] is None:
            jobs.append((unit, mine, index, key))
            names.append(name)
    shared = (Rows(open_), Rows(values), form, cfg, cache) if jobs else None  # nothing to make: no lists
    made = on_all_cores(_build, jobs, shared=shared)
    for name, data, (unit, *_) in zip(names, made, jobs, strict=True):
        if isinstance(data, str):  # not made, not cached: the run summary names it (missing_units)
            del books[name]
            report_progress(not_made_line(unit, unit_files(values, unit), data))
            continue
        books[name] = data  # kept in the cache by the process that made it (_build)
    lost = {u: p for u, p in (unreadable or {}).items() if u not in groups}
    for unit, stem in file_names(list(lost)).items():  # cheap: one row each, made every time
        books[f"{stem}.xlsx"] = unreadable_book(unit, lost[unit], cfg)
    return books
