"""Nothing sent is lost: `freeze` keeps the report that was sent, and later runs say what differs from it.

outputs/<year>/sent/<date>/ holds a read-only copy of the report, the summary form, the data it was
made from (totals, values, audit) and the manifest. No run writes there.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from decimal import Decimal
from pathlib import Path

import pandas as pd

from . import config, store
from .parse import to_decimal

KEPT_DATA = ["manifest.json", "totals.csv", "values.csv", "audit.csv", "issues.csv"]
DIFF_TEXT = "与已报送版本的差异.txt"


class FreezeError(Exception):
    """Chinese message."""


def sent_dirs(paths: config.YearPaths) -> list[Path]:
    root = paths.year_outputs / "sent"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def freeze(paths: config.YearPaths, when: dt.date | None = None) -> Path:
    report = paths.year_outputs / "report"
    if not (report / "书面总结.pdf").exists() or not (paths.data / "manifest.json").exists():
        raise FreezeError(f"{paths.year}年还没有生成书面总结，请先运行 run --year {paths.year}")
    stamp = (when or dt.date.today()).isoformat()
    target = paths.year_outputs / "sent" / stamp
    n = 2
    while target.exists():  # a second sending on the same day gets its own folder
        target = paths.year_outputs / "sent" / f"{stamp}-{n}"
        n += 1
    tmp = target.with_name("." + target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(report, tmp / "report", ignore=shutil.ignore_patterns(DIFF_TEXT, ".*"))
    (tmp / "data").mkdir()
    for name in KEPT_DATA:
        if (paths.data / name).exists():
            shutil.copy2(paths.data / name, tmp / "data" / name)
    for p in tmp.rglob("*"):
        if p.is_file():
            p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.replace(tmp, target)
    return target


def _values(frame: pd.DataFrame) -> dict:
    return {(u, i): v for u, i, v in zip(frame["unit"].tolist(), frame["item"].tolist(), frame["value"].tolist(), strict=True)}


def differences(paths: config.YearPaths) -> list[str] | None:
    """What differs between the latest sent report and the current data, in Chinese lines (the first
    names the sent version); None if nothing was sent. Reads only."""
    sent = sent_dirs(paths)
    if not sent:
        return None
    last = sent[-1]
    old_totals = store.read_csv(last / "data" / "totals.csv").set_index("item")
    new_totals = store.read_csv(paths.data / "totals.csv").set_index("item")
    old_values = _values(store.read_csv(last / "data" / "values.csv"))
    new_values = _values(store.read_csv(paths.data / "values.csv"))
    old_audit = store.read_csv(last / "data" / "audit.csv") if (last / "data" / "audit.csv").exists() else None
    new_audit = store.read_csv(paths.data / "audit.csv")
    seen = set() if old_audit is None else set(zip(old_audit["kind"], old_audit["unit"], old_audit["item"],
                                                   old_audit["value"], old_audit["status"], strict=True))
    fresh = new_audit[[(k, u, i, v, s) not in seen for k, u, i, v, s in zip(
        new_audit["kind"], new_audit["unit"], new_audit["item"], new_audit["value"], new_audit["status"], strict=True)]]
    lines = []
    items = new_totals[new_totals["kind"] == "item"]
    for code, row in items.iterrows():
        before = to_decimal(old_totals.loc[code, "value"]) if code in old_totals.index else None
        now = to_decimal(row["value"])
        if before == now:
            continue
        delta = (now or Decimal(0)) - (before or Decimal(0))
        sign = "+" if delta > 0 else ""
        lines.append(f"{code} {row['label']}：已报送 {before if before is not None else '无'} {row['measure']} → "
                     f"现在 {now if now is not None else '无'} {row['measure']}（{sign}{delta} {row['measure']}）")
        causes = []
        for rec in fresh[(fresh["item"] == code) & (fresh["status"] == "applied")].to_dict("records"):
            causes.append(f"更正登记第{rec['line']}行：{rec['message']}（{rec['reason']}）")
        for (unit, item), value in sorted(new_values.items()):
            if item == code and old_values.get((unit, item)) != value and not any(unit in c for c in causes):
                causes.append(f"{unit} 的数值由 {old_values.get((unit, item)) or '未填'} 变为 {value or '未填'}"
                              + ("（新报送或重新报送）" if (unit, item) not in old_values else ""))
        lines += [f"    原因：{c}" for c in causes] or ["    原因：未能确定（请核对收件箱和登记表的变化）"]
    return [f"与 {last.name} 报送的版本（{last}）相比：", *(lines or [UNCHANGED])]


UNCHANGED = "全市合计数没有变化。"


def compare(paths: config.YearPaths) -> tuple[Path, list[str]] | None:
    """After a run: write the differences from the sent report to report/与已报送版本的差异.txt."""
    lines = differences(paths)
    if lines is None:
        return None
    out = paths.year_outputs / "report" / DIFF_TEXT
    store.atomic_write_bytes(out, ("\n".join(lines) + "\n").encode("utf-8"))
    return out, lines


def state(paths: config.YearPaths) -> str:
    """草稿 / 定稿 / 已封存, in Chinese."""
    from .clean import open_errors

    sent = sent_dirs(paths)
    if not (paths.data / "issues.csv").exists():
        return "尚未运行"
    errors = len(open_errors(store.read_csv(paths.data / "issues.csv")))
    now = f"草稿（{errors} 条必须修改的意见未解决）" if errors else "定稿"
    if not sent:
        return now
    lines = differences(paths)  # a status query writes nothing
    changed = lines is not None and lines[1:] != [UNCHANGED]
    where = paths.year_outputs / "report" / DIFF_TEXT
    return f"已封存（{sent[-1].name}报送）" + (f"；此后数据有变化，当前版本为{now}，差异见 {where}" if changed else "")
