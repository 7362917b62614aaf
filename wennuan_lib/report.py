"""Step 04 (书面总结): totals, the summary form, the detail workbook, charts and the report in three formats.

Writes outputs/<year>/data/totals.csv and, under outputs/<year>/report/: 汇总统计表.xlsx,
分单位明细表.xlsx, 书面总结.html, 书面总结.pdf, 书面总结.docx and charts/*.png; and, with this year's
totals in place, rebuilds outputs/trends/ across the years. The detail workbook, the PDF and the
trends are made on other cores while the rest goes on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from . import aggregate, charts, clean, config, narrative, render, store, template, trends
from .form import Form, year_data, year_setup
from .parse import to_decimal
from .pipeline import in_background
from .units import UNIT_TYPES

SUMMARY_FORM = "汇总统计表.xlsx"
DETAIL = "分单位明细表.xlsx"
REPORT = "书面总结"
VALUE_COLUMNS = ["unit", "unit_type", "registered", "item", "value"]  # what the report reads of values.csv
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


def cached_copy(cache, frames: list[pd.DataFrame], context: str, dest, make) -> None:
    """`make(path)` unless a file made from the same frames is in the cache; then it is copied."""
    import hashlib

    h = hashlib.sha256((context + __file__).encode("utf-8"))
    h.update(Path(__file__).read_bytes())
    for frame in frames:
        h.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    cached = Path(cache) / f"{h.hexdigest()}{Path(dest).suffix}"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        make(cached)
    store.atomic_write_bytes(Path(dest), cached.read_bytes())  # the same atomic write as every output


def unit_table(values: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Units as rows (in the order of values.csv), item codes as columns, the values as written in
    values.csv ("" where none). attrs: "types" unit → unit type, "registered" the registered units."""
    first = values.drop_duplicates("unit")
    wide = values.pivot(index="unit", columns="item", values="value").reindex(index=first["unit"], columns=codes)
    wide = wide.fillna("")
    wide.attrs = {"types": dict(zip(first["unit"], first["unit_type"], strict=True)),
                  "registered": set(first.loc[aggregate.in_totals(first), "unit"])}
    return wide


def detail_workbook(form: Form, values: pd.DataFrame, totals: pd.DataFrame, cfg: dict, path) -> None:
    """分单位明细表: units as rows, items as columns, subtotals by unit type and the city total.
    Written row by row (openpyxl's write-only mode): a province has thousands of units."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

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
    template.save(wb, path)


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
                st_rows.append([kind, str(len(names)), "单位较多，名单见 reporting_status.csv"])
                continue
            st_rows += [[kind if k == 0 else "", str(len(names)) if k == 0 else "", "、".join(names[k:k + 10])]
                        for k in range(0, len(names), 10)]
        t3 = render.Table("附表3　各单位报送统计表和书面总结材料情况", ["报送情况", "单位数", "单位"], st_rows,
                          [False, True, False],
                          f"超过{MAX_TABLE_UNITS}个单位的情况只列单位数；各单位的报送情况、填报日期和是否按时见 "
                          "reporting_status.csv。")
    return [t1, t2, t3]


def tips(totals: pd.DataFrame, figures: narrative.Figures) -> dict[str, str]:
    out = {}
    for row in totals.to_dict("records"):
        out[row["item"]] = figures.tip(row["item"])
        if row.get("change_pct"):
            out[f"{row['item']}#change"] = f"与上年相比：上年{row['previous']}{row['measure']}，本年{row['value']}{row['measure']}"
    return out


def draft_items(issues: pd.DataFrame, problems: list[str]) -> list[str]:
    errors = clean.open_errors(issues)
    return [f"{r['unit']}：{r['message']}" for r in errors.to_dict("records")] + problems


def history(paths: config.YearPaths, form: Form) -> dict[int, dict]:
    """City totals of the earlier years present, keyed by this year's codes (absent concepts left out)."""
    out = {}
    for year in config.years_present(paths.inputs):
        if year < paths.year and (frame := year_data(paths, year, "totals", form)) is not None:
            out[year] = {r["item"]: to_decimal(r["value"]) for r in frame.to_dict("records") if r["kind"] == "item"}
    return out


def run(paths: config.YearPaths) -> dict:
    cfg, form, registry = year_setup(paths)
    issues, summaries, status = store.read_data(paths, "issues", "summaries", "reporting_status")
    values = store.read_csv(paths.data / "values.csv", VALUE_COLUMNS)
    previous = year_data(paths, paths.year - 1, "totals", form)

    totals = aggregate.build_totals(values, form, registry.names, set(summaries["unit"]), previous)
    store.write_csv(totals, paths.data / "totals.csv")
    trends_done = in_background(lambda: trends.build(paths.inputs, paths.outputs))  # across years, on another core
    out = paths.year_outputs / "report"
    when = report_date(cfg)
    summary_form(form, totals, cfg, when, out / SUMMARY_FORM)
    detail_done = in_background(lambda: cached_copy(
        paths.year_outputs / "cache" / "detail", [values, totals], repr(sorted(cfg.items())) + form.version,
        out / DETAIL, lambda path: detail_workbook(form, values, totals, cfg, path)))

    text = narrative.build(form, totals, cfg, paths.year_inputs / "narrative.md", summaries, registry, cn_date(when))
    made = charts.make_all(totals, values, history(paths, form), paths.year, bool(cfg.get("sample")), out / "charts",
                           form.policy.charts, paths.year_outputs / "cache" / "charts")
    report = render.Report(text, made, tables(form, totals, values, status, previous is not None),
                           tips(totals, narrative.Figures(totals, form)), draft_items(issues, text.problems),
                           bool(cfg.get("sample")))
    store.atomic_write_bytes(out / f"{REPORT}.html", render.to_html(report).encode("utf-8"))
    pdf_done = in_background(lambda: render.to_pdf(report, out / f"{REPORT}.pdf"))
    render.to_docx(report, out / f"{REPORT}.docx")
    detail_done()
    pdf_done()
    trends_done()
    return {"totals": totals, "report": report, "folder": out, "draft": report.draft}

