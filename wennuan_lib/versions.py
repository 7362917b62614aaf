"""Which of a unit's forms is in force, and why: the 填报日期 when it can be trusted, then the words
初稿/修改稿 in the names, then the files' modification times. Every file's reason says why it won
or lost (``填报日期2013-01-25晚于2013-01-16``), and a date that cannot be trusted says so
(``填报日期2031-01-05晚于报告日期2013-01-28，不作为取舍依据``).

A date can be trusted when it was read, is not after the report date (year.yaml ``report_date``,
else today) and not before the notice (year.yaml ``notice_date``). Dates decide only when every
form of the unit has one that can be trusted; otherwise the names and file times decide.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

DRAFT_WORDS = ("初稿", "草稿", "旧版")
FINAL_WORDS = ("修改", "更正", "正式", "终稿", "定稿", "最新")


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


def _untrusted(sub) -> str:
    return f"「{sub.file}」{sub.date_problem or '未填填报日期'}，不作为取舍依据"


def why(latest, old, by_date: bool) -> str:
    """Why `latest` is in force rather than `old`, in Chinese."""
    if by_date and latest.date != old.date:
        return f"填报日期{latest.date}晚于另一份的{old.date}"
    parts = []
    if by_date:
        parts.append(f"两份的填报日期相同（{latest.date}）")
    else:
        parts += [_untrusted(s) for s in (latest, old) if not s.date]
    (wl, word_l), (wo, word_o) = wording(latest), wording(old)
    if wl != wo:
        parts.append(f"文件名标明“{word_l}”" if word_l and wl > 0 else f"另一份文件名标明“{word_o}”")
    elif latest.mtime != old.mtime:
        parts.append("文件修改时间较晚")
    else:
        parts.append("无法区分先后，按文件名排序取后一份")
    return "；".join(parts)


def supersede(subs: list, read: str, superseded: str) -> None:
    """Of each unit's forms with status `read`, all but the latest get status `superseded`."""
    forms: dict[str, list] = {}
    for sub in subs:
        if sub.status == read:
            forms.setdefault(sub.unit, []).append(sub)
    for group in forms.values():
        if len(group) < 2:
            continue
        by_date = all(s.date for s in group)
        group.sort(key=lambda s: (s.date if by_date else "", wording(s)[0], s.mtime, s.file))
        latest = group[-1]
        reasons = []
        for old in group[:-1]:
            because = why(latest, old, by_date)
            old.status = superseded
            old.reason = f"已被替代：同一单位另有较新的报送「{latest.file}」（{because}），本文件不计入"
            reasons.append(f"「{old.file}」（{because}）")
        latest.reason += f"；替代了较早的{len(group) - 1}份报送：" + "、".join(reasons)
