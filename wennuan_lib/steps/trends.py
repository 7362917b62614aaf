"""Across years (outputs/trends/): every concept × year, city totals and per unit, and trend charts.

Years are joined by concept, not by item code or wording; a concept that a year's form lacks is
absent (无此项), never zero.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.base.artifacts import Artifacts
from wennuan_lib.form import Form
from wennuan_lib.publish import charts
from wennuan_lib.read import splice
from wennuan_lib.read.parse import to_decimal
from wennuan_lib.run.runner import Made, Params

ABSENT = "无此项"
CITY = "全市合计"
# From this many rows on, trends_long is rendered to its file's bytes by a forked process while this one makes
# the wide table and the charts (3,000 units, two years: 402,000 rows, about 0.9 s of rendering)
APART_ROWS = 50_000


def run(inputs: Mapping, p: Params) -> Made:
    """The trends across every year under inputs/ that has results (a year without results is named in the
    run's record, and `status` says the trends are out of date): trends (wide), trends_long and charts."""
    all_totals, all_values = inputs["years:totals"], inputs["years:values"]
    years = sorted(y for y in all_totals if y in all_values)
    if not years:
        return Made()
    forms = {y: p.form_of(y) for y in years}
    latest = forms[years[-1]]
    concepts = [i.key for i in latest.items]
    for y in reversed(years):
        concepts += [i.key for i in forms[y].items if i.key not in concepts]
    label = {}
    for y in years:
        for i in forms[y].items:
            label[i.key] = (i.label, i.unit)
    for i in latest.items:
        label[i.key] = (i.label, i.unit)
    long = pd.concat(
        [_year_rows(all_totals[y], all_values[y], y, forms[y], concepts) for y in years], ignore_index=True
    )
    ds = catalog.dataset("trends_long")
    long_file = splice.rendered_apart(ds, long) if len(long) >= APART_ROWS else None
    shown = long.assign(cell=long["value"].where(long["status"] != "absent", ABSENT))
    wide = shown.set_index(["scope", "concept", "year"])["cell"].unstack("year").reset_index()
    wide.columns = [str(c) for c in wide.columns]
    scope_order = {CITY: 0, **{u: k + 1 for k, u in enumerate(dict.fromkeys(long["scope"]))}}
    concept_order = {c: k for k, c in enumerate(concepts)}
    wide = (
        wide.assign(_s=wide["scope"].map(scope_order), _c=wide["concept"].map(concept_order))
        .sort_values(["_s", "_c"])
        .drop(columns=["_s", "_c"])
    )
    wide.insert(2, "label", [label[c][0] for c in wide["concept"]])
    wide.insert(3, "measure", [label[c][1] for c in wide["concept"]])
    wide = wide.fillna("")
    pngs = _charts(
        long,
        years,
        latest.policy.trends,
        any(inputs["years:year_config"][y].get("sample") for y in years),
        p.cache("trend_charts"),
    )
    made, to_show = {"trends": wide, "trends_long": long, "trend_charts": pngs}, {}
    if long_file is not None:  # the runner writes the bytes as they are; the notebook is shown the tables
        # the wide table rendered here while the forked process still renders the long one (3,000 units, two
        # years: 201,000 rows, about 0.4 s that the runner would otherwise spend after the step)
        made["trends"] = splice.rendered_here(catalog.dataset("trends"), wide)
        to_show["trends"] = wide
        made["trends_long"], to_show["trends_long"] = long_file(), long
    return Made(made, to_show)


def _year_rows(
    totals: pd.DataFrame, values: pd.DataFrame, year: int, form: Form, concepts: list[str]
) -> pd.DataFrame:
    """One year's part of trends_long: per concept, the city total, then every unit (in the order of the
    values table); a concept the year's form lacks has its city row only, marked absent."""
    totals = totals.drop_duplicates("item").set_index("item")["value"]
    values = values[["unit", "item", "value"]].drop_duplicates(["item", "unit"])
    units = list(dict.fromkeys(values["unit"]))
    codes = [form.code_of(c) for c in concepts]
    city = pd.DataFrame(
        {
            "concept": concepts,
            "year": year,
            "scope": CITY,
            "code": [c or "" for c in codes],
            "value": [totals.get(c, "") if c else "" for c in codes],
        }
    )
    city["status"] = [
        "absent" if not c else ("ok" if v != "" else "missing")
        for c, v in zip(codes, city["value"], strict=True)
    ]
    city["_c"], city["_u"] = range(len(concepts)), -1
    present = [
        (k, concept, code) for k, (concept, code) in enumerate(zip(concepts, codes, strict=True)) if code
    ]
    grid = pd.MultiIndex.from_product([[code for _, _, code in present], units], names=["item", "unit"])
    cells = values.set_index(["item", "unit"])["value"].reindex(grid).fillna("")
    n = len(units)
    per_unit = pd.DataFrame(
        {
            "concept": [concept for _, concept, _ in present for _u in range(n)],
            "year": year,
            "scope": units * len(present),
            "code": grid.get_level_values("item"),
            "value": cells.to_numpy(),
            "_c": [k for k, _, _ in present for _u in range(n)],
            "_u": list(range(n)) * len(present),
        }
    )
    per_unit["status"] = (per_unit["value"] != "").map({True: "ok", False: "missing"})
    both = pd.concat([city, per_unit], ignore_index=True).sort_values(["_c", "_u"], kind="stable")
    return both[catalog.dataset("trends_long").column_names].reset_index(drop=True)


def _charts(
    long: pd.DataFrame, years: list[int], groups_spec, sample: bool, cache: Artifacts | None = None
) -> dict[str, bytes]:
    """The trend charts, by file name. With `cache`, a chart whose figures did not change since it was last
    drawn (a re-run after one unit's form changed moves only the totals of its items) is copied, not drawn."""
    note = "数据来源：各单位报送" + ("（示例数据）" if sample else "")
    city = long[long["scope"] == CITY]

    def series(concept):
        mine = city[city["concept"] == concept].set_index("year")
        return [
            float(to_decimal(mine.loc[y, "value"]) or 0) if mine.loc[y, "status"] == "ok" else None
            for y in years
        ]

    out = {}
    for g in groups_spec:
        members = [(s.item, s.label) for s in g.concepts]
        data = [series(concept) for concept, _ in members]
        labels = [label for _, label in members]
        chart = charts.kept(cache, _trend_group, g.id, g.title, g.measure, labels, years, data, note, None)
        out[f"{chart.name}.png"] = chart.png
    return out


def _trend_group(
    name: str, title: str, unit: str, labels: list[str], years: list[int], data: list[list], note: str, folder
) -> charts.Chart:
    """One group's chart: a line for each of its concepts over the years (a year without the figure left out).
    Its arguments, but the last, are its key in the cache (charts.kept)."""
    charts.setup()
    fig, ax = charts.subplots(figsize=(8, 4))
    for k, (label, ys) in enumerate(zip(labels, data, strict=True)):
        pts = [(y, v) for y, v in zip(years, ys, strict=True) if v is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=charts.COLOURS[k], label=label)
    charts.annotate(ax, years, data)
    ax.set_xticks(years, [f"{y}年" for y in years])
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
    ax.set_xlabel("年度")
    ax.set_ylabel(unit)
    ax.legend(frameon=False, loc="lower right")
    return charts.finish(fig, ax, f"trends_{name}", f"{years[0]}—{years[-1]}年{title}", note, folder)
