"""分单位明细表 (the detail workbook): every unit's figures, units as rows and items as columns, with the subtotals by
unit type and the city total — for the province and for printing."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import aggregate, template
from .form import Form
from .parse import to_decimal
from .units import UNIT_TYPES


def unit_table(values: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Units as rows (in the order of the values table), item codes as columns, the values as written there
    ("" where none). attrs: "types" unit → unit type, "registered" the registered units."""
    first = values.drop_duplicates("unit")
    wide = values.pivot(index="unit", columns="item", values="value").reindex(index=first["unit"], columns=codes)
    wide = wide.fillna("")
    wide.attrs = {"types": dict(zip(first["unit"], first["unit_type"], strict=True)),
                  "registered": set(first.loc[aggregate.in_totals(first), "unit"])}
    return wide


def detail_workbook(form: Form, values: pd.DataFrame, totals: pd.DataFrame, cfg: dict, draft: bool = False) -> bytes:
    """分单位明细表: units as rows, items as columns, subtotals by unit type and the city total.
    Written row by row (openpyxl's write-only mode): a province has thousands of units. `draft`: （草稿） in the
    title row and 草稿 in the printed pages' header, while the report is a draft."""
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
    mark = ("（示例数据）" if cfg.get("sample") else "") + ("（草稿）" if draft else "")
    if draft:
        template.mark_draft(ws)
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
