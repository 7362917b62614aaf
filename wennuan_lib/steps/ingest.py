"""The ingest step (01): the inbox (raw layer) → what every file holds (the 01_extracted layer).

Writes (see the catalog): ingest_log (every file of the inbox: read / summary / superseded / skipped /
rejected, reason in Chinese), submissions (every form read: unit, layout, header fields, in force or
superseded), extracted (every blank of every form read, as typed, with file and cell or paragraph) and
summaries (the units' 书面总结材料, never read for figures); returns them, and the values as read from the
files in force (step 02 turns them into the values in force).
"""

from __future__ import annotations

import contextlib
import dataclasses
import faulthandler
import functools
import hashlib
import multiprocessing as mp
import operator
import os
import re
import signal
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from wennuan_lib.base import artifacts, catalog, config, dates, files
from wennuan_lib.base.parallel import die_with_parent, gc_paused, in_background, on_all_cores, stderr_nowhere
from wennuan_lib.base.progress import report as report_progress
from wennuan_lib.form import Form
from wennuan_lib.read import (
    archives,
    cache,
    convert,
    inbox,
    layouts,
    parts,
    readers,
    sniff,
    splice,
    units,
    versions,
)
from wennuan_lib.read.parse import MISSING, NOT_FOUND, OK, UNREADABLE, VALUE_LABELS, format_value, parse_blank
from wennuan_lib.read.readers import ReadError
from wennuan_lib.read.units import Registry
from wennuan_lib.run import manifest
from wennuan_lib.run.runner import Made, Params
from wennuan_lib.vocab import (  # noqa: F401  (ingest.READ etc. stay importable here)
    ALL_BLANK,
    NO_FIGURES,
    READ,
    REJECTED,
    SKIPPED,
    SUMMARY,
    SUPERSEDED,
    UNPACKED,
    file_label,
)

ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z")

# Archives are opened one level deep inside another archive (a.zip/b.zip/x.docx); deeper ones are refused.
MAX_ARCHIVE_DEPTH = 2
REVISED_NOTE = "该数字来自Word修订（未接受的修订按修订后文字读取）"


# What of a match the tables and the checks across files use once the file is described: a file taken from
# the last run keeps only this (its layout, header and blanks are on the submission). A title is its first
# TITLE_CHARS characters (`_match_unregistered`); a written summary keeps its whole text (summaries table).
TITLE_CHARS = 100


@dataclass
class Seen:
    text: str = ""
    lines_found: int = 0
    lines_total: int = 0
    differs: str = ""


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
    date: str = ""  # 填报日期 (ISO) when it was read and can be trusted
    date_written: str = ""  # 填报日期 as written
    date_note: str = ""  # how the date was read (completed year, Excel serial number)
    date_problem: str = (
        ""  # why the date cannot be trusted: unreadable, after the report date, before the notice
    )
    person: str = ""
    phone: str = ""
    form_year: str = ""
    form_version: str = ""
    kind: str = ""  # what the file is by content (sniff.kind)
    archive: str = ""  # the archive it came in, as listed (a.zip, or a.zip/b.zip); "" for a loose file
    name_note: str = ""  # how a name that was not UTF-8 is shown
    unit_conflict: str = ""  # a registered unit the file name names, other than the one its 填报单位 names
    part: str = ""  # the part of the file read (工作表「统计表」, 表格); "" for the whole file
    left_out: list[str] = field(default_factory=list)  # the file's other parts and why each was not read
    match: layouts.Match | Seen | None = None
    rows: list[dict] = field(default_factory=list)  # parsed blanks
    # A file taken from the last run (see `read_inbox`): its blanks' statuses, its blanks still as JSON
    # (decoded only when its rows must be made again), and the record it came from with its place in it.
    statuses: list[str] = field(default_factory=list)
    rows_json: str = ""
    origin: str = ""

    @property
    def is_form(self) -> bool:
        return self.layout in layouts.FORM_LAYOUTS

    @property
    def figures(self) -> str:
        """A form recognised but without a single figure is not 已读取 (its status stays `read`: it is the
        unit's report): all_blank (全部未填) or no_figures (未读到数字); "" otherwise."""
        statuses = {r["status"] for r in self.rows} if self.rows else set(self.statuses)
        if self.status == READ and OK not in statuses:
            return NO_FIGURES if UNREADABLE in statuses else ALL_BLANK
        return ""

    @property
    def status_label(self) -> str:
        return file_label(self.status, self.figures)

    def blanks(self) -> list[dict]:
        """The parsed blanks (decoded from the last run's record the first time they are needed)."""
        if not self.rows and self.rows_json:
            self.rows, self.rows_json = artifacts.loads(self.rows_json.encode("utf-8")), ""
        return self.rows

    @property
    def containers(self) -> list[str]:
        """The folders and archives the file came in, innermost first, without extensions
        (a.zip/太仓市总工会送温暖材料/总结.docx → 太仓市总工会送温暖材料, a): for attributing it to a unit."""
        return [
            Path(part).stem if part.lower().endswith((".zip", ".rar", ".7z")) else part
            for part in reversed(Path(self.file).parts[:-1])
        ]


def new_submission(name: str, **fields) -> Submission:
    return Submission(name, container=Path(name).suffix.lower().lstrip("."), **fields)


def screen(sub: Submission, path: Path, kind_of: Callable[[Path], str]) -> bool:
    """Litter and what is not worth reading are settled by name and first bytes; True when the file
    needs reading. Sets the file's kind (what it is by content: `kind_of`, a `_Kinds`)."""
    if (why := inbox.litter_reason(Path(sub.file))) is not None:
        sub.status, sub.reason = SKIPPED, f"已略过：{why}"
        return False
    try:
        sub.kind = kind_of(path)
    except ReadError as exc:
        sub.status, sub.reason = REJECTED, str(exc)
        return False
    return True


def list_inbox(
    folder: Path, scratch: Path, kind_of: Callable[[Path], str]
) -> list[tuple[Submission, Path | None]]:
    """Every entry of the inbox as a submission, with the file to read (None when settled already).
    Archives are opened into `scratch` (a private temporary folder) and their members listed after them."""
    out: list[tuple[Submission, Path | None]] = []
    for entry in inbox.walk(folder):
        if entry.skip:
            sub = new_submission(entry.name, name_note=entry.name_note)
            sub.status, sub.reason = SKIPPED, f"已略过：{entry.skip}"
            out.append((sub, None))
            continue
        sub = new_submission(entry.name, name_note=entry.name_note)
        _add(out, sub, entry.path, scratch, depth=0, kind_of=kind_of)
    return out


def _add(
    out: list, sub: Submission, path: Path, scratch: Path, depth: int, kind_of: Callable[[Path], str]
) -> None:
    """A file, and when it is an archive, its members after it (opened up to MAX_ARCHIVE_DEPTH deep)."""
    out.append((sub, path))
    if not screen(sub, path, kind_of) or sub.kind not in (sniff.ARCHIVE, sniff.RAR, sniff.SEVENZ, sniff.MIME):
        return
    mail = sub.kind == sniff.MIME
    out[-1] = (sub, None)
    if depth >= MAX_ARCHIVE_DEPTH:
        sub.status = REJECTED
        sub.reason = "压缩包里的压缩包里又有压缩包（系统只解开两层），未解开；请单位把文件直接发送"
        return
    try:
        members = archives.unpack(path, Path(tempfile.mkdtemp(prefix="a", dir=scratch)))
    except ReadError as exc:
        sub.status, sub.reason = REJECTED, str(exc)
        return
    files = [m for m in members if not inbox.litter_reason(Path(m.name))]
    if not files and mail:
        sub.status = REJECTED
        sub.reason = "邮件中没有附件，也没有可以读取的正文；请单位把统计表作为附件发送"
    elif not files:
        sub.status = REJECTED
        sub.reason = "压缩包是空的，其中没有报送材料；请单位重新发送" + (
            f"（只有{len(members)}个系统文件）" if members else ""
        )
    elif mail:
        sub.status = UNPACKED
        sub.reason = f"邮件或单个文件网页，已打开：其中{len(members)}个附件或正文逐个列在「{sub.file}/…」下"
    else:
        sub.status = UNPACKED
        sub.reason = f"压缩包，已解开：其中{len(members)}个文件逐个列在「{sub.file}/…」下"
    for m in members:
        member = new_submission(f"{sub.file}/{m.name}", archive=sub.file)
        if m.path is None:
            member.status, member.reason = REJECTED, m.reason
            out.append((member, None))
        else:
            _add(out, member, m.path, scratch, depth + 1, kind_of)


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
    header = registry.resolve(written, field=True) if written else None
    by_header = ("按填报单位", lambda: header)
    stem = Path(sub.file).stem
    by_file = ("按文件名", lambda: registry.resolve(stem))
    sources = [by_file]
    if sub.match is not None:
        title, lines = _title_and_lines(sub.match.text)
        by_text = [
            ("按标题", lambda: _named_in(registry, title)),
            ("按开头文字", lambda: _named_in(registry, lines)),
        ]
        sources = [by_file, *by_text, by_header] if sub.status == SUMMARY else [by_header, by_file, *by_text]
    sources += [(how, functools.partial(registry.resolve, name)) for name, how in _folders(sub.file)]
    # each source is asked only when those before it found no one:
    # searching a text for 3,000 names is not free
    how, chosen = next(((how, found) for how, find in sources if (found := find())), ("", None))
    if chosen is not None and written and header is None and registry.named_inside(chosen.name, written):
        # the file name found the very part of the written 填报单位 that made it another body (常熟市 in
        # 常熟市人民医院工会): that unit is not registered, whatever its file is called
        chosen = None
    if chosen is None:
        if sub.match is None or (sub.status == REJECTED and not written):  # nothing names the sender
            sub.unit, sub.registered, sub.unit_how = "", False, "无法从文件名、标题或所在文件夹判断报送单位"
            return
        sub.unit, sub.registered = (written or Path(sub.file).stem), False
        sub.unit_how = "未在单位名录中" + ("" if written else "，且未填填报单位，暂以文件名为单位名")
        return
    if how == "按填报单位":
        how = f"按填报单位（{chosen.how}）"
        # 吴江区总工会 written on a file named for 吴中区总工会; a file named for nobody: the innermost
        # folder, archive or e-mail it came in that names a unit (太仓市总工会送温暖材料.zip/统计表.xlsx)
        named = registry.resolve(stem) or next(
            (found for name, _ in _folders(sub.file) if (found := registry.resolve(name))), None
        )
        if named is not None and named.name != chosen.name and not registry.named_inside(named.name, written):
            sub.unit_conflict = named.name
    elif how == "按文件名" and sub.match is not None and sub.is_form:
        how += f"（填报单位「{written}」不在单位名录中）" if written else "（未填填报单位）"
    elif written and not header:
        how += f"（填报单位「{written}」不在单位名录中）"
    sub.unit, sub.unit_type, sub.registered, sub.unit_how = chosen.name, chosen.type, True, how


def parse_rows(m: layouts.Match, form: Form) -> list[dict]:
    """A matched form's blanks parsed, one row a blank of the form (what `describe` keeps as the rows)."""
    rows = []
    for item in form.items:
        note = m.notes.get(item.code, "")
        row = {
            "item": item.code,
            "raw_text": "",
            "location": "",
            "value": None,
            "status": NOT_FOUND,
            "approx": False,
            "note": note or "表中未找到这一句，可能被删改",
            "revised": False,
        }
        if (
            item.code in m.refused
        ):  # the matcher saw something there but cannot tell it is this blank's figure
            found, why = m.refused[item.code]
            raw = found.raw if isinstance(found.raw, str) else readers.cell_text(found.raw)
            row.update(raw_text=raw.strip("\n"), location=found.loc, status=UNREADABLE, note=why)
        elif item.code in m.values:
            found = m.values[item.code]
            parsed = parse_blank(found.raw, item.is_money, item.unit)
            raw = found.raw if isinstance(found.raw, str) else readers.cell_text(found.raw)
            notes = (parsed.note, note, REVISED_NOTE if found.revised else "")
            row.update(
                raw_text=raw.strip("\n"),
                location=found.loc,
                value=parsed.value,
                status=parsed.status,
                approx=parsed.approx,
                note="；".join(x for x in notes if x),
                revised=found.revised,
            )
        rows.append(row)
    return rows


def _parsed(m: layouts.Match | None, form: Form) -> list[dict] | None:
    """The rows `describe` parses for a match it reads as a form (neither a summary nor unrecognised)."""
    if m is None or m.layout in (layouts.SUMMARY, layouts.UNKNOWN):
        return None
    return parse_rows(m, form)


MEMORY_ERROR = "文件读取时占用内存过多，无法读取；请单位把统计表复制到新文件（只留统计表本身）后重新发送"


def read_and_match(
    path: Path, form: Form, converted: Path | None = None, kind: str | None = None
) -> tuple[layouts.Match | None, str | None]:
    """The expensive part of reading a file, which the cache keeps: (match, None) or (None, reason)."""
    try:
        return parts.read_form(readers.read(path, converted, kind), form), None
    except ReadError as exc:
        return None, str(exc)
    except RecursionError:
        return None, "文件结构嵌套过深，无法读取；请单位把统计表复制到新文件后重新发送"
    except MemoryError:
        return None, MEMORY_ERROR
    except Exception as exc:  # one unit's file never stops the year: whatever broke, it is that file's reason
        return None, (
            f"文件读取时出错（{type(exc).__name__}），无法读取；请单位重新保存后发送，或换用Word或Excel格式"
        )


def describe(
    sub: Submission,
    path: Path,
    m: layouts.Match,
    form: Form,
    registry: Registry,
    rows: list[dict] | None = None,
    year: int | None = None,
) -> Submission:
    """What a matched file is: whose, which layout, and its blanks parsed. `year`: the form's year,
    for a 填报日期 written without one."""
    sub.match, sub.layout = m, m.layout
    sub.part, sub.left_out = m.part, list(m.left_out)
    sub.form_year, sub.form_version = m.form_year, m.form_version
    header = {k: f.raw for k, f in m.header.items()}
    sub.written_unit = str(header.get("unit") or "").strip()
    written = header.get("date")
    sub.date_written = written.strip() if isinstance(written, str) else readers.cell_text(written)
    date, sub.date_note = dates.parse(written, year)
    sub.date = date or ""
    if date is None and sub.date_written:
        sub.date_problem = sub.date_note
    sub.person = str(header.get("person") or "").strip()
    sub.phone = readers.cell_text(header.get("phone")).strip()
    if m.layout == layouts.SUMMARY:
        sub.status, sub.reason = SUMMARY, "书面总结材料（文字材料，不从中读取数字）"
    elif m.layout == layouts.UNKNOWN:
        sub.status = REJECTED
        sub.reason = m.problem or (
            f"未识别出统计表：表中的句子只找到{m.lines_found}/{m.lines_total}句，"
            "请单位使用下发的统计表模板填报"
        )
    else:
        # from the reading worker or the cache: fresh objects, nobody else holds them
        sub.rows = rows if rows is not None else parse_rows(m, form)
        sub.status = READ
        counts = {s: sum(r["status"] == s for r in sub.rows) for s in (OK, MISSING, UNREADABLE, NOT_FOUND)}
        reason = (
            f"{sub.status_label}（{layouts.LAYOUT_LABELS[m.layout]}）："
            f"{len(form.items)}项中已填{counts[OK]}项"
        )
        extras = [f"{VALUE_LABELS[s]}{n}项" for s, n in counts.items() if s != OK and n]
        if m.form_year and m.form_year != form.form:
            extras.append(f"使用的是{m.form_year}年的表式")
        if not counts[OK]:
            extras.append("没有读到任何数字")
        sub.reason = (
            reason + ("，" + "，".join(extras) if extras else "") + "".join(f"；{r}" for r in m.remarks)
        )
    _resolve_unit(sub, registry)
    return sub


def _match_unregistered(subs: list[Submission]) -> None:
    """A file of an unregistered unit with no 填报单位 (e.g. its written summary) belongs to
    that unit when the unit's name, as written on its form, is in the file name or title."""
    written = {s.unit for s in subs if s.is_form and not s.registered and s.written_unit}
    for sub in subs:
        if sub.registered or sub.written_unit or not sub.match:
            continue
        title = sub.match.text[:TITLE_CHARS]
        hits = [w for w in written if w in Path(sub.file).stem or w in title]
        if hits:
            sub.unit = max(hits, key=len)
            sub.unit_how = "未在单位名录中；按文件名与该单位的统计表对应"


def supersede(subs: list[Submission]) -> None:
    """Of each unit's forms, the latest stays in force (see versions.py for the rule and its reasons)."""
    versions.supersede(subs, READ, SUPERSEDED)


# What a re-run takes from the last run (see `read_inbox` and `_extracted`), kept in the year's cache.
KEPT_FILES, KEPT_ROWS = "ingest_files", "ingest_rows"
KINDS = "inbox_kinds"  # what each inbox file is by content (`_Kinds`)


class _Kinds:
    """What each file of the inbox is by content (sniff.content_kind), kept from the last run by its bytes'
    sha256 and its extension (all the kind depends on): a re-run opens none of the unchanged files to tell
    (3,000 files: 0.3-0.6 s of opening every package). Whether a file is worth opening at all (empty, too
    large) is checked every time: the limit may have changed. An archive's members are always opened."""

    def __init__(self, kept: artifacts.Artifacts, inbox_dir: Path):
        self.kept, self.key, self.inbox = kept, kept.key(KINDS), inbox_dir
        last = kept.get_json(self.key)
        self.last: dict = last if isinstance(last, dict) else {}
        self.now: dict[str, str] = {}

    def __call__(self, path: Path) -> str:
        if not path.is_relative_to(self.inbox):
            return sniff.kind(path)
        sniff.worth_opening(path)
        key = _digest(path, self.inbox) + path.suffix.lower()
        found = self.last.get(key)
        self.now[key] = found if isinstance(found, str) else sniff.content_kind(path)
        return self.now[key]

    def keep(self) -> None:
        """Those of this run's files, for the next run (only when they changed)."""
        if self.now != self.last:
            self.kept.put_json(self.key, self.now)


def _digest(path: Path, inbox_dir: Path) -> str:
    """A file's sha256, once per run: an inbox file's through the manifest's per-command record (a notebook
    run by hand records the same hashes as its inputs); a member unpacked for this run, directly."""
    return manifest.input_hash(path) if path.is_relative_to(inbox_dir) else files.sha256(path)


def _shared_key(p: Params, form: Form) -> str:
    """What every file's description depends on besides its own bytes and place: the form it is read with,
    the year (a 填报日期 without one), units.csv (who sent it) and year.yaml, as the runner loaded them; the
    code is in the cache's own key (`Params.cache`)."""
    registry = pd.util.hash_pandas_object(p.registry.frame, index=True).to_numpy().tobytes()
    return "\0".join(
        [form.form, str(p.year), hashlib.sha256(registry).hexdigest(), repr(sorted(p.cfg.items()))]
    )


def _record_key(kept: artifacts.Artifacts, shared: str, sub: Submission, extraction: str) -> str:
    place = [sub.file, sub.container, sub.archive, sub.name_note, sub.kind]
    return kept.key(shared, *(p.encode("utf-8", "surrogatepass") for p in place), extraction)


_KEPT = tuple(f.name for f in dataclasses.fields(Submission) if f.name not in ("match", "rows", "rows_json"))


def _keep(sub: Submission) -> dict:
    """A described submission as the last run's record keeps it (without the match it was read into)."""
    out = {name: getattr(sub, name) for name in _KEPT if name != "origin"}
    m = sub.match
    if m is not None:
        text = m.text if sub.status == SUMMARY else m.text[:TITLE_CHARS]
        out["seen"] = [text, m.lines_found, m.lines_total, m.differs]
    rows = sub.blanks()
    if rows:
        out["statuses"] = sorted({r["status"] for r in rows})
        out["rows_json"] = artifacts.dumps(rows).decode("utf-8")
    return out


def _restore(record, key: str) -> list[Submission] | None:
    """The submissions of one file from the last run's record (None: no usable record)."""
    if not isinstance(record, list) or not record:
        return None
    out = []
    try:
        for i, d in enumerate(record):
            seen = d.pop("seen", None)
            sub = Submission(**d)
            sub.match = Seen(*seen) if seen is not None else None
            sub.origin = f"{key}:{i}"
            out.append(sub)
    except (TypeError, AttributeError):
        return None
    return out


def _read_misses(misses, subs, form: Form, store_, keys, results: dict, scratch: Path, done: int) -> None:
    """The files neither the last run's record nor the cache has, read on all cores into `results` (and the
    cache): the legacy Word files converted by LibreOffice while the others are read."""
    total = len(subs)
    docs = [(k, p) for k, p in misses if subs[k].kind in convert.CONVERTED_KINDS]
    others = [(k, p) for k, p in misses if subs[k].kind not in convert.CONVERTED_KINDS]
    early = convert.claimed([p for _, p in docs])  # being converted by the command since the kernel started
    mine = [(k, p) for k, p in docs if p not in early]
    conversion = convert.Conversion([p for _, p in mine], scratch / "doc", {p: subs[k].kind for k, p in mine})
    # the others first, while LibreOffice converts; all in one pool when the command converted every one
    # already (a pool more for one .doc: 0.2 s at 30 units)
    batches = [others + docs] if not mine and convert.ended() else [others, docs]
    for batch in batches:
        converted = {**convert.taken(early), **conversion.wait()} if batch is not others else {}
        jobs = [
            (str(p), str(converted[p]) if p in converted else None, subs[k].kind, keys[k]) for k, p in batch
        ]

        def each(n: int, batch: list = batch, before: int = done) -> None:  # as the files are read
            report_progress(f"读取 {{n}} {subs[batch[n - 1][0]].file}", before + n, total)

        for (k, _p), result in zip(batch, _read_all(jobs, form, store_, each), strict=True):
            results[k] = result  # kept in the cache by the process that read it (_read_kept)
        done += len(batch)


def read_inbox(
    inbox_dir: Path, params: Params, form: Form, registry: Registry
) -> tuple[list[Submission], Callable[[], None]]:
    """Every entry of the inbox (and of its archives). A file whose bytes, place, units.csv, year.yaml, form
    and program are as in a run before is taken as that run described it (its record in the cache: who sent
    it, its reason, its blanks); else its extraction comes from the cache when its bytes were read before,
    else it is read on all cores. What depends on other files (versions, unregistered units, dates) is done
    afterwards for every file (`_frames`). Archive members live in a private temporary folder meanwhile.
    Returns the submissions and `wait()` for the files' records, written meanwhile (`_keep_records`)."""
    kept = params.cache(KEPT_FILES)
    shared = _shared_key(params, form)
    with tempfile.TemporaryDirectory(prefix="wennuan-inbox-") as scratch:
        kinds = _Kinds(params.cache(KINDS), inbox_dir)
        listed = list_inbox(inbox_dir, Path(scratch), kinds)
        kinds.keep()
        subs = [sub for sub, _ in listed]
        todo = [(k, p) for k, (sub, p) in enumerate(listed) if p is not None and not sub.status]
        store_ = cache.Cache(params.cache_dir, form)
        keys = {k: store_.key(p, _digest(p, inbox_dir)) for k, p in todo}
        records = {k: _record_key(kept, shared, subs[k], keys[k]) for k, _p in todo}
        with gc_paused():
            found = {
                k: group
                for k, _p in todo
                if (group := _restore(kept.get_json(records[k]), records[k])) is not None
            }
        rest = [(k, p) for k, p in todo if k not in found]
        results = {
            k: hit
            for (k, _p), hit in zip(rest, store_.get_many([keys[k] for k, _p in rest]), strict=True)
            if hit is not None
        }
        misses = [(k, p) for k, p in rest if k not in results]
        total = len(subs)
        done = total - len(misses)
        report_progress(
            f"收件箱 {total} 个文件：{len(found)} 个与上次相同（沿用上次的结果），"
            f"{len(rest) - len(misses)} 个已读过（缓存），{len(misses)} 个需要读取"
        )
        _read_misses(misses, subs, form, store_, keys, results, Path(scratch), done)
    with gc_paused():
        made = _describe_all(rest, results, subs, form, registry, params.year)
        fresh = [
            (records[k], made[k])
            for k, _p in todo
            if k in made and not (made[k][0].status == REJECTED and made[k][0].reason.startswith(TRANSIENT))
        ]
        written = _keep_records(kept, fresh)
        extras = []
        for k, _p in todo:
            group = found.get(k) or made[k]
            subs[k] = group[0]
            extras += group[1:]
        for record, group in fresh:
            for i, sub in enumerate(group):
                sub.origin = f"{record}:{i}"
    subs.extend(extras)
    return subs, written


RECORDS_APART = 200  # from this many files on, their records are written by a forked process (_keep_records)


def _keep_records(kept: artifacts.Artifacts, fresh: list[tuple[str, list[Submission]]]) -> Callable[[], None]:
    """Each file's record (`_keep`) written to the cache; returns `wait()`. From RECORDS_APART files on, by a
    forked process while the kernel goes on (3,000 files: 1.4 s of serializing on the kernel's one core): it
    writes the records as they are at the fork, before anything here changes the submissions. Should it fail,
    they are not written (the next run describes those files again: only time)."""

    def write() -> None:
        for record, group in fresh:
            kept.put_json(record, [_keep(sub) for sub in group])

    if len(fresh) < RECORDS_APART:
        write()
        return lambda: None
    return in_background(write, again=False)


def _add_notes(subs: list[Submission]) -> None:
    """What the reason must also say: a name that was not UTF-8, content other than the extension says."""
    for sub in subs:
        read = sub.status in (READ, SUMMARY, SUPERSEDED)
        notes = [
            n
            for n in (
                sub.name_note,
                sniff.unexpected(sub.kind, Path(sub.file)) if read else "",
                f"{sub.date_problem}，请核实" if sub.is_form and sub.date_problem else "",
                f"{sub.match.differs}，请向单位核实" if sub.match is not None and sub.match.differs else "",
            )
            if n
        ]
        if notes:
            sub.reason += "（" + "；".join(notes) + "）"
        if sub.left_out and sub.status in (
            READ,
            SUMMARY,
            SUPERSEDED,
        ):  # what else the file holds, in 说明 too
            read_part = f"读取的是{sub.part}；" if sub.part else ""
            sub.reason += f"。{read_part}文件中的其他部分——" + "；".join(sub.left_out)


def _describe_all(todo, results, subs, form, registry, year) -> dict[int, list[Submission]]:
    """Each file read (or taken from the extraction cache) described, a form with the blanks parsed where it
    was read: {index: [its submission, and the other submissions its parts are]}."""
    out = {}
    for k, _p in todo:
        m, error, *parsed = results[k]
        if error is not None:
            subs[k].status, subs[k].reason = REJECTED, error
            out[k] = [subs[k]]
            continue
        describe(subs[k], Path(subs[k].file), m, form, registry, parsed[0] if parsed else None, year)
        out[k] = [subs[k], *other_parts(subs[k], form, registry, year)]
    return out


def _copy_not_in_force(sub: Submission, extra: Submission, differs: str) -> Submission:
    """Another copy of the unit's form in the same file, with other figures: kept as a version not in force,
    so that the checks name both and the figures that differ (V01) and the unit says which is right."""
    extra.unit, extra.unit_type, extra.registered = sub.unit, sub.unit_type, sub.registered
    extra.unit_how = f"与同一文件中所读的统计表相同（{sub.unit_how}）"
    extra.date, extra.date_problem = sub.date, sub.date_problem
    extra.status = SUPERSEDED
    extra.reason = f"未采用：{differs}，请向单位核实哪一份是对的"
    return extra


def other_parts(sub: Submission, form: Form, registry: Registry, year: int | None = None) -> list[Submission]:
    """The parts of a file that are other submissions: another unit's form (a district's town sheets), read as
    that unit's when the registry knows it, else named in the file's reason; a document's prose beside its
    form, the unit's written summary. A copy of the unit's own form is compared, never read twice."""
    out = []
    for om in sub.match.others if sub.match is not None else []:
        name = f"{sub.file}/{om.part.removeprefix('工作表「').removesuffix('」')}"
        extra = Submission(name, container=sub.container, archive=sub.archive)
        describe(extra, Path(name), om, form, registry, None, year)
        extra.part = om.part
        if om.differs:  # a copy of the form in the same file, with other figures: the unit must say which
            out.append(_copy_not_in_force(sub, extra, om.differs))
            continue
        if om.layout == layouts.SUMMARY:  # the same document: the same sender
            extra.unit, extra.unit_type, extra.registered = sub.unit, sub.unit_type, sub.registered
            extra.unit_how = f"与同一文件中的统计表相同（{sub.unit_how}）"
            extra.reason = f"书面总结材料（与统计表在同一文件「{sub.file}」中，{om.part}），不从中读取数字"
            out.append(extra)
            continue
        sheet = om.part.removeprefix("工作表「").removesuffix("」")
        written = extra.written_unit
        found = registry.resolve(written, field=True) if written else registry.resolve(sheet)
        if found is not None and found.name != sub.unit:
            how = f"按填报单位（{found.how}）" if written else f"按工作表名（{found.how}）"
            extra.unit, extra.unit_type, extra.registered = found.name, found.type, True
            extra.unit_how = f"{how}；来自「{sub.file}」的{om.part}"
            extra.unit_conflict = ""
            extra.reason += f"（文件「{sub.file}」中的{om.part}，作为{extra.unit}的统计表读取）"
            sub.left_out.append(f"{om.part}：{extra.unit}的统计表，已作为该单位的报送读取")
            out.append(extra)
            continue
        if found is not None or not written:  # the unit's own form once more
            diff = parts.differences(sub.match, om, form)
            if diff:
                shown = "；".join(diff[:3]) + ("等" if len(diff) > 3 else "")
                sub.left_out.append(
                    f"{om.part}：本单位的另一份统计表，有{len(diff)}项数字与所读的不同（{shown}），未读取"
                )
                sub.match.differs = sub.match.differs or (
                    f"文件中{om.part}另有一份本单位的统计表，有{len(diff)}项数字与所读的{sub.part}不同"
                    f"（{shown}；前为所读，后为{om.part}），已按{sub.part}读取"
                )
                out.append(_copy_not_in_force(sub, extra, sub.match.differs))
            else:
                sub.left_out.append(f"{om.part}：本单位的另一份相同的统计表，未重复读取")
            continue
        sub.left_out.append(
            f"{om.part}：另一单位（{written}）的统计表，该单位不在单位名录中，未读取；"
            "如需计入，请在units.csv中登记该单位后重新运行"
        )
    return out


CRASHED = (
    "读取这个文件时读取程序异常退出（文件可能已损坏或结构异常），无法读取；"
    "请单位把统计表复制到新文件后重新保存发送"
)


TOO_MUCH_MEMORY = "读取这个文件需要的内存超过了上限"


def too_much_memory_reason() -> str:
    return (
        f"{TOO_MUCH_MEMORY}（{config.MAX_READ_MB} MB，可用环境变量 WENNUAN_MAX_READ_MB 调整），"
        "已停止读取；文件多半结构异常（如表格范围极大），"
        "请单位把统计表复制到新文件（只留统计表本身）后重新保存发送"
    )


# what a native reader prints to its stderr before aborting when an allocation fails (Rust, C++, C)
_OUT_OF_MEMORY_SIGNS = (
    b"memory allocation of",
    b"bad_alloc",
    b"MemoryError",
    b"out of memory",
    b"Cannot allocate",
)
_KERNEL_PID = os.getpid()  # the process that starts the reading; a job run in another one is limited


def _read_all(jobs: list, form: Form, kept: cache.Cache | None = None, each=None) -> list:
    """Every job read in forked worker processes (all cores; one worker for a few files), each file under a
    time limit and a memory limit (config.MAX_READ_SECONDS / MAX_READ_MB). When a file kills the process
    reading it (a native reader's crash or its abort when an allocation is refused, the system's
    out-of-memory killer), the pool is lost: the jobs are read again one by one, each in a process of its
    own, and the file that kills its process is that file's reason — never the year's end. Where fork is
    not available the files are read in this process, without a memory limit. A job is (path, converted copy,
    kind, cache key): each file's extraction is kept in `kept` where it was read (_read_kept); `each(n)` as
    the n-th file's is in (the progress the command shows)."""
    global _KERNEL_PID
    _KERNEL_PID = os.getpid()
    shared = (form, kept)
    try:
        return on_all_cores(_pool_read_job, jobs, shared=shared, apart=True, each=each)
    except BrokenProcessPool:
        return [_isolated(shared, job) for job in jobs]


def _read_kept(shared: tuple, job: tuple):
    """A file read (_limited_read_job) and its extraction, a form's blanks parsed, kept in the cache under its
    key by the process that read it: the kernel gets it back, but no longer serializes it on its one core
    while the workers wait (3,000 files: about 1.4 s). A crash, a timeout or a memory death is not kept:
    another run may read the file."""
    form, kept = shared
    result = _limited_read_job(form, job[:3])
    if kept is not None and not (result[1] is not None and result[1].startswith(TRANSIENT)):
        kept.put(job[3], result)
    return result


_SILENCED = False  # this reading worker's standard error goes nowhere (_pool_read_job)


def _pool_read_job(shared: tuple, job: tuple):
    """_read_kept in a worker of the reading pool, whose standard error goes nowhere: what a native
    reader prints as it dies (a Rust "memory allocation … failed" and its backtrace, a fault's dump) would
    reach the analyst's terminal above the Chinese summary. The file is then read again alone (`_isolated`),
    where what it printed is kept to tell why it died."""
    global _SILENCED
    if not _SILENCED and os.getpid() != _KERNEL_PID:
        stderr_nowhere()
        _SILENCED = True
    return _read_kept(shared, job)


def _isolated(shared: tuple, job) -> tuple:
    """One job (_read_kept) in a forked process of its own; (None, CRASHED) when that process dies, (None, the
    memory reason) when it died because an allocation was refused (what it printed says so)."""
    if "fork" not in mp.get_all_start_methods():
        return _read_kept(shared, job)
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    with tempfile.TemporaryFile() as errors:

        def child() -> None:
            die_with_parent()
            faulthandler.disable()  # its dump would go to a descriptor of its own (pytest turns it on)
            os.dup2(errors.fileno(), 2)  # what a dying native reader prints: why it died
            try:
                send.send(_read_kept(shared, job))
            finally:
                send.close()

        proc = ctx.Process(target=child)
        proc.start()
        send.close()
        try:
            result = receive.recv()
        except (EOFError, OSError):
            errors.seek(0)
            printed = errors.read()[-64 * 1024 :]
            dead_of_memory = any(sign in printed for sign in _OUT_OF_MEMORY_SIGNS)
            result = (None, too_much_memory_reason() if dead_of_memory else CRASHED)
        proc.join()
        receive.close()
    return result


@contextlib.contextmanager
def memory_limit(megabytes: int):
    """This process's address space limited to what it holds now plus `megabytes` (RLIMIT_AS: an allocation
    past it fails — MemoryError in Python, an abort in most native readers); the previous limit back after.
    Only where the kernel offers it (Linux, macOS); 0: no limit."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            held = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        previous = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError, AttributeError):
        yield
        return
    if megabytes <= 0:
        yield
        return
    soft = held + megabytes * 2**20
    if previous[1] != resource.RLIM_INFINITY:
        soft = min(soft, previous[1])
    resource.setrlimit(resource.RLIMIT_AS, (soft, previous[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


def _limited_read_job(form: Form, job: tuple[str, str | None, str]):
    """_read_job under the memory limit when run in a process of its own (never in the kernel's)."""
    if os.getpid() == _KERNEL_PID:
        return _read_job(form, job)
    with memory_limit(config.MAX_READ_MB):
        result = _read_job(form, job)
    if result[1] == MEMORY_ERROR:
        return None, too_much_memory_reason()
    return result


TOO_SLOW = "读取这个文件超过了"
TRANSIENT = (CRASHED, TOO_SLOW, TOO_MUCH_MEMORY)  # not kept in the cache: another run may read the file


class TooSlow(ReadError):
    """A file that took longer than config.MAX_READ_SECONDS to read."""


@contextlib.contextmanager
def time_limit(seconds: int):
    """Raise TooSlow in this thread after `seconds` (SIGALRM: the main thread of a worker or of the kernel;
    Python code is stopped, a native reader's loop when it returns to Python). Elsewhere: no limit."""
    if (
        seconds <= 0
        or not hasattr(signal, "SIGALRM")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def stop(_signum, _frame):
        raise TooSlow(
            f"{TOO_SLOW}{seconds}秒（上限），已停止读取；文件可能结构异常，"
            "请单位把统计表复制到新文件后重新发送"
        )

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _read_job(form: Form, job: tuple[str, str | None, str]):
    """One file read and matched, and a form's blanks parsed, in the worker (all cores, beside the reading
    of the others): (match, None, rows), (match, None) for a summary or an unrecognised file, or
    (None, reason)."""
    path, converted, kind = job
    try:
        with time_limit(config.MAX_READ_SECONDS):
            m, error = read_and_match(Path(path), form, Path(converted) if converted else None, kind or None)
            rows = _parsed(m, form)
    except TooSlow as exc:
        return None, str(exc)
    return (m, error) if rows is None else (m, error, rows)


def _frame(subs: list[Submission], name: str, **derived: Callable[[Submission], object]) -> pd.DataFrame:
    """A table of the catalog's columns, one row a submission: each column the submission's attribute of that
    name, or what `derived` makes of the submission."""
    columns = catalog.dataset(name).column_names
    get = {c: derived.get(c) or operator.attrgetter(c) for c in columns}
    return pd.DataFrame([{c: get[c](s) for c in columns} for s in subs], columns=columns)


def run(inputs: Mapping, p: Params) -> Made:
    """Ingest one year's inbox: the 01_extracted layer (saved by the runner), and the values as read."""
    form, registry = p.form, p.registry
    subs, written = read_inbox(inputs["inbox"], p, form, registry)  # the inbox is handed as its folder
    with gc_paused():  # not while reading: the readers' workers are forked from here
        made = _frames(p, form, registry, subs)
    written()  # the files' records, written on another core meanwhile (read_inbox)
    return made


def _frames(p: Params, form: Form, registry: Registry, subs: list[Submission]) -> Made:
    """What depends on other files (whose an unread file is, unregistered units, dates, which version is in
    force, notes), then the 01_extracted layer."""
    for sub in subs:
        if (
            sub.status == REJECTED and sub.match is None
        ):  # never read: its name and folders may still say whose
            _resolve_unit(sub, registry)
    _match_unregistered(subs)
    versions.check_dates(subs, p.cfg)
    forms_of: dict[str, list[Submission]] = {}
    for sub in subs:
        if sub.status == READ:
            forms_of.setdefault(sub.unit, []).append(sub)
    for group in forms_of.values():  # a unit's versions are compared blank by blank
        for sub in group if len(group) > 1 else ():
            sub.blanks()
    supersede(subs)
    _add_notes(subs)

    def unit_key(sub: Submission) -> tuple:
        return (*registry.sort_key(sub.unit), sub.file)

    forms = sorted((s for s in subs if s.status in (READ, SUPERSEDED)), key=unit_key)
    table, extracted = _extracted(p, form, forms)
    values = extracted.loc[extracted["in_force"].to_numpy(dtype=bool)].drop(columns="in_force")
    frames = {
        "ingest_log": _log_frame(subs),
        "submissions": _submissions_frame(forms),
        "extracted": table,
        "summaries": _summaries_frame(sorted((s for s in subs if s.status == SUMMARY), key=unit_key)),
    }
    # values as read from the files in force; step 02 applies corrections and writes the values in force
    return Made(frames, {"values": values.reset_index(drop=True), "extracted": extracted})


def _log_frame(subs: list[Submission]) -> pd.DataFrame:
    """ingest_log: every file of the inbox and how it was taken."""
    return _frame(
        subs,
        "ingest_log",
        layout=lambda s: layouts.LAYOUT_LABELS.get(s.layout, ""),
        left_out=lambda s: "；".join(s.left_out),
    )


def _submissions_frame(forms: list[Submission]) -> pd.DataFrame:
    """submissions: every form read (in force or superseded), with its unit, date and how it was matched."""
    return _frame(
        forms,
        "submissions",
        lines_found=lambda s: s.match.lines_found,
        lines_total=lambda s: s.match.lines_total,
    )


def _summaries_frame(summaries: list[Submission]) -> pd.DataFrame:
    """summaries: each unit's 书面总结材料, its whole text."""
    return _frame(
        summaries,
        "summaries",
        chars=lambda s: len(s.match.text),
        text=lambda s: _clean_text(s.match.text),
    )


def _extracted(p: Params, form: Form, forms: list[Submission]):
    """The extracted table, as its file's bytes and as read back. Each form's lines are the text its rows
    make; a form taken from the last run whose unit and whether it is in force are as then takes its lines as
    they were written then (kept in the cache under its record, unit and state), so a re-run after one file
    changed makes the changed unit's lines only, and the file is byte for byte what a run from scratch
    writes."""
    ds = catalog.dataset("extracted")
    kept = p.cache(KEPT_ROWS)
    labels = {i.code: (i.label, i.unit) for i in form.items}

    def rows(s: Submission, in_force: bool) -> list[dict]:
        return [
            {
                "unit": s.unit,
                "unit_type": s.unit_type,
                "registered": s.registered,
                "item": r["item"],
                "label": labels[r["item"]][0],
                "measure": labels[r["item"]][1],
                "value": format_value(r["value"]),
                "status": r["status"],
                "approx": r["approx"],
                "raw_text": r["raw_text"],
                "file": s.file,
                "location": r["location"],
                "note": r["note"],
                "revised": bool(r.get("revised")),
                "in_force": in_force,
            }
            for r in s.blanks()
        ]

    def part(s: Submission):
        in_force = s.status == READ
        key = kept.key(s.origin, s.unit, s.unit_type, str(s.registered), str(in_force)) if s.origin else ""
        return key, functools.partial(rows, s, in_force)

    table = splice.table(ds, kept, [part(s) for s in forms])
    return table, table.frame


def _clean_text(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text.replace("\t", " ")).strip()
