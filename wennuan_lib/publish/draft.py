"""What keeps the 书面总结 a draft (draft_reasons): the report is 定稿 only when it is true and complete.

One row per blocker, of five kinds (stored as codes, shown through vocab.DRAFT_LABELS):

* must_fix (必须修改)     an open must-fix finding (neither corrected nor waived);
* slip (疑似填错)         a suspected slip of a unit (元 typed for 万元, a figure an order of magnitude
                          outside the other units') in a figure the report states: this year's, or last
                          year's total that the 上年 column and the 同比 rest on;
* gap (待补充)            a section of the analyst's narrative.md that is still empty;
* text (书面总结)         a quote that does not match the unit's text, an unknown heading of narrative.md;
* direction (同比待核实)  a 同比 the prose states whose direction turns when the units with open findings on
                          that item (this year's or last year's) are left out: it hangs on figures nobody
                          has confirmed yet.

A suspected slip is open until the unit's figure is corrected so that the checks no longer suspect it (a
correction typed in 元 again stays suspect) or the finding is waived. Last year's suspect total is never
compared with: its 同比 is left out of the prose and the appendix until last year's figure is settled in last
year's own files. Nor is a 同比 whose comparable basis holds this year's suspect (its unit filled the item in
both years): the change would be the slip's, not the year's (12345% for 元 typed as 万元).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.check import aggregate
from wennuan_lib.check.rules import TOTALS, is_open, open_errors, unit_dicts
from wennuan_lib.form import Form
from wennuan_lib.publish.narrative import NO_DATA, TOKEN, Narrative
from wennuan_lib.read.parse import format_value, to_decimal
from wennuan_lib.read.units import UNIT_TYPES
from wennuan_lib.vocab import DIRECTION, DRAFT_LABELS, GAP, MUST_FIX, SLIP, TEXT

KINDS = tuple(DRAFT_LABELS)  # the order of draft_reasons
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
    unsaid: bool = False  # a 同比 its figure is in is not given (changes_in_doubt)
    own: str = ""  # the item's code in its own year (where a waiver names it); `item` when "" (carried)

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
    found = issues[issues["rule"].isin(rules) & is_open(issues)]
    flagged = set(zip(found["unit"], found["item"], strict=True))
    counted = values[values["registered"].astype(bool) & values["unit"].isin(found["unit"])]
    figure = {  # the flagged figures only (200,000 values at 3,000 units; a handful flagged)
        (u, i): to_decimal(v)
        for u, i, v in zip(counted["unit"], counted["item"], counted["value"], strict=True)
        if (u, i) in flagged
    }
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
            s.own, s.item = s.item, code
            out.append(s)
    return out


def fed_items(key: str, rows: dict[str, dict], form: Form) -> list[tuple[str, str]]:
    """(item, unit or "" for every unit) that the figure a token names adds up."""
    key = key.partition("#")[0]
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
            if "#" in key:
                continue  # this year's slips feed the figure itself; last year's suppress the change
            for s in found:
                if any(item == s.item and who in ("", s.unit) for item, who in fed_items(key, rows, form)):
                    keys.add(key)
                    phrase = f"“{clause(block.text, m.start())}{shown}”"
                    if phrase not in s.stated:
                        s.stated.append(phrase)
    return keys


def counted_figures(values: pd.DataFrame, previous: pd.DataFrame) -> tuple[dict, dict]:
    """({unit: {code: value}} of the units counted in the totals this year, the same last year): what a
    comparable basis is taken over (aggregate.comparable). `previous` in this year's codes."""
    return unit_dicts(values[aggregate.in_totals(values)]), unit_dicts(
        previous[aggregate.in_totals(previous)]
    )


def changes_in_doubt(
    found: list[Suspect], totals: pd.DataFrame, form: Form, figures: tuple[dict, dict] | None
) -> dict[str, str]:
    """The items whose 同比 rests on this year's suspects (`found`): a suspect counted in the item's
    comparable basis (its unit filled the item in both years) — item → why, as `previous_note` words it.
    Marks those suspects `unsaid`. `figures`: `counted_figures` of both years; None without last year."""
    if not found or figures is None:
        return {}
    rows = {r["item"]: r for r in totals.to_dict("records") if r["kind"] == "item" and r.get("change_pct")}
    now, before = figures
    within, pair = aggregate.wholes(form), aggregate.pairs(form)
    out: dict[str, str] = {}
    for code in rows:
        mine = [s for s in found if s.item == code]
        if not mine:
            continue
        both = set(aggregate.comparable(aggregate.item_measure(code, form, within, pair), now, before)[0])
        held = [s for s in mine if s.unit in both]
        for s in held:
            s.unsaid = True
        if held:
            out[code] = "；".join(previous_note(s) for s in held)
    return out


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
    rows = [
        {
            "kind": MUST_FIX,
            "unit": r["unit"],
            "item": r["item"],
            "message": f"{r['message']}（规则 {r['rule']}）",
        }
        for r in open_errors(issues).to_dict("records")
    ]
    rows += _slip_rows(found, before, year)
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


def _slip_rows(found: list[Suspect], before: list[Suspect], year: int) -> list[dict]:
    """A reason per suspected slip (元 for 万元) still open: this year's, and last year's that feed 同比."""
    rows = []
    fix, waive = f"更正登记表 {raw_file('corrections', year)} ", f"豁免登记表 {raw_file('waivers', year)} "
    for s in found:
        where = "、".join(s.stated[:3]) + ("等" if len(s.stated) > 3 else "")
        where = f"书面总结中的{where}和附件1" if where else "书面总结附件1的全市合计"
        if s.unsaid:
            where += f"；含它的{s.item}同比因此没有写入书面总结，附件1中写作“—”"
        rows.append(
            {
                "kind": SLIP,
                "unit": s.unit,
                "item": s.item,
                "message": (
                    f"{s.what}；这个数字计入了{where}。请向单位核实：有误的在{fix}中更正"
                    f"{'（金额以万元为单位）' if s.yuan else ''}，"
                    f"确实无误的在{waive}中{_waiver_lines(s)}"
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
                    f"没有写入书面总结。请在{fix}中更正或在{waive}中{_waiver_lines(s)}，"
                    f"再依次运行{s.year}年和{year}年"
                ),
            }
        )
    return rows


def _waiver_lines(s: Suspect) -> str:
    """How to waive a suspect: item by item (corrections.apply_waivers), the lines to write."""
    lines = "；".join(f"{s.unit},{rule},{s.own or s.item},（理由）" for rule in s.rules)
    return f"逐项豁免，写明项目（表头为 unit,rule,item,reason）：{lines}"


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
    """(kind in Chinese, text) for the list on page 1 of a draft: 「单位：问题」."""
    return [
        (
            DRAFT_LABELS.get(r["kind"], r["kind"]),
            f"{r['unit']}：{r['message']}" if r["unit"] and r["kind"] == MUST_FIX else r["message"],
        )
        for r in reasons_frame.to_dict("records")
    ]


def _open_on(issues: pd.DataFrame | None, code: str, year: int) -> dict[str, list[str]]:
    """{unit: ["2012年规则H01、W01"]}: the open findings of units (not the city totals) that name `code`."""
    out: dict[str, list[str]] = {}
    if issues is None or not len(issues):
        return out
    mine = issues[is_open(issues) & (issues["unit"] != TOTALS)]
    for unit, item, items, rule in zip(mine["unit"], mine["item"], mine["items"], mine["rule"], strict=True):
        if code == item or code in str(items).split("|"):
            if rule not in out.setdefault(unit, []):
                out[unit].append(rule)
    return {unit: [f"{year}年规则{'、'.join(rules)}"] for unit, rules in out.items()}


def _direction(change: Decimal) -> str:
    return f"增长{change:.1f}%" if change > 0 else (f"下降{abs(change):.1f}%" if change < 0 else "持平")


def _sign(x: Decimal) -> int:
    return (x > 0) - (x < 0)


def unsteady(
    narrative: Narrative,
    totals: pd.DataFrame,
    form: Form,
    year: int,
    values: pd.DataFrame,
    previous_values: pd.DataFrame | None,
    issues: pd.DataFrame | None,
    previous_issues: pd.DataFrame | None,
    figures: tuple[dict, dict] | None = None,
) -> list[dict]:
    """同比待核实 reasons: each 同比 the prose states whose sign (rise, fall, flat) changes when the units
    with open findings on its item (this year's `issues` or last year's `previous_issues`, in this year's
    codes) are left out of the comparable basis. Waiving or correcting those findings releases it.
    `figures`: `counted_figures(values, previous_values)` when the caller made them already."""
    if previous_values is None:
        return []
    rows = {r["item"]: r for r in totals.to_dict("records")}
    now, before = figures or counted_figures(values, previous_values)
    within, pair = aggregate.wholes(form), aggregate.pairs(form)
    listed = form.policy.report.basis.listed
    out = []
    for block, m, code in _stated_changes(narrative, rows):
        stated = to_decimal(rows[code]["change_pct"])
        flagged = _open_on(issues, code, year)
        for unit, tags in _open_on(previous_issues, code, year - 1).items():
            flagged.setdefault(unit, []).extend(tags)
        flagged = {u: t for u, t in flagged.items() if u in now or u in before}
        if stated is None or not flagged:
            continue
        measure = aggregate.item_measure(code, form, within, pair)
        both, a, b = aggregate.comparable(measure, now, before, flagged)
        without = aggregate.change_pct(a, b)
        if without is None or _sign(without) == _sign(stated):
            continue
        who = sorted(flagged)
        shown = aggregate.names([f"{u}（{'；'.join(flagged[u])}）" for u in who], listed)
        label = form.item(code).label
        quote = _quote(block.text, m, code)
        out.append(
            {
                "kind": DIRECTION,
                "unit": "、".join(who),
                "item": code,
                "message": (
                    f"书面总结中“{quote}”：{code} {label}的同比取决于"
                    f"尚有未解决审核意见的单位{shown}——计入它们同比{_direction(stated)}，"
                    f"不计入它们（两年均填报的其余{len(both)}个单位）同比{_direction(without)}。"
                    f"请先向这些单位核实{label}：有误的在更正登记表中更正，无误的在豁免登记表中豁免"
                    f"（上年的意见在上年的登记表中处理），再重新运行"
                ),
            }
        )
    return out


def _stated_changes(narrative: Narrative, rows: dict):
    """(block, token, item) of each 同比 of an item the generated prose states, the first time it does."""
    seen = set()
    for block in narrative.blocks:
        if block.source != "generated":
            continue
        for m in TOKEN.finditer(block.text):
            code, _, part = m.group(1).partition("#")
            row = rows.get(code)
            if part != "change" or code in seen or row is None or row["kind"] != "item":
                continue
            seen.add(code)
            yield block, m, code


def _quote(text: str, m, code: str) -> str:
    """The words of the prose that state a 同比 (token `m`): from the clause of the item's first figure
    before it, figures as shown."""
    begin = max(
        (t.start() for t in TOKEN.finditer(text[: m.start()]) if t.group(1) == code),
        default=m.start(),
    )
    return clause(text, begin) + TOKEN.sub(lambda t: t.group(2), text[begin : m.end()])


def added(reasons_frame: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """draft_reasons with more rows, in the order of KINDS."""
    if not rows:
        return reasons_frame
    both = pd.concat([reasons_frame, pd.DataFrame(rows, columns=reasons_frame.columns)], ignore_index=True)
    order = {k: n for n, k in enumerate(KINDS)}
    return both.sort_values("kind", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)


# --- the analyst's own figures (narrative.md) -----------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[。；！？!?;])|\n")
MAGNITUDE = {"": Decimal(1), "万": Decimal(10000), "亿": Decimal(100000000)}
MONEY_BASE = {"元": Decimal(1), "万元": Decimal(10000), "亿元": Decimal(100000000)}  # in 元
ABOUT = ("约", "近", "将近", "大约", "左右")  # within a tenth
OVER = ("余", "多", "超过", "逾", "以上")  # at least the figure, up to a fifth more
NOT_LABEL = re.compile(r"^其中|总额$|总数$|[（(][^）)]*[）)]")


def _label_core(label: str) -> str:
    """What of an item's label a sentence says: 筹集慰问款物总额 → 筹集慰问款物, 其中困难职工 → 困难职工."""
    return NOT_LABEL.sub("", NOT_LABEL.sub("", label))


def _in_order(core: str, clause: str) -> int | None:
    """Where in `clause` the characters of `core` end when they stand in order, close together (发放款物 in
    发放慰问款物); None when they do not."""
    best = None
    for start in (i for i, ch in enumerate(clause) if ch == core[0]):
        pos, ok = start, True
        for ch in core[1:]:
            nxt = clause.find(ch, pos + 1)
            if nxt < 0 or nxt - pos > 3:
                ok = False
                break
            pos = nxt
        if ok and pos - start < 2 * len(core) + 2:
            best = pos + 1
    return best


def _base(amount: Decimal, measure: str) -> tuple[str, Decimal]:
    """(kind of measure, amount in its smallest unit): money in 元, counts as they are."""
    if measure in MONEY_BASE:
        return "元", amount * MONEY_BASE[measure]
    return measure, amount


def analyst_sentences(narrative: Narrative):
    """The sentences of the analyst's own paragraphs (narrative.md), in order."""
    for block in narrative.blocks:
        if block.source == "analyst" and block.kind == "para":
            yield from filter(None, (s.strip() for s in SENTENCE_END.split(block.text)))


def analyst_figures(
    narrative: Narrative, totals: pd.DataFrame, values: pd.DataFrame | None, year: int
) -> list[dict]:
    """A 书面总结 reason for each figure the analyst typed in narrative.md (a number with a measure after the
    words of an item's label, or of a derived figure's) that is none of what the data says it could be: the
    city total, a type's subtotal, a unit's own figure, or last year's total. It names the sentence and the
    total. Item labels and measures come from the totals table (the form file and policy), never from code."""
    rows = [r for r in totals.to_dict("records") if r["kind"] in ("item", "derived") and r.get("label")]
    cores = [(r, _label_core(str(r["label"]))) for r in rows]
    cores = [(r, c) for r, c in cores if len(c) >= 2]
    measures = sorted({str(r["measure"]) for r, _ in cores} | {"元", "亿元"}, key=len, reverse=True)
    number = re.compile(
        r"([约近逾超过多达将]{0,3})(\d[\d,，]*(?:\.\d+)?)(余|多)?\s*(万|亿)?(余|多)?\s*("
        + "|".join(map(re.escape, measures))
        + r")(以上|左右)?"
    )

    @functools.cache
    def by_item() -> dict[str, set[Decimal]]:
        """The units' own figures by item (read once, when a sentence first needs them)."""
        out: dict[str, set[Decimal]] = {}
        if values is not None:
            for code, value in zip(values["item"], values["value"], strict=True):
                d = to_decimal(value)
                if d is not None:
                    out.setdefault(code, set()).add(d)
        return out

    out = []
    for sentence in analyst_sentences(narrative):
        for m in number.finditer(sentence):
            matched = _matched_rows(cores, sentence[: m.start()], m)
            written = _written(m)
            if not matched or written is None:
                continue
            if any(_agrees(written, row, by_item().get(row["item"], set())) for row in matched):
                continue
            row = matched[0]  # the labels read alike (其中困难农民工 in two rows): the first is named
            total = to_decimal(row["value"])
            said = "没有数据" if total is None else f"为 {format_value(total)}{row['measure']}"
            named = f"{row['item']} {row['label']}" if row["kind"] == "item" else row["label"]
            out.append(
                {
                    "kind": TEXT,
                    "unit": "",
                    "item": row["item"] if row["kind"] == "item" else "",
                    "message": (
                        f"{raw_file('narrative', year)} 中“{sentence}”写的 {m.group(0)} 与数据不符："
                        f"{named}的全市合计{said}（也不是哪一类单位的小计、哪个单位的数字或上年合计）。"
                        f"请核对后改正 {raw_file('narrative', year)}，再重新运行"
                    ),
                }
            )
    return out


CHANGE = re.compile(
    r"(同比|比上年|较上年|与上年相比|比去年|较去年)[^，。；\d%％]{0,4}?(增长|增加|提高|上升|下降|减少|降低)了?\s*"
    r"(\d+(?:\.\d+)?)\s*(?:%|％)"
)
FALLS = ("下降", "减少", "降低")


def analyst_changes(narrative: Narrative, totals: pd.DataFrame, year: int) -> list[dict]:
    """A 书面总结 reason for each 同比 the analyst typed in narrative.md (比上年增长24.7%, after the words of
    an item's label) that is not the item's change on the comparable basis (可比口径, as the generated prose
    states it): the two years' city totals compared directly when the units that filled it differ, or a
    figure the data does not give at all. Item labels come from the totals table, never from code."""
    rows = [r for r in totals.to_dict("records") if r["kind"] == "item" and r.get("label")]
    cores = [(r, c) for r in rows if len(c := _label_core(str(r["label"]))) >= 2]
    out = []
    for sentence in analyst_sentences(narrative):
        for m in CHANGE.finditer(sentence):
            row = _named_before(cores, sentence[: m.start()])
            if row is None:
                continue
            problem = _change_problem(row, m)
            if problem:
                out.append(
                    {
                        "kind": TEXT,
                        "unit": "",
                        "item": row["item"],
                        "message": (
                            f"{raw_file('narrative', year)} 中“{sentence}”写的“{m.group(0)}”{problem}"
                            f"请核对后改正 {raw_file('narrative', year)}，再重新运行"
                        ),
                    }
                )
    return out


def _named_before(cores: list[tuple[dict, str]], before: str) -> dict | None:
    """The item whose label the words before a 同比 name last (the longer label when two end alike)."""
    scored = [((end, len(core)), row) for row, core in cores if (end := _in_order(core, before)) is not None]
    return max(scored, key=lambda s: s[0])[1] if scored else None


def _change_problem(row: dict, m: re.Match) -> str:
    """Why a typed 同比 is not the item's comparable change ("" when it is, to the digits written)."""
    digits = m.group(3)
    written = Decimal(digits) * (-1 if m.group(2) in FALLS else 1)
    half = Decimal(5).scaleb(-(len(digits.partition(".")[2])) - 1)
    label = f"{row['item']} {row['label']}"
    comparable = to_decimal(row.get("change_pct", ""))
    direct = aggregate.change_pct(to_decimal(row.get("value", "")), to_decimal(row.get("previous", "")))
    if comparable is None:
        return f"没有依据：{label}没有可比的上年数字（上年没有这一项，或同比未计算），不能写同比。"
    if abs(comparable - written) <= half * Decimal("1.0001"):
        return ""
    stated = f"按可比口径（两年均填报的{row.get('units_comparable', '')}个单位）同比{_direction(comparable)}"
    if direct is not None and abs(direct - written) <= half * Decimal("1.0001"):
        return (
            f"是两年全市合计直接相比，但两年填报这一项的单位不同：{label}{stated}"
            "（自动生成的段落就是这样写的）。同比要按可比口径写，并写明口径。"
        )
    return (
        f"与数据不符：{label}{stated}"
        + (f"，两年全市合计直接相比为{_direction(direct)}" if direct else "")
        + "。"
    )


def _matched_rows(cores: list[tuple[dict, str]], before: str, m: re.Match) -> list[dict]:
    """The rows whose label the words before a figure say, in the figure's kind of measure: those named
    nearest the figure, the longer label first (several when their labels read alike)."""
    clause = before[max((x.end() for x in CLAUSE.finditer(before)), default=0) :]
    kind = _base(Decimal(1), m.group(6))[0]
    scored = []
    for row, core in cores:
        if _base(Decimal(1), str(row["measure"]))[0] != kind:
            continue
        end = _in_order(core, clause)
        if end is not None:
            scored.append(((end, len(core)), row))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [row for score, row in scored if score == best]


def _written(m: re.Match) -> tuple[Decimal, Decimal, str] | None:
    """(amount in the measure's base, the half-unit of its last written digit in that base, how it was
    hedged: '' / 'about' / 'over')."""
    digits = m.group(2).replace(",", "").replace("，", "")
    try:
        amount = Decimal(digits)
    except ArithmeticError:
        return None
    scale = MAGNITUDE[m.group(4) or ""]
    _, unit = _base(scale, m.group(6))
    places = -amount.as_tuple().exponent if "." in digits else 0
    half = Decimal(5).scaleb(-places - 1) * unit
    words = m.group(1) + (m.group(3) or "") + (m.group(5) or "") + (m.group(7) or "")
    hedge = "over" if any(w in words for w in OVER) else "about" if any(w in words for w in ABOUT) else ""
    return amount * unit, half, hedge


def _agrees(written: tuple[Decimal, Decimal, str], row: dict, units: set[Decimal]) -> bool:
    amount, half, hedge = written
    measure = str(row["measure"])
    candidates = [
        to_decimal(row.get(k, "")) for k in ("value", "previous", *(c for c in row if c in UNIT_TYPES))
    ]
    candidates = [c for c in candidates + list(units) if c is not None]
    for c in candidates:
        _, base = _base(c, measure)
        if hedge == "over" and amount - half <= base <= amount * Decimal("1.2") + half:
            return True
        if hedge == "about" and abs(base - amount) <= amount * Decimal("0.1") + half:
            return True
        if abs(base - amount) <= half * Decimal("1.0001"):
            return True
    return False
