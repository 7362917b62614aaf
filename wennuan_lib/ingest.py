"""The ingest step: the inbox (raw layer) → values as read (intermediate) → values in force (primary).

Writes, under outputs/<year>/data/:

* ingest_log.csv   every file in the inbox: read / summary / superseded / skipped / rejected, reason in Chinese
* submissions.csv  every form read: unit, layout, header fields, in force or superseded
* extracted.csv    every blank of every form read, as typed, with file and cell or paragraph
* summaries.csv    the units' 书面总结材料: unit, file and extracted text (never read for figures)

and returns the values as read from the files in force (step 02 turns them into values.csv).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import cache, config, layouts, readers, store, units
from .form import Form, load_form, year_setup
from .parse import MISSING, OK, UNREADABLE, format_value, parse_blank
from .pipeline import on_all_cores, report_progress
from .readers import ReadError
from .units import Registry

READ, SUMMARY, SUPERSEDED, SKIPPED, REJECTED = "read", "summary", "superseded", "skipped", "rejected"
NOT_FOUND = "not_found"
STATUS_LABELS = {READ: "已读取", SUMMARY: "书面总结", SUPERSEDED: "已被替代", SKIPPED: "已略过", REJECTED: "无法读取"}
# A form recognised but without a single figure is not 已读取 (status stays `read`: it is the unit's report).
EMPTY_LABEL, NO_FIGURES_LABEL = "全部未填", "未读到数字"
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z")
VALUE_LABELS = {OK: "已填", MISSING: "未填", UNREADABLE: "无法识别", NOT_FOUND: "表中未找到"}

LITTER_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}
LITTER_SUFFIXES = {".txt": "文本文件，不是报送材料", ".tmp": "临时文件", ".lnk": "快捷方式", ".ini": "系统文件"}
OTHER_FORMATS = {
    ".pdf": "PDF文件无法读取数字，请单位报送Word或Excel版本",
    ".jpg": "图片无法读取数字，请单位报送Word或Excel版本",
    ".jpeg": "图片无法读取数字，请单位报送Word或Excel版本",
    ".png": "图片无法读取数字，请单位报送Word或Excel版本",
    ".wps": "WPS文字格式，请单位另存为Word（.docx）后发送",
    ".et": "WPS表格格式，请单位另存为Excel（.xlsx）后发送",
    ".zip": "压缩包，请解压后把其中的文件放入收件箱",
    ".rar": "压缩包，请解压后把其中的文件放入收件箱",
    ".7z": "压缩包，请解压后把其中的文件放入收件箱",
}
DRAFT_WORDS = ("初稿", "草稿", "旧版")
FINAL_WORDS = ("修改", "更正", "正式", "终稿", "定稿", "最新")


@dataclass
class Submission:
    """One file of the inbox and what became of it."""

    file: str  # path relative to the inbox
    container: str = ""
    status: str = ""
    reason: str = ""
    layout: str = ""
    written_unit: str = ""
    unit: str = ""
    unit_type: str = ""
    registered: bool = False
    unit_how: str = ""
    date: str = ""
    person: str = ""
    phone: str = ""
    form_year: str = ""
    form_version: str = ""
    mtime: float = 0.0
    match: layouts.Match | None = None
    rows: list[dict] = field(default_factory=list)  # parsed blanks

    @property
    def is_form(self) -> bool:
        return self.layout in layouts.FORM_LAYOUTS

    @property
    def status_label(self) -> str:
        if self.status == READ and not any(r["status"] == OK for r in self.rows):
            return NO_FIGURES_LABEL if any(r["status"] == UNREADABLE for r in self.rows) else EMPTY_LABEL
        return STATUS_LABELS[self.status]


def new_submission(path: Path, inbox: Path) -> Submission:
    sub = Submission(path.relative_to(inbox).as_posix(), container=path.suffix.lower().lstrip("."))
    sub.mtime = path.stat().st_mtime
    return sub


def screen(sub: Submission, path: Path) -> bool:
    """Litter and formats no reader takes are settled without reading; True when the file needs reading."""
    if (why := litter_reason(path)) is not None:
        sub.status, sub.reason = SKIPPED, f"已略过：{why}"
        return False
    suffix = path.suffix.lower()
    if suffix not in readers.CONTAINERS:
        sub.status = REJECTED
        sub.reason = OTHER_FORMATS.get(suffix, f"不支持的文件类型（{suffix or '无扩展名'}），请单位报送Word或Excel文件")
        return False
    return True


def litter_reason(path: Path) -> str | None:
    name = path.name
    if name.startswith("~$") or name.startswith(".~lock"):
        return "Office打开文件时留下的锁定文件"
    if name.lower() in LITTER_NAMES or name.startswith("."):
        return "系统生成的文件"
    if path.suffix.lower() in LITTER_SUFFIXES:
        return LITTER_SUFFIXES[path.suffix.lower()]
    return None


def list_inbox(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        raise FileNotFoundError(f"收件箱不存在：{inbox}")
    return sorted((p for p in inbox.rglob("*") if p.is_file()), key=lambda p: p.relative_to(inbox).as_posix())


def _named_in(registry: Registry, text: str) -> units.Resolved | None:
    """The registered unit whose name or alias comes first in a text (the longest at the same place)."""
    key = units.normalize(text)
    if not key:
        return None
    hits = [(key.find(k), -len(k), name) for k, name in registry.keys.items() if len(k) >= 2 and k in key]
    if not hits:
        return None
    name = min(hits)[2]
    return units.Resolved(name, True, registry.types[name], "名称包含")


def _title_and_lines(text: str) -> tuple[str, str]:
    """A document's first line (its title) and the few lines after it."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:6]
    return (lines[0] if lines else ""), "\n".join(lines[1:])[:300]


def _folders(file: str) -> list[tuple[str, str]]:
    """(name, how) of the folders and archives a file came in, the innermost first."""
    out = []
    for part in reversed(Path(file).parts[:-1]):
        suffix = Path(part).suffix.lower()
        if suffix in ARCHIVE_SUFFIXES:
            out.append((part[: -len(suffix)], f"按所在压缩包（{part}）"))
        else:
            out.append((part, f"按所在文件夹（{part}）"))
    return out


def _resolve_unit(sub: Submission, registry: Registry) -> None:
    """Who sent a file. A form (or a file rejected as one): 填报单位, file name, title, first lines, folders.
    A written summary: file name, title, first lines, 填报单位, folders. A file that could not be read: its
    file name, then its folders."""
    written = sub.written_unit
    by_header = ("按填报单位", registry.resolve(written) if written else None)
    by_file = ("按文件名", registry.resolve(Path(sub.file).stem))
    sources = [by_file]
    if sub.match is not None:
        title, lines = _title_and_lines(sub.match.text)
        by_text = [("按标题", _named_in(registry, title)), ("按开头文字", _named_in(registry, lines))]
        sources = [by_file, *by_text, by_header] if sub.status == SUMMARY else [by_header, by_file, *by_text]
    sources += [(how, registry.resolve(name)) for name, how in _folders(sub.file)]
    how, chosen = next(((how, found) for how, found in sources if found), ("", None))
    if chosen is None:
        if sub.match is None or (sub.status == REJECTED and not written):  # nothing names the sender
            sub.unit, sub.registered, sub.unit_how = "", False, "无法从文件名、标题或所在文件夹判断报送单位"
            return
        sub.unit, sub.registered = (written or Path(sub.file).stem), False
        sub.unit_how = "未在单位名录中" + ("" if written else "，且未填填报单位，暂以文件名为单位名")
        return
    if how == "按填报单位":
        how = f"按填报单位（{chosen.how}）"
    elif how == "按文件名" and sub.match is not None and sub.is_form:
        how += f"（填报单位「{written}」不在单位名录中）" if written else "（未填填报单位）"
    elif written and not by_header[1]:
        how += f"（填报单位「{written}」不在单位名录中）"
    sub.unit, sub.unit_type, sub.registered, sub.unit_how = chosen.name, chosen.type, True, how


def _parse_values(sub: Submission, form: Form) -> None:
    m = sub.match
    for item in form.items:
        note = m.notes.get(item.code, "")
        row = {"item": item.code, "raw_text": "", "location": "", "value": None, "status": NOT_FOUND,
               "approx": False, "note": note or "表中未找到这一句，可能被删改"}
        if item.code in m.refused:  # the matcher saw something there but cannot tell it is this blank's figure
            found, why = m.refused[item.code]
            raw = found.raw if isinstance(found.raw, str) else readers.cell_text(found.raw)
            row.update(raw_text=raw.strip("\n"), location=found.loc, status=UNREADABLE, note=why)
        elif item.code in m.values:
            found = m.values[item.code]
            parsed = parse_blank(found.raw, item.is_money)
            raw = found.raw if isinstance(found.raw, str) else readers.cell_text(found.raw)
            row.update(raw_text=raw.strip("\n"), location=found.loc, value=parsed.value,
                       status=parsed.status, approx=parsed.approx, note="；".join(x for x in (parsed.note, note) if x))
        sub.rows.append(row)


def read_and_match(path: Path, form: Form, converted: Path | None = None) -> tuple[layouts.Match | None, str | None]:
    """The expensive part of reading a file, which the cache keeps: (match, None) or (None, reason)."""
    try:
        return layouts.match(readers.read(path, converted), form), None
    except ReadError as exc:
        return None, str(exc)


def describe(sub: Submission, path: Path, m: layouts.Match, form: Form, registry: Registry,
             rows: list[dict] | None = None) -> Submission:
    """What a matched file is: whose, which layout, and its blanks parsed."""
    sub.match, sub.layout = m, m.layout
    sub.form_year, sub.form_version = m.form_year, m.form_version
    header = {k: f.raw for k, f in m.header.items()}
    sub.written_unit = str(header.get("unit") or "").strip()
    sub.date = layouts.parse_date(header.get("date"))
    sub.person = str(header.get("person") or "").strip()
    sub.phone = readers.cell_text(header.get("phone")).strip()
    if m.layout == layouts.SUMMARY:
        sub.status, sub.reason = SUMMARY, "书面总结材料（文字材料，不从中读取数字）"
    elif m.layout == layouts.UNKNOWN:
        sub.status = REJECTED
        sub.reason = m.problem or (f"未识别出统计表：表中的句子只找到{m.lines_found}/{m.lines_total}句，"
                                   "请单位使用下发的统计表模板填报")
    else:
        if rows is not None:  # from the cache: fresh objects, nobody else holds them
            sub.rows = rows
        else:
            _parse_values(sub, form)
        sub.status = READ
        counts = {s: sum(r["status"] == s for r in sub.rows) for s in (OK, MISSING, UNREADABLE, NOT_FOUND)}
        reason = f"{sub.status_label}（{layouts.LAYOUT_LABELS[m.layout]}）：{len(form.items)}项中已填{counts[OK]}项"
        extras = [f"{VALUE_LABELS[s]}{n}项" for s, n in counts.items() if s != OK and n]
        if m.form_year and m.form_year != form.form:
            extras.append(f"使用的是{m.form_year}年的表式")
        if not counts[OK]:
            extras.append("没有读到任何数字")
        sub.reason = reason + ("，" + "，".join(extras) if extras else "") + "".join(f"；{r}" for r in m.remarks)
    _resolve_unit(sub, registry)
    return sub


def _match_unregistered(subs: list[Submission]) -> None:
    """A file of an unregistered unit with no 填报单位 (e.g. its written summary) belongs to
    that unit when the unit's name, as written on its form, is in the file name or title."""
    written = {s.unit for s in subs if s.is_form and not s.registered and s.written_unit}
    for sub in subs:
        if sub.registered or sub.written_unit or not sub.match:
            continue
        title = sub.match.text[:100]
        hits = [w for w in written if w in Path(sub.file).stem or w in title]
        if hits:
            sub.unit = max(hits, key=len)
            sub.unit_how = "未在单位名录中；按文件名与该单位的统计表对应"


def _recency(sub: Submission) -> tuple:
    """Which of a unit's files is latest: 填报日期, then draft/final words in the name, then file time."""
    stem = Path(sub.file).stem
    wording = -1 if any(w in stem for w in DRAFT_WORDS) else (1 if any(w in stem for w in FINAL_WORDS) else 0)
    return (sub.date or "", wording, sub.mtime, sub.file)


def supersede(subs: list[Submission]) -> None:
    forms: dict[str, list[Submission]] = {}
    for sub in subs:
        if sub.status == READ:
            forms.setdefault(sub.unit, []).append(sub)
    for group in forms.values():
        if len(group) < 2:
            continue
        group.sort(key=_recency)
        latest = group[-1]
        for old in group[:-1]:
            old.status = SUPERSEDED
            old.reason = f"已被替代：同一单位另有较新的报送「{latest.file}」，本文件不计入"
        latest.reason += f"；替代了较早的{len(group) - 1}份报送"


def read_inbox(paths: config.YearPaths, form: Form, registry: Registry) -> list[Submission]:
    """Every file of the inbox: from the cache when its bytes were read before, else read on all cores."""
    files = list_inbox(paths.inbox)
    subs = [new_submission(p, paths.inbox) for p in files]
    todo = [(k, p) for k, (sub, p) in enumerate(zip(subs, files, strict=True)) if screen(sub, p)]
    store_ = cache.Cache(paths.year_outputs / "cache", form)
    keys = {k: store_.key(p) for k, p in todo}
    results = {k: hit for (k, _p), hit in zip(todo, store_.get_many([keys[k] for k, _p in todo]), strict=True)
               if hit is not None}
    misses = [(k, p) for k, p in todo if k not in results]
    done = len(files) - len(misses)
    report_progress(f"收件箱 {len(files)} 个文件：{len(todo) - len(misses)} 个已读过（缓存），{len(misses)} 个需要读取")
    with tempfile.TemporaryDirectory(prefix="wennuan-doc-") as tmp:
        docs = [p for _, p in misses if p.suffix.lower() == ".doc"]
        converted = readers.convert_docs(docs, Path(tmp)) if docs else {}
        jobs = [(str(p), form.form, str(converted[p]) if p in converted else None) for _, p in misses]
        for (k, p), result in zip(misses, on_all_cores(_read_job, jobs), strict=True):
            results[k] = result
            if result[1] is not None:  # a rejection is kept as it is; a match once its blanks are parsed
                store_.put(keys[k], result)
            done += 1
            if len(misses) <= 100 or done % max(1, len(files) // 20) == 0 or done == len(files):  # a province: every 5 %
                report_progress(f"读取 [{done}/{len(files)}] {p.relative_to(paths.inbox).as_posix()}")
    with store.gc_paused():
        _describe_all(todo, results, subs, form, registry, store_, keys)
    return subs


def _describe_all(todo, results, subs, form, registry, store_, keys) -> None:
    for k, p in todo:
        m, error, *parsed = results[k]
        if error is not None:
            subs[k].status, subs[k].reason = REJECTED, error
            continue
        describe(subs[k], p, m, form, registry, parsed[0] if parsed else None)
        if not parsed and subs[k].rows:  # keep the parsed blanks too, so a re-run skips parsing
            store_.put(keys[k], (m, None, subs[k].rows))


def _read_job(job: tuple[str, str, str | None]):
    path, form_id, converted = job
    return read_and_match(Path(path), load_form(form_id), Path(converted) if converted else None)


def _frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=columns)


LOG_COLUMNS = ["file", "status", "status_label", "reason", "unit", "layout", "container", "unit_how"]
SUBMISSION_COLUMNS = ["file", "status", "unit", "unit_type", "registered", "written_unit", "unit_how", "layout",
                      "container", "date", "person", "phone", "form_year", "form_version", "lines_found",
                      "lines_total"]
VALUE_COLUMNS = ["unit", "unit_type", "registered", "item", "label", "measure", "value", "status", "approx",
                 "raw_text", "file", "location", "note"]


def run(paths: config.YearPaths) -> dict[str, pd.DataFrame]:
    """Ingest one year's inbox and write the data files. Returns the frames written."""
    _cfg, form, registry = year_setup(paths)
    subs = read_inbox(paths, form, registry)
    with store.gc_paused():  # not while reading: the readers' workers are forked from here
        return _frames(paths, form, registry, subs)


def _frames(paths: config.YearPaths, form: Form, registry: Registry, subs: list[Submission]) -> dict[str, pd.DataFrame]:
    for sub in subs:
        if sub.status == REJECTED and sub.match is None:  # never read: its name and folders may still say whose
            _resolve_unit(sub, registry)
    _match_unregistered(subs)
    supersede(subs)

    def unit_key(sub: Submission) -> tuple:
        return (*registry.sort_key(sub.unit), sub.file)

    log = _frame([{"file": s.file, "status": s.status, "status_label": s.status_label,
                   "reason": s.reason, "unit": s.unit, "layout": layouts.LAYOUT_LABELS.get(s.layout, ""),
                   "container": s.container, "unit_how": s.unit_how} for s in subs], LOG_COLUMNS)
    forms = sorted((s for s in subs if s.status in (READ, SUPERSEDED)), key=unit_key)
    submissions = _frame([{
        "file": s.file, "status": s.status, "unit": s.unit, "unit_type": s.unit_type, "registered": s.registered,
        "written_unit": s.written_unit, "unit_how": s.unit_how, "layout": s.layout, "container": s.container,
        "date": s.date, "person": s.person, "phone": s.phone, "form_year": s.form_year,
        "form_version": s.form_version, "lines_found": s.match.lines_found, "lines_total": s.match.lines_total,
    } for s in forms], SUBMISSION_COLUMNS)
    labels = {i.code: (i.label, i.unit) for i in form.items}

    def value_rows(s: Submission) -> list[dict]:
        return [{"unit": s.unit, "unit_type": s.unit_type, "registered": s.registered, "item": r["item"],
                 "label": labels[r["item"]][0], "measure": labels[r["item"]][1], "value": format_value(r["value"]),
                 "status": r["status"], "approx": r["approx"], "raw_text": r["raw_text"], "file": s.file,
                 "location": r["location"], "note": r["note"]} for r in s.rows]

    rows = [row for s in forms for row in value_rows(s)]
    in_force = [s.status == READ for s in forms for _row in s.rows]
    extracted = _frame(rows, VALUE_COLUMNS).assign(in_force=in_force)
    values = extracted.loc[np.array(in_force, dtype=bool)].drop(columns="in_force").reset_index(drop=True)
    summaries = _frame([{"unit": s.unit, "unit_type": s.unit_type, "registered": s.registered, "file": s.file,
                         "written_unit": s.written_unit, "unit_how": s.unit_how, "chars": len(s.match.text),
                         "text": _clean_text(s.match.text)}
                        for s in sorted((s for s in subs if s.status == SUMMARY), key=unit_key)],
                       ["unit", "unit_type", "registered", "file", "written_unit", "unit_how", "chars", "text"])
    frames = {"ingest_log": log, "submissions": submissions, "extracted": extracted, "summaries": summaries}
    for name, frame in frames.items():
        store.write_csv(frame, paths.data / f"{name}.csv")
    # values as read from the files in force; step 02 applies corrections and writes values.csv
    frames["values"] = values
    return frames


def _clean_text(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text.replace("\t", " ")).strip()
