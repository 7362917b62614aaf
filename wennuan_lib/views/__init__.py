"""What the notebooks show the analyst, one module per notebook: `ingest` (01 读取), `clean` (02 审核),
`reconcile` (03 报送情况与反馈), `report` (04 书面总结); `blocks` holds what they share (the interactive
tables with their filter panes, coloured marks, the answer at the top, the units × items grids) and
`decisions` the form that records a waiver or a correction (notebook 02).

Each notebook first answers the step's question in a few lines, then shows the details as interactive tables.
The names below stay importable from `wennuan_lib.views` itself."""

from wennuan_lib.views import blocks, clean, ingest, reconcile, report
from wennuan_lib.views.blocks import (
    GRID_UNITS,
    ROW_LIMIT,
    answer,
    badge,
    interactive,
    item_name,
    legend,
    table,
)
from wennuan_lib.views.clean import audit_table, clean_answer, finding_grid, findings_table
from wennuan_lib.views.ingest import (
    ingest_answer,
    log_table,
    problems,
    submissions_table,
    summaries_table,
    value_grid,
)
from wennuan_lib.views.reconcile import (
    by_rule_table,
    by_unit_table,
    reconcile_answer,
    status_table,
    summary_check_table,
    unit_dossiers,
)
from wennuan_lib.views.report import draft_table, report_answer, totals_table

__all__ = [
    "GRID_UNITS",
    "ROW_LIMIT",
    "answer",
    "audit_table",
    "badge",
    "blocks",
    "by_rule_table",
    "by_unit_table",
    "clean",
    "clean_answer",
    "draft_table",
    "finding_grid",
    "findings_table",
    "ingest",
    "ingest_answer",
    "interactive",
    "item_name",
    "legend",
    "log_table",
    "problems",
    "reconcile",
    "reconcile_answer",
    "report",
    "report_answer",
    "status_table",
    "submissions_table",
    "summaries_table",
    "summary_check_table",
    "table",
    "totals_table",
    "unit_dossiers",
    "value_grid",
]
