"""Corrections and waivers: the analyst's decisions, kept as data and never as edits to a unit's file.

* inputs/<year>/corrections.csv  unit,item,value,reason  — a figure the unit confirmed by phone or email
* inputs/<year>/waivers.csv      unit,rule,reason        — a finding the analyst accepted

Both are matched through the unit registry; a line that matches nothing, or two corrections of one
item with different values, is an error in the audit (finding A01), so that a typo cannot vanish
silently; a line repeating an earlier one is a warning (A01) and is applied once. Lines are named by
their line numbers in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from wennuan_lib.base import textfiles
from wennuan_lib.check.rules import ACTIONS, AUDIT_ID, ERROR, TOTALS, WARNING, make_finding
from wennuan_lib.form import Form
from wennuan_lib.read.parse import OK, format_value, parse_blank
from wennuan_lib.read.units import Registry
from wennuan_lib.vocab import CORRECTION, REGISTER_LABELS, WAIVER

CORRECTION_COLUMNS = ["unit", "item", "value", "reason"]
WAIVER_COLUMNS = ["unit", "rule", "reason"]
WAIVER_HEADER = ["unit", "rule", "item", "reason"]  # a new register: `item` optional, the docs' order
DUPLICATE = "duplicate"  # audit status of a line that repeats an earlier one (applied once)
AUDIT_COLUMNS = [
    "kind",
    "line",
    "unit",
    "written_unit",
    "item",
    "rule",
    "original",
    "value",
    "reason",
    "status",
    "message",
]


def load_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """The analyst's table as text columns, indexed by each row's line in the file (index name "line");
    empty when the file is absent, has no bytes or only a header. Any encoding Excel or Notepad saves,
    comma or tab separated; empty rows are ignored; a wrong header or unreadable bytes are a clear error.
    `frame.attrs["encoding"]` says which encoding was read."""
    if not path.exists():
        frame = pd.DataFrame(columns=columns, dtype=object)
        frame.index.name = "line"
        frame.attrs["encoding"] = ""
        return frame
    table = textfiles.read_table(path, columns)
    frame = table.frame()
    frame.attrs["encoding"] = table.encoding
    return frame


def _rows(frame: pd.DataFrame):
    """(line in the file, row): the frame's index when it came from load_table, else the row's position."""
    lines = frame.index if frame.index.name == "line" else range(2, len(frame) + 2)
    return zip((int(n) for n in lines), frame.to_dict("records"), strict=True)


def _unit(written: str, registry: Registry, present: set[str]) -> str | None:
    written = written.strip()
    if written in present or written == TOTALS:
        return written
    resolved = registry.resolve(written, strict=True)
    return resolved.name if resolved and resolved.name in present else None


def _lines(group: list[dict]) -> str:
    return "、".join(f"第{a['line']}行" for a in group)


def apply_corrections(
    values: pd.DataFrame, corrections: pd.DataFrame, registry: Registry, form: Form
) -> tuple[pd.DataFrame, list[dict]]:
    """Values in force after corrections, with the original beside each; and the audit lines.

    Two lines for one unit and item with different values are both left unapplied (status unmatched, an
    error naming every line and value): the analyst decides which is right. The same value twice is
    applied once; the later line is audited as a duplicate (a warning)."""
    values = values.reset_index(drop=True)
    values["original_value"] = values["value"]
    values["original_status"] = values["status"]
    values["corrected"] = False
    values["correction_reason"] = ""
    present = set(values["unit"]) - {TOTALS}
    index = {
        (u, i): k
        for k, (u, i) in enumerate(zip(values["unit"].tolist(), values["item"].tolist(), strict=True))
    }
    audit, wanted = [], {}
    for n, row in _rows(corrections):
        item = str(row["item"]).strip()
        line = _audit_line(CORRECTION, n, row, item=item, value=row["value"])
        unit = _unit(row["unit"], registry, present | {TOTALS})
        problem, value, approx = _correction(row, unit, item, form, index)
        if problem:
            audit.append({**line, "unit": unit or "", "status": "unmatched", "message": problem})
            continue
        wanted.setdefault((unit, item), []).append({**line, "unit": unit, "value": value, "approx": approx})
    for (unit, item), group in wanted.items():
        label = f"{unit} {item} {form.item(item).label}"
        audit += _apply(values, index[(unit, item)], label, form.item(item).unit, group)
    return values, sorted(audit, key=lambda a: a["line"])


def _correction(row: dict, unit: str | None, item: str, form: Form, index: dict) -> tuple[str, str, bool]:
    """(what is wrong with a line of the register, "" when nothing; the corrected value as written in the
    values table; whether it is approximate: 约3000, 3000余 — counted as a unit's 约 entry is)."""
    if not str(row["unit"]).strip():
        return "没有填写单位", "", False
    if unit == TOTALS:
        return f"{TOTALS}是各单位数字之和，不能直接更正（请更正有关单位的数字）", "", False
    if unit is None:
        return f"单位「{row['unit']}」没有有效的统计表（名称是否写错？）", "", False
    if item not in form.codes or (unit, item) not in index:
        return f"项目代码「{item}」不存在（应为 {form.codes[0]} … {form.codes[-1]}）", "", False
    parsed = parse_blank(row["value"], form.item(item).is_money, form.item(item).unit)
    if parsed.status != OK:
        return (
            f"更正值「{row['value']}」无法识别为数字" + (f"（{parsed.note}）" if parsed.note else ""),
            "",
            False,
        )
    return "", format_value(parsed.value), bool(parsed.approx)


def _apply(values: pd.DataFrame, k: int, label: str, measure: str, group: list[dict]) -> list[dict]:
    """The register's lines for one value (row `k`): applied once when they agree (the later ones audited as
    duplicates), none applied when they differ; their audit lines."""
    shown = {(a["value"], a["approx"]) for a in group}
    if len(shown) > 1:
        listing = "；".join(f"第{a['line']}行为 {a['value']}" for a in group)
        return [
            {
                **a,
                "status": "unmatched",
                "message": f"{label} 有 {len(group)} 条数值不同的更正（{listing}），都未应用："
                "请核实后只保留正确的一行",
            }
            for a in group
        ]
    first, *again = group
    original = values.at[k, "original_value"]
    values.loc[k, ["value", "status", "approx", "corrected", "correction_reason"]] = [
        first["value"],
        OK,
        first["approx"],
        True,
        first["reason"],
    ]
    audit = [
        {
            **first,
            "original": original,
            "status": "applied",
            "message": f"{label}：{original or '未填'} → {first['value']} {measure}"
            + ("（约数）" if first["approx"] else ""),
        }
    ]
    for a in again:
        audit.append(
            {
                **a,
                "original": original,
                "status": DUPLICATE,
                "message": f"与第{first['line']}行重复（{label} → {a['value']}），只应用一次：请删去这一行",
            }
        )
    return audit


def apply_waivers(
    findings: pd.DataFrame, waivers: pd.DataFrame, registry: Registry, slip_rules: Iterable[str] = ()
) -> tuple[pd.DataFrame, list[dict]]:
    """Mark the findings the analyst accepted; a waiver that matches no finding is reported, and a second
    waiver of the same unit, rule (and item) is audited as a duplicate (a warning). A line may name the
    item (an `item` column): it then waives that item's findings only. A suspected slip (`slip_rules`) is
    waived item by item: a line without an item that would waive it on several items is not applied (an
    error naming them) — the figure the analyst checked is one of them, the others nobody has looked at
    (a revised form that brings a new slip of the same kind would otherwise be waived unseen)."""
    findings = findings.copy()
    findings["waived"] = False
    findings["waiver_reason"] = ""
    present, slips = set(findings["unit"]), set(slip_rules)
    audit, first_line = [], {}
    for n, row in _rows(waivers):
        rule, item = str(row["rule"]).strip(), str(row.get("item") or "").strip()
        line = _audit_line(WAIVER, n, row, rule=rule, item=item)
        unit = _unit(row["unit"], registry, present)
        mask = (findings["unit"] == unit) & (findings["rule"] == rule)
        if item:
            mask &= findings["item"] == item
        problem = _waiver_problem(row, unit, rule, item, mask, findings, slips)
        if problem:
            audit.append({**line, "unit": unit or "", "status": "unmatched", "message": problem})
            continue
        items = "|".join(findings.loc[mask, "item"])
        key, which = (unit, rule, item), f"{unit} 规则 {rule}" + (f" 项目 {item}" if item else "")
        if key in first_line:
            audit.append(
                {
                    **line,
                    "unit": unit,
                    "item": items,
                    "status": DUPLICATE,
                    "message": f"与第{first_line[key]}行重复（{which}），只应用一次：请删去这一行",
                }
            )
            continue
        first_line[key] = n
        findings.loc[mask, "waived"] = True
        findings.loc[mask, "waiver_reason"] = row["reason"]
        audit.append(
            {
                **line,
                "unit": unit,
                "item": items,
                "status": "applied",
                "message": f"{which} 的 {int(mask.sum())} 条审核意见已豁免",
            }
        )
    return findings, audit


def _waiver_problem(row, unit, rule: str, item: str, mask, findings: pd.DataFrame, slips: set[str]) -> str:
    """Why a line of the waivers cannot be applied ("" when it can)."""
    if unit is None:
        return f"豁免未匹配：单位「{row['unit']}」（名称或规则编号是否写错？）"
    if not rule:
        return "豁免未匹配：没有填写规则编号（名称或规则编号是否写错？）"
    if not mask.any():
        if item:
            return (
                f"豁免未匹配：{unit} 没有规则 {rule} 在 {item} 上的审核意见"
                "（名称、规则编号或项目代码是否写错？）"
            )
        return f"豁免未匹配：{unit} 没有规则 {rule} 的审核意见（名称或规则编号是否写错？）"
    items = list(dict.fromkeys(findings.loc[mask, "item"]))
    if rule in slips and not item and len(items) > 1:
        lines = "；".join(f"{unit},{rule},{i},（理由）" for i in items)
        return (
            f"规则 {rule} 是疑似填错，要逐项豁免；这一行没有写项目，会把{unit}的 {len(items)} 个项目"
            f"（{'、'.join(items)}）一起豁免。请只为核实过的项目各写一行：{lines}"
            "（登记表的表头为 unit,rule,item,reason）"
        )
    return ""


def _audit_line(kind: str, n: int, row: dict, *, item: str = "", rule: str = "", value: str = "") -> dict:
    """What the audit records of every line of a registry (更正 or 豁免); its outcome is added to it."""
    return {
        "kind": kind,
        "line": n,
        "written_unit": row["unit"],
        "item": item,
        "rule": rule,
        "original": "",
        "value": value,
        "reason": row["reason"],
    }


def audit_findings(audit: list[dict]) -> list[dict]:
    """An unmatched or conflicting correction or waiver is an error finding (A01);
    a duplicate line a warning."""
    out = []
    for a in audit:
        if a["status"] not in ("unmatched", DUPLICATE):
            continue
        error = a["status"] == "unmatched"
        what = "未能应用" if error else "重复"
        out.append(
            make_finding(
                a["written_unit"],
                "",
                [a["item"]] if a["item"] else [],
                AUDIT_ID,
                "hard" if error else "soft",  # a repeated line only asks to be confirmed (提示性)
                ERROR if error else WARNING,
                f"{REGISTER_LABELS[a['kind']]}登记表第{a['line']}行{what}：{a['message']}",
                ACTIONS[AUDIT_ID],
            )
        )
    return out


def audit_frame(audit: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(audit, columns=AUDIT_COLUMNS)
