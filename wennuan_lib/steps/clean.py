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
from wennuan_lib.check import aggregate, corrections, rules, summary_check
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
    totals = aggregate.build_totals(
        values,
        form,
        registry.names,
        set(summaries["unit"]),
        p.translated(inputs["previous:totals"], p.year - 1),
        previous,
        aggregate.unreadable_units(inputs["ingest_log"]),
    )
    city = aggregate.printed(totals, form.codes)  # the form's checks on the city totals as printed
    summary_checks, said = summary_check.check(summaries, values, form)
    names = list(dict.fromkeys(values["unit"]))

    def versions_of(some: list[str]) -> list[dict]:
        if len(some) == len(names):
            return rules.check_versions(submissions, extracted, form)
        files = set(submissions.loc[submissions["unit"].isin(some), "file"])
        return rules.check_versions(
            submissions[submissions["file"].isin(files)], extracted[extracted["file"].isin(files)], form
        )

    # one unit's versions never stop the others' checks
    versions = rules.Guard(values).run("统计表版本比较", names, versions_of)
    said += versions
    findings = rules.check_all(values, form, previous, p.year - 1, city, submissions, more=said)
    findings, waiver_audit = corrections.apply_waivers(findings, inputs["waivers"], registry)
    audit += waiver_audit
    extra = pd.DataFrame(corrections.audit_findings(audit), columns=rules.FINDING_COLUMNS)
    extra["waived"], extra["waiver_reason"] = False, ""
    columns = catalog.dataset("issues").column_names
    issues = pd.concat([findings, extra], ignore_index=True)[columns] if len(extra) else findings[columns]
    frames = {
        "values": values,
        "issues": issues,
        "audit": corrections.audit_frame(audit),
        "totals": totals,
        "summary_checks": summary_checks,
    }
    return Made(frames, {"has_previous": previous is not None})
