"""Step 04 (书面总结): the summary form, the detail workbook, charts and the report in three formats, from the
totals step 02 added up.

Writes (see the catalog): draft_reasons (why the report is still a draft; see draft.py), summary_form,
detail_workbook, charts, report_html, report_pdf and report_docx — every one of them marked 草稿 while there
is a reason. The detail workbook and the PDF are made on another core while the rest goes on; every product is
kept by the hash of what it was made from, so an unchanged one is not made again.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import appendix, charts, detail_workbook, draft, narrative, pipeline, render, store, template
from .form import Form
from .parallel import in_background
from .parse import to_decimal
from .steps import StepContext

VALUE_COLUMNS = ["unit", "unit_type", "registered", "item", "value"]  # what the report reads of the values


def report_date(cfg: dict) -> dt.date:
    return dt.date.fromisoformat(str(cfg["report_date"])) if cfg.get("report_date") else dt.date.today()


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def summary_form(
    form: Form, totals: pd.DataFrame, cfg: dict, when: dt.date, path, draft: bool = False
) -> None:
    """The city's totals in the project's own template: a valid submission of its own (marked 草稿 while the
    report is a draft)."""
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
    template.write(form, path, values=values, header=header, sample=bool(cfg.get("sample")), draft=draft)


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
        if row.get("change_pct"):
            before = narrative.number_text(to_decimal(row["previous"]), row["measure"])
            out[f"{key}#change"] = (
                f"与上年相比：上年{before}，本年{figures.full(key)}（（本年 − 上年）÷ 上年 × 100%）"
            )
    return out


def history(ctx: StepContext) -> dict[int, dict]:
    """City totals of the earlier years present, keyed by this year's codes (absent concepts left out)."""
    return {
        year: {r["item"]: to_decimal(r["value"]) for r in frame.to_dict("records") if r["kind"] == "item"}
        for year, frame in ctx.earlier_years("totals").items()
    }


def last_years_suspects(ctx: StepContext) -> list[draft.Suspect]:
    """Suspected slips still open in last year's totals (keyed by this year's codes, worded in last year's):
    its 同比 is not stated."""
    year = ctx.year - 1
    issues, values = ctx.other_year(year, "issues"), ctx.other_year(year, "values")
    if issues is None or values is None:
        return []
    then = ctx.form_of(year)
    return draft.carried(draft.suspects(issues, values, then, year), then, ctx.form)


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


def run(ctx: StepContext) -> dict:
    cfg, form, registry = ctx.cfg, ctx.form, ctx.registry
    issues, summaries, status, totals = (
        ctx.load(n) for n in ("issues", "summaries", "reporting_status", "totals")
    )
    values = ctx.load("values", VALUE_COLUMNS)
    has_previous = ctx.previous("totals") is not None
    when = report_date(cfg)
    sample = bool(cfg.get("sample"))

    before = last_years_suspects(ctx)
    unstated = no_yoy(totals, before, form)
    text = narrative.build(
        form, totals, cfg, ctx.raw("narrative"), summaries, registry, cn_date(when), unstated
    )
    found = draft.suspects(issues, values, form, ctx.year)
    marked = draft.mark_stated(found, text, totals, form)
    reasons = draft.reasons(issues, text, found, before, form, ctx.year)
    is_draft = len(reasons) > 0
    ctx.save("draft_reasons", reasons)

    summary_form(form, totals, cfg, when, ctx.path("summary_form"), is_draft)
    detail = ctx.cache("detail_workbook")
    key = detail.key(
        repr(sorted(cfg.items())),
        form.version,
        str(is_draft),
        *(pd.util.hash_pandas_object(f, index=False).to_numpy().tobytes() for f in (values, totals)),
    )
    detail_done = in_background(
        lambda: store.atomic_write_bytes(
            ctx.path("detail_workbook"),
            detail.make(
                key, lambda: detail_workbook.detail_workbook(form, values, totals, cfg, draft=is_draft)
            ),
        )
    )

    made = charts.make_all(
        totals,
        values,
        history(ctx),
        ctx.year,
        sample,
        ctx.path("charts"),
        form.policy.charts,
        ctx.cache("charts"),
        draft=is_draft,
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
    store.atomic_write_bytes(ctx.path("report_html"), render.to_html(report).encode("utf-8"))
    formats = ctx.cache("report_formats")
    content = formats.key(
        render.to_html(report, for_print=True), *(c.path.read_bytes() for c in made.values())
    )
    pdf_done = in_background(
        lambda: store.atomic_write_bytes(
            ctx.path("report_pdf"), formats.make(content + ".pdf", lambda: render.pdf_bytes(report))
        )
    )
    store.atomic_write_bytes(
        ctx.path("report_docx"), formats.make(content + ".docx", lambda: render.docx_bytes(report))
    )
    pipeline.stop_point("in:04_report")
    detail_done()
    pdf_done()
    return {
        "totals": totals,
        "report": report,
        "folder": ctx.path("report_pdf").parent,
        "draft": report.draft,
    }
