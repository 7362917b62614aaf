"""What notebook 03 (报送情况与反馈) shows: who is missing, late or unreadable and what goes back to whom;
the reporting status of every unit, the open findings per unit and per rule, and the written summaries against
the forms."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from wennuan_lib.base import catalog
from wennuan_lib.check.rules import ERROR, TOTALS, is_open
from wennuan_lib.publish import feedback
from wennuan_lib.views.blocks import (
    LIST_LIMIT,
    answer,
    badge,
    legend,
    name_list,
    table,
)
from wennuan_lib.views.clean import severity_badge, whose
from wennuan_lib.vocab import (
    APPROX,
    DIFFER,
    FORM_LABELS,
    LATE,
    LATE_LABELS,
    MATCH,
    NOT_REPORTED,
    REPORTED,
    UNREADABLE,
    VERDICT_LABELS,
    label,
)

STATUS_LEGEND = (
    ("未报统计表", "not_reported"),
    (FORM_LABELS[UNREADABLE], "form_unreadable"),
    (LATE_LABELS[LATE], "late"),
    ("书面总结未报", "no_summary"),
    ("不在名录中", "unregistered"),
)


def _urgency(st: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [
            0
            if f == NOT_REPORTED
            else 1
            if f == UNREADABLE
            else 2
            if late == LATE
            else 3
            if s == NOT_REPORTED
            else 4
            if not reg
            else 5
            for f, late, s, reg in zip(st["form"], st["late"], st["summary"], st["registered"], strict=True)
        ],
        index=st.index,
    )


def reconcile_answer(st: pd.DataFrame, feedback_files: list, issues: pd.DataFrame, folder=None) -> HTML:
    """Who is missing or late, and what goes back to whom (`folder`: where the analyst finds the feedback
    files, outputs/<年度>/feedback)."""
    expected = st[st["registered"]]
    missing = st[st["form"] == NOT_REPORTED]
    no_summary = expected[expected["summary"] == NOT_REPORTED]
    lines = [
        f"应报 {len(expected)} 个单位：已报统计表 {int((expected['form'] == REPORTED).sum())} 个，"
        f"书面总结已报 {int((expected['summary'] == REPORTED).sum())} 个。",
        f"{badge('未报统计表', 'not_reported')} {len(missing)} 个：{name_list(list(missing['unit'])) or '无'}"
        + ("（请催报）" if len(missing) else ""),
        _late_line(st[st["late"] == LATE]),
        _unreadable_line(st[st["form"] == UNREADABLE]),
        f"{badge('书面总结未报', 'no_summary')} {len(no_summary)} 个："
        f"{name_list(list(no_summary['unit'])) or '无'}",
    ]
    unregistered = st[~st["registered"]]
    if len(unregistered):
        lines.append(
            f"{badge('不在名录中', 'unregistered')}：{name_list(list(unregistered['unit']))}"
            "（请核实后加入 inputs/units.csv）"
        )
    return answer("谁没报、谁逾期，什么要发回给谁", lines + _sent_back_lines(feedback_files, issues, folder))


def _late_line(late: pd.DataFrame) -> str:
    shown_ = zip(late["unit"].head(LIST_LIMIT), late["days_late"].head(LIST_LIMIT), strict=True)
    return (
        f"{badge(LATE_LABELS[LATE], 'late')} {len(late)} 个："
        + ("、".join(f"{escape(u)}（{d}天）" for u, d in shown_) or "无")
        + (" 等" if len(late) > LIST_LIMIT else "")
    )


def _unreadable_line(bad: pd.DataFrame) -> str:
    """The units whose form came but could not be read, with the files and why (to ask for another format)."""
    head = f"{badge(FORM_LABELS[UNREADABLE], 'form_unreadable')} {len(bad)} 个"
    if bad.empty:
        return head + "：无"
    files = zip(bad["unit"].head(LIST_LIMIT), bad["form_problem"].head(LIST_LIMIT), strict=True)
    items = "".join(f"<li>{escape(u)}：{escape(p)}</li>" for u, p in files)
    return f"{head}：请单位换一种格式重新报送<ul>{items}</ul>"


def _sent_back_lines(feedback_files: list, issues: pd.DataFrame, folder) -> list[str]:
    """The feedback workbooks made and where; the findings that go back to nobody (the city total's, the
    registers')."""
    if feedback_files:
        where = escape(str(folder or feedback_files[0].parent))
        lines = [
            f"<b>反馈表 {len(feedback_files)} 份</b>，在 <code>{where}</code>，"
            "每个有未解决审核意见的单位一份，可直接发给单位（见下表“反馈表”一列）。"
        ]
    else:
        lines = ["没有需要发回单位的审核意见，没有生成反馈表。"]
    who = whose(issues)
    open_ = is_open(issues)
    totals = int(((who == "totals") & open_).sum())
    registers = issues[(who == "registers") & open_]
    if totals:
        lines.append(f"{TOTALS}的 {totals} 条意见由各单位的数字推出，不发反馈表：单位的数字改正后自动消失。")
    if len(registers):
        lines.append(
            f"登记表中写错的单位「{'」「'.join(escape(u) for u in dict.fromkeys(registers['unit']))}」"
            "不是报送单位：请改正 corrections.csv / waivers.csv 中的那一行。"
        )
    return lines


def feedback_file_of(st: pd.DataFrame, issues: pd.DataFrame, feedback_files: list) -> dict[str, str]:
    """Each unit's feedback workbook among those the step made (named as feedback.write_all names them)."""
    made = {p.name for p in feedback_files}
    units = set(st.loc[st["form"] == REPORTED, "unit"])
    open_units = list(dict.fromkeys(issues.loc[feedback.for_units(issues, units), "unit"]))
    return {
        u: f"{stem}.xlsx" for u, stem in feedback.file_names(open_units).items() if f"{stem}.xlsx" in made
    }


def status_table(
    st: pd.DataFrame, feedback_files: list | None = None, issues: pd.DataFrame | None = None
) -> HTML:
    """Every unit: what it sent, when, and what goes back to it; the units to chase first."""
    st = st.iloc[_urgency(st).argsort(kind="stable")]
    files = feedback_file_of(st, issues, feedback_files) if feedback_files and issues is not None else {}
    frame = _status_cells(st)
    frame.insert(9, "反馈表", [files.get(u, "") for u in st["unit"]])
    board = table(
        frame,
        "status",
        html=("单位", "统计表", "是否按时", "书面总结"),
        panes=("类型", "统计表", "书面总结"),
        page=50,
        mid=("单位", "反馈表"),
        nowrap=("类型", "统计表", "填报日期", "是否按时", "书面总结"),
        long=("无法读取的文件及原因",),
        numeric=("必须修改", "请核实", "已豁免"),
        wide=True,
        whole=catalog.file_name("reporting_status"),
    )
    return HTML(legend(*STATUS_LEGEND).data + board.data)


def _status_cells(st: pd.DataFrame) -> pd.DataFrame:
    """The reporting status in words, marked where a unit needs chasing (the colours of STATUS_LEGEND)."""
    marks = {NOT_REPORTED: ("not_reported", 0), UNREADABLE: ("form_unreadable", 1)}
    form = [
        badge(label("reporting_status.form", f), *marks[f]) if f in marks else escape(FORM_LABELS.get(f, f))
        for f in st["form"]
    ]
    late = [
        badge(f"逾期 {d} 天" if d != "" else "逾期", "late")
        if v == LATE
        else escape(label("reporting_status.late", v))
        for v, d in zip(st["late"], st["days_late"], strict=True)
    ]
    summary = [
        badge("未报", "no_summary") if s == NOT_REPORTED else escape(label("reporting_status.summary", s))
        for s in st["summary"]
    ]
    row = _urgency(st).map({0: "not_reported", 1: "form_unreadable", 2: "late"}).fillna("")
    unit = [
        escape(u)
        + ("" if reg else " " + badge("不在名录中", "unregistered"))
        + (f"<span class='wn-row-{k}'></span>" if k else "")
        for u, reg, k in zip(st["unit"], st["registered"], row, strict=True)
    ]
    return pd.DataFrame(
        {
            "单位": unit,
            "类型": st["unit_type"],
            "统计表": form,
            "填报日期": st["form_date"],
            "是否按时": late,
            "书面总结": summary,
            "必须修改": st["errors"],
            "请核实": st["warnings"],
            "已豁免": st["waived"],
            "无法读取的文件及原因": st["form_problem"],
        }
    )


def by_unit_table(table_: pd.DataFrame, st: pd.DataFrame) -> HTML:
    """Open findings per unit — units only: the city total and names mistyped in the registers are not
    units."""
    units = set(st["unit"])
    frame = table_[table_["unit"].isin(units)].rename(
        columns={"unit": "单位", "errors": "必须修改", "warnings": "请核实"}
    )
    frame = frame.iloc[
        (-frame["必须修改"].to_numpy() * 100000 - frame["请核实"].to_numpy()).argsort(kind="stable")
    ]
    return table(
        frame, "by_unit", numeric=("必须修改", "请核实"), whole=catalog.file_name("findings_by_unit")
    )


def by_rule_table(table_: pd.DataFrame) -> HTML:
    table_ = table_.iloc[table_["severity"].map({ERROR: 0}).fillna(1).argsort(kind="stable")]
    frame = pd.DataFrame(
        {
            "类别": [severity_badge(s) for s in table_["severity"]],
            "规则": table_["rule"],
            "审核类别": table_["check_type"],
            "条数": table_["findings"],
            "单位数": table_["units"],
            "示例": table_["example"],
        }
    )
    return table(
        frame,
        "by_rule",
        html=("类别",),
        numeric=("条数", "单位数"),
        nowrap=("类别", "规则", "审核类别"),
        long=("示例",),
        wide=True,
    )


def unit_dossiers(
    values: pd.DataFrame,
    summaries: pd.DataFrame,
    key_items: list[str],
    checks: pd.DataFrame | None = None,
    limit: int = 100,
) -> HTML:
    """Each unit's written summary beside its key figures, for picking 典型经验. With `checks`
    (summary_checks: the figures a summary states, compared with the form), each figure the summary states is
    shown beside the form's, marked where they disagree."""
    verdicts = {MATCH: "agree", DIFFER: "disagree", APPROX: "approx_agree"}
    parts = []
    groups = list(summaries.groupby("unit", sort=False))
    for unit, group in groups[:limit]:
        mine = values[(values["unit"] == unit) & values["item"].isin(key_items)]
        said = checks[checks["unit"] == unit] if checks is not None else None
        stated = {r["item"]: r for r in said.to_dict("records")} if said is not None else {}
        rows = []
        for r in mine.itertuples():
            check = stated.pop(r.item, None)
            rows.append(_dossier_row(r.item, r.label, r.value, r.measure, check, verdicts))
        rows += [
            _dossier_row(c["item"], c["label"], c["form_value"], "", c, verdicts) for c in stated.values()
        ]
        head = (
            "<tr><th>项目</th><th>统计表</th>" + ("<th>书面总结中</th>" if said is not None else "") + "</tr>"
        )
        flag = ""
        if said is not None and (said["verdict"] == DIFFER).any():
            flag = " " + badge(
                f"书面总结与统计表有 {int((said['verdict'] == DIFFER).sum())} 处不一致", "disagree"
            )
        text = "<br>".join(escape(t) for t in "\n\n".join(group["text"]).split("\n") if t.strip())
        parts.append(
            f"<h3>{escape(unit)}{flag}</h3><div style='display:flex;gap:24px;align-items:flex-start'>"
            f"<table style='flex:0 0 440px'>{head}{''.join(rows) or '<tr><td>未报统计表</td></tr>'}</table>"
            f"<div style='flex:1;line-height:1.7;max-height:320px;overflow:auto'>{text}</div></div>"
        )
    if len(groups) > limit:
        parts.append(
            f"<p class='wn-note'>共 {len(groups)} 个单位报送了书面总结，这里列出前 {limit} 个；"
            f"全文见 {catalog.file_name('summaries')}。</p>"
        )
    return HTML("".join(parts) or "<p>本年度没有单位报送书面总结材料。</p>")


def _dossier_row(item, label, value, measure, check, verdicts) -> str:
    cells = (
        f"<td>{escape(item)} {escape(label)}</td>"
        f"<td style='text-align:right'>{escape(value or '未填')} {escape(measure)}</td>"
    )
    if check is not None:
        kind = verdicts.get(check["verdict"], "waived")
        hover = f"{check['summary_file']}：……{check['summary_text']}……"
        cells += (
            f"<td title='{escape(hover)}'>{escape(check['summary_value'])} "
            f"{badge(VERDICT_LABELS.get(check['verdict'], check['verdict']), kind)}</td>"
        )
    elif verdicts is not None:
        cells += "<td></td>"
    return f"<tr>{cells}</tr>"


def summary_check_table(checks: pd.DataFrame) -> HTML:
    """The figures the units' summaries state against their forms, disagreements first."""
    order = {DIFFER: 0, APPROX: 1, MATCH: 2}
    checks = checks.iloc[checks["verdict"].map(order).fillna(3).argsort(kind="stable")]
    kinds = {MATCH: "agree", DIFFER: "disagree", APPROX: "approx_agree"}
    frame = pd.DataFrame(
        {
            "结果": [
                badge(label("summary_checks.verdict", v), kinds.get(v, "waived"), order.get(v, 3))
                for v in checks["verdict"]
            ],
            "单位": checks["unit"],
            "项目": checks["item"] + " " + checks["label"],
            "统计表": checks["form_value"],
            "书面总结": checks["summary_value"],
            "书面总结原文": checks["summary_text"],
            "书面总结文件": checks["summary_file"],
            "统计表位置": checks["form_location"],
        }
    )
    return table(
        frame,
        "summary_checks",
        html=("结果",),
        panes=("结果", "单位"),
        nowrap=("结果", "统计表", "书面总结"),
        mid=("单位", "项目"),
        long=("书面总结原文",),
        wide=True,
    )
