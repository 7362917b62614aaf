"""The vocabulary every part of the program shows, defined once: the states of a file in the inbox, of a
unit's report, of a finding, and the colours the analyst learns once (they mean the same in every notebook and
in the review workbook). Tables store the codes; these labels are applied where people read them."""

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

# a unit's form this year (reporting_status.form, the totals' unit counts, the text)
REPORTED, UNREADABLE, NOT_REPORTED = "已报", "已报但无法读取", "未报"

# a finding
WAIVED = "已豁免"

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
