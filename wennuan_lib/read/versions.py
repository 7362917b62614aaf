"""Which of a unit's forms is in force, and why: the 填报日期 when it can be trusted, then the words
初稿/修改稿 in the names, then a version number added to a name (``(2)``, ``（3）``, ``v2``), then the later
name in sort order. Only what the run's fingerprint holds decides (file names and contents, never a file's
modification time, which a copy, an e-mail client or a checkout sets at will), so the same inbox always
gives the same choice. Every file's reason says why it won or lost (``填报日期2013-01-25晚于2013-01-16``),
and a date that cannot be trusted says so (``填报日期2031-01-05晚于报告日期2013-01-28，不作为取舍依据``).

A date can be trusted when it was read, is not after the report date (year.yaml ``report_date``,
else today) and not before the notice (year.yaml ``notice_date``). Dates decide only when every
form of the unit has one that can be trusted; otherwise the names decide. When the dates did not decide
(the same date, or one that cannot be trusted), the reasons also say whether the versions' figures differ:
step 02 then asks the analyst to confirm with the unit which is right (rules.check_versions).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

DRAFT_WORDS = ("初稿", "草稿", "旧版")
FINAL_WORDS = ("修改", "更正", "正式", "终稿", "定稿", "最新")
# a number added at the end of a name: 统计表(2), 统计表（3）, 统计表 v2
VERSION_MARK = re.compile(r"(?:[(（]\s*(\d{1,3})\s*[)）]|[vV](\d{1,3}))\s*$")


def date_limits(cfg: dict) -> tuple[str, str, str]:
    """(earliest, latest, what the latest is called) for a form's 填报日期, from the year's config."""
    notice = str(cfg.get("notice_date") or "")
    report = str(cfg.get("report_date") or "")
    if report:
        return notice, report, f"报告日期{report}"
    today = dt.date.today().isoformat()
    return notice, today, f"今天（{today}）"


def check_dates(subs: list, cfg: dict) -> None:
    """Mark each form whose 填报日期 cannot be trusted (`date_problem`); its `date` is then not used."""
    notice, latest, latest_name = date_limits(cfg)
    for sub in subs:
        if not sub.is_form or sub.date_problem:
            continue
        if sub.date and sub.date > latest:
            sub.date_problem = f"填报日期{sub.date}晚于{latest_name}"
        elif sub.date and notice and sub.date < notice:
            sub.date_problem = f"填报日期{sub.date}早于通知日期{notice}"
        if sub.date_problem:
            sub.date = ""


def wording(sub) -> tuple[int, str]:
    """-1 for a draft's name, 1 for a corrected version's, 0 otherwise; and the word found."""
    stem = Path(sub.file).stem
    for w in DRAFT_WORDS:
        if w in stem:
            return -1, w
    for w in FINAL_WORDS:
        if w in stem:
            return 1, w
    return 0, ""


def version_mark(sub) -> tuple[int, str]:
    """The version number added at the end of a file's name (统计表(2).xlsx → 2; 0 without one), and the
    mark as written."""
    m = VERSION_MARK.search(Path(sub.file).stem)
    if not m:
        return 0, ""
    return int(m.group(1) or m.group(2)), m.group(0).strip()


def order_key(sub, by_date: bool) -> tuple:
    """A form's place among its unit's forms: the latest is in force."""
    return (sub.date if by_date else "", wording(sub)[0], version_mark(sub)[0], sub.file)


def _untrusted(sub) -> str:
    return f"「{sub.file}」{sub.date_problem or '未填填报日期'}，不作为取舍依据"


def by_date(latest, old, dated: bool) -> bool:
    """Whether the 填报日期 decided between two forms of a unit (every form dated, and these two differ)."""
    return dated and latest.date != old.date


def why(latest, old, dated: bool) -> str:
    """Why `latest` is in force rather than `old`, in Chinese."""
    if by_date(latest, old, dated):
        return f"填报日期{latest.date}晚于另一份的{old.date}"
    # a copy in the same file (ingest gives it the date of the one read): its own date decided nothing
    if old.file.startswith(f"{latest.file}/"):
        where = old.file.removeprefix(f"{latest.file}/")
        return (
            f"两份在同一个文件中，按文件中可见、排在前面的一份读取；「{where}」中的一份未采用，"
            "它的填报日期不作为取舍依据"
        )
    parts = []
    if dated:
        parts.append(f"两份的填报日期相同（{latest.date}）")
    else:
        parts += [_untrusted(s) for s in (latest, old) if not s.date]
    (wl, word_l), (wo, word_o) = wording(latest), wording(old)
    (nl, mark_l), (no, mark_o) = version_mark(latest), version_mark(old)
    if wl != wo:
        parts.append(f"文件名标明“{word_l}”" if word_l and wl > 0 else f"另一份文件名标明“{word_o}”")
    elif nl != no:
        parts.append(
            f"文件名的版本号“{mark_l}”大于另一份的“{mark_o}”" if mark_o else f"文件名带有版本号“{mark_l}”"
        )
    else:
        parts.append("文件名中没有“修改稿”“(2)”之类的标记，按文件名排序取后一份")
    return "；".join(parts)


def differing(a, b) -> list[str]:
    """The items two forms of a unit read differently (figure, approximate or not, filled / not filled /
    unreadable)."""

    def figures(sub) -> dict:
        return {r["item"]: (r["status"], r["value"], bool(r["approx"])) for r in sub.rows}

    fa, fb = figures(a), figures(b)
    return [code for code in dict.fromkeys([*fa, *fb]) if fa.get(code) != fb.get(code)]


def _figures_note(latest, old) -> str:
    """Whether two versions the dates did not decide between say the same."""
    diff = differing(latest, old)
    if not diff:
        return "两份的数字完全相同"
    shown = "、".join(diff[:5]) + ("等" if len(diff) > 5 else "")
    return f"两份有{len(diff)}项数字不同（{shown}），请向单位核实哪一份正确（审核意见V01）"


def supersede(subs: list, read: str, superseded: str) -> None:
    """Of each unit's forms with status `read`, all but the latest get status `superseded`."""
    forms: dict[str, list] = {}
    for sub in subs:
        if sub.status == read:
            forms.setdefault(sub.unit, []).append(sub)
    for group in forms.values():
        if len(group) < 2:
            continue
        dated = all(s.date for s in group)
        group.sort(key=lambda s: order_key(s, dated))
        latest = group[-1]
        reasons = []
        for old in group[:-1]:
            because = why(latest, old, dated)
            if not by_date(latest, old, dated):
                because += "；" + _figures_note(latest, old)
            old.status = superseded
            old.reason = f"已被替代：同一单位另有较新的报送「{latest.file}」（{because}），本文件不计入"
            reasons.append(f"「{old.file}」（{because}）")
        latest.reason += f"；替代了较早的{len(group) - 1}份报送：" + "、".join(reasons)
