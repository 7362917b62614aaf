"""Feedback workbooks (退回修改): one per unit with open findings, ready to email.

Sheet 审核意见: each problem on its own row, with the items concerned, the figures as the unit
wrote them, and where they are in the unit's own file. Sheet 本单位数据: every item of the form
with the unit's figure, problems beside the cells concerned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from . import store, template
from .artifacts import Artifacts
from .form import Form
from .parallel import on_all_cores
from .rules import SEVERITY_LABELS, is_open

ERROR_FILL = PatternFill("solid", fgColor="F8B4B4")
WARN_FILL = PatternFill("solid", fgColor="FFF3B0")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
WRAP = Alignment(wrap_text=True, vertical="top")


def put(ws, row: int, col: int, value, **style):
    """Write a cell; text is always text, never a live formula (a unit's name may start with '=')."""
    cell = ws.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    for key, v in style.items():
        setattr(cell, key, v)
    return cell


def _table(ws, top: int, headings: list[str], rows: list[list], widths: list[int], fills: list | None = None) -> None:
    for c, (h, w) in enumerate(zip(headings, widths, strict=True), 1):
        put(ws, top, c, h, font=BOLD, fill=HEAD_FILL, alignment=WRAP)
        ws.column_dimensions[chr(64 + c)].width = w
    for r, row in enumerate(rows, top + 1):
        for c, value in enumerate(row, 1):
            cell = put(ws, r, c, value, alignment=WRAP)
            if fills and fills[r - top - 1] is not None:
                cell.fill = fills[r - top - 1]
        ws.row_dimensions[r].height = 15 * max(_lines(v, w) for v, w in zip(row, widths, strict=True))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{top}:{top}"


def _lines(value, width: int) -> int:
    """How many lines a wrapped cell needs (a Chinese character is about two widths)."""
    import math

    text = "" if value is None else str(value)
    return max(1, sum(max(1, math.ceil(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) / max(width - 1, 1)))
                      for line in text.split("\n")))


def build(unit: str, findings: pd.DataFrame, values: pd.DataFrame, form: Form, cfg: dict) -> Workbook:
    year = cfg["year"]
    mark = "（示例数据）" if cfg.get("sample") else ""
    by_item = values.set_index("item")
    files = sorted(set(values["file"]) - {""})
    wb = Workbook()
    ws = wb.active
    ws.title = "审核意见"
    put(ws, 1, 1, f"{year}年送温暖活动统计表审核意见{mark}", font=Font(bold=True, size=14))
    put(ws, 2, 1, f"单位：{unit}")
    put(ws, 3, 1, f"报送文件：{'、'.join(files)}")
    errors = int((findings["severity"] == "error").sum())
    put(ws, 4, 1, f"共 {len(findings)} 条意见，其中必须修改 {errors} 条、请核实 {len(findings) - errors} 条。"
                  "“位置”是该数字在贵单位报送文件中的位置。")
    contact = cfg.get("contact", "市总工会")
    reach = "，".join(x for x in (f"电话 {cfg['phone']}" if cfg.get("phone") else "",
                                  f"电子信箱 {cfg['email']}" if cfg.get("email") else "") if x)
    findings = findings.sort_values("severity", kind="stable")  # 必须修改 first
    put(ws, 5, 1, f"请按“处理意见”修改或核实后，将修改后的统计表（或核实情况）尽快报{contact}" + (f"（{reach}）" if reach else "")
        + "。", font=BOLD)
    rows, fills = [], []
    for n, f in enumerate(findings.itertuples(index=False), 1):
        codes = [c for c in f.items.split("|") if c in by_item.index]
        rows.append([n, SEVERITY_LABELS[f.severity], f.rule,
                     "\n".join(f"{c} {form.item(c).label}" for c in codes),
                     "\n".join(_shown(by_item.loc[c]) for c in codes),
                     "\n".join(by_item.loc[c, "location"] or "—" for c in codes),
                     f.message, f.action])
        fills.append(ERROR_FILL if f.severity == "error" else WARN_FILL)
    _table(ws, 7, ["序号", "类别", "规则", "涉及项目", "报送数值", "位置", "问题", "处理意见"], rows,
           [6, 10, 7, 30, 14, 18, 60, 36], fills)
    ws.freeze_panes = "A8"

    ws2 = wb.create_sheet("本单位数据")
    put(ws2, 1, 1, f"{unit} {year}年送温暖活动统计表（系统读取结果）{mark}", font=Font(bold=True, size=12))
    problems: dict[str, list[str]] = {}
    worst: dict[str, str] = {}
    for f in findings.itertuples(index=False):
        for c in f.items.split("|"):
            problems.setdefault(c, []).append(f.message)
            worst[c] = "error" if f.severity == "error" or worst.get(c) == "error" else "warning"
    rows, fills = [], []
    for item in form.items:
        row = by_item.loc[item.code] if item.code in by_item.index else None
        rows.append([item.code, item.label, item.unit,
                     "" if row is None else row["raw_text"].strip(),
                     "" if row is None else _shown(row),
                     "" if row is None else row["location"], "\n".join(problems.get(item.code, []))])
        fills.append({"error": ERROR_FILL, "warning": WARN_FILL}.get(worst.get(item.code)))
    _table(ws2, 3, ["代码", "项目", "计量单位", "报送原文", "读取数值", "位置", "问题"], rows,
           [8, 34, 8, 16, 12, 18, 70], fills)
    ws2.freeze_panes = "A4"
    return wb


def _shown(row) -> str:
    if row["status"] == "ok":
        return row["value"]
    return {"missing": "未填", "unreadable": "无法识别", "not_found": "未找到"}.get(row["status"], row["status"])


def _build(job) -> bytes:
    unit, findings, values, form_id, cfg = job
    from .form import load_form

    wb = build(unit, findings, values, load_form(form_id), cfg)
    wb.properties.creator = "wennuan"
    return template.workbook_bytes(wb)


def _row_hashes(frame: pd.DataFrame):
    """One 64-bit hash per row (vectorised), so a unit's slice can be hashed without re-hashing it."""
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def file_names(units: list[str]) -> dict[str, str]:
    """Each unit's feedback file name (without .xlsx): its name made safe for a file name, plus a short
    stable hash of the full name whenever making it safe changed or cut it, or when two units would get
    the same file name (compared as Windows does, ignoring case). The same unit keeps its file name from
    run to run, and no two units share one."""
    import hashlib
    import unicodedata

    def tagged(unit: str, base: str) -> str:
        return f"{base}_{hashlib.sha256(unit.encode('utf-8')).hexdigest()[:8]}"

    names = {}
    for unit in units:
        base = store.safe_filename(unit)
        changed = base != unicodedata.normalize("NFKC", unit) or base.split(".")[0].upper() in WINDOWS_RESERVED
        names[unit] = tagged(unit, base) if changed else base
    taken: dict[str, list[str]] = {}
    for unit, name in names.items():
        taken.setdefault(name.casefold(), []).append(unit)
    for same in taken.values():
        if len(same) > 1:
            for unit in same:
                names[unit] = tagged(unit, store.safe_filename(unit))
    return names


def write_all(issues: pd.DataFrame, values: pd.DataFrame, form: Form, cfg: dict, folder: Path,
              cache: Artifacts) -> list[Path]:
    """One workbook per unit with open findings, in `folder` (a folder of the run being made). A workbook whose
    findings and figures did not change since it was last made is taken from the cache; the others are made on
    all cores."""
    open_ = issues[is_open(issues) & issues["unit"].isin(set(values["unit"]))]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    values = values.reset_index(drop=True)
    open_ = open_.reset_index(drop=True)
    by_unit = values.groupby("unit", sort=False).indices
    value_hashes, finding_hashes = _row_hashes(values), _row_hashes(open_)
    context = form.version + repr(sorted(cfg.items())) + ",".join(values.columns) + ",".join(open_.columns)
    names, jobs, keys = [], [], []
    groups = open_.groupby("unit", sort=False).indices
    stems = file_names(list(groups))
    for unit, index in groups.items():
        mine = by_unit[unit]
        name = f"{stems[unit]}.xlsx"
        names.append(name)
        key = cache.key(context, unit, finding_hashes[index].tobytes(), value_hashes[mine].tobytes())
        data = cache.get(key)
        if data is None:
            jobs.append((unit, open_.iloc[index], values.iloc[mine], form.form, cfg))
            keys.append((key, name))
        else:
            store.atomic_write_bytes(folder / name, data)
    for (key, name), data in zip(keys, on_all_cores(_build, jobs), strict=True):
        cache.put(key, data)
        store.atomic_write_bytes(folder / name, data)
    return [folder / n for n in names]
