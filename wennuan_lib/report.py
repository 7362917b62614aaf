"""Step 04 (书面总结): totals, the summary form, the detail workbook, charts and the report in three formats.

Writes outputs/<year>/data/totals.csv and, under outputs/<year>/report/: 汇总统计表.xlsx,
分单位明细表.xlsx, 书面总结.html, 书面总结.pdf, 书面总结.docx and charts/*.png.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from . import aggregate, charts, clean, config, narrative, render, store, template
from .feedback import put
from .form import Form, year_data, year_setup
from .parse import to_decimal
from .units import UNIT_TYPES

SUMMARY_FORM = "汇总统计表.xlsx"
DETAIL = "分单位明细表.xlsx"
REPORT = "书面总结"
KEY_ITEMS = ["05.1", "06.1", "04A.1", "04A.2", "04C.1", "10A.1"]
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
    import shutil

    h = hashlib.sha256((context + __file__).encode("utf-8"))
    h.update(Path(__file__).read_bytes())
    for frame in frames:
        h.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    cached = Path(cache) / f"{h.hexdigest()}{Path(dest).suffix}"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        make(cached)
    tmp = Path(dest).with_name("." + Path(dest).name + ".copy")
    shutil.copyfile(cached, tmp)
    tmp.replace(dest)


def detail_workbook(form: Form, values: pd.DataFrame, totals: pd.DataFrame, cfg: dict, path) -> None:
    """分单位明细表: units as rows, items as columns, subtotals by unit type and the city total."""
    wb = Workbook()
    ws = wb.active
    ws.title = "分单位明细"
    mark = "（示例数据）" if cfg.get("sample") else ""
    put(ws, 1, 1, f"{cfg['year']}年送温暖活动统计表分单位明细{mark}", font=Font(bold=True, size=14))
    head = PatternFill("solid", fgColor="DDEBF7")
    put(ws, 3, 1, "单位", font=Font(bold=True), fill=head)
    put(ws, 3, 2, "类型", font=Font(bold=True), fill=head)
    for k, item in enumerate(form.items, 3):
        put(ws, 3, k, f"{item.code}\n{item.label}（{item.unit}）", font=Font(bold=True), fill=head,
            alignment=Alignment(wrap_text=True, vertical="top"))
        ws.column_dimensions[ws.cell(3, k).column_letter].width = 14
    ws.column_dimensions["A"].width = 28
    ws.row_dimensions[3].height = 75
    r = 4
    for unit, group in values.groupby("unit", sort=False):
        mine = group.set_index("item")
        registered = str(group["registered"].iloc[0]) == "True"
        put(ws, r, 1, unit + ("" if registered else "（不在名录，未计入合计）"))
        put(ws, r, 2, group["unit_type"].iloc[0])
        for k, item in enumerate(form.items, 3):
            d = to_decimal(mine.loc[item.code, "value"]) if item.code in mine.index else None
            if d is not None:
                ws.cell(r, k).value = float(d) if item.is_money else int(d)
        r += 1
    items = totals[totals["kind"] == "item"].set_index("item")
    for label, column in [*((f"小计：{t}", t) for t in UNIT_TYPES), ("全市合计", "value")]:
        put(ws, r, 1, label, font=Font(bold=True))
        for k, item in enumerate(form.items, 3):
            d = to_decimal(items.loc[item.code, column])
            if d is not None:
                ws.cell(r, k).value = float(d) if item.is_money else int(d)
                ws.cell(r, k).font = Font(bold=True)
        r += 1
    ws.freeze_panes = "C4"
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
    counted = values[values["registered"].astype(str) == "True"]
    key_rows = []
    for unit, group in counted.groupby("unit", sort=False):
        mine = group.set_index("item")
        key_rows.append([unit, group["unit_type"].iloc[0]]
                        + [number(mine.loc[c, "value"], form.item(c).unit) or "未填" for c in KEY_ITEMS])
    note = ""
    if len(key_rows) > MAX_TABLE_UNITS:
        key_rows.sort(key=lambda r: -float(r[2]) if r[2] not in ("", "未填") else 0)
        note = f"共{len(key_rows)}个单位，此处列出筹集慰问款物总额居前的{MAX_TABLE_UNITS}个，全部单位见分单位明细表。"
        key_rows = key_rows[:MAX_TABLE_UNITS]
    t2 = render.Table("附表2　各单位主要数据", ["单位", "类型", *(f"{form.item(c).label}（{form.item(c).unit}）" for c in KEY_ITEMS)],
                      key_rows, [False, False] + [True] * len(KEY_ITEMS), note)
    records = status.to_dict("records")
    if len(records) <= MAX_TABLE_UNITS:
        st_rows = [[r["unit"], r["unit_type"] or "不在名录", r["form"], r["form_date"], r["late"], r["summary"]]
                   for r in records]
        t3 = render.Table("附表3　各单位报送统计表和书面总结材料情况",
                          ["单位", "类型", "统计表", "填报日期", "是否按时", "书面总结材料"], st_rows, [False] * 6)
    else:  # a province: names grouped by what they sent, ten to a row
        groups: dict[str, list[str]] = {}
        for r in records:
            groups.setdefault(f"统计表{r['form']}、书面总结{r['summary']}", []).append(r["unit"])
        st_rows = [[kind if k == 0 else "", str(len(names)) if k == 0 else "", "、".join(names[k:k + 10])]
                   for kind, names in sorted(groups.items()) for k in range(0, len(names), 10)]
        t3 = render.Table("附表3　各单位报送统计表和书面总结材料情况", ["报送情况", "单位数", "单位"], st_rows,
                          [False, True, False], "各单位的填报日期和是否按时见 reporting_status.csv。")
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
    values, issues, summaries, status = store.read_data(paths, "values", "issues", "summaries", "reporting_status")
    previous = year_data(paths, paths.year - 1, "totals", form)

    totals = aggregate.build_totals(values, form, registry.names, set(summaries["unit"]), previous)
    store.write_csv(totals, paths.data / "totals.csv")
    out = paths.year_outputs / "report"
    when = report_date(cfg)
    summary_form(form, totals, cfg, when, out / SUMMARY_FORM)
    cached_copy(paths.year_outputs / "cache" / "detail", [values, totals], repr(sorted(cfg.items())) + form.version,
                out / DETAIL, lambda path: detail_workbook(form, values, totals, cfg, path))

    text = narrative.build(form, totals, cfg, paths.year_inputs / "narrative.md", summaries, registry, cn_date(when))
    made = charts.make_all(totals, values, history(paths, form), paths.year, bool(cfg.get("sample")), out / "charts")
    report = render.Report(text, made, tables(form, totals, values, status, previous is not None),
                           tips(totals, narrative.Figures(totals, form)), draft_items(issues, text.problems),
                           bool(cfg.get("sample")))
    store.atomic_write_bytes(out / f"{REPORT}.html", render.to_html(report).encode("utf-8"))
    render.to_pdf(report, out / f"{REPORT}.pdf")
    render.to_docx(report, out / f"{REPORT}.docx")
    return {"totals": totals, "report": report, "folder": out, "draft": report.draft}

