"""Step 04 (书面总结): the summary form, the detail workbook, charts and the report in three formats, from the
totals step 02 added up.

Writes (see the catalog): summary_form, detail_workbook, charts,
report_html, report_pdf, report_docx and draft_reasons (why the report is still a draft). The detail workbook and
the PDF are made on another core while the rest goes on; every product is kept by the hash of what it was made
from, so an unchanged one is not made again.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import appendix, catalog, charts, detail_workbook, narrative, pipeline, render, store, template
from .form import Form
from .parallel import in_background
from .parse import to_decimal
from .rules import open_errors
from .steps import StepContext

VALUE_COLUMNS = ["unit", "unit_type", "registered", "item", "value"]  # what the report reads of the values


def report_date(cfg: dict) -> dt.date:
    return dt.date.fromisoformat(str(cfg["report_date"])) if cfg.get("report_date") else dt.date.today()


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def summary_form(form: Form, totals: pd.DataFrame, cfg: dict, when: dt.date, path) -> None:
    """The city's totals in the project's own template: a valid submission of its own."""
    items = totals[totals["kind"] == "item"]
    values = {}
    for row in items.to_dict("records"):
        d = to_decimal(row["value"])
        if d is not None:
            values[row["item"]] = float(d) if form.item(row["item"]).is_money else int(d)
    header = {"unit": cfg.get("city_unit", ""), "date": when, "person": cfg.get("reporter", ""),
              "phone": cfg.get("phone", "")}
    template.write(form, path, values=values, header=header, sample=bool(cfg.get("sample")))


def tips(totals: pd.DataFrame, figures: narrative.Figures) -> dict[str, str]:
    out = {}
    for row in totals.to_dict("records"):
        out[row["item"]] = figures.tip(row["item"])
        if row.get("change_pct"):
            out[f"{row['item']}#change"] = f"与上年相比：上年{row['previous']}{row['measure']}，本年{row['value']}{row['measure']}"
    return out


def draft_reasons(issues: pd.DataFrame, problems: list[str]) -> pd.DataFrame:
    """Why the report is still a draft, one row each; no rows when it is final."""
    rows = [{"kind": "必须修改", "unit": r["unit"], "item": r["item"], "message": r["message"]}
            for r in open_errors(issues).to_dict("records")]
    rows += [{"kind": "书面总结", "unit": "", "item": "", "message": p} for p in problems]
    return pd.DataFrame(rows, columns=catalog.dataset("draft_reasons").column_names)


def history(ctx: StepContext) -> dict[int, dict]:
    """City totals of the earlier years present, keyed by this year's codes (absent concepts left out)."""
    return {year: {r["item"]: to_decimal(r["value"]) for r in frame.to_dict("records") if r["kind"] == "item"}
            for year, frame in ctx.earlier_years("totals").items()}


def run(ctx: StepContext) -> dict:
    cfg, form, registry = ctx.cfg, ctx.form, ctx.registry
    issues, summaries, status, totals = (ctx.load(n) for n in ("issues", "summaries", "reporting_status", "totals"))
    values = ctx.load("values", VALUE_COLUMNS)
    has_previous = ctx.previous("totals") is not None
    when = report_date(cfg)
    sample = bool(cfg.get("sample"))
    summary_form(form, totals, cfg, when, ctx.path("summary_form"))
    detail = ctx.cache("detail_workbook", "report.py", "template.py", "detail_workbook.py")
    key = detail.key(repr(sorted(cfg.items())), form.version, *(pd.util.hash_pandas_object(f, index=False).to_numpy()
                                                                   .tobytes() for f in (values, totals)))
    detail_done = in_background(lambda: store.atomic_write_bytes(ctx.path("detail_workbook"), detail.make(
        key, lambda: detail_workbook.detail_workbook(form, values, totals, cfg))))

    text = narrative.build(form, totals, cfg, ctx.raw("narrative"), summaries, registry, cn_date(when))
    made = charts.make_all(totals, values, history(ctx), ctx.year, sample, ctx.path("charts"), form.policy.charts,
                           ctx.cache("charts", "charts.py"))
    reasons = draft_reasons(issues, text.problems)
    report = render.Report(text, made, appendix.tables(form, totals, values, status, has_previous),
                           tips(totals, narrative.Figures(totals, form)),
                           [f"{r['unit']}：{r['message']}" if r["unit"] else r["message"]
                            for r in reasons.to_dict("records")], sample)
    ctx.save("draft_reasons", reasons)
    store.atomic_write_bytes(ctx.path("report_html"), render.to_html(report).encode("utf-8"))
    formats = ctx.cache("report_formats", "render.py", "templates/report.html.j2")
    content = formats.key(render.to_html(report, for_print=True), *(c.path.read_bytes() for c in made.values()))
    pdf_done = in_background(lambda: store.atomic_write_bytes(ctx.path("report_pdf"), formats.make(
        content + ".pdf", lambda: render.pdf_bytes(report))))
    store.atomic_write_bytes(ctx.path("report_docx"), formats.make(content + ".docx", lambda: render.docx_bytes(report)))
    pipeline.stop_point("in:04_report")
    detail_done()
    pdf_done()
    return {"totals": totals, "report": report, "folder": ctx.path("report_pdf").parent, "draft": report.draft}
