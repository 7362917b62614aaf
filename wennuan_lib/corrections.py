"""Corrections and waivers: the analyst's decisions, kept as data and never as edits to a unit's file.

* inputs/<year>/corrections.csv  unit,item,value,reason  — a figure the unit confirmed by phone or email
* inputs/<year>/waivers.csv      unit,rule,reason        — a finding the analyst accepted

Both are matched through the unit registry; a line that matches nothing is an error in the
audit, so that a typo cannot vanish silently.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import store
from .form import Form
from .parse import OK, format_value, parse_blank
from .rules import ACTIONS, AUDIT_ID, TOTALS, make_finding
from .units import Registry

CORRECTION_COLUMNS = ["unit", "item", "value", "reason"]
WAIVER_COLUMNS = ["unit", "rule", "reason"]
AUDIT_COLUMNS = ["kind", "line", "unit", "written_unit", "item", "rule", "original", "value", "reason", "status",
                 "message"]


def load_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """The analyst's table, or an empty one; a wrong header is a clear error."""
    if not path.exists():
        return pd.DataFrame(columns=columns)
    frame = store.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} 缺少列：{'、'.join(missing)}（应为 {','.join(columns)}）")
    return frame


def _unit(written: str, registry: Registry, present: set[str]) -> str | None:
    written = written.strip()
    if written in present or written == TOTALS:
        return written
    resolved = registry.resolve(written, strict=True)
    return resolved.name if resolved and resolved.name in present else None


def apply_corrections(values: pd.DataFrame, corrections: pd.DataFrame, registry: Registry,
                      form: Form) -> tuple[pd.DataFrame, list[dict]]:
    """Values in force after corrections, with the original beside each; and the audit lines."""
    values = values.reset_index(drop=True)
    values["original_value"] = values["value"]
    values["original_status"] = values["status"]
    values["corrected"] = False
    values["correction_reason"] = ""
    present = set(values["unit"])
    index = {(u, i): k for k, (u, i) in enumerate(zip(values["unit"].tolist(), values["item"].tolist(), strict=True))}
    audit = []
    for n, row in enumerate(corrections.itertuples(index=False), start=2):
        item = row.item.strip()
        line = {"kind": "更正", "line": n, "written_unit": row.unit, "item": item, "rule": "",
                "original": "", "value": row.value, "reason": row.reason}
        unit = _unit(row.unit, registry, present)
        problem = None
        if unit is None:
            problem = f"单位「{row.unit}」没有有效的统计表（名称是否写错？）"
        elif item not in form.codes:
            problem = f"项目代码「{item}」不存在（应为 01A.1 … 11A.1）"
        else:
            parsed = parse_blank(row.value, form.item(item).is_money)
            if parsed.status != OK:
                problem = f"更正值「{row.value}」无法识别为数字"
        if problem:
            audit.append({**line, "unit": unit or "", "status": "unmatched", "message": problem})
            continue
        k = index[(unit, item)]
        new = format_value(parsed.value)
        original = values.at[k, "original_value"]
        values.loc[k, ["value", "status", "approx", "corrected", "correction_reason"]] = [
            new, OK, False, True, row.reason]
        audit.append({**line, "unit": unit, "original": original, "value": new, "status": "applied",
                      "message": f"{unit} {item} {form.item(item).label}：{original or '未填'} → {new} "
                                 f"{form.item(item).unit}"})
    return values, audit


def apply_waivers(findings: pd.DataFrame, waivers: pd.DataFrame, registry: Registry) -> tuple[pd.DataFrame, list[dict]]:
    """Mark the findings the analyst accepted; a waiver that matches no finding is reported."""
    findings = findings.copy()
    findings["waived"] = False
    findings["waiver_reason"] = ""
    present = set(findings["unit"])
    audit = []
    for n, row in enumerate(waivers.itertuples(index=False), start=2):
        line = {"kind": "豁免", "line": n, "written_unit": row.unit, "item": "", "rule": row.rule.strip(),
                "original": "", "value": "", "reason": row.reason}
        unit = _unit(row.unit, registry, present)
        mask = (findings["unit"] == unit) & (findings["rule"] == row.rule.strip())
        if unit is None or not mask.any():
            where = f"单位「{row.unit}」" if unit is None else f"{unit} 没有规则 {row.rule} 的审核意见"
            audit.append({**line, "unit": unit or "", "status": "unmatched",
                          "message": f"豁免未匹配：{where}（名称或规则编号是否写错？）"})
            continue
        findings.loc[mask, "waived"] = True
        findings.loc[mask, "waiver_reason"] = row.reason
        audit.append({**line, "unit": unit, "item": "|".join(findings.loc[mask, "item"]), "status": "applied",
                      "message": f"{unit} 规则 {row.rule} 的 {int(mask.sum())} 条审核意见已豁免"})
    return findings, audit


def audit_findings(audit: list[dict]) -> list[dict]:
    """An unmatched correction or waiver is itself an error finding."""
    return [make_finding(a["written_unit"], "", [a["item"]] if a["item"] else [], AUDIT_ID, "hard", "error",
                     f"{a['kind']}登记表第{a['line']}行未能应用：{a['message']}", ACTIONS[AUDIT_ID])
            for a in audit if a["status"] == "unmatched"]


def audit_frame(audit: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(audit, columns=AUDIT_COLUMNS)
