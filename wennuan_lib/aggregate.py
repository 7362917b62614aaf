"""City totals from the values in force."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from .parse import to_decimal


def in_totals(values: pd.DataFrame) -> pd.Series:
    """Which rows count towards the city totals: units in the registry (an unregistered unit is
    counted once the analyst adds it to inputs/units.csv)."""
    return values["registered"].astype(str) == "True"


def city_totals(values: pd.DataFrame, codes: list[str]) -> dict[str, Decimal | None]:
    """{code: sum over the registered units that filled it in}; None where no unit did."""
    counted = values[in_totals(values)]
    totals: dict[str, Decimal | None] = {}
    for code in codes:
        vals = [d for d in (to_decimal(v) for v in counted.loc[counted["item"] == code, "value"]) if d is not None]
        totals[code] = sum(vals, Decimal(0)) if vals else None
    return totals
