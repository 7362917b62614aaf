"""Step 04 (书面总结): the summary form, the detail workbook, charts and the report in three formats, from the
totals step 02 added up.

Writes (see the catalog): draft_reasons (why the report is still a draft; see draft.py), summary_form,
detail_workbook, charts, report_html, report_pdf and report_docx — every one of them marked 草稿 while there
is a reason. The detail workbook and the PDF are made on another core while the rest goes on; every product is
kept by the hash of what it was made from, so an unchanged one is not made again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import pandas as pd

from wennuan_lib.base.parallel import bytes_in_background
from wennuan_lib.check.rules import TOTALS
from wennuan_lib.form import Form
from wennuan_lib.publish import appendix, charts, detail_workbook, draft, narrative, render, template
from wennuan_lib.read.parse import to_decimal
from wennuan_lib.run.runner import Made, Params


def report_date(cfg: dict) -> dt.date:
    return dt.date.fromisoformat(str(cfg["report_date"])) if cfg.get("report_date") else dt.date.today()


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


ASK = re.compile(r"，请[^（，。]*(?=（|$)")


def city_notes(issues: pd.DataFrame, totals: pd.DataFrame | None = None) -> list[str]:
    """The 汇总统计表's notes: which totals leave out units that reported (who did not fill the item) and
    which hold many approximate entries (约, 以上) — what the report's prose says beside each figure and the
    form's cells cannot — then the form's own checks the city totals fail (parts and whole differ because
    some units filled only one of them)."""
    notes: list[tuple[str, list[str]]] = []  # (a note, the lines under it)
    items = [] if totals is None else totals[totals["kind"] == "item"].to_dict("records")
    left = [r for r in items if r.get("basis") and to_decimal(r["value"]) is not None]
    if left:
        under = [f"{r['item']} {r['label']}：{r['units_reported']}个单位合计，{r['basis']}" for r in left]
        notes.append(("合计只含填了该项的单位，以下各项有单位未填或所填未计入：", under))
    marked = [f"{r['item']}（{r['approx']}）" for r in items if r.get("approx")]
    if marked:
        notes.append((f"以下合计含较多约数（表中为约数相加）：{'、'.join(marked)}", []))
    mine = issues[issues["unit"] == TOTALS] if len(issues) else issues
    said = (
        ASK.sub("", m) for m in mine["message"]
    )  # a note explains; the analyst's to-do stays in the findings
    notes += [(f"全市合计 {m}", []) for m in dict.fromkeys(said)]
    return [
        line
        for k, (note, under) in enumerate(notes, 1)
        for line in (f"注{k}：{note}", *(f"    {u}" for u in under))
    ]


def summary_form(
    form: Form,
    totals: pd.DataFrame,
    cfg: dict,
    when: dt.date,
    draft: bool = False,
    notes: list[str] | None = None,
) -> bytes:
    """The city's totals in the project's own template: a valid submission of its own (marked 草稿 while the
    report is a draft), with `notes` under the form (the checks its totals fail, and why)."""
    items = totals[totals["kind"] == "item"]
    values = {}
    for row in items.to_dict("records"):
        d = to_decimal(row["value"])
        if d is not None:
            values[row["item"]] = float(d) if form.item(row["item"]).is_money else int(d)
    header = {
        "unit": cfg.get("city_unit", ""),
        "date": when,
        "person": cfg.get("reporter", ""),
        "phone": cfg.get("phone", ""),
    }
    wb = template.build(
        form, values=values, header=header, sample=bool(cfg.get("sample")), draft=draft, notes=notes
    )
    return template.workbook_bytes(wb)


def tips(
    totals: pd.DataFrame, figures: narrative.Figures, found: list[draft.Suspect], form: Form
) -> dict[str, str]:
    """The HTML hover of every figure: what it adds up or how it is defined; and a warning where a suspected
    slip feeds it."""
    rows = {r["item"]: r for r in totals.to_dict("records")}
    out = {}
    for row in rows.values():
        key = row["item"]
        out[key] = figures.tip(key)
        notes = [
            s.note()
            for s in found
            if any(item == s.item and who in ("", s.unit) for item, who in draft.fed_items(key, rows, form))
        ]
        if notes:
            out[key] += "\n" + "\n".join(notes)
        out.update(basis_tips(row))
    return out


def basis_tips(row: dict) -> dict[str, str]:
    """The hovers of a figure's basis: its 同比 (on the comparable units), how many units it covers and how
    many both years share."""
    key, m, out = row["item"], row["measure"], {}
    if row.get("change_pct") and row.get("units_comparable"):
        now, then = (
            narrative.number_text(to_decimal(row[c]), m) for c in ("value_comparable", "previous_comparable")
        )
        out[f"{key}#change"] = (
            f"与上年相比（可比口径：两年均填报的{row['units_comparable']}个单位）：上年{then}，本年{now}"
            "（（本年－上年）÷上年×100%）"
        )
    if row.get("basis"):
        out[f"{key}#units"] = f"计入{row['units_reported']}个单位：{row['basis']}"
    if row.get("units_comparable"):
        out[f"{key}#comparable"] = (
            f"本年{row['units_reported']}个单位填报、上年{row['units_previous']}个，两年均填报的"
            f"{row['units_comparable']}个单位计入同比；"
            f"上年全市合计{narrative.number_text(to_decimal(row['previous']), m)}"
        )
    return out


def history(earlier: dict[int, pd.DataFrame]) -> dict[int, dict]:
    """City totals of the earlier years present (`earlier`: their totals, keyed by this year's codes; absent
    concepts left out)."""
    return {
        year: {r["item"]: to_decimal(r["value"]) for r in frame.to_dict("records") if r["kind"] == "item"}
        for year, frame in earlier.items()
    }


def coverage(frames: dict[int, pd.DataFrame]) -> dict[int, dict[str, str]]:
    """{year: {code: "29个单位合计（…未填）"}} of each year's item totals that leave units out."""
    out: dict[int, dict[str, str]] = {}
    for year, frame in frames.items():
        if "basis" not in frame.columns:
            continue
        shown = (frame["basis"].fillna("") != "") & (frame["value"].fillna("") != "")
        items = frame[(frame["kind"] == "item") & shown]
        out[year] = {
            r["item"]: f"{r['units_reported']}个单位合计（{r['basis']}）" for r in items.to_dict("records")
        }
    return out


def last_years_suspects(inputs: Mapping, p: Params) -> list[draft.Suspect]:
    """Suspected slips still open in last year's totals (keyed by this year's codes, worded in last year's):
    its 同比 is not stated."""
    year = p.year - 1
    issues, values = inputs["previous:issues"], inputs["previous:values"]
    if issues is None or values is None:
        return []
    then = p.form_of(year)
    return draft.carried(draft.suspects(issues, values, then, year), then, p.form)


def no_yoy(totals: pd.DataFrame, before: list[draft.Suspect], form: Form) -> dict[str, str]:
    """The figures whose change on last year is not stated, and why."""
    rows = {r["item"]: r for r in totals.to_dict("records")}
    out: dict[str, str] = {}
    for key in rows:
        why = [
            draft.previous_note(s)
            for s in before
            if any(item == s.item for item, _ in draft.fed_items(key, rows, form))
        ]
        if why:
            out[key] = "；".join(why)
    return out


def run(inputs: Mapping, p: Params) -> Made:
    cfg, form, registry, year = p.cfg, p.form, p.registry, p.year
    issues, summaries, status, totals = (
        inputs[n] for n in ("issues", "summaries", "reporting_status", "totals")
    )
    values = inputs["values"]  # the columns catalog.yaml names
    earlier = {y: p.translated(frame, y) for y, frame in inputs["years:totals"].items()}
    has_previous = year - 1 in earlier
    when = report_date(cfg)
    sample = bool(cfg.get("sample"))

    before = last_years_suspects(inputs, p)
    found = draft.suspects(issues, values, form, year)
    last_values = p.translated(inputs["previous:values"], year - 1)
    # no 同比 over a suspected slip: last year's total, or this year's comparable basis, holding one
    counted = None if last_values is None else draft.counted_figures(values, last_values)  # both years, once
    unstated = no_yoy(totals, before, form)
    for code, why in draft.changes_in_doubt(found, totals, form, counted).items():
        unstated[code] = "；".join(filter(None, (unstated.get(code), why)))
    text = narrative.build(
        form, totals, cfg, inputs["narrative"], summaries, registry, cn_date(when), unstated
    )
    marked = draft.mark_stated(found, text, totals, form)
    reasons = draft.reasons(issues, text, found, before, form, year)
    last_issues = p.translated(inputs["previous:issues"], year - 1)  # for the robustness of 同比
    reasons = draft.added(
        reasons, draft.unsteady(text, totals, form, year, values, last_values, issues, last_issues, counted)
    )
    reasons = draft.added(  # the analyst's own numbers and 同比
        reasons, draft.analyst_figures(text, totals, values, year) + draft.analyst_changes(text, totals, year)
    )
    is_draft = len(reasons) > 0

    # the charts first: the PDF waits for them. While step 03's review workbook is still being written on
    # the other core, they are drawn here (parallel.here_and_apart) while it ends, before the PDF's fork
    # below, which waits for it (parallel._wait_for_set_aside), rather than after waiting
    made = charts.make_all(
        totals,
        values,
        history(earlier),
        year,
        sample,
        None,
        form.policy.charts,
        p.cache("charts"),
        draft=is_draft,
        coverage=coverage({**earlier, year: totals}),
    )
    report = render.Report(
        text,
        made,
        appendix.tables(form, totals, values, status, has_previous, unstated),
        tips(totals, narrative.Figures(totals, form, unstated), found, form),
        draft.listed(reasons),
        sample,
        marked,
    )
    # the PDF starts as soon as the charts are drawn (the longest branch of the step), on another core; the
    # screen HTML, the summary form, the Word and the detail workbook are made here meanwhile
    formats = p.cache("report_formats")
    content = formats.key(render.to_html(report, for_print=True), *(c.png for c in made.values()))
    out: dict = {
        "draft_reasons": reasons,
        "charts": {f"{c.name}.png": c.png for c in made.values()},
        "report_pdf": bytes_in_background(
            lambda: formats.make(content + ".pdf", lambda: render.pdf_bytes(report))
        ),
    }
    out["report_html"] = render.to_html(report).encode("utf-8")
    out["summary_form"] = summary_form(form, totals, cfg, when, is_draft, city_notes(issues, totals))
    out["report_docx"] = formats.make(content + ".docx", lambda: render.docx_bytes(report))
    # made here too, while the PDF is laid out: with it in a process of its own beside the PDF's, the run
    # held four processes at once (3,000 units, one file changed: 828 MiB of PSS at the peak against 730)
    detail = p.cache("detail_workbook")
    key = detail.key(
        repr(sorted(cfg.items())),
        form.version,
        str(is_draft),
        *(pd.util.hash_pandas_object(f, index=False).to_numpy().tobytes() for f in (values, totals)),
    )
    out["detail_workbook"] = detail.make(
        key, lambda: detail_workbook.detail_workbook(form, values, totals, cfg, draft=is_draft)
    )
    return Made(out, {"totals": totals, "report": report, "draft": report.draft})
