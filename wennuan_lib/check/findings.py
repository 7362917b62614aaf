"""Findings as people read them: what to do about each (the city total's explained as consequences) and the
order that puts the most serious first — one order for the notebooks and the review workbook."""

from __future__ import annotations

import pandas as pd

from wennuan_lib.check.rules import CHECK_TYPES, TOTALS, is_open

TOTALS_ACTION = (
    f"{TOTALS}是各单位数字之和，这条意见由各单位的数字推出：改正有关单位的数字后自动消失，"
    "不需要、也不能重新报送；核实后确实无法改正的，可在 waivers.csv 中豁免"
)


def _state(issues: pd.DataFrame) -> pd.Series:
    """error / warning for open findings, waived for the others."""
    return issues["severity"].where(is_open(issues), "waived")


def actions(issues: pd.DataFrame) -> pd.Series:
    """What to do about each finding; the city total's are explained as consequences, never to be
    resubmitted."""
    return issues["action"].where(issues["unit"] != TOTALS, TOTALS_ACTION)


def sort_findings(issues: pd.DataFrame, unit_order: list[str] | None = None) -> pd.DataFrame:
    """Most serious first: open must-fix, open to check, waived; then by kind of check, unit and rule."""
    state = _state(issues).map({"error": 0, "warning": 1, "waived": 2})
    kinds = {label: k for k, label in enumerate(CHECK_TYPES.values())}
    units = {u: k for k, u in enumerate(unit_order or dict.fromkeys(issues["unit"]))}
    key = pd.DataFrame(
        {
            "s": state,
            "t": issues["check_type"].map(kinds).fillna(9),
            "u": issues["unit"].map(units).fillna(len(units)),
            "r": issues["rule"],
            "n": range(len(issues)),
        },
        index=issues.index,
    )
    return issues.loc[key.sort_values(["s", "t", "u", "r", "n"]).index]
