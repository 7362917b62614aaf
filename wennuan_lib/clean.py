"""Step 02 (审核): corrections applied, every rule checked, waivers applied.

Reads the intermediate layer (extracted.csv) and the analyst's corrections.csv and
waivers.csv; writes under outputs/<year>/data/:

* values.csv  the values in force after corrections (primary layer), the original beside each
* issues.csv  one row per finding: unit, item, rule, severity, Chinese message quoting the figures
* audit.csv   every correction and waiver applied, and every one that matched nothing
"""

from __future__ import annotations

import pandas as pd

from . import aggregate, config, corrections, rules, store
from .form import year_data, year_setup

VALUE_COLUMNS = ["unit", "unit_type", "registered", "item", "label", "measure", "value", "status", "approx",
                 "original_value", "original_status", "corrected", "correction_reason", "raw_text", "file",
                 "location", "note"]
ISSUE_COLUMNS = rules.FINDING_COLUMNS + ["waived", "waiver_reason"]


def previous_values(paths: config.YearPaths, form) -> tuple[pd.DataFrame | None, int]:
    """The previous year's values in force, keyed by this year's codes (joined by concept)."""
    return year_data(paths, paths.year - 1, "values", form), paths.year - 1


def run(paths: config.YearPaths) -> dict[str, pd.DataFrame]:
    _cfg, form, registry = year_setup(paths)
    extracted = store.read_csv(paths.data / "extracted.csv")
    read = extracted[store.flag(extracted["in_force"])].drop(columns=["in_force"])

    fixes = corrections.load_table(paths.year_inputs / "corrections.csv", corrections.CORRECTION_COLUMNS)
    values, audit = corrections.apply_corrections(read, fixes, registry, form)
    values = values[VALUE_COLUMNS]

    previous, previous_year = previous_values(paths, form)
    totals = aggregate.city_totals(values, form.codes)
    submissions = store.read_csv(paths.data / "submissions.csv")
    findings = rules.check_all(values, form, previous, previous_year, totals, submissions)
    waivers = corrections.load_table(paths.year_inputs / "waivers.csv", corrections.WAIVER_COLUMNS)
    findings, waiver_audit = corrections.apply_waivers(findings, waivers, registry)
    audit += waiver_audit
    extra = pd.DataFrame(corrections.audit_findings(audit), columns=rules.FINDING_COLUMNS)
    extra["waived"], extra["waiver_reason"] = False, ""
    issues = pd.concat([findings, extra], ignore_index=True)[ISSUE_COLUMNS] if len(extra) else findings[ISSUE_COLUMNS]

    frames = {"values": values, "issues": issues, "audit": corrections.audit_frame(audit)}
    for name, frame in frames.items():
        store.write_csv(frame, paths.data / f"{name}.csv")
    frames["has_previous"] = previous is not None
    return frames


def open_errors(issues: pd.DataFrame) -> pd.DataFrame:
    """Errors neither corrected (they would be gone) nor waived: these keep the report a draft."""
    return issues[(issues["severity"] == rules.ERROR) & ~store.flag(issues["waived"])]
