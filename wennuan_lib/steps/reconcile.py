"""Step 03 (对账与反馈): who reported what and when, findings per unit and per rule, feedback workbooks.

Writes (see the catalog):

* reporting_status  every expected unit (and any unknown one): 统计表 reported / unreadable / missing (with
  the files that could not be read and why, to ask for another format), 书面总结材料 reported / missing, on
  time, late or without a date: codes, shown in Chinese through vocab.LABELS
* findings_by_unit, findings_by_rule  summaries of the open findings
* feedback          one workbook per unit with open findings (feedback/<unit>.xlsx), corrections due by
  year.yaml's feedback_deadline or, when it gives none, 3 working days after the run's date (`p.run_date`)
* review_workbook   the run's data for people: values, findings, reporting status and audit in one workbook
  with Chinese headers (see review_workbook)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.base.parallel import bytes_in_background
from wennuan_lib.check.aggregate import form_state
from wennuan_lib.check.rules import is_open
from wennuan_lib.publish import feedback, review_workbook
from wennuan_lib.read.units import Registry
from wennuan_lib.run.runner import Made, Params
from wennuan_lib.vocab import LATE, NO_DATE, NOT_REPORTED, ON_TIME, READ, REPORTED, SUPERSEDED, UNREADABLE


def _days_late(date: str, deadline: str) -> int | None:
    if not date or not deadline:
        return None
    return (dt.date.fromisoformat(date) - dt.date.fromisoformat(str(deadline))).days


def reporting_status(
    registry: Registry,
    submissions: pd.DataFrame,
    summaries: pd.DataFrame,
    issues: pd.DataFrame,
    deadline: str,
    log: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`log` (ingest_log): files that could not be read, by the unit they were attributed to."""
    in_force = submissions[submissions["status"] == "read"]
    rejected = log[(log["status"] == "rejected") & (log["unit"] != "")] if log is not None else log
    problems: dict[str, list[str]] = {}
    for r in [] if rejected is None else rejected.to_dict("records"):
        problems.setdefault(r["unit"], []).append(f"「{r['file']}」{r['reason']}")
    units = registry.names + sorted(
        (set(in_force["unit"]) | set(summaries["unit"]) | set(problems)) - set(registry.names)
    )
    forms: dict[str, list[dict]] = {}
    for r in in_force.to_dict("records"):
        forms.setdefault(r["unit"], []).append(r)
    # on time or late by the unit's first form: a revised one sent after the deadline (asked for in its
    # feedback, say) does not make a unit that reported in time late
    first: dict[str, str] = {}
    versions = submissions[submissions["status"].isin([READ, SUPERSEDED])]
    for unit, date in zip(versions["unit"], versions["date"].fillna(""), strict=True):
        if date and (unit not in first or date < first[unit]):
            first[unit] = date
    papers: dict[str, list[str]] = {}
    for unit, file in zip(summaries["unit"], summaries["file"], strict=True):
        papers.setdefault(unit, []).append(file)
    waived = ~is_open(issues)
    errors = issues[~waived & (issues["severity"] == "error")]["unit"].value_counts().to_dict()
    warnings = issues[~waived & (issues["severity"] == "warning")]["unit"].value_counts().to_dict()
    waivers = issues[waived]["unit"].value_counts().to_dict()
    rows = []
    for unit in units:
        form = forms.get(unit, [])
        summary = papers.get(unit, [])
        date = first.get(unit, "") if form else ""
        days = _days_late(date, deadline)
        late = "" if not form else (NO_DATE if days is None else (LATE if days > 0 else ON_TIME))
        rows.append(
            {
                "unit": unit,
                "unit_type": registry.types.get(unit, ""),
                "registered": unit in registry.types,
                "form": form_state(unit, set(forms), set(problems)),
                "form_file": "、".join(r["file"] for r in form),
                "form_date": date,
                "late": late,
                "days_late": days if days and days > 0 else "",
                "summary": REPORTED if summary else NOT_REPORTED,
                "summary_files": "、".join(summary),
                "errors": int(errors.get(unit, 0)),
                "warnings": int(warnings.get(unit, 0)),
                "waived": int(waivers.get(unit, 0)),
                "form_problem": "；".join(problems.get(unit, [])),
            }
        )
    return pd.DataFrame(rows, columns=catalog.dataset("reporting_status").column_names)


def by_unit(issues: pd.DataFrame) -> pd.DataFrame:
    open_ = issues[is_open(issues)]
    table = pd.crosstab(open_["unit"], open_["severity"]).reindex(columns=["error", "warning"], fill_value=0)
    order = list(dict.fromkeys(issues["unit"]))
    table = table.reindex([u for u in order if u in table.index]).reset_index()
    table.columns = ["unit", "errors", "warnings"]
    return table


def by_rule(issues: pd.DataFrame) -> pd.DataFrame:
    open_ = issues[is_open(issues)]
    rows = []
    for (rule, check_type, severity), group in open_.groupby(["rule", "check_type", "severity"], sort=True):
        rows.append(
            {
                "rule": rule,
                "check_type": check_type,
                "severity": severity,
                "findings": len(group),
                "units": group["unit"].nunique(),
                "example": group["message"].iloc[0],
            }
        )
    return pd.DataFrame(rows, columns=["rule", "check_type", "severity", "findings", "units", "example"])


def unreadable(log: pd.DataFrame, status: pd.DataFrame) -> dict[str, list[tuple[str, str]]]:
    """The units whose form could not be read (unreadable, 已报但无法读取): their files and why, for their
    feedback."""
    lost = set(status.loc[status["form"] == UNREADABLE, "unit"])
    out: dict[str, list[tuple[str, str]]] = {}
    for r in log[(log["status"] == "rejected") & log["unit"].isin(lost)].to_dict("records"):
        out.setdefault(r["unit"], []).append((r["file"], r["reason"]))
    return out


def run(inputs: Mapping, p: Params) -> Made:
    submissions, summaries, issues, values, log = (
        inputs[n] for n in ("submissions", "summaries", "issues", "values", "ingest_log")
    )
    frames = {
        "reporting_status": reporting_status(
            p.registry, submissions, summaries, issues, p.cfg.get("deadline", ""), log
        ),
        "findings_by_unit": by_unit(issues),
        "findings_by_rule": by_rule(issues),
    }
    # made on another core while the feedback workbooks are made (the runner waits for it when it saves)
    frames["review_workbook"] = bytes_in_background(
        functools.partial(
            review_workbook.build,
            values,
            issues,
            frames["reporting_status"],
            inputs["audit"],
            p.form,
            inputs["summary_checks"],
        )
    )
    # year.yaml's deadline, or from the run's date (the path names year.yaml in a message)
    due = feedback.deadline(p.cfg, p.run_date, p.paths["year_config"])
    frames["feedback"] = feedback.build_all(
        issues,
        values,
        p.form,
        {**p.cfg, "feedback_deadline": due.isoformat()},
        p.cache("feedback"),
        unreadable(log, frames["reporting_status"]),
    )
    return Made(frames)
