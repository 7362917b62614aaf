"""The vocabulary every part of the program shows, defined once: the states of a file in the inbox, of a
unit's report, of a summary check, of a line of the registers, and the colours the analyst learns once (they
mean the same in every notebook and in the review workbook).

Tables store the codes (short English words); the Chinese labels are applied where people read them — the
notebooks, the review and feedback workbooks, the report's appendix, the CLI — through `LABELS` (one mapping
per stored column) and `label` / `shown`. `coded` turns the labels an older version of the program stored back
into codes, so that a run made then still reads right."""

from __future__ import annotations

import pandas as pd

# a file of the inbox (ingest_log.status)
READ, SUMMARY, SUPERSEDED, SKIPPED, REJECTED = "read", "summary", "superseded", "skipped", "rejected"
UNPACKED = "unpacked"  # an archive: its members are listed (and read) one by one
STATUS_LABELS = {
    READ: "已读取",
    SUMMARY: "书面总结",
    SUPERSEDED: "已被替代",
    SKIPPED: "已略过",
    REJECTED: "无法读取",
    UNPACKED: "已解压",
}
# a form read (status `read`, it is the unit's report) without a single figure (ingest_log.figures)
ALL_BLANK, NO_FIGURES = "all_blank", "no_figures"
FIGURES_LABELS = {ALL_BLANK: "全部未填", NO_FIGURES: "未读到数字"}

# a unit's form this year (reporting_status.form, the totals' unit counts, the text) and its written summary
# (reporting_status.summary: REPORTED or NOT_REPORTED)
REPORTED, UNREADABLE, NOT_REPORTED = "reported", "unreadable", "missing"
FORM_LABELS = {REPORTED: "已报", UNREADABLE: "已报但无法读取", NOT_REPORTED: "未报"}
SUMMARY_LABELS = {REPORTED: "已报", NOT_REPORTED: "未报"}
# on time or not (reporting_status.late; "" when no form came)
ON_TIME, LATE, NO_DATE = "on_time", "late", "no_date"
LATE_LABELS = {ON_TIME: "按时", LATE: "逾期", NO_DATE: "未填日期"}

# a figure a unit's written summary states, against its form (summary_checks.verdict)
MATCH, APPROX, DIFFER = "match", "approx", "differ"
VERDICT_LABELS = {MATCH: "一致", APPROX: "约数相符", DIFFER: "不一致"}

# 附表1's columns that say which item a row is and its 同比 as the report shows it (publish/appendix.py writes
# them; run/text_diff.py reads them back from a sent report)
CODE_HEADING, CHANGE_HEADING = "代码", "同比（%）"

# a line of the analyst's registers (audit.kind, audit.status)
CORRECTION, WAIVER = "correction", "waiver"
REGISTER_LABELS = {CORRECTION: "更正", WAIVER: "豁免"}
APPLIED, UNMATCHED, DUPLICATE = "applied", "unmatched", "duplicate"
AUDIT_LABELS = {APPLIED: "已应用", UNMATCHED: "未能应用（错误）", DUPLICATE: "重复，只应用一次"}

# what keeps the report a draft (draft_reasons.kind), in the order the report lists them
MUST_FIX, SLIP, GAP, TEXT, DIRECTION = "must_fix", "slip", "gap", "text", "direction"
DRAFT_LABELS = {
    MUST_FIX: "必须修改",
    SLIP: "疑似填错",
    GAP: "待补充",
    TEXT: "书面总结",
    DIRECTION: "同比待核实",
}

# a finding
WAIVED = "已豁免"

# Every stored column that holds codes: dataset.column → code → Chinese label.
LABELS: dict[str, dict[str, str]] = {
    "ingest_log.status": STATUS_LABELS,
    "ingest_log.figures": FIGURES_LABELS,
    "reporting_status.form": FORM_LABELS,
    "reporting_status.summary": SUMMARY_LABELS,
    "reporting_status.late": LATE_LABELS,
    "summary_checks.verdict": VERDICT_LABELS,
    "audit.kind": REGISTER_LABELS,
    "audit.status": AUDIT_LABELS,
    "draft_reasons.kind": DRAFT_LABELS,
}


def coded_columns(dataset: str) -> dict[str, dict[str, str]]:
    """The columns of `dataset` that hold codes: column → code → label (the store refuses anything else)."""
    return {key.split(".")[1]: labels for key, labels in LABELS.items() if key.split(".")[0] == dataset}


def label(column: str, code: str) -> str:
    """The Chinese label of a stored code (`column` is "dataset.column"); "" stays "", an unknown code is
    shown as it is."""
    return LABELS[column].get(code, code) if code else ""


def shown(values: pd.Series, column: str) -> pd.Series:
    """A stored column with its codes as the analyst reads them."""
    return values.map(lambda code: label(column, code))


def file_label(status: str, figures: str = "") -> str:
    """What became of a file of the inbox, in Chinese: 已读取, or 全部未填 / 未读到数字 for a form read
    without a single figure."""
    return FIGURES_LABELS[figures] if figures else STATUS_LABELS.get(status, status)


def coded(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """`frame` (a table of `dataset`) with the Chinese labels an older version stored turned into codes, so a
    run made then (a sent version, a year not run since) reads as one made now; codes stay as they are."""
    out = frame
    if dataset == "ingest_log" and "status_label" in frame.columns and "figures" not in frame.columns:
        back = {text: code for code, text in FIGURES_LABELS.items()}
        out = frame.copy()
        out["figures"] = frame["status_label"].map(lambda v: back.get(v, ""))
    for column, labels in coded_columns(dataset).items():
        if column not in frame.columns:
            continue
        back = {text: code for code, text in labels.items()}
        if out[column].isin(back.keys()).any():
            out = out.copy() if out is frame else out
            out[column] = out[column].map(lambda v, back=back: back.get(v, v))
    return out


COLOURS = {
    "error": "#f8b4b4",
    "warning": "#fde68a",
    "waived": "#e5e7eb",
    "missing": "#fed7aa",
    "unreadable": "#f8b4b4",
    "not_found": "#f8b4b4",
    "approx": "#fef9c3",
    "corrected": "#bbf7d0",
    "not_reported": "#ef4444",
    "form_unreadable": "#a855f7",
    "late": "#f97316",
    "no_summary": "#facc15",
    "unregistered": "#60a5fa",
    "ok": "#d1fae5",
    "agree": "#d1fae5",
    "disagree": "#f8b4b4",
    "approx_agree": "#fef9c3",
}
WHITE_TEXT = {"not_reported", "form_unreadable", "late"}
