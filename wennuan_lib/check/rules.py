"""The rules engine (审核): the policy's rules, plausibility, slips, peers and history, per unit and on
totals.

Every rule comes from policy.yaml, resolved to the year's codes by its form. A rule's ``check`` is a small
expression over item codes (``05.1 == 05A.1 + 05B.1 + 05C.1 + 05D.1``, ``06.1 <= 1.2 * 05.1``,
``10B.1 ~ 10B.2``).
A rule with a missing item is not evaluated: the missing item raises its own 未填 warning.
Each finding quotes the figures in Chinese.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import pandas as pd

from wennuan_lib.form import ABSENT_NOTE, Form
from wennuan_lib.policy import Rule
from wennuan_lib.read import versions
from wennuan_lib.read.parse import VALUE_LABELS, format_value, to_decimal

ERROR, WARNING = "error", "warning"
SEVERITY_LABELS = {ERROR: "必须修改", WARNING: "请核实"}
CHECK_TYPES = {"hard": "强制性审核", "soft": "提示性审核", "history": "历史审核"}
MONEY_TOLERANCE = Decimal("0.01")
TOTALS = "全市合计"

# Checks on single blanks, with their ids.
MISSING_ID, UNREADABLE_ID, NOT_FOUND_ID, APPROX_ID, AUDIT_ID = "N01", "N02", "N03", "N04", "A01"
REVISED_ID, DATE_ID = (
    "R01",
    "D01",
)  # a blank read from a Word revision; a form's 填报日期 unreadable or out of range
EMPTY_ID, FORM_YEAR_ID = "E01", "F01"  # per unit: nothing filled at all; another year's form
SUMMARY_ID = "T01"  # a figure the unit's 书面总结 states differs from its form (summary_check)
UNIT_ID = "U01"  # a form whose 填报单位 names one registered unit and its file name another
CHECK_FAILED_ID = "X01"  # a check that broke on one unit's data: that unit's checks are not complete
VERSIONS_ID = "V01"  # two versions of a unit's form the 填报日期 cannot order, with different figures
ATTACHED = "见附件"  # a blank a unit filled with "见附件": the figure is asked for (待补报), not left blank


def says_attached(raw: object) -> bool:
    """A blank's text points to an attachment (见附件, 详见附件 …) instead of giving the figure."""
    return ATTACHED in str(raw).replace(" ", "").replace("\u3000", "")


ABSENT_RX = re.compile("^" + re.escape(ABSENT_NOTE).replace(re.escape("{year}"), r"\d{4}") + "$")
ACTIONS = {
    "hard": "请核对并修改相关数字，使其符合表内关系后重新报送",
    "soft": "请核实；如数字无误，请回复确认",
    "history": "请核实，或说明与上年相比变化较大的原因",
    MISSING_ID: "请补填；确实没有的请填0",
    UNREADABLE_ID: "请改填为一个数字",
    "attached": "请把附件中的这个数字填入统计表的这一格后重新报送",
    NOT_FOUND_ID: "表中这一句被删改，请按下发的表式补填",
    APPROX_ID: "请提供准确数字，或回复确认按此数统计",
    AUDIT_ID: "请检查更正登记表或豁免登记表中的单位名称、项目代码和数值",
    REVISED_ID: "请确认修订后的数字是否为最终数字",
    DATE_ID: "请核实填报日期（如有修改稿，请注明日期后重新报送）",
    "yuan": "请核实金额单位：本表金额一律以万元为单位",
    "repeats": "请核实：确与上年相同的，请回复确认；照抄了上年数字的，请按本年实际重新填报",
    EMPTY_ID: "请填写统计表后重新报送（确实没有的项目请填0）",
    FORM_YEAR_ID: "请用本年度下发的表式重新填报",
    SUMMARY_ID: "请核实哪个数字正确：统计表有误的，请修改后重新报送；书面总结有误的，请更正书面总结",
    UNIT_ID: (
        "请确认这份统计表是哪个单位的：确是本单位的，请回复确认；是其他单位的，请该单位在表上写明填报单位后重新报送"
    ),
    CHECK_FAILED_ID: (
        "请先按报来的文件人工核对这个单位的数字；也可请单位把统计表复制到新文件后重新报送，"
        "并把这条提示和运行记录转给维护人员"
    ),
    VERSIONS_ID: (
        "请确认哪一份是最终的统计表；如不是本次采用的一份，请在正确的一份上填写当天的填报日期后重新报送"
    ),
}
FINDING_COLUMNS = [
    "unit",
    "unit_type",
    "item",
    "items",
    "rule",
    "check_type",
    "severity",
    "message",
    "action",
]

TERM = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?(\d\d[A-Z]?\.\d)\s*$")


@dataclass(frozen=True)
class Check:
    op: str
    left: tuple[tuple[Decimal, str], ...]
    right: tuple[tuple[Decimal, str], ...]

    @property
    def codes(self) -> list[str]:
        return [c for _, c in self.left + self.right]


def parse_side(text: str) -> tuple[tuple[Decimal, str], ...]:
    terms = []
    for part in text.split("+"):
        m = TERM.match(part)
        if not m:
            raise ValueError(f"审核规则写法有误：「{text}」（应为项目代码之和，如 05A.1 + 05B.1）")
        terms.append((Decimal(m.group(1) or 1), m.group(2)))
    return tuple(terms)


@lru_cache(maxsize=512)
def parse_check(text: str) -> Check:
    for op in ("<=", ">=", "==", "~"):
        if op in text:
            left, right = text.split(op)
            return Check(op, parse_side(left), parse_side(right))
    raise ValueError(f"审核规则写法有误：「{text}」（应含 <=、>=、== 或 ~）")


CHINESE_COUNTS = "零一二三四五六七八九十"


def count_word(n: int) -> str:
    """四 for 4 (how many items a sum adds up), digits beyond ten."""
    return "两" if n == 2 else CHINESE_COUNTS[n] if 0 <= n <= 10 else str(n)


class Describer:
    """Chinese wording of items and figures in the form's own terms, as a unit's clerk reads them: the row as
    printed and the item's words, never its code: `05行“筹集慰问款物总额”599.19万元`. (The codes go in a
    column of their own, for the analyst.)"""

    def __init__(self, form: Form):
        self.form = form

    def name(self, code: str) -> str:
        return f"{code[:2]}行“{self.form.item(code).label}”"

    def amount(self, code: str, value: Decimal | None) -> str:
        return f"{format_value(value)}{self.form.item(code).unit}" if value is not None else "未填"

    def item(self, code: str, value: Decimal | None) -> str:
        return f"{self.name(code)}{self.amount(code, value)}"

    def side(self, terms, values: dict) -> str:
        if len(terms) == 1 and terms[0][0] == 1:
            code = terms[0][1]
            return self.item(code, values.get(code))
        total = self.amount(terms[0][1], _side_value(terms, values))
        if len(terms) == 1:  # 1.2 × 05.1: “筹集慰问款物总额”的1.2倍
            f, code = terms[0]
            return f"{self.name(code)}的{format_value(f)}倍（{total}）"
        labels = "".join(f"“{self.form.item(c).label}”" for _, c in terms)
        return f"{labels}{count_word(len(terms))}项之和{total}"


def _broken(check: Check, vals: dict, tol: Decimal, say: Describer) -> tuple[str, str] | None:
    """A rule with every figure filled in: (left, right) as the message quotes them when it is broken."""
    if check.op == "~":
        a, b = vals[check.left[0][1]], vals[check.right[0][1]]
        ok = (a == 0) == (b == 0)
    else:
        lv, rv = _side_value(check.left, vals), _side_value(check.right, vals)
        ok = {"<=": lv <= rv + tol, ">=": lv + tol >= rv, "==": abs(lv - rv) <= tol}[check.op]
    return None if ok else (say.side(check.left, vals), say.side(check.right, vals))


def _broken_with_blanks(check: Check, vals: dict, tol: Decimal, say: Describer) -> tuple[str, str] | None:
    """A rule with a blank among its figures is broken all the same when the parts that are filled in already
    exceed a side known in full (no figure is negative): 05A.1 + 05B.1 + 05C.1 = 170 > 05.1 = 1, whatever
    05D.1 is. Then (left, right) as the message quotes them, the blanks named; else None."""
    if check.op == "~":
        return None
    pairs = {
        "<=": [(check.left, check.right)],
        ">=": [(check.right, check.left)],
        "==": [(check.left, check.right), (check.right, check.left)],
    }[check.op]
    for small, big in pairs:
        known = [(f, c) for f, c in small if vals.get(c) is not None]
        blank = [c for _, c in small if vals.get(c) is None]
        if (
            not known
            or not blank
            or any(vals.get(c) is None for _, c in big)
            or any(f <= 0 for f, _ in small)
            or _side_value(known, vals) <= _side_value(big, vals) + tol
        ):
            continue
        partial = f"{say.side(known, vals)}（{'、'.join(say.name(c) for c in blank)}未填）"
        full = say.side(big, vals)
        return (partial, full) if small is check.left else (full, partial)
    return None


def _sum_text(terms, vals: dict, say: Describer) -> str:
    """A side's sum as a message states it: 25045人次, or with the blanks named (…未填)."""
    known = [(f, c) for f, c in terms if vals.get(c) is not None]
    blank = [c for _, c in terms if vals.get(c) is None]
    total = say.amount(terms[0][1], _side_value(known, vals)) if known else "未填"
    return total + (f"（{'、'.join(say.name(c) for c in blank)}未填）" if blank and known else "")


def _side_value(terms, values: dict) -> Decimal:
    return sum((f * values[c] for f, c in terms), Decimal(0))


def unit_dicts(values: pd.DataFrame) -> dict[str, dict[str, Decimal | None]]:
    """{unit: {code: value or None}} from a values table (value in force as text)."""
    out: dict[str, dict[str, Decimal | None]] = {}
    for unit, code, value in zip(
        values["unit"].tolist(), values["item"].tolist(), values["value"].tolist(), strict=True
    ):
        out.setdefault(unit, {})[code] = to_decimal(value)
    return out


def is_open(issues: pd.DataFrame) -> pd.Series:
    """Which findings are still open: every finding not waived (a corrected figure no longer raises its
    own)."""
    return ~issues["waived"].astype(bool)


def open_errors(issues: pd.DataFrame) -> pd.DataFrame:
    """Open errors (必须修改): neither corrected nor waived. They keep the report a draft."""
    return issues[(issues["severity"] == ERROR) & is_open(issues)]


def make_finding(unit, unit_type, items, rule, check_type, severity, message, action) -> dict:
    items = list(items)
    return {
        "unit": unit,
        "unit_type": unit_type,
        "item": items[0] if items else "",
        "items": "|".join(items),
        "rule": rule,
        "check_type": CHECK_TYPES[check_type],
        "severity": severity,
        "message": message,
        "action": action,
    }


def spec_finding(
    spec, unit: str, types: dict, codes: list[str], message: str, kind="soft", action=None
) -> dict:
    """A finding of a policy check (`spec`: its id and severity) about one unit; the action is the kind's
    unless `action` names another."""
    return make_finding(
        unit, types.get(unit, ""), codes, spec.id, kind, spec.severity, message, ACTIONS[action or kind]
    )


def compile_rules(form: Form) -> list[tuple[Rule, Check, list[str], Decimal]]:
    """The policy's rules for this form, parsed once: (rule, check, codes, tolerance)."""
    out = []
    for rule in form.policy.rules:
        check = parse_check(rule.check)
        money = any(form.item(c).is_money for c in check.codes)
        out.append((rule, check, check.codes, MONEY_TOLERANCE if money else Decimal(0)))
    return out


def check_form_rules(
    unit: str, unit_type: str, vals: dict, form: Form, compiled: list | None = None
) -> list[dict]:
    """The form's own rules (part ≤ whole, sums, pairs, plausibility) on one set of figures."""
    say = Describer(form)
    findings = []
    for rule, check, codes, tol in compiled or compile_rules(form):
        sides = (
            _broken_with_blanks(check, vals, tol, say)
            if any(vals.get(c) is None for c in codes)
            else _broken(check, vals, tol, say)
        )
        if sides is not None:
            message = rule.message.format(
                left=sides[0],
                right=sides[1],
                row=f"{check.left[0][1][:2]}行",
                name=say.name(check.left[0][1]),
                lsum=_sum_text(check.left, vals, say),
                rsum=_sum_text(check.right, vals, say),
                n=count_word(len(check.right)),
            )
            findings.append(
                make_finding(
                    unit,
                    unit_type,
                    check.codes,
                    rule.id,
                    rule.kind,
                    rule.severity,
                    message,
                    ACTIONS[rule.kind],
                )
            )
    mph = form.policy.money_per_household
    if mph:
        num, den = vals.get(mph.numerator), vals.get(mph.denominator)
        if num is not None and den:
            ratio = num * Decimal(mph.factor) / den
            if not (Decimal(mph.low) <= ratio <= Decimal(mph.high)):
                message = mph.message.format(
                    ratio=format_value(ratio.quantize(Decimal(1))),
                    left=say.item(mph.numerator, num),
                    right=say.item(mph.denominator, den),
                    low=mph.low,
                    high=mph.high,
                )
                findings.append(
                    make_finding(
                        unit,
                        unit_type,
                        [mph.numerator, mph.denominator],
                        mph.id,
                        "soft",
                        mph.severity,
                        message,
                        ACTIONS["soft"],
                    )
                )
    return findings


def check_blanks(values: pd.DataFrame, form: Form) -> list[dict]:
    """Per blank: 未填, 无法识别, 表中未找到, 约数, and a figure read from a Word revision; a unit that filled
    nothing at all is one finding (E01). An item another year's form lacks is not a blank of its own: F01
    names it."""
    say = Describer(form)
    findings, empty = _empty_forms(values)
    revised = values["revised"].astype(bool) if "revised" in values else pd.Series(False, index=values.index)
    if "corrected" in values:  # the analyst's correction settles what the revision said
        revised &= ~values["corrected"].astype(bool)
    notable = ((values["status"] != "ok") | values["approx"].astype(bool) | revised) & ~values["unit"].isin(
        empty
    )
    if "note" in values:
        notable &= ~values["note"].fillna("").str.match(ABSENT_RX)
    for row, was_revised in zip(
        values[notable].itertuples(index=False), revised[notable].tolist(), strict=True
    ):
        findings += _blank_findings(row, was_revised, say)
    return findings


def _empty_forms(values: pd.DataFrame) -> tuple[list[dict], set[str]]:
    """One finding (E01) per unit that filled nothing at all, and those units."""
    findings = []
    filled = values["status"].isin(["ok", "unreadable"]).groupby(values["unit"]).any()
    empty = set(filled.index[~filled])
    for unit in dict.fromkeys(values["unit"]):
        if unit in empty:
            rows = values[values["unit"] == unit]
            findings.append(
                make_finding(
                    unit,
                    rows["unit_type"].iloc[0],
                    [],
                    EMPTY_ID,
                    "hard",
                    ERROR,
                    f"统计表全部未填：{len(rows)}项中没有一项填了数字",
                    ACTIONS[EMPTY_ID],
                )
            )
    return findings, empty


def _blank_findings(row, was_revised: bool, say: Describer) -> list[dict]:
    """One blank's findings: read from a Word revision, and 未填, 见附件, 无法识别, 表中未找到 or 约数."""
    code = row.item
    label = say.name(code)

    def finding(rule_id: str, kind: str, severity: str, message: str, action: str = "") -> dict:
        action = action or ACTIONS[rule_id]
        return make_finding(row.unit, row.unit_type, [code], rule_id, kind, severity, message, action)

    out = []
    if was_revised:
        shown = row.raw_text.strip() or "（空白）"
        out.append(
            finding(
                REVISED_ID,
                "soft",
                WARNING,
                f"{label} 填的「{shown}」来自Word修订（报送的文件中修订未接受），已按修订后的文字读取",
            )
        )
    if row.status == "missing":
        out.append(finding(MISSING_ID, "soft", WARNING, f"{label} 未填"))
    elif row.status == "unreadable" and says_attached(row.raw_text):
        out.append(
            finding(
                UNREADABLE_ID,
                "hard",
                ERROR,
                f"{label} 填的是「{row.raw_text.strip()}」：这一项的数字要填在统计表上，"
                "附件里的数字不计入全市合计（书面总结中列为待补报）",
                ACTIONS["attached"],
            )
        )
    elif row.status == "unreadable":
        out.append(
            finding(
                UNREADABLE_ID,
                "hard",
                ERROR,
                f"{label} 填的是「{row.raw_text.strip()}」，无法识别为数字（{row.note}）",
            )
        )
    elif row.status == "not_found":
        why = row.note if row.note and row.note != "表中未找到这一句，可能被删改" else "这一句可能被删改"
        out.append(finding(NOT_FOUND_ID, "hard", ERROR, f"{label} 在表中未找到（{why}）"))
    elif bool(row.approx):
        out.append(
            finding(
                APPROX_ID,
                "soft",
                WARNING,
                f"{label} 填的是约数「{row.raw_text.strip()}」，暂按 "
                f"{say.amount(code, to_decimal(row.value))} 统计",
            )
        )
    return out


def check_dates(submissions: pd.DataFrame) -> list[dict]:
    """Per form: a 填报日期 that could not be read, or lies after the report date or before the notice
    (ingest's `date_problem`). Such a date does not decide which of a unit's forms is in force."""
    if "date_problem" not in submissions:
        return []
    findings = []
    for row in submissions[submissions["date_problem"].astype(str) != ""].itertuples(index=False):
        fate = "（该文件已被替代）" if row.status == "superseded" else ""
        findings.append(
            make_finding(
                row.unit,
                row.unit_type,
                [],
                DATE_ID,
                "soft",
                WARNING,
                f"报送文件「{row.file}」{fate}的{row.date_problem}，未作为判断哪份报送最新的依据",
                ACTIONS[DATE_ID],
            )
        )
    return findings


def check_unit_conflict(submissions: pd.DataFrame) -> list[dict]:
    """Per form in force: its 填报单位 names one registered unit and its file name another (U01). Its figures
    are counted for the first, and the second may be listed as not reported: the analyst must know which is
    right before the report is final (a waiver of U01 once the unit confirmed)."""
    if "unit_conflict" not in submissions:
        return []
    rows = submissions[(submissions["unit_conflict"].astype(str) != "") & (submissions["status"] == "read")]
    replaced = submissions[submissions["status"] == "superseded"].groupby("unit")["file"].agg(list).to_dict()
    return [
        make_finding(
            row.unit,
            row.unit_type,
            [],
            UNIT_ID,
            "hard",
            ERROR,
            f"统计表「{row.file}」的填报单位是「{row.unit}」，{_named_by(row.file)}写的却是「{row.unit_conflict}」："
            f"这份表的数字计入了{row.unit}，可能其实是{row.unit_conflict}的"
            + (
                f"；它取代了{row.unit}另报的「{'」「'.join(replaced[row.unit])}」（已不计入），"
                "确认时请一并说明哪一份才是本单位的"
                if replaced.get(row.unit)
                else ""
            ),
            ACTIONS[UNIT_ID],
        )
        for row in rows.itertuples(index=False)
    ]


def _named_by(file: str) -> str:
    """文件名, or 所在的文件夹、压缩包或邮件 for a file inside one (its own name may name nobody)."""
    return "文件名" if "/" not in file else "文件名或所在的文件夹、压缩包、邮件"


def check_versions(submissions: pd.DataFrame, extracted: pd.DataFrame, form: Form) -> list[dict]:
    """A unit's superseded form that its 填报日期 did not order before the one in force (the same date, or a
    date that cannot be trusted: the file names chose, see versions.py) and whose figures differ from it:
    the unit must say which is right (V01), naming both files and the figures that differ."""
    say = Describer(form)
    forms = submissions[submissions["status"].isin(["read", "superseded"])]
    forms = forms[forms["unit"].duplicated(keep=False)]  # only a unit with two forms or more has versions
    mine = extracted[extracted["file"].isin(set(forms["file"]))]
    figures = {
        (f, code): (status, value, bool(approx))
        for f, code, status, value, approx in zip(
            *(mine[c].tolist() for c in ("file", "item", "status", "value", "approx")), strict=True
        )
    }

    def shown(code: str, fig) -> str:
        status, value, approx = fig or ("not_found", "", False)
        if status == "ok":
            return ("约" if approx else "") + say.amount(code, to_decimal(value))
        return VALUE_LABELS.get(status, status)

    findings = []
    for _unit, group in forms.groupby("unit", sort=False):
        in_force = group[group["status"] == "read"]
        if len(group) < 2 or len(in_force) != 1:
            continue
        latest = next(in_force.itertuples(index=False))
        dated = all(str(d) for d in group["date"])
        for old in group[group["status"] == "superseded"].itertuples(index=False):
            if versions.by_date(latest, old, dated):
                continue
            diff = [c for c in form.codes if figures.get((latest.file, c)) != figures.get((old.file, c))]
            if not diff:
                continue
            details = "；".join(
                f"{say.name(c)}采用的一份为{shown(c, figures.get((latest.file, c)))}，"
                f"另一份为{shown(c, figures.get((old.file, c)))}"
                for c in diff[:5]
            ) + (f"；另有{len(diff) - 5}项不同" if len(diff) > 5 else "")
            findings.append(
                make_finding(
                    latest.unit,
                    latest.unit_type,
                    [],
                    VERSIONS_ID,
                    "hard",  # which figures are the unit's is not known: the totals cannot be called true
                    ERROR,
                    f"报送了两份数字不同的统计表，无法按填报日期判断哪一份是最终的：采用了「{latest.file}」，"
                    f"未采用「{old.file}」（{versions.why(latest, old, dated)}）。两份有{len(diff)}项不同："
                    + details,
                    ACTIONS[VERSIONS_ID],
                )
            )
    return findings


def check_form_year(submissions: pd.DataFrame, values: pd.DataFrame, form: Form) -> list[dict]:
    """A unit whose form in force is another year's (read through that year's form file): must fix (F01)."""
    findings = []
    in_force = submissions[
        (submissions["status"] == "read") & ~submissions["form_year"].astype(str).isin(["", form.form])
    ]
    for row in in_force.itertuples(index=False):
        year = str(row.form_year)
        mine = values[values["unit"] == row.unit]
        notes = mine["note"].fillna("") if "note" in mine else [""] * len(mine)
        absent = [c for c, note in zip(mine["item"], notes, strict=True) if ABSENT_RX.match(note)]
        message = f"使用了{year}年的表式（文件「{row.file}」），已按项目对应到{form.form}年的表式"
        if absent:
            message += (
                "；"
                + ABSENT_NOTE.format(year=year).removesuffix("此项")
                + "："
                + "、".join(Describer(form).name(c) for c in absent)
                + "，请补报"
            )
        findings.append(
            make_finding(
                row.unit, row.unit_type, absent, FORM_YEAR_ID, "hard", ERROR, message, ACTIONS[FORM_YEAR_ID]
            )
        )
    return findings


def _median(xs: list[Decimal]) -> Decimal | None:
    xs = [x for x in xs if x > 0]
    return statistics.median(xs) if xs else None


class PeerMedian:
    """The other units' median of a ratio; with many units, everyone's median (one unit cannot move
    it, and recomputing it per unit would cost n² time)."""

    def __init__(self, ratios: dict[str, Decimal]):
        self.ratios = ratios
        self.overall = _median(list(ratios.values())) if len(ratios) > 50 else None

    def __call__(self, unit: str) -> Decimal | None:
        if self.overall is not None:
            return self.overall
        return _median([x for u, x in self.ratios.items() if u != unit])

    def most(self, unit: str) -> tuple[Decimal, Decimal]:
        """Where most of the other units lie: their 10th and 90th percentiles (everyone's, with many)."""
        xs = sorted(x for u, x in self.ratios.items() if x > 0 and (self.overall is not None or u != unit))
        if len(xs) < 3:
            return xs[0], xs[-1]
        cuts = statistics.quantiles(xs, n=10, method="inclusive")
        return cuts[0], cuts[-1]


def _ratios(units: dict, num: str, den: str) -> dict[str, Decimal]:
    out = {}
    for unit, vals in units.items():
        n, d = vals.get(num), vals.get(den)
        if n is not None and d:
            out[unit] = n / d
    return out


def _sig(x: Decimal) -> str:
    return f"{float(x):.4g}"


def _stated(x: Decimal, scale: float, measure: str) -> str:
    """A ratio as a clerk reads it: 41元, 3.1%, 12.9 (three significant figures, whole ones at 100 and up)."""
    v = float(x) * scale
    text = f"{v:.0f}" if v >= 100 or (measure == "元" and v >= 10) else f"{v:.3g}"
    return text + measure


def _as_wan(typed: Decimal) -> str:
    """What a figure typed in 元 is in 万元, as the slip message states it (about: two decimals when ≥ 1)."""
    wan = typed / 10000
    return format_value(wan.quantize(Decimal("0.01")) if wan >= 1 else wan.quantize(Decimal("0.0001")))


def _slip_message(spec, say: Describer, code: str, typed: Decimal, times: Decimal) -> str:
    label = say.name(code)
    return spec.message.format(
        item=label, typed=format_value(typed), wan=_as_wan(typed), left=say.item(code, typed), times=times
    )


def check_yuan_slips(units: dict, types: dict, form: Form) -> list[dict]:
    """A 万元 figure ~10000 times what the unit's other figures imply:
    「疑似按元填写：填了78300，按万元应约为7.83」."""
    spec = form.policy.yuan_slip
    if not spec:
        return []
    say = Describer(form)
    threshold = Decimal(spec.ratio)
    findings = []
    for chk in spec.checks:
        code = chk.item
        if chk.per:
            ratios = _ratios(units, code, chk.per)
            peers = PeerMedian(ratios)
            for unit, r in ratios.items():
                others = peers(unit)
                if others and r >= threshold * others:
                    times = (r / others).quantize(Decimal(1))
                    findings.append(
                        spec_finding(
                            spec,
                            unit,
                            types,
                            [code, chk.per],
                            _slip_message(spec, say, code, units[unit][code], times),
                            action="yuan",
                        )
                    )
        else:
            total_code = chk.share_of
            for unit, vals in units.items():
                v, total = vals.get(code), vals.get(total_code)
                if v and total and v >= total * threshold / 10:
                    message = _slip_message(spec, say, code, v, (v / total).quantize(Decimal(1)))
                    findings.append(
                        spec_finding(
                            spec,
                            unit,
                            types,
                            [code, total_code],
                            message + f"（同表 {say.item(total_code, total)}）",
                            action="yuan",
                        )
                    )
    return findings


def check_magnitude(units: dict, types: dict, form: Form) -> list[dict]:
    """A figure more than `factor` times above the other units' largest, or below their smallest, of the same
    item (positive figures only): an order of magnitude outside its peers' range."""
    spec = form.policy.magnitude
    if not spec:
        return []
    say = Describer(form)
    factor = Decimal(str(spec.factor))
    findings = []
    for code in spec.items if spec.items is not None else form.codes:
        filled = sorted((v, u) for u, vals in units.items() if (v := vals.get(code)) is not None and v > 0)
        if len(filled) < max(2, spec.min_units + 1):
            continue
        (low1, low_unit), (low2, _), (high2, _), (high1, high_unit) = (
            filled[0],
            filled[1],
            filled[-2],
            filled[-1],
        )
        for v, unit in filled:
            top = high2 if unit == high_unit else high1
            bottom = low2 if unit == low_unit else low1
            if v > top * factor:
                bound, peer, times = "最大值", top, f"{_sig(v / top)} 倍"
            elif v * factor < bottom:
                bound, peer, times = "最小值", bottom, f"1/{_sig(bottom / v)}"
            else:
                continue
            findings.append(
                spec_finding(
                    spec,
                    unit,
                    types,
                    [code],
                    spec.message.format(
                        left=say.item(code, v), bound=bound, peer=say.amount(code, peer), times=times
                    ),
                )
            )
    return findings


def check_peers(units: dict, types: dict, form: Form) -> list[dict]:
    """Ratios far outside the other units' range."""
    spec = form.policy.peers
    if not spec:
        return []
    factor = Decimal(str(spec.factor))
    findings = []
    for r in spec.ratios:
        ratios = _ratios(units, r.num, r.den)
        if len(ratios) < spec.min_units:
            continue
        peers = PeerMedian(ratios)
        for unit, x in ratios.items():
            med = peers(unit)
            if not med or x <= 0 or med / factor <= x <= med * factor:
                continue
            low, high = peers.most(unit)
            findings.append(
                spec_finding(
                    spec,
                    unit,
                    types,
                    [r.num, r.den],
                    spec.message.format(
                        label=r.label,
                        ratio=_stated(x, r.scale, r.measure),
                        low=_stated(low, r.scale, r.measure),
                        high=_stated(high, r.scale, r.measure),
                    ),
                )
            )
    return findings


def check_history(
    units: dict, types: dict, previous: dict, form: Form, previous_year: int | None
) -> list[dict]:
    """Change against the unit's own previous year beyond ±max_change, above a floor. A percentage only when
    both years are plausible beside each other: when one is more than `far` times the other (a figure typed in
    元, this year or last), the message says they differ widely and asks about the measure instead."""
    spec = form.policy.history
    if not spec or not previous:
        return []
    say = Describer(form)
    far = Decimal(str(spec.far)) if spec.far and spec.far_message else None
    findings = []
    for unit, vals in units.items():
        before = previous.get(unit)
        if not before:
            continue
        for code, now in vals.items():
            then = before.get(code)
            if now is None or not then or code not in form.codes:
                continue
            floor = Decimal(str(spec.money_floor if form.item(code).is_money else spec.floor))
            change = (now - then) / then
            if abs(change) <= Decimal(str(spec.max_change)) or abs(now - then) < floor:
                continue
            left, earlier = say.item(code, now), f"{previous_year}年 {say.amount(code, then)}"
            if far is not None and now > 0 and (now >= far * then or then >= far * now):
                message = spec.far_message.format(left=left, previous=earlier)
            else:
                message = spec.message.format(
                    left=left,
                    previous=earlier,
                    direction="增长" if change > 0 else "下降",
                    pct=f"{abs(change) * 100:.1f}%",
                )
            findings.append(spec_finding(spec, unit, types, [code], message, kind="history"))
    return findings


def check_repeats(
    units: dict, types: dict, previous: dict, form: Form, previous_year: int | None
) -> list[dict]:
    """A unit whose figures equal its own last year's exactly on `min_items` items or more (zeros and blanks
    aside: nothing done is often nothing again) is asked whether it copied last year's form forward."""
    spec = form.policy.repeats
    if not spec or not previous:
        return []
    say = Describer(form)
    findings = []
    for unit, vals in units.items():
        before = previous.get(unit) or {}
        same = [c for c in form.codes if vals.get(c) and before.get(c) is not None and vals[c] == before[c]]
        if len(same) < spec.min_items:
            continue
        message = spec.message.format(
            count=len(same),
            items="；".join(say.item(c, vals[c]) for c in same),
            year=previous_year or "上",
        )
        findings.append(spec_finding(spec, unit, types, same, message, kind="history", action="repeats"))
    return findings


def _explain_total(finding: dict, units: dict) -> dict:
    """A rule that fails on the city totals often fails because some units left a part blank. Its message is
    the analyst's: the totals were added up, not filled in by anyone."""
    finding["message"] = finding["message"].replace("您填的", "各单位合计的")
    codes = finding["items"].split("|")
    gaps = [
        u
        for u, vals in units.items()
        if any(vals.get(c) is None for c in codes) and any(vals.get(c) is not None for c in codes)
    ]
    if gaps:
        names = "、".join(gaps[:5]) + ("等" if len(gaps) > 5 else "")
        finding["message"] += f"（{len(gaps)}个单位只填了其中部分项目：{names}，合计数因此不平）"
    return finding


def check_failed(unit: str, unit_type: str, files: str, check: str, exc: BaseException) -> dict:
    """The must-fix finding that stands for a check which broke on `unit`'s data (`check`: what it checks, in
    the rules' words): the unit's checks are not complete, so its figures must not pass unchecked."""
    message = (
        f"审核本单位报来的数字（{files or '文件'}）时，{check}这一项审核程序出错（{type(exc).__name__}），"
        "未能完成；本单位的这项审核结果不全，其他单位不受影响"
    )
    return make_finding(
        unit, unit_type, [], CHECK_FAILED_ID, "hard", ERROR, message, ACTIONS[CHECK_FAILED_ID]
    )


class Guard:
    """Runs the checks so that one unit's data never stops the others': a check that raises is run again
    on each unit alone, and on the units that pass alone together; each unit whose data breaks it gets a
    check_failed finding instead (naming its files), and the others' findings are complete."""

    def __init__(self, values: pd.DataFrame):
        self.types = dict(zip(values["unit"].tolist(), values["unit_type"].tolist(), strict=True))
        files: dict[str, dict[str, None]] = {}
        if "file" in values:
            for unit, file in zip(values["unit"].tolist(), values["file"].tolist(), strict=True):
                if isinstance(file, str) and file:
                    files.setdefault(unit, {})[f"「{file}」"] = None
        self.files = {u: "、".join(f) for u, f in files.items()}

    def failed(self, unit: str, check: str, exc: BaseException) -> dict:
        return check_failed(unit, self.types.get(unit, ""), self.files.get(unit, ""), check, exc)

    def run(self, check: str, units: list[str], fn) -> list[dict]:
        """`fn(subset of units)` → findings, kept per unit when it raises (`check`: what it checks)."""
        try:
            return fn(units)
        except Exception as first:
            broken = []
            for unit in units:
                try:
                    fn([unit])
                except Exception as exc:
                    broken.append((unit, exc))
            if not broken:  # breaks only in company: every unit it was checking is named
                return [self.failed(unit, check, first) for unit in units]
            bad = {u for u, _ in broken}
            found = self.run(check, [u for u in units if u not in bad], fn) if len(bad) < len(units) else []
            return found + [self.failed(unit, check, exc) for unit, exc in broken]


def check_all(
    values: pd.DataFrame,
    form: Form,
    previous: pd.DataFrame | None = None,
    previous_year: int | None = None,
    totals: dict | None = None,
    submissions: pd.DataFrame | None = None,
    more: list[dict] | None = None,
) -> pd.DataFrame:
    """Every finding for every unit in `values` (and for the city totals when given; and, when ingest's
    `submissions` are given, the form each unit used and its 填报日期), with `more` findings made elsewhere
    (summary_check) sorted in among them: each unit's own checks (`check_units`), then those that hold the
    units against each other and the city totals (`check_across`)."""
    findings = check_units(values, form, submissions, previous, previous_year)
    findings += check_across(values, form, totals)
    findings += more or []
    return in_order(pd.DataFrame(findings, columns=FINDING_COLUMNS), values, form)


def check_units(
    values: pd.DataFrame,
    form: Form,
    submissions: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    previous_year: int | None = None,
) -> list[dict]:
    """The checks that read one unit's figures only, for each unit of `values` (its forms in
    `submissions`, its figures last year in `previous`): its blanks, its forms' dates, 填报单位 and year, the
    form's rules, and the change against its own last year. A unit's findings are the same whichever other
    units are checked with it (a check that breaks on one unit's data is that unit's X01 finding)."""
    units = unit_dicts(values)
    guard = Guard(values)
    types = guard.types
    names = list(units)

    def subset(some: list[str]) -> dict:
        return {u: units[u] for u in some}

    findings = guard.run("填报完整性", names, lambda some: check_blanks(_rows_of(values, some), form))
    if submissions is not None:
        findings += _submission_checks(guard, names, values, submissions, form)
    compiled = compile_rules(form)
    for unit, vals in units.items():
        findings += guard.run(
            "表内关系",
            [unit],
            lambda _some, unit=unit, vals=vals: check_form_rules(
                unit, types.get(unit, ""), vals, form, compiled
            ),
        )
    if previous is not None and len(previous):
        before = unit_dicts(previous)
        findings += guard.run(
            "与上年比较",
            names,
            lambda some: (
                check_history(subset(some), types, before, form, previous_year)
                + check_repeats(subset(some), types, before, form, previous_year)
            ),
        )
    return findings


def check_across(
    values: pd.DataFrame, form: Form, totals: dict | None = None, units: dict | None = None
) -> list[dict]:
    """The checks that hold the units against each other (元-for-万元 slips, magnitude, peers) and the form's
    own checks on the city totals (`totals`, when given): made again from every unit's figures each run.
    `units`: `unit_dicts(values)`, when the caller has it already."""
    units = unit_dicts(values) if units is None else units
    guard = Guard(values)
    types = guard.types
    names = list(units)

    def subset(some: list[str]) -> dict:
        return {u: units[u] for u in some}

    findings = guard.run("金额单位", names, lambda some: check_yuan_slips(subset(some), types, form))
    findings += guard.run("数量级", names, lambda some: check_magnitude(subset(some), types, form))
    findings += guard.run("同类单位比较", names, lambda some: check_peers(subset(some), types, form))
    if totals is not None:
        findings += [_explain_total(f, units) for f in check_form_rules(TOTALS, "", totals, form)]
    return findings


def _rows_of(frame: pd.DataFrame, some: list[str]) -> pd.DataFrame:
    return frame[frame["unit"].isin(some)]


def _submission_checks(
    guard: Guard, names: list[str], values: pd.DataFrame, submissions: pd.DataFrame, form: Form
) -> list[dict]:
    """The checks of ingest's submissions: each unit's 填报日期, its 填报单位 and the form it used."""

    def forms(some: list[str]) -> pd.DataFrame:
        return submissions if len(some) == len(names) else submissions[submissions["unit"].isin(some)]

    findings = guard.run("填报日期", names, lambda some: check_dates(_rows_of(submissions, some)))
    findings += guard.run("填报单位", names, lambda some: check_unit_conflict(_rows_of(submissions, some)))
    findings += guard.run(
        "表式年度", names, lambda some: check_form_year(forms(some), _rows_of(values, some), form)
    )
    return findings


def in_order(frame: pd.DataFrame, values: pd.DataFrame, form: Form) -> pd.DataFrame:
    """The findings by unit (in the values' order, the city totals after them), item (in the form's
    order), rule and message."""
    order = {u: i for i, u in enumerate(dict.fromkeys(values["unit"]))}
    order[TOTALS] = len(order)
    codes = {c: i for i, c in enumerate(form.codes)}
    frame["_u"] = frame["unit"].map(order).fillna(len(order) + 1)
    frame["_i"] = frame["item"].map(codes).fillna(len(codes))
    frame = frame.sort_values(["_u", "_i", "rule", "message"], kind="stable").drop(columns=["_u", "_i"])
    return frame.reset_index(drop=True)
