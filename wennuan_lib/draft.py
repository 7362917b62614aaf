"""What keeps the 书面总结 a draft (draft_reasons): the report is 定稿 only when it is true and complete.

One row per blocker, of four kinds:

* 必须修改  an open must-fix finding (neither corrected nor waived);
* 疑似填错  a suspected slip of a unit (元 typed for 万元, a figure an order of magnitude outside the other
            units') in a figure the report states: this year's, or last year's total that the 上年 column and
            the 同比 rest on;
* 待补充    a section of the analyst's narrative.md that is still empty;
* 书面总结  a quote that does not match the unit's text, an unknown heading of narrative.md.

A suspected slip is open until the unit's figure is corrected so that the checks no longer suspect it (a
correction typed in 元 again stays suspect) or the finding is waived. Last year's suspect total is never
compared with: its 同比 is left out of the prose and the appendix until last year's figure is settled in last
year's own files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from . import catalog
from .form import Form
from .narrative import NO_DATA, TOKEN, Narrative
from .parse import format_value, to_decimal
from .rules import is_open, open_errors

MUST_FIX, SLIP, GAP, TEXT = "必须修改", "疑似填错", "待补充", "书面总结"
KINDS = (MUST_FIX, SLIP, GAP, TEXT)  # the order of draft_reasons
CLAUSE = re.compile(r"[，。；：、（）“”]")


@dataclass
class Suspect:
    """A unit's figure that the checks suspect of a slip, still open, counted in the totals."""

    unit: str
    item: str  # the item's code in the report's year (last year's suspect: translated by concept)
    value: Decimal | None
    rules: list[str]
    year: int
    yuan: bool  # suspected of 元 typed for 万元
    what: str = (
        ""  # 「单位 代码 项目 填的 78300 万元，疑似按“元”填写（按万元应约为 7.83）」, in its own year's codes
    )
    stated: list[str] = field(default_factory=list)  # where the report states a figure it feeds

    def describe(self, form: Form) -> Suspect:
        """Word the suspect in `form`'s codes and labels (its own year's form)."""
        item = form.item(self.item)
        shown = "（空白）" if self.value is None else f"{format_value(self.value)} {item.unit}"
        if self.yuan and self.value is not None:
            why = (
                "疑似按“元”填写（按万元应约为 "
                f"{format_value((self.value / 10000).quantize(Decimal('0.01')))}）"
            )
        else:
            why = "比其他单位的数字大或小一个数量级以上，疑似填错"
        self.what = f"{self.unit} {self.item} {item.label} 填的 {shown}，{why}"
        return self

    def note(self) -> str:
        """The hover's warning on a figure this slip feeds."""
        return f"⚠ 疑似填错：{self.what}；{self.year}年尚未更正或豁免（规则 {'、'.join(self.rules)}）"


def suspects(
    issues: pd.DataFrame | None, values: pd.DataFrame | None, form: Form, year: int
) -> list[Suspect]:
    """Open slip findings (the policy's slip checks) on units counted in the totals, one per unit and item,
    worded in `form`'s codes (the year's own form: `issues` and `values` are that year's)."""
    rules = set(form.policy.slip_rules)
    if issues is None or values is None or not rules or not len(issues):
        return []
    counted = values[values["registered"].astype(bool)]
    figure = {
        (u, i): to_decimal(v)
        for u, i, v in zip(counted["unit"], counted["item"], counted["value"], strict=True)
    }
    found = issues[issues["rule"].isin(rules) & is_open(issues)]
    yuan = form.policy.yuan_slip.id if form.policy.yuan_slip else ""
    out: dict[tuple[str, str], Suspect] = {}
    for row in found.to_dict("records"):
        key = (row["unit"], row["item"])
        if key not in figure:
            continue
        s = out.setdefault(key, Suspect(row["unit"], row["item"], figure[key], [], year, False))
        if row["rule"] not in s.rules:
            s.rules.append(row["rule"])
        s.yuan = s.yuan or row["rule"] == yuan
    order = {c: k for k, c in enumerate(form.codes)}
    return [
        s.describe(form) for s in sorted(out.values(), key=lambda s: (order.get(s.item, len(order)), s.unit))
    ]


def carried(found: list[Suspect], then: Form, now: Form) -> list[Suspect]:
    """Another year's suspects keyed by `now`'s codes (joined by concept; an item `now` lacks is left out).
    Their wording keeps their own year's codes, where the analyst corrects them."""
    out = []
    for s in found:
        code = now.code_of(then.item(s.item).key)
        if code:
            s.item = code
            out.append(s)
    return out


def fed_items(key: str, rows: dict[str, dict], form: Form) -> list[tuple[str, str]]:
    """(item, unit or "" for every unit) that the figure a token names adds up."""
    key = key.removesuffix("#change")
    row = rows.get(key)
    if row is None:
        return []
    if row["kind"] == "item":
        return [(key, "")]
    if row["kind"] == "rank":
        return [(key.split(".", 1)[1].rsplit(".", 1)[0], row["who"])]
    spec = next((d for d in form.policy.report.derived if d.key == key), None)
    if spec is None:
        return []
    return [(c, "") for c in (*spec.num, *([spec.den] if spec.den else []))]


def clause(text: str, start: int) -> str:
    """The words before a figure, back to the last punctuation (at most 24 characters)."""
    before = TOKEN.sub(lambda m: m.group(2), text[:start])
    cut = max((m.end() for m in CLAUSE.finditer(before)), default=0)
    return before[cut:][-24:]


def mark_stated(found: list[Suspect], narrative: Narrative, totals: pd.DataFrame, form: Form) -> set[str]:
    """Note in each suspect where the prose states a figure it feeds; return the token keys of those
    figures."""
    rows = {r["item"]: r for r in totals.to_dict("records")}
    keys: set[str] = set()
    for block in narrative.blocks:
        if block.source != "generated":
            continue
        for m in TOKEN.finditer(block.text):
            key, shown = m.group(1), m.group(2)
            if key.endswith("#change"):
                continue  # this year's slips feed the figure itself; last year's suppress the change
            for s in found:
                if any(item == s.item and who in ("", s.unit) for item, who in fed_items(key, rows, form)):
                    keys.add(key)
                    phrase = f"“{clause(block.text, m.start())}{shown}”"
                    if phrase not in s.stated:
                        s.stated.append(phrase)
    return keys


def previous_note(s: Suspect) -> str:
    return f"{s.year}年合计中{s.unit}填的 {format_value(s.value)} 疑似填错，尚未更正或豁免"


def raw_file(name: str, year: int) -> str:
    """An analyst's file as the analyst finds it: inputs/2013/corrections.csv."""
    return "inputs/" + catalog.raw(name).path.replace("{year}", str(year))


def reasons(
    issues: pd.DataFrame,
    narrative: Narrative,
    found: list[Suspect],
    before: list[Suspect],
    form: Form,
    year: int,
) -> pd.DataFrame:
    """draft_reasons: every blocker, one row each; no rows when the report is final."""
    fix, waive = f"更正登记表 {raw_file('corrections', year)} ", f"豁免登记表 {raw_file('waivers', year)} "
    rows = [
        {
            "kind": MUST_FIX,
            "unit": r["unit"],
            "item": r["item"],
            "message": f"{r['message']}（规则 {r['rule']}）",
        }
        for r in open_errors(issues).to_dict("records")
    ]
    for s in found:
        where = "、".join(s.stated[:3]) + ("等" if len(s.stated) > 3 else "")
        where = f"书面总结中的{where}和附件1" if where else "书面总结附件1的全市合计"
        rows.append(
            {
                "kind": SLIP,
                "unit": s.unit,
                "item": s.item,
                "message": (
                    f"{s.what}；这个数字计入了{where}。请向单位核实：有误的在{fix}中更正（金额以万元为单位），"
                    f"确实无误的在{waive}中豁免规则 {'、'.join(s.rules)}"
                ),
            }
        )
    fix, waive = (
        f"更正登记表 {raw_file('corrections', year - 1)} ",
        f"豁免登记表 {raw_file('waivers', year - 1)} ",
    )
    for s in before:
        rows.append(
            {
                "kind": SLIP,
                "unit": s.unit,
                "item": s.item,
                "message": (
                    f"{s.year}年：{s.what}，{s.year}年未更正也未豁免；附件1的“上年”合计含这个数字，本年{s.item}的同比因此"
                    f"没有写入书面总结。请在{fix}中更正或在{waive}中豁免规则 {'、'.join(s.rules)}，"
                    f"再依次运行{s.year}年和{year}年"
                ),
            }
        )
    for gap in narrative.gaps:
        rows.append(
            {
                "kind": GAP,
                "unit": "",
                "item": "",
                "message": (
                    f"“{gap.heading}”一节尚未撰写："
                    f"请在 {raw_file('narrative', year)} 中“## {gap.heading}”标题下填写"
                ),
            }
        )
    rows += _no_data(narrative, form, year)
    rows += [{"kind": TEXT, "unit": "", "item": "", "message": p} for p in narrative.problems]
    return pd.DataFrame(rows, columns=catalog.dataset("draft_reasons").column_names)


NO_DATA_LISTED = 5  # more figures without data than this: one reason for them all (likely no form read yet)


def _no_data(narrative: Narrative, form: Form, year: int) -> list[dict]:
    """A 待补充 reason per figure the summary writes as 【无数据】 (no unit filled in what it needs), quoting
    its sentence and naming it; one reason for them all when there are many."""
    quoted: dict[str, list[str]] = {}
    for block in narrative.blocks:
        for m in TOKEN.finditer(block.text):
            if m.group(2) == NO_DATA:
                quoted.setdefault(m.group(1), []).append(clause(block.text, m.start()))
    if not quoted:
        return []
    derived = {d.key: d.label for d in form.policy.report.derived}

    def named(key: str) -> str:
        return f"{key} {form.item(key).label}" if key in form.codes else derived.get(key, key)

    fix = f"漏填的请单位补报，或在更正登记表 {raw_file('corrections', year)} 中补登"
    if len(quoted) > NO_DATA_LISTED:
        names = "、".join(named(k) for k in list(quoted)[:NO_DATA_LISTED])
        message = (
            f"书面总结中有 {len(quoted)} 个数字写成了“{NO_DATA}”（{names}等）：这些项目没有一个单位填报——"
            f"可能还没有读取到各单位的统计表，或各单位都漏填了。请先收齐、核实（{fix}），再重新运行"
        )
        return [{"kind": GAP, "unit": "", "item": "", "message": message}]
    return [
        {
            "kind": GAP,
            "unit": "",
            "item": "",
            "message": (
                f"书面总结中“{clauses[0]}{NO_DATA}”（{named(key)}）：没有一个单位填报，这个数字无法写出。"
                f"请核实各单位是否漏填（催报未报的单位；{fix}），再重新运行"
            ),
        }
        for key, clauses in quoted.items()
    ]


def listed(reasons_frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(kind, text) for the list on page 1 of a draft: 「单位：问题」."""
    return [
        (r["kind"], f"{r['unit']}：{r['message']}" if r["unit"] and r["kind"] == MUST_FIX else r["message"])
        for r in reasons_frame.to_dict("records")
    ]
