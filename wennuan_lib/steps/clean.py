"""Step 02 (审核): corrections applied, every rule checked, waivers applied, the city totals added up.

Reads the 01_extracted layer and the analyst's corrections.csv and waivers.csv; writes (see the catalog):

* values  the values in force after corrections (02_values), the original beside each
* audit   every correction and waiver applied, and every one that matched nothing
* issues  one row per finding: unit, item, rule, severity, Chinese message quoting the figures (03_findings)
* summary_checks  each figure a unit's 书面总结 states against its form (03_findings); a disagreement is a
  finding
* totals  the city totals, subtotals, derived figures and leading units (04_totals): every figure the report
  states
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.check import aggregate, corrections, per_unit, rules
from wennuan_lib.run.runner import Made, Params


def run(inputs: Mapping, p: Params) -> Made:
    form, registry = p.form, p.registry
    extracted = inputs["extracted"]
    read = extracted[extracted["in_force"]].drop(columns=["in_force"])

    values, audit = corrections.apply_corrections(read, inputs["corrections"], registry, form)
    values = values[catalog.dataset("values").column_names]

    previous = p.translated(inputs["previous:values"], p.year - 1)
    submissions = inputs["submissions"]
    summaries = inputs["summaries"]
    units = rules.unit_dicts(values)  # every unit's figures, for the totals and the cross-unit checks
    totals = aggregate.build_totals(
        values,
        form,
        registry.names,
        set(summaries["unit"]),
        p.translated(inputs["previous:totals"], p.year - 1),
        previous,
        aggregate.unreadable_units(inputs["ingest_log"]),
        units,
    )
    city = aggregate.printed(totals, form.codes)  # the form's checks on the city totals as printed
    # each unit's own checks and values lines: a unit whose rows are as in a run before is taken from it
    mine = per_unit.run(
        values, submissions, extracted, summaries, previous, form, p.year, p.cache(per_unit.NAMESPACE)
    )
    p.progress(
        f"审核 {len(units)} 个单位：{len(units) - len(mine.checked)} 个与以前审核过的相同"
        f"（沿用当时的审核结果），{len(mine.checked)} 个重新审核；单位之间的比较和全市合计全部重算"
    )
    findings = mine.findings + rules.check_across(values, form, city, units) + mine.said
    findings = rules.in_order(pd.DataFrame(findings, columns=rules.FINDING_COLUMNS), values, form)
    findings, waiver_audit = corrections.apply_waivers(
        findings, inputs["waivers"], registry, form.policy.slip_rules
    )
    audit += waiver_audit
    extra = pd.DataFrame(corrections.audit_findings(audit), columns=rules.FINDING_COLUMNS)
    extra["waived"], extra["waiver_reason"] = False, ""
    columns = catalog.dataset("issues").column_names
    issues = pd.concat([findings, extra], ignore_index=True)[columns] if len(extra) else findings[columns]
    summary_checks = pd.DataFrame(mine.summary_rows, columns=catalog.dataset("summary_checks").column_names)
    frames = {
        "values": mine.values,
        "issues": issues,
        "audit": corrections.audit_frame(audit),
        "totals": totals,
        "summary_checks": summary_checks,
    }
    shown = {"has_previous": previous is not None, "values": values, "checked": mine.checked}
    return Made(frames, shown)
