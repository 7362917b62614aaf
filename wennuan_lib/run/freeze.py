"""Nothing sent is lost: `freeze` keeps what was sent, sealed, and later runs say what differs from it.

outputs/<year>/sent/<date>/ holds a read-only copy of the report, the summary form, the detail workbook and
the data they were made from (the catalog marks them `sent: true`), with SHA256SUMS — every file's sha256 —
signed with the user's secret (SHA256SUMS.sig). `verify` and `status` check every sent file against it and
name any that changed, appeared or disappeared. No run writes there.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
import shutil
import stat
from decimal import Decimal
from pathlib import Path

import pandas as pd

from wennuan_lib import vocab
from wennuan_lib.base import catalog, store
from wennuan_lib.base.artifacts import sign
from wennuan_lib.base.files import sha256
from wennuan_lib.check.aggregate import in_totals
from wennuan_lib.errors import WennuanError
from wennuan_lib.read.parse import official_number, to_decimal
from wennuan_lib.run import text_diff

SUMS, SIGNATURE = "SHA256SUMS", "SHA256SUMS.sig"
# what check_sent says of a sent file that is no longer as sealed (a copy of the one sent puts it right)
FILE_CHANGED, FILE_GONE, FILE_ADDED = "文件在封存后被改动过", "文件缺失", "封存后新增的文件"
UNCHANGED = "全市合计数和书面总结的文字都没有变化。"
DOUBT = "注意：这个已报送版本的文件在封存后有变化"


class FreezeError(WennuanError):
    """Chinese message."""


def _sums_text(folder: Path) -> bytes:
    lines = [
        f"{sha256(p)}  {p.relative_to(folder).as_posix()}"
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (SUMS, SIGNATURE)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def freeze(workspace, year: int, when: dt.date | None = None, console=print) -> Path:
    """Copy what is being sent into sent/<date>/, read-only, with its checksums."""
    scope = workspace.scope(year)
    with scope.locked(console):
        current = scope.current()
        if current is None or not (current / catalog.dataset("report_pdf").path).exists():
            raise FreezeError(
                f"{year}年还没有生成书面总结，请先运行 {workspace.command('run', '--year', year)}"
            )
        stamp = (when or dt.date.today()).isoformat()
        root = scope.folder("sent")
        target = root / stamp
        n = 2
        while target.exists():  # a second sending on the same day gets its own folder
            target = root / f"{stamp}-{n}"
            n += 1
        for left in interrupted(scope):  # a freeze killed before it published: its copy is read-only
            _remove(left)
            console(
                f"发现上次封存被中断时留下的临时文件夹 {left}"
                "（那次封存没有完成，其中的文件不是已报送的版本），已清理"
            )
        tmp = root / f".{target.name}{TMP_SUFFIX}"
        for ds in catalog.datasets(catalog.YEAR):
            if not ds.sent:
                continue
            for path in catalog.files_in(current, ds):
                dest = tmp / path.relative_to(current)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
        sums = _sums_text(tmp)
        (tmp / SUMS).write_bytes(sums)
        (tmp / SIGNATURE).write_text(sign(sums).hex() + "\n", encoding="ascii")
        for p in tmp.rglob("*"):
            p.chmod(
                stat.S_IRUSR
                | stat.S_IRGRP
                | stat.S_IROTH
                | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if p.is_dir() else 0)
            )
        from wennuan_lib.base.hooks import stop_point

        stop_point("freeze:before-publish")
        os.replace(tmp, target)
        target.chmod(0o555)
        return target


TMP_SUFFIX = ".tmp"


def interrupted(scope) -> list[Path]:
    """Temporary folders of freezes that were killed before they published (sent/.<date>.tmp)."""
    root = scope.folder("sent")
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir() if p.name.startswith(".") and p.name.endswith(TMP_SUFFIX) and p.is_dir()
    )


def _remove(folder: Path) -> None:
    """Remove a read-only copy: its folders made writable first (rmtree cannot empty a read-only folder)."""
    folder.chmod(0o700)
    for here, dirs, _ in os.walk(folder):
        for d in dirs:
            Path(here, d).chmod(0o700)
    shutil.rmtree(folder)


def check_sent(scope) -> list[str]:
    """Every sent copy against its checksums: Chinese lines naming each file that changed,
    appeared or went; and any freeze that was interrupted."""
    lines = [
        f"封存被中断：{left} 是一次没有完成的封存（被强行结束或断电），这个版本没有封存成功。"
        f"请重新运行 freeze --year {scope.key}（会先清理这个临时文件夹）"
        for left in interrupted(scope)
    ]
    for folder in scope.sent_dirs():
        lines += _check_folder(folder)
    return lines


def _check_folder(folder: Path) -> list[str]:
    """One sent copy against its checksums (see check_sent)."""
    where = f"已报送版本 {folder.name}"
    lines = []
    sums_path = folder / SUMS
    if not sums_path.exists():
        return [f"{where}：没有校验记录（{SUMS}），无法核对是否被改动（旧版本程序封存的，可重新封存）"]
    recorded = sums_path.read_bytes()
    try:
        mac = bytes.fromhex((folder / SIGNATURE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        mac = b""
    if not hmac.compare_digest(mac, sign(recorded)):
        lines.append(f"{where}：校验记录 {SUMS} 的签名不符（记录被改动过，或是在另一台电脑上封存的）")
    expected = {}
    for line in recorded.decode("utf-8", "replace").splitlines():
        digest, _, rel = line.partition("  ")
        if rel:
            expected[rel] = digest
    present = {
        p.relative_to(folder).as_posix(): p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (SUMS, SIGNATURE)
    }
    for rel, digest in sorted(expected.items()):
        if rel not in present:
            lines.append(f"{where}：{FILE_GONE}：{rel}")
        elif sha256(present[rel]) != digest:
            lines.append(f"{where}：{FILE_CHANGED}：{rel}")
    lines += [f"{where}：{FILE_ADDED}：{rel}" for rel in sorted(present.keys() - expected.keys())]
    return lines


def _values(frame) -> dict:
    return {
        (u, i): v
        for u, i, v in zip(
            frame["unit"].tolist(), frame["item"].tolist(), frame["value"].tolist(), strict=True
        )
    }


def _table(folder: Path, name: str):
    ds = catalog.dataset(name)
    path = folder / ds.path
    if not path.exists():
        legacy = folder / "data" / Path(ds.path).name  # sent by an older version: one flat data/ folder
        path = legacy if legacy.exists() else path
    # a version sent by an older program stored Chinese labels (audit.kind 更正/豁免): read as codes
    return vocab.coded(store.load_table(ds, path), name) if path.exists() else None


def _fate(file: str, unit: str, log) -> str:
    """What became of a file the sent version read for `unit`, in this run's ingest log, in Chinese."""
    rows = None if log is None else log[log["file"] == file]
    if rows is None:
        return "这次的读取记录缺失，无法判断这份文件的情况"
    if rows.empty:
        return "这次收件箱里没有这份文件"
    row = rows.iloc[0]
    if row["status"] == "rejected":
        return f"这份文件这次无法读取（{row['reason']}）"
    if row["status"] == "superseded":
        return f"这份文件这次已被替代（{row['reason']}）"
    if row["status"] == "read" and row["unit"] != unit:
        return f"这份文件这次认定为「{row['unit'] or '无法判断的单位'}」的报送（{row['unit_how']}）"
    return f"这份文件这次{vocab.file_label(row['status'], row['figures'])}（{row['reason']}）"


def _gone_units(old_frame, new_values: dict, log) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Units whose form the sent version read and this run reads no more: unit → the Chinese line saying
    which file was read then and what became of it now. And the units renamed since (units.csv: the same
    files read now for a name the sent version did not have): old name → (new name, its line); not gone."""
    if old_frame is None or "file" not in old_frame:
        return {}, {}
    now, then = {u for u, _ in new_values}, set(old_frame["unit"])
    out, renamed = {}, {}
    for unit, rows in old_frame.groupby("unit", sort=False):
        if unit in now:
            continue
        files = list(dict.fromkeys(f for f in rows["file"].tolist() if f))
        new_name = _renamed(files, log, then)
        if new_name:
            same = all(
                new_values.get((new_name, i)) == v for i, v in zip(rows["item"], rows["value"], strict=True)
            )
            renamed[unit] = (
                new_name,
                f"{unit}：这次按单位名录（inputs/units.csv）改称「{new_name}」，"
                f"读的是同一份文件 {'、'.join(files)}，"
                + ("数字相同，照样计入合计" if same else "照样计入合计（数字有变化的，见下面的合计数）"),
            )
            continue
        fates = "；".join(
            f"{f}：{_fate(f, unit, log)}" if len(files) > 1 else _fate(f, unit, log) for f in files
        )
        counted = "registered" not in rows or bool(rows["registered"].astype(bool).any())
        out[unit] = f"{unit}：已报送版本中读取了 {'、'.join(files) or '（文件名未记录）'}，{fates}，" + (
            "其数字不再计入合计" if counted else "该单位不在单位名录中，其数字本来就未计入合计"
        )
    return out, renamed


def _renamed(files: list[str], log, then: set[str]) -> str:
    """The one unit every one of `files` is read for now, when the sent version had no unit of that name (a
    unit renamed in units.csv, its old name kept as an alias); "" otherwise."""
    if log is None or not files:
        return ""
    rows = log[log["file"].isin(files) & (log["status"] == "read")]
    names = set(rows["unit"])
    if len(rows) != len(files) or len(names) != 1:
        return ""
    name = names.pop()
    return name if name and name not in then else ""


def _units_compared(last: Path, run_dir: Path):
    """The units' figures then and now ((unit, item) → value); of the units read both times, those in
    units.csv then and those now (None for a table without the column); the units no longer read (gone)
    and those renamed since. A renamed unit is compared under its new name."""
    old_frame, new_frame = _table(last, "values"), _table(run_dir, "values")
    old_values, new_values = _values(old_frame), _values(new_frame)
    gone, renamed = _gone_units(old_frame, new_values, _table(run_dir, "ingest_log"))
    if renamed:
        old_values = {(renamed.get(u, (u,))[0], i): v for (u, i), v in old_values.items()}
    listed = None, None
    if all(f is not None and "registered" in f for f in (old_frame, new_frame)):
        present = {u for u, _ in old_values} & {u for u, _ in new_values}
        then = {renamed.get(u, (u,))[0] for u in old_frame.loc[in_totals(old_frame), "unit"]}
        listed = then & present, set(new_frame.loc[in_totals(new_frame), "unit"]) & present
    return old_values, new_values, listed, gone, renamed


def differences(scope, run_dir: Path | None = None, inputs: dict | None = None) -> list[str] | None:
    """What differs between the latest sent report and a run's data, in Chinese lines (the first names the
    sent version); None if nothing was sent. Reads only. A unit whose form was read then and is not now (the
    file gone from the inbox, unreadable, superseded) is one line, with the totals that changed because of it
    under it."""
    sent = scope.sent_dirs()
    run_dir = run_dir or scope.current()
    if not sent or run_dir is None:
        return None
    last = sent[-1]
    head_lines = [f"与 {last.name} 报送的版本（{last}）相比：", *doubt(last)]
    old_totals, new_totals = _table(last, "totals"), _table(run_dir, "totals")
    if old_totals is None or new_totals is None:
        return [*head_lines, "无法比较（缺少合计数据）"]
    old_totals, new_totals = old_totals.set_index("item"), new_totals.set_index("item")
    old_values, new_values, listed, gone, renamed = _units_compared(last, run_dir)
    fresh = _fresh_audit(_table(last, "audit"), _table(run_dir, "audit"))
    lines = []
    by_gone: dict[str, list[str]] = {unit: [] for unit in gone}  # totals that changed only because of it
    items = new_totals[new_totals["kind"] == "item"]
    for code, row in items.iterrows():
        before = to_decimal(old_totals.loc[code, "value"]) if code in old_totals.index else None
        now = to_decimal(row["value"])
        if before == now:
            continue
        delta = (now or Decimal(0)) - (before or Decimal(0))
        sign = "+" if delta > 0 else ""
        m = row["measure"]
        change = (
            f"{code} {row['label']}：已报送 {_shown(before, m)} {m} → 现在 {_shown(now, m)} {m}"
            f"（{sign}{official_number(delta, m)} {m}）"
        )
        causes = _causes(code, fresh, old_values, new_values, listed)
        left = [u for u in gone if old_values.get((u, code))]
        if len(left) == 1 and not causes:
            by_gone[left[0]].append(change)
            continue
        causes += [f"{u} 的数字不再计入（已报送版本中为 {old_values[(u, code)]}，见上）" for u in left]
        lines.append(change)
        lines += [f"    原因：{c}" for c in causes] or ["    原因：未能确定（请核对收件箱和登记表的变化）"]
    head = [line for _, line in renamed.values()]
    for unit, line in gone.items():
        changed = by_gone[unit]
        head.append(line + (f"；因此变化的合计数{len(changed)}项：" if changed else "。"))
        head += [f"    {c}" for c in changed]
    figures, year = bool(gone or lines), int(scope.key)  # a renamed unit changed no figure
    changes, shared = _input_changes(last, run_dir, inputs, year)  # each year's input files changed since
    html = catalog.dataset("report_html").path
    pages = text_diff.page(last / html), text_diff.page(run_dir / html)  # each report parsed once
    lines += _other_years(year, old_totals, items, changes, shared, pages)
    lines += _charts(last, run_dir, year, changes, figures, pages[1])
    lines += _words(last, run_dir, year, changes, figures, pages)
    return [*head_lines, *(head + lines or [UNCHANGED])]


def still_true(written: list[str], last: Path) -> bool:
    """Whether the difference a run wrote down still holds: made against `last` (the newest sent version),
    which is still as sealed, and with no doubt about it then."""
    return (
        bool(written)
        and written[0].startswith(f"与 {last.name} 报送的版本（{last}）")
        and not any(line.startswith(DOUBT) for line in written)
        and not _check_folder(last)
    )


def doubt(folder: Path) -> list[str]:
    """A sent copy no longer as sealed: what is compared below may not be what was sent, and says so."""
    damaged = _check_folder(folder)
    if not damaged:
        return []
    return [
        f"{DOUBT}（{'；'.join(d.split('：', 1)[1] for d in damaged)}），"
        "下面按现在的封存文件比较，可能不是当时报送的内容：请先运行 verify 核对，"
        "用当时实际报送的文件复制回原处"
    ]


def _words(last: Path, run_dir: Path, year: int, changes: dict, figures: bool, pages: tuple) -> list[str]:
    """The report's words that differ from the sent version's (see text_diff), with their causes: the
    input files that changed since (`changes`), and the totals (`figures`: some changed, listed above)."""
    sent, current = (text_diff.report_text(page) for page in pages)
    if sent is None or current is None:
        html = catalog.dataset("report_html").path
        return [f"书面总结的文字：无法比较（已报送版本或这次运行缺少 {Path(html).name}）"]
    said = text_diff.changes(sent, current)
    for ds in catalog.datasets(catalog.YEAR):  # the workbooks sent beside it: their words (the header …)
        if ds.sent and ds.path.endswith(".xlsx"):
            books = [text_diff.workbook_words(d / ds.path) for d in (last, run_dir)]
            if None not in books:
                said += [[line] for line in text_diff.workbook_changes(Path(ds.path).name, *books)]
    if not said:
        return []
    causes = _why(changes, year, "合计数变了（见上）" if figures else "", "上年数和同比随之变化")
    if any(block[0].startswith("落款") for block in said) and not any(
        "year.yaml" in c for c in changes.get(year, [])
    ):
        causes.append("落款日期：year.yaml 中没有写 report_date 时，就是运行当天的日期")
    return [
        f"书面总结和报表有 {len(said)} 处文字与已报送的不同：",
        *(f"    {line}" for block in said for line in block),
        *(f"    原因：{c}" for c in causes or [UNKNOWN]),
    ]


def _why(changes: dict, year: int, totals: str, earlier: str) -> list[str]:
    """What may have changed a part of the report since it was sent: this year's input files, `totals` (the
    words for this year's totals having changed; "" when they did not), each earlier year's input files
    (with `earlier` said of what they changed)."""
    causes = [f"本年的输入变了（{'；'.join(changes[year])}）"] if year in changes else []
    causes += [totals] if totals else []
    return causes + [
        f"{y}年的输入变了（{'；'.join(changes[y])}），{earlier.format(year=y)}"
        for y in sorted(changes)
        if y < year
    ]


UNKNOWN = "未能确定（输入文件和合计数都没有变化；可能是程序更新）"


def _shown(value: Decimal | None, measure: str) -> str:
    """A figure as the report prints it (4219.80 万元, not 4219.8), 无 where there is none."""
    return "无" if value is None else official_number(value, measure)


def _fresh_audit(old_audit: pd.DataFrame | None, new_audit: pd.DataFrame) -> pd.DataFrame:
    """The audit lines of a run that the sent version did not have (corrections applied since)."""
    columns = ("kind", "unit", "item", "value", "status")
    seen = set() if old_audit is None else set(zip(*(old_audit[c] for c in columns), strict=True))
    # a Series, not a list: an empty list would select no columns (a year without corrections or waivers)
    return new_audit[
        pd.Series(
            [key not in seen for key in zip(*(new_audit[c] for c in columns), strict=True)],
            index=new_audit.index,
            dtype=bool,
        )
    ]


def _causes(
    code: str, fresh: pd.DataFrame, old_values: dict, new_values: dict, listed=(None, None)
) -> list[str]:
    """Why an item's total changed since it was sent: corrections applied since, units that came into or
    left units.csv (`listed`: of the units read both times, those counted then and now), and units' values
    that changed (a unit a correction already explains is not named twice)."""
    causes = []
    then, now = listed
    if then is not None and now is not None:  # a unit read both times, in units.csv only one of them
        for unit in sorted(now - then):
            if new_values.get((unit, code)):
                causes.append(
                    f"{unit} 这次在单位名录（inputs/units.csv）中，其数字 {new_values[(unit, code)]} 计入合计"
                )
        for unit in sorted(then - now):
            if old_values.get((unit, code)):
                causes.append(f"{unit} 这次不在单位名录（inputs/units.csv）中，其数字不再计入合计")
    for rec in fresh[(fresh["item"] == code) & (fresh["status"] == "applied")].to_dict("records"):
        causes.append(f"更正登记第{rec['line']}行：{rec['message']}（{rec['reason']}）")
    for (unit, item), value in sorted(new_values.items()):
        if item == code and old_values.get((unit, item)) != value and not any(unit in c for c in causes):
            causes.append(
                f"{unit} 的数值由 {old_values.get((unit, item)) or '未填'} 变为 {value or '未填'}"
                + ("（新报送或重新报送）" if (unit, item) not in old_values else "")
            )
    return causes


def _input_changes(
    last: Path, run_dir: Path, now: dict | None, year: int
) -> tuple[dict[int, list[str]], list[str]]:
    """The years' input files (under inputs/<year>/) that differ between the sent version's manifest and
    this run's (`now`, or its manifest), by year: an earlier year's made the 上年 and the trend figure of
    this year; this year's own, its figures and words. The files of an inbox are counted, not listed. The
    files every year reads (units.csv, the form and policy files) count as `year`'s, and are also returned
    apart: they changed the other years' results too."""

    def inputs(folder: Path) -> dict:
        try:
            data = json.loads((folder / catalog.dataset("manifest").path).read_text(encoding="utf-8"))
            return data.get("inputs", {}) if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    old, new = inputs(last), inputs(run_dir) if now is None else now
    out: dict[int, list[str]] = {}
    inbox: dict[int, list[str]] = {}
    shared: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        head, _, rest = key.partition("/")
        if old.get(key) == new.get(key):
            continue
        what = "已修改" if key in old and key in new else ("是新增的" if key in new else "已删除")
        if not head.isdigit():  # read by every year: the registry, the form and policy files
            shared.append(f"{SHARED.get(head, '')}{_shared_path(key)} {what}")
            continue
        said = f"inputs/{key} {what}"
        (inbox if rest.startswith("submissions/") else out).setdefault(int(head), []).append(said)
    for y, said in inbox.items():
        counted = f"收件箱 inputs/{y}/submissions 中 {len(said)} 个文件有变化"
        out.setdefault(y, []).extend(said if len(said) <= INBOX_LISTED else [counted])
    if shared:
        out.setdefault(year, []).extend(shared)
    return out, shared


SHARED = {"units.csv": "单位名录 ", "forms": "表式文件 ", "policy.yaml": "审核规则和报告用语 "}


def _shared_path(key: str) -> str:
    """Where a file every year reads is: units.csv with the analyst's inputs, the rest with the program."""
    return f"inputs/{key}" if key == "units.csv" else f"wennuan_lib/{key}"


INBOX_LISTED = 3  # an inbox's changed files named one by one up to this many, else counted


def _other_years(year: int, old_totals, items, changes: dict, shared: list[str], pages: tuple) -> list[str]:
    """What changed in what the sent version showed of other years — each item's 上年 and 同比 — each with its
    cause: which earlier year's inputs changed (`changes`: each year's changed input files; `shared`: the
    files every year reads that changed)."""

    def cause(years) -> list[str]:
        said = [f"    原因：{y}年的输入变了（{'；'.join(changes[y])}）" for y in years if y in changes]
        said += [f"    原因：{'；'.join(shared)}（往年也按它重新处理）"] if shared else []
        return said or ["    原因：未能确定（往年的输入文件没有变化；可能是程序更新，请核对往年的结果）"]

    # the 同比 as each report shows it in 附表1 (not written where last year's total is in doubt), else
    # (a report not there) as the totals hold it
    sent_pct, now_pct = (text_diff.shown_column(page, vocab.CHANGE_HEADING) for page in pages)

    def shown(code: str, row, table: dict | None) -> str:
        if table is not None:
            said = table.get(code, "")
            return (
                "未写（—）" if said == "—" else f"{said}%" if to_decimal(said) is not None else said or "无"
            )
        pct = to_decimal(row.get("change_pct", ""))
        return "无" if pct is None else f"{pct}%"

    lines, followed = [], []
    for code, row in items.iterrows():
        if code not in old_totals.index:
            continue
        old = old_totals.loc[code]
        measure = row["measure"]
        before, now = to_decimal(old.get("previous", "")), to_decimal(row.get("previous", ""))
        if before != now:
            lines.append(
                f"{code} {row['label']} 的上年数（{year - 1}年）："
                f"已报送 {_shown(before, measure)} {measure} → 现在 {_shown(now, measure)} {measure}"
            )
            lines += cause([year - 1])
        pct_before, pct_now = shown(code, old, sent_pct), shown(code, row, now_pct)
        if pct_before == pct_now:
            continue
        own = to_decimal(old.get("value", "")) != to_decimal(row["value"])
        if own and before == now:  # only because this year's total changed: listed together below
            followed.append(f"{code} {row['label']} {pct_before} → {pct_now}")
            continue
        lines.append(f"{code} {row['label']} 的同比：已报送 {pct_before} → 现在 {pct_now}")
        lines += ["    原因：本年的合计数变了（见上）"] if own else []
        lines += cause([year - 1])
    if followed:
        lines.append(f"同比随本年的合计数（见上）变化的 {len(followed)} 项：")
        lines += [f"    {'；'.join(followed[k : k + PER_LINE])}" for k in range(0, len(followed), PER_LINE)]
    return lines


PER_LINE = 3  # items a line of the 同比 that followed this year's totals


def _charts(last: Path, run_dir: Path, year: int, changes: dict, figures: bool, page) -> list[str]:
    """The charts whose picture differs from the sent one, by their caption in the report (its `page`), and
    why: this year's inputs or totals, earlier years' inputs (their points on a trend), the 草稿 mark."""
    charts = catalog.dataset("charts")
    sent_charts = {p.relative_to(last).as_posix(): sha256(p) for p in catalog.files_in(last, charts)}
    now_charts = {p.relative_to(run_dir).as_posix(): sha256(p) for p in catalog.files_in(run_dir, charts)}
    changed = [
        rel for rel in sorted(sent_charts.keys() & now_charts.keys()) if sent_charts[rel] != now_charts[rel]
    ]
    if not changed:
        return []
    captions = text_diff.captions(page)
    named = [f"{captions.get(Path(rel).stem, '（报告正文中没有用到的图）')}（{rel}）" for rel in changed]
    causes = _why(
        changes, year, "本年的合计数变了（见上）" if figures else "", "趋势图中{year}年的点随之变化"
    )
    then, now_reasons = draft_reasons(last), draft_reasons(run_dir)
    if then is not None and now_reasons is not None and bool(len(then)) != bool(len(now_reasons)):
        kind = {True: "草稿", False: "定稿"}
        causes.append(f"草稿标记：已报送的是{kind[bool(len(then))]}，现在是{kind[bool(len(now_reasons))]}")
    return [
        f"图表有 {len(changed)} 幅与已报送的不同：{'；'.join(named)}",
        *(f"    原因：{c}" for c in causes or [UNKNOWN]),
    ]


def compare(scope, run_dir: Path, inputs: dict | None = None) -> Path | None:
    """After a run's steps: the differences from the sent report (the sent_diff dataset); `inputs` are what
    the run read (its manifest's, written after this)."""
    lines = differences(scope, run_dir, inputs)
    if lines is None:
        return None
    out = run_dir / catalog.dataset("sent_diff").path
    store.atomic_write_bytes(out, ("\n".join(lines) + "\n").encode("utf-8"))
    return out


def draft_reasons(run_dir: Path | None):
    """Why the report of a run is still a draft (a table; empty when final),
    or None if it has no report yet."""
    if run_dir is None:
        return None
    ds = catalog.dataset("draft_reasons")
    path = run_dir / ds.path
    return vocab.coded(store.load_table(ds, path), "draft_reasons") if path.exists() else None


def state(scope) -> str:
    """草稿 / 定稿 / 已封存, in Chinese."""
    current = scope.current()
    reasons = draft_reasons(current)
    if reasons is None:
        return "尚未运行"
    now = f"草稿（{len(reasons)} 个问题未解决）" if len(reasons) else "定稿"
    sent = scope.sent_dirs()
    if not sent:
        return now
    lines = differences(scope) or []
    where = scope.root / catalog.dataset("sent_diff").path  # through the link to the current run
    then = draft_reasons(sent[-1])
    was = f"，报送的是草稿（当时 {len(then)} 个问题未解决）" if then is not None and len(then) else ""
    said = f"已封存（{sent[-1].name}报送{was}）"
    if any(line.startswith(DOUBT) for line in lines):
        said += "；注意：这个已报送版本的文件在封存后有变化，请运行 verify 核对"
    if UNCHANGED in lines:
        return said
    return said + f"；此后数据或文字有变化，当前版本为{now}，差异见 {where}"
