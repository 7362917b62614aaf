"""City totals from the values in force: per item, per unit type, derived figures, leading units.

The totals table is the reporting layer's single source: every figure the 书面总结 states is a row here, with
its basis (口径) decided here and nowhere else:

* an item adds up the units that filled it; a 其中 (an item the policy's rules bound by a whole,
  "03A.2 <= 03A.1") only the units that filled its whole too, and one of a pair ("10D.1 ~ 10D.2") only the
  units that filled both;
* a derived figure (a share, a ratio) the units that filled its denominator and its numerator;
* 同比 compares the units in that basis in both years (可比口径), never one year's units with another's;
* the units that reported a form but are not in a figure's basis are named (`left_out`), and the sentence
  says so (`basis`); approximate entries (约, 余, 多, 以上) are counted and, past the policy's share, make
  the total 约 … or … 以上 (`approx`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from wennuan_lib.check.rules import ATTACHED, parse_check, says_attached, unit_dicts  # noqa: F401 (aggregate.ATTACHED)
from wennuan_lib.form import Form
from wennuan_lib.read.parse import APPROX_SUFFIXES, format_value, to_decimal
from wennuan_lib.read.units import UNIT_TYPES
from wennuan_lib.vocab import FORM_LABELS, NOT_REPORTED, REPORTED, UNREADABLE

TOTAL_COLUMNS = [
    "item",
    "kind",
    "label",
    "measure",
    "value",
    *UNIT_TYPES,
    "units_reported",
    "units_missing",
    "previous",
    "change_pct",
    "who",
    "how",
    "basis",
    "left_out",
    "units_previous",
    "units_comparable",
    "value_comparable",
    "previous_comparable",
    "compare",
    "approx",
]
NOT_COMPARED = "口径不同，不作比较"  # an item whose wording changed between the forms, not declared the same
ABOUT, AT_LEAST = "约", "以上"  # a total with approximate entries: 约 …, or … 以上 when they are lower bounds
LOWER_BOUNDS = tuple(w for w in APPROX_SUFFIXES if w != "左右")  # 余, 多, 以上: the true figure is larger


# What a unit's 统计表 is, one count for the text, the totals and the appendices: read (and counted), sent but
# unreadable (ask for another format; not counted), or not sent at all.
MISMATCH = "~"  # Measure.missing: the unit's pair does not match (buses filled, nobody carried)


def form_state(unit: str, read: set[str], unreadable: set[str]) -> str:
    """The code of a unit's form this year (vocab.FORM_LABELS)."""
    return REPORTED if unit in read else (UNREADABLE if unit in unreadable else NOT_REPORTED)


def unreadable_units(log: pd.DataFrame | None) -> set[str]:
    """Units that sent a file that could not be read (ingest_log: rejected, attributed to a unit)."""
    if log is None or not len(log):
        return set()
    return set(log.loc[(log["status"] == "rejected") & (log["unit"] != ""), "unit"])


def attached(values: pd.DataFrame) -> set[tuple[str, str]]:
    """(unit, item) of the blanks a unit wrote "见附件" in: the figure is asked for, not missing."""
    if "raw_text" not in values.columns:
        return set()
    status = values["status"].tolist() if "status" in values.columns else [""] * len(values)
    columns = (values[c].tolist() for c in ("unit", "item", "value", "raw_text"))  # not cell by cell
    return {
        (u, i)
        for u, i, v, raw, st in zip(*columns, status, strict=True)
        if not v and (st == "attached" or says_attached(raw))
    }


def in_totals(values: pd.DataFrame) -> pd.Series:
    """Which rows count towards the city totals: units in the registry (an unregistered unit is
    counted once the analyst adds it to inputs/units.csv)."""
    return values["registered"].astype(bool)


def printed(totals: pd.DataFrame, codes: list[str]) -> dict[str, Decimal | None]:
    """{code: the city total as the totals table states it (a 其中 over the units that filled its whole)}:
    what the form's own checks are run on at city level, as on a unit's form."""
    items = totals[totals["kind"] == "item"]
    got = {c: to_decimal(v) for c, v in zip(items["item"], items["value"], strict=True)}
    return {c: got.get(c) for c in codes}


def _q(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def change_pct(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or not before:
        return None
    change = _q((now - before) / before * 100, 1)
    return abs(change) if change == 0 else change  # a fall rounding to nothing is 0.0, never -0.0


def definition(d, form: Form) -> str:
    """A derived figure's definition in words:
    发放款物（06.1）÷ 慰问困难家庭总数（04C.1）× 10000（万元折合为元）."""

    def name(code: str) -> str:
        return f"{form.item(code).label.removeprefix('其中')}（{code}）"

    text = " + ".join(name(c) for c in d.num)
    if not d.den:
        return text
    text = (f"（{text}）" if len(d.num) > 1 else text) + f" ÷ {name(d.den)}"
    if d.factor != 1:
        money = [form.item(c).is_money for c in d.num]
        text += f" × {d.factor}" + ("（万元折合为元）" if all(money) and d.factor == 10000 else "")
    if d.measure == "%":
        text += " × 100%"
    return text


@dataclass(frozen=True)
class Measure:
    """What one figure adds up over a set of units: the sum of `num`, or that sum ÷ the sum of `den` ×
    factor (× 100 % for a share). A unit counts towards it when it filled a part of `num`, the `den` and
    every code of `needs` (a 其中's whole, a pair's other half), and its figure and that of each code of
    `paired` are both zero or both positive (a pair that does not match — buses that carried nobody — is not
    counted)."""

    num: tuple[str, ...]
    den: str = ""
    factor: int = 1
    percent: bool = False
    needs: tuple[str, ...] = ()
    paired: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return (*([self.den] if self.den else []), *self.needs)

    def missing(self, vals: dict) -> str | None:
        """None when the unit counts; else the code it left blank ("" for the figure itself), or
        MISMATCH + the code of the pair's other half that does not match it."""
        if not any(vals.get(c) is not None for c in self.num):
            return ""
        blank = next((c for c in self.required if vals.get(c) is None), None)
        if blank is not None:
            return blank
        mine = any(vals[c] for c in self.num if vals.get(c) is not None)
        return next((MISMATCH + c for c in self.paired if bool(vals[c]) != mine), None)

    def counts(self, vals: dict) -> bool:
        return self.missing(vals) is None

    def members(self, units: dict[str, dict]) -> list[str]:
        """The units that count (`counts`, written out: it runs for every unit and figure of a year, and of
        last year for 同比). A single figure without a pair — most items — is one test per unit."""
        num, required, paired = self.num, self.required, self.paired
        if len(num) == 1 and not paired:
            code = num[0]
            return [
                u
                for u, vals in units.items()
                if vals.get(code) is not None and None not in map(vals.get, required)
            ]
        out = []
        for unit, vals in units.items():
            filled = [v for c in num if (v := vals.get(c)) is not None]
            if not filled or any(vals.get(c) is None for c in required):
                continue
            if paired:
                mine = any(filled)
                if any(bool(vals[c]) != mine for c in paired):
                    continue
            out.append(unit)
        return out

    def of(self, units: dict[str, dict], members: Iterable[str]) -> Decimal | None:
        members = list(members)
        if not members:
            return None
        num = sum((units[u][c] for u in members for c in self.num if units[u].get(c) is not None), Decimal(0))
        if not self.den:
            return num
        den = sum((units[u][self.den] for u in members), Decimal(0))
        if not den:
            return None
        ratio = num / den * Decimal(self.factor)
        return _q(ratio * 100, 1) if self.percent else _q(ratio, 0)


def _single(side) -> str | None:
    return side[0][1] if len(side) == 1 and side[0][0] == 1 else None


def wholes(form: Form) -> dict[str, str]:
    """{其中 item: its whole}, from the policy's part <= whole rules whose part the form prints as 其中…
    (the first such rule: 02A.2 其中困难农民工 is within 02A.1, not 01A.2)."""
    out: dict[str, str] = {}
    for rule in form.policy.rules:
        check = parse_check(rule.check)
        part, whole = _single(check.left), _single(check.right)
        if check.op == ">=":
            part, whole = whole, part
        if check.op in ("<=", ">=") and part and whole and part in form.codes and whole in form.codes:
            if form.item(part).label.startswith("其中"):
                out.setdefault(part, whole)
    return out


def pairs(form: Form) -> dict[str, str]:
    """{item: its other half} of the policy's pair rules ("10D.1 ~ 10D.2": buses and the people they
    carried)."""
    out: dict[str, str] = {}
    for rule in form.policy.rules:
        check = parse_check(rule.check)
        a, b = _single(check.left), _single(check.right)
        if check.op == "~" and a and b:
            out.setdefault(a, b)
            out.setdefault(b, a)
    return out


def sums_of(form: Form) -> dict[str, tuple[str, ...]]:
    """{total: its parts} of the policy's whole == Σ parts rules (05.1 == 05A.1 + … + 05D.1)."""
    out: dict[str, tuple[str, ...]] = {}
    for rule in form.policy.rules:
        check = parse_check(rule.check)
        whole = _single(check.left)
        if check.op == "==" and whole and all(f == 1 for f, _ in check.right):
            out.setdefault(whole, tuple(c for _, c in check.right))
    return out


def item_measure(code: str, form: Form, within: dict[str, str], pair: dict[str, str]) -> Measure:
    other = (pair[code],) if code in pair else ()
    return Measure((code,), needs=tuple(c for c in (within.get(code), *other) if c), paired=other)


def derived_measure(d) -> Measure:
    return Measure(tuple(d.num), d.den, d.factor, d.measure == "%")


def comparable(
    m: Measure,
    now: dict[str, dict],
    before: dict[str, dict],
    leave_out: Iterable[str] = (),
    counted: tuple[list[str], list[str]] | None = None,
) -> tuple[list[str], Decimal | None, Decimal | None]:
    """可比口径: the units that count towards `m` in both years (less `leave_out`), in this year's order, and
    the figure of each year over them. `counted`: `m.members` of each year, when the caller has them (3,000
    units with a previous year: asking `m.counts` of each unit of both years, for each figure, was half of
    the totals' time)."""
    members, earlier = counted or (m.members(now), m.members(before))
    out, counted_before = set(leave_out), set(earlier)
    both = [u for u in members if u in counted_before and u not in out]
    return both, m.of(now, both), m.of(before, both)


def approx_flags(values: pd.DataFrame) -> dict[tuple[str, str], str]:
    """{(unit, item): 约 or 以上} for the entries written as approximations (以上 when a lower bound: 余, 多,
    以上)."""
    out = {}
    if "approx" not in values.columns:
        return out
    raw = values["raw_text"].tolist() if "raw_text" in values.columns else [""] * len(values)
    columns = (values[c].tolist() for c in ("unit", "item", "approx"))  # not cell by cell
    for unit, code, approx, text in zip(*columns, raw, strict=True):
        if approx is True or str(approx) == "True":
            words = str(text).rstrip("元万人次户名个场家辆列节艘架对张 ")
            out[(unit, code)] = AT_LEAST if words.endswith(LOWER_BOUNDS) else ABOUT
    return out


def names(units: list[str], listed: int) -> str:
    """昆山市总工会、市交通运输系统工会; more than `listed`: the first of them 等N个单位."""
    if len(units) <= listed:
        return "、".join(units)
    return "、".join(units[:listed]) + f"等{len(units)}个单位"


def left_out_words(
    m: Measure,
    units: dict[str, dict],
    members: list[str],
    form: Form,
    listed: int,
    ratio: bool = False,
    asked: set[tuple[str, str]] = frozenset(),
) -> tuple[str, list[str]]:
    """Why the units that reported a form are not in `m`'s basis, in words (昆山市总工会未填；园区总工会未填
    已建档困难职工家庭，未计入; 市卫生工会填写“见附件”，待补报), and their names. `asked`: the (unit, item)
    a unit wrote 见附件 in."""
    inside = set(members)
    groups: dict[str, list[str]] = {}
    for unit, vals in units.items():
        if unit not in inside:
            why = m.missing(vals) or ""
            if why == "" and all((unit, c) in asked for c in m.num):
                why = ATTACHED
            groups.setdefault(why, []).append(unit)
    parts = []
    for code, who in sorted(groups.items(), key=lambda kv: (kv[0] not in ("", ATTACHED), kv[0] != "", kv[0])):
        if code == "":
            parts.append(f"{names(who, listed)}未填")
        elif code == ATTACHED:
            parts.append(f"{names(who, listed)}填写“{ATTACHED}”，待补报")
        elif code.startswith(MISMATCH):
            other = form.item(code.removeprefix(MISMATCH)).label
            mine = "、".join(form.item(c).label for c in m.num)
            parts.append(f"{names(who, listed)}所填{mine}与{other}不配套，未计入")
        else:
            label = form.item(code).label.removeprefix("其中")
            parts.append(f"{names(who, listed)}未填{label}" + ("" if ratio else "，所填数字未计入"))
    return "；".join(parts), [u for who in groups.values() for u in who]


def reworded(form: Form, previous: pd.DataFrame | None) -> dict[str, str]:
    """{code: last year's wording} of the items whose wording changed since last year's form and which the
    policy does not declare the same concept (report.basis.same_concept): not compared."""
    if previous is None or "label" not in previous.columns:
        return {}
    same = set(form.policy.report.basis.same_concept)
    rows = previous[previous["kind"] == "item"] if "kind" in previous.columns else previous
    out = {}
    for code, label in zip(rows["item"], rows["label"], strict=True):
        if code in form.codes and label and label != form.item(code).label and code not in same:
            out[code] = label
    return out


def _approx(
    m: Measure, units: dict, members: list[str], total: Decimal | None, flags: dict, share: float
) -> tuple[str, str]:
    """The total's approximation mark (约, 以上 or "") and the note for its definition."""
    marked = [
        (u, c, flags[(u, c)])
        for u in members
        for c in m.num
        if (u, c) in flags and units[u].get(c) is not None
    ]
    if not marked:
        return "", ""
    part = sum((units[u][c] for u, c, _ in marked), Decimal(0))
    kinds = {k for *_, k in marked}
    note = f"；含约数{len(marked)}项（{names(sorted({u for u, *_ in marked}), 3)}），计{format_value(part)}"
    if total and part / total > Decimal(str(share)):
        return (AT_LEAST if kinds == {AT_LEAST} else ABOUT), note
    return "", note


def build_totals(
    values: pd.DataFrame,
    form: Form,
    expected_units: list[str],
    summary_units: set[str],
    previous: pd.DataFrame | None = None,
    previous_values: pd.DataFrame | None = None,
    unreadable: set[str] | None = None,
    units: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """Every figure of the report, one row each, with its basis (see the module's docstring). `previous`:
    last year's totals, `previous_values` last year's values (both keyed by this year's codes): 同比 is on the
    units that count in both years. `units`: `unit_dicts(values)`, when the caller has it already."""
    year = _Year.of(values, form, previous, previous_values, units)
    rows = _item_rows(year, form)
    rows += _count_rows(year, expected_units, summary_units, set(unreadable or ()))
    rows += _derived_rows(year, form)
    rows += _rank_rows(year, form)
    frame = pd.DataFrame(rows, columns=TOTAL_COLUMNS, dtype=object)
    for col in ("units_reported", "units_missing", "units_previous", "units_comparable"):
        frame[col] = [str(int(x)) if pd.notna(x) and x != "" else "" for x in frame[col]]
    return frame.fillna("")


@dataclass
class _Year:
    """What every row of the totals is computed from: the units counted this year (and last year), their
    approximate and 见附件 entries, last year's published totals and the items reworded since."""

    counted: pd.DataFrame
    units: dict[str, dict]
    before_units: dict[str, dict] | None
    flags: dict[tuple[str, str], str]
    asked: set[tuple[str, str]]
    prev: dict
    changed: dict[str, str]
    approx: dict[str, str]  # item → its total's mark (约, 以上), once the item rows are made

    @classmethod
    def of(
        cls,
        values: pd.DataFrame,
        form: Form,
        previous: pd.DataFrame | None,
        previous_values: pd.DataFrame | None,
        units: dict[str, dict] | None = None,
    ) -> _Year:
        inside = in_totals(values)
        counted = values[inside]
        before_units = None
        if previous_values is not None:
            before_units = unit_dicts(previous_values[in_totals(previous_values)])
        names = set(counted["unit"])
        if units is None or names & set(values.loc[~inside, "unit"]):  # a unit both in and out: by its rows
            units = unit_dicts(counted)
        else:
            units = {u: vals for u, vals in units.items() if u in names}
        return cls(
            counted,
            units,
            before_units,
            approx_flags(counted),
            attached(counted),
            {} if previous is None else dict(zip(previous["item"], previous["value"], strict=True)),
            reworded(form, previous),
            {},
        )

    def yoy(self, m: Measure, key: str, members: list[str]) -> dict:
        """The 上年 and 同比 columns: last year's total as published, and the change on the comparable
        basis (`members`: the units that count towards `m` this year)."""
        row = {"previous": format_value(to_decimal(self.prev.get(key, "")))}
        if key in self.changed:
            row["compare"] = f"{NOT_COMPARED}：上年表式为「{self.changed[key]}」"
            return row
        if self.before_units is None:
            return row
        earlier = m.members(self.before_units)
        both, now, then = comparable(m, self.units, self.before_units, counted=(members, earlier))
        row.update(
            units_previous=len(earlier),
            units_comparable=len(both),
            value_comparable=format_value(now),
            previous_comparable=format_value(then),
            change_pct="" if m.percent else format_value(change_pct(now, then)),
        )
        return row


def _item_rows(year: _Year, form: Form) -> list[dict]:
    """One row per item of the form: the city total, by unit type, on its basis."""
    basis = form.policy.report.basis
    within, pair = wholes(form), pairs(form)
    units = year.units
    types = dict(zip(year.counted["unit"].tolist(), year.counted["unit_type"].tolist(), strict=True))
    rows = []
    for item in form.items:
        m = item_measure(item.code, form, within, pair)
        members = m.members(units)
        total = m.of(units, members)
        by_type: dict[str, Decimal] = {}
        for u in members:
            by_type[types[u]] = by_type.get(types[u], Decimal(0)) + units[u][item.code]
        why, out = left_out_words(m, units, members, form, basis.listed, asked=year.asked)
        mark, note = _approx(m, units, members, total, year.flags, basis.approx_share)
        year.approx[item.code] = mark
        n, blank = len(members), len(units) - len(members)
        rows.append(
            {
                "item": item.code,
                "kind": "item",
                "label": item.label,
                "measure": item.unit,
                "value": format_value(total),
                **{t: format_value(by_type.get(t)) for t in UNIT_TYPES},
                "units_reported": n,
                "units_missing": blank,
                "who": "",
                "how": f"{n}个单位合计" + (f"（{why}）" if why else "") + note,
                "basis": why,
                "left_out": "、".join(out),
                "approx": mark,
                **year.yoy(m, item.code, members),
            }
        )
    return rows


def _count_rows(
    year: _Year, expected_units: list[str], summary_units: set[str], unreadable: set[str]
) -> list:
    """The counts of units: expected, sent, counted, unreadable, not sent, with a written summary."""
    read = set(year.counted["unit"])
    state = [form_state(u, read, unreadable) for u in expected_units]
    counts = [
        ("units_expected", "应报单位", len(expected_units), "单位名录中的单位"),
        (
            "units_sent",
            "已报送统计表的单位",
            state.count(REPORTED) + state.count(UNREADABLE),
            f"名录中已报统计表的单位（{FORM_LABELS[REPORTED]}及{FORM_LABELS[UNREADABLE]}）",
        ),
        (
            "units_reported",
            "已报送并计入汇总的单位",
            state.count(REPORTED),
            f"名录中{FORM_LABELS[REPORTED]}且读取成功的单位",
        ),
        (
            "units_unreadable",
            "已报送但无法读取的单位",
            state.count(UNREADABLE),
            f"名录中{FORM_LABELS[UNREADABLE]}的单位：未计入合计，已请其改用可读取的格式报送",
        ),
        ("units_not_reported", "未报送统计表的单位", state.count(NOT_REPORTED), "名录中未报统计表的单位"),
        (
            "units_summary",
            "报送书面总结材料的单位",
            len(summary_units & set(expected_units)),
            "名录中已报书面总结的单位",
        ),
    ]
    rows = []
    for key, label, n, how in counts:
        before = to_decimal(year.prev.get(key, ""))
        rows.append(
            {
                "item": key,
                "kind": "count",
                "label": label,
                "measure": "个",
                "value": str(n),
                "previous": format_value(before),
                "change_pct": format_value(change_pct(Decimal(n), before)),
                "how": how,
            }
        )
    return rows


def _derived_rows(year: _Year, form: Form) -> list[dict]:
    """The policy's derived figures (shares, ratios), each over the units that filled all its parts; 约 when
    an item it is made of is."""
    basis = form.policy.report.basis
    units = year.units
    rows = []
    for d in form.policy.report.derived:
        m = derived_measure(d)
        members = m.members(units)
        value = m.of(units, members)
        why, out = left_out_words(m, units, members, form, basis.listed, ratio=bool(d.den))
        mark = ABOUT if any(year.approx.get(c) for c in m.num + m.required) else ""
        rows.append(
            {
                "item": d.key,
                "kind": "derived",
                "label": d.label,
                "measure": d.measure,
                "value": format_value(value),
                "units_reported": len(members),
                "units_missing": len(units) - len(members),
                "how": definition(d, form) + f"；{len(members)}个单位" + (f"（{why}）" if why else ""),
                "basis": why,
                "left_out": "、".join(out),
                "approx": mark,
                **year.yoy(m, d.key, members),
            }
        )
    return rows


def _rank_rows(year: _Year, form: Form) -> list[dict]:
    """The leading units of each ranked item; a unit that left the item blank but filled its parts is
    ranked by their sum, and the row says so."""
    spec = form.policy.report
    totals_of = sums_of(form)
    rows = []
    for code in spec.rankings:
        parts = totals_of.get(code, ())
        ranked = []
        for unit, vals in year.units.items():
            if vals.get(code) is not None:
                ranked.append((vals[code], unit, ""))
            elif any(vals.get(c) is not None for c in parts):
                got = sum((vals[c] for c in parts if vals.get(c) is not None), Decimal(0))
                ranked.append((got, unit, f"未填{form.item(code).label}，按各分项之和计"))
        ranked.sort(key=lambda r: (-r[0], r[1]))
        for rank, (figure, unit, why) in enumerate(ranked[: spec.top], 1):
            rows.append(
                {
                    "item": f"top.{code}.{rank}",
                    "kind": "rank",
                    "label": f"{form.item(code).label}第{rank}位",
                    "measure": form.item(code).unit,
                    "value": format_value(figure),
                    "who": unit,
                    "how": f"{unit} 的 {code}" + (f"（{why}）" if why else ""),
                    "basis": why,
                    "approx": "",
                }
            )
    return rows


def unit_table(values: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Units as rows (in the order of the values table), item codes as columns, the values as written there
    ("" where none). attrs: "types" unit → unit type, "registered" the registered units."""
    first = values.drop_duplicates("unit")
    wide = values.pivot(index="unit", columns="item", values="value").reindex(
        index=first["unit"], columns=codes
    )
    wide = wide.fillna("")
    wide.attrs = {
        "types": dict(zip(first["unit"], first["unit_type"], strict=True)),
        "registered": set(first.loc[in_totals(first), "unit"]),
    }
    return wide
