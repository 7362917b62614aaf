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
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import aggregate, catalog, charts, narrative, pipeline, render, store, template
from .form import Form
from .parallel import in_background
from .parse import to_decimal
from .rules import open_errors
from .steps import StepContext
from .units import UNIT_TYPES

VALUE_COLUMNS = ["unit", "unit_type", "registered", "item", "value"]  # what the report reads of the values
MAX_TABLE_UNITS = 100  # units listed in the report's appendix; all of them are in 分单位明细表


def report_date(cfg: dict) -> dt.date:
    return dt.date.fromisoformat(str(cfg["report_date"])) if cfg.get("report_date") else dt.date.today()


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def number(value: str, measure: str) -> str:
    """A table cell: the figure in official style, without its measure."""
    d = to_decimal(value)
    return "" if d is None else narrative.official_number(d, measure)


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


def unit_table(values: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Units as rows (in the order of the values table), item codes as columns, the values as written there
    ("" where none). attrs: "types" unit → unit type, "registered" the registered units."""
    first = values.drop_duplicates("unit")
    wide = values.pivot(index="unit", columns="item", values="value").reindex(index=first["unit"], columns=codes)
    wide = wide.fillna("")
    wide.attrs = {"types": dict(zip(first["unit"], first["unit_type"], strict=True)),
                  "registered": set(first.loc[aggregate.in_totals(first), "unit"])}
    return wide


def detail_workbook(form: Form, values: pd.DataFrame, totals: pd.DataFrame, cfg: dict) -> bytes:
    """分单位明细表: units as rows, items as columns, subtotals by unit type and the city total.
    Written row by row (openpyxl's write-only mode): a province has thousands of units."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("分单位明细")
    bold, head = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")

    def cell(value, **style):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text is text, never a live formula (a unit's name may start with '=')
        for key, v in style.items():
            setattr(c, key, v)
        return c

    ws.column_dimensions["A"].width = 28
    for k in range(3, len(form.items) + 3):
        ws.column_dimensions[get_column_letter(k)].width = 14
    ws.freeze_panes = "C4"
    mark = "（示例数据）" if cfg.get("sample") else ""
    ws.append([cell(f"{cfg['year']}年送温暖活动统计表分单位明细{mark}", font=Font(bold=True, size=14))])
    ws.append([])
    ws.row_dimensions[3].height = 75
    ws.append([cell("单位", font=bold, fill=head), cell("类型", font=bold, fill=head),
               *(cell(f"{i.code}\n{i.label}（{i.unit}）", font=bold, fill=head,
                      alignment=Alignment(wrap_text=True, vertical="top")) for i in form.items)])
    wide = unit_table(values, [i.code for i in form.items])
    numbers = pd.to_numeric(values["value"], errors="coerce")
    numbers = (values.assign(value=numbers).pivot(index="unit", columns="item", values="value")
               .reindex(index=wide.index, columns=wide.columns))
    kinds = [item.is_money for item in form.items]
    for unit, row in zip(wide.index, numbers.to_numpy().tolist(), strict=True):
        registered = unit in wide.attrs["registered"]
        ws.append([cell(unit + ("" if registered else "（不在名录，未计入合计）")), cell(wide.attrs["types"][unit]),
                   *(None if v != v else (v if money else int(v)) for v, money in zip(row, kinds, strict=True))])
    items = totals[totals["kind"] == "item"].set_index("item")
    for label, column in [*((f"小计：{t}", t) for t in UNIT_TYPES), ("全市合计", "value")]:
        row = [cell(label, font=bold), None]
        for item in form.items:
            d = to_decimal(items.loc[item.code, column])
            row.append(None if d is None else cell(float(d) if item.is_money else int(d), font=bold))
        ws.append(row)
    return template.workbook_bytes(wb)


def tables(form: Form, totals: pd.DataFrame, values: pd.DataFrame, status: pd.DataFrame, has_previous: bool):
    items = totals[totals["kind"] == "item"]
    head = ["代码", "项目", "单位", "全市合计", *UNIT_TYPES, "报送单位数", "未填单位数"]
    if has_previous:
        head += ["上年", "同比（%）"]
    rows = []
    for row in items.to_dict("records"):
        m = row["measure"]
        cells = [row["item"], row["label"], m, number(row["value"], m), *(number(row[t], m) for t in UNIT_TYPES),
                 row["units_reported"], row["units_missing"]]
        if has_previous:
            cells += [number(row["previous"], m), number(row["change_pct"], "%")]
        rows.append(cells)
    t1 = render.Table("附表1　全市送温暖活动统计汇总表", head, rows, [False] * 3 + [True] * (len(head) - 3),
                      "合计为单位名录中各单位有效数值（更正后）之和；未填的单位不计入。")
    key_items = list(form.policy.key_items["appendix"])
    wide = unit_table(values, key_items)
    measures = [form.item(c).unit for c in key_items]
    key_rows = [[unit, wide.attrs["types"][unit], *(number(v, m) or "未填" for v, m in zip(row, measures, strict=True))]
                for unit, row in zip(wide.index, wide.itertuples(index=False), strict=True)
                if unit in wide.attrs["registered"]]
    note = ""
    if len(key_rows) > MAX_TABLE_UNITS:
        key_rows.sort(key=lambda r: -float(r[2]) if r[2] not in ("", "未填") else 0)
        note = f"共{len(key_rows)}个单位，此处列出筹集慰问款物总额居前的{MAX_TABLE_UNITS}个，全部单位见分单位明细表。"
        key_rows = key_rows[:MAX_TABLE_UNITS]
    t2 = render.Table("附表2　各单位主要数据", ["单位", "类型", *(f"{form.item(c).label}（{form.item(c).unit}）" for c in key_items)],
                      key_rows, [False, False] + [True] * len(key_items), note)
    records = status.to_dict("records")
    if len(records) <= MAX_TABLE_UNITS:
        st_rows = [[r["unit"], r["unit_type"] or "不在名录", r["form"], r["form_date"], r["late"], r["summary"]]
                   for r in records]
        t3 = render.Table("附表3　各单位报送统计表和书面总结材料情况",
                          ["单位", "类型", "统计表", "填报日期", "是否按时", "书面总结材料"], st_rows, [False] * 6)
    else:  # a province: units grouped by what they sent; a group's names, ten to a row, only if it is small
        groups: dict[str, list[str]] = {}
        for r in records:
            groups.setdefault(f"统计表{r['form']}、书面总结{r['summary']}", []).append(r["unit"])
        st_rows = []
        for kind, names in sorted(groups.items()):
            if len(names) > MAX_TABLE_UNITS:
                st_rows.append([kind, str(len(names)), f"单位较多，名单见 {catalog.file_name('reporting_status')}"])
                continue
            st_rows += [[kind if k == 0 else "", str(len(names)) if k == 0 else "", "、".join(names[k:k + 10])]
                        for k in range(0, len(names), 10)]
        t3 = render.Table("附表3　各单位报送统计表和书面总结材料情况", ["报送情况", "单位数", "单位"], st_rows,
                          [False, True, False],
                          f"超过{MAX_TABLE_UNITS}个单位的情况只列单位数；各单位的报送情况、填报日期和是否按时见 "
                          f"{catalog.file_name('reporting_status')}。")
    return [t1, t2, t3]


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
    detail = ctx.cache("detail_workbook", "report.py", "template.py")
    key = detail.key(repr(sorted(cfg.items())), form.version, *(pd.util.hash_pandas_object(f, index=False).to_numpy()
                                                                   .tobytes() for f in (values, totals)))
    detail_done = in_background(lambda: store.atomic_write_bytes(ctx.path("detail_workbook"), detail.make(
        key, lambda: detail_workbook(form, values, totals, cfg))))

    text = narrative.build(form, totals, cfg, ctx.raw("narrative"), summaries, registry, cn_date(when))
    made = charts.make_all(totals, values, history(ctx), ctx.year, sample, ctx.path("charts"), form.policy.charts,
                           ctx.cache("charts", "charts.py"))
    reasons = draft_reasons(issues, text.problems)
    report = render.Report(text, made, tables(form, totals, values, status, has_previous),
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
