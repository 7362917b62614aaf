"""Recording the analyst's decisions where she reads the findings (notebook 02): a waiver or a correction is
appended to the year's waivers.csv / corrections.csv. Those files stay the only record: the next run applies
them and reproduces everything.

A line is appended in the file's own encoding (UTF-8 with or without BOM, GBK, UTF-16 as Excel's
"Unicode 文本"), delimiter (comma or tab) and line endings, with the file's own columns in their order; the
existing bytes are never rewritten (the new file is the old bytes plus the new line, written atomically, and
read back before it is kept).
A missing or empty file is made with its header (UTF-8 with BOM, comma, CRLF: what Excel opens right).

In JupyterLab the analyst fills in a small form (`Recorder`, ipywidgets 8: no extension needed). The form
lives only where it can work, in notebooks/02_clean.ipynb opened and run in Lab: a notebook executed by `run`
(kept in the run's folder, opened later without its kernel) says where the form is instead of showing a dead
widget; the notebook saved as HTML has no widgets either, so `paste_table` prints each open finding's
ready-to-paste lines.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
from IPython.display import HTML

from wennuan_lib.base import config, store, textfiles
from wennuan_lib.check.corrections import CORRECTION_COLUMNS, WAIVER_COLUMNS, WAIVER_HEADER
from wennuan_lib.check.findings import sort_findings
from wennuan_lib.check.rules import AUDIT_ID, SEVERITY_LABELS, TOTALS, is_open
from wennuan_lib.errors import WennuanError
from wennuan_lib.read.parse import OK, format_value, parse_blank
from wennuan_lib.views import blocks

WAIVER, CORRECTION = "waivers", "corrections"
COLUMNS = {WAIVER: WAIVER_COLUMNS, CORRECTION: CORRECTION_COLUMNS}  # what a register must have
NEW_HEADER = {WAIVER: WAIVER_HEADER, CORRECTION: CORRECTION_COLUMNS}  # a register made here
KIND_LABELS = {WAIVER: "豁免登记表", CORRECTION: "更正登记表"}
NEW_FILE = ("utf-8-sig", ",", "\r\n")  # a file made here: as Excel saves "CSV UTF-8（逗号分隔）"
VALUE_PLACEHOLDER, REASON_PLACEHOLDER = "（正确数值）", "（理由）"
PASTE_LIMIT = 500


class DecisionError(WennuanError, ValueError):
    """The decision cannot be recorded; the message is Chinese and says what to fill in."""


@dataclass(frozen=True)
class Recorded:
    path: Path
    line: int  # the new row's line in the file, as Excel and Notepad count
    text: str  # the row as written (without its line ending)
    encoding: str

    def message(self, year) -> str:
        return (
            f"已写入 {self.path} 第{self.line}行（{textfiles.ENCODING_LABELS[self.encoding]}）：{self.text}\n"
            f"重新运行后生效：{config.program()} run --year {year}"
            "（或在 JupyterLab 中从 02 步起依次运行笔记本）"
        )


def _eol(text: str) -> str:
    """The file's own line ending: the most common of CRLF, LF and CR (CRLF when it has none)."""
    crlf = text.count("\r\n")
    lf, cr = text.count("\n") - crlf, text.count("\r") - crlf
    best = max((crlf, "\r\n"), (lf, "\n"), (cr, "\r"))
    return best[1] if best[0] else "\r\n"


def _row_text(cells: list[str], delimiter: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(cells)
    return buf.getvalue()


def _clean(value) -> str:
    """One cell: on one line, trimmed, never a formula when Excel opens the file."""
    text = " ".join(str(value or "").split())
    return store.neutralize(text)


def _empty(data: bytes) -> bool:
    """Nothing in a register's bytes but line endings, separators and byte-order marks."""
    return not data.strip(b"\r\n\t ,\x00\xef\xbb\xbf\xff\xfe")


def columns_of(path: Path, columns: list[str]) -> list[str] | None:
    """The columns of the analyst's table at `path` (None: no file yet, or nothing in it)."""
    path = Path(path)
    if not path.exists() or _empty(path.read_bytes()):
        return None
    return textfiles.read_table(path, columns).columns


def register_header(path: Path, kind: str) -> list[str]:
    """The columns a line for the `kind` register at `path` is written with: the register's own, or those of
    one made here (no file yet, or nothing in it); of one that cannot be read, the columns it must have
    (writing to it, and the run, say why it cannot be read)."""
    try:
        return columns_of(path, COLUMNS[kind]) or NEW_HEADER[kind]
    except textfiles.InputFileError:
        return COLUMNS[kind]


def append_row(
    path: Path, columns: list[str], row: dict[str, str], new_header: list[str] | None = None
) -> Recorded:
    """Append `row` (column → text) to the analyst's table at `path` — see the module's docstring. A file
    made here has `new_header` (by default `columns`); a column the file lacks is not written."""
    path = Path(path)
    old = path.read_bytes() if path.exists() else b""
    if not _empty(old):
        table = textfiles.read_table(path, columns)
        source = textfiles.read_text(path)
        encoding, delimiter, eol, header = table.encoding, table.delimiter, _eol(source.text), table.columns
        # the last line has no line ending (Notepad leaves none): the new row must not join it
        new = b"" if source.text.endswith(("\n", "\r")) else eol.encode(_codec(encoding))
    else:
        encoding, delimiter, eol = NEW_FILE
        header = list(new_header or columns)
        new = b"\xef\xbb\xbf" + (_row_text(header, delimiter) + eol).encode("utf-8")
        old = b""
    cells = [_clean(row.get(c, "")) for c in header]
    text = _row_text(cells, delimiter)
    new += (text + eol).encode(_codec(encoding))
    store.atomic_write_bytes(path, old + new)
    try:
        back = textfiles.read_table(path, columns)
        ok = bool(back.rows) and [back.rows[-1][c] for c in header] == [_as_read(c) for c in cells]
    except textfiles.InputFileError:
        ok = False
    if not ok:  # never leave a file the next run cannot read: put the old bytes back
        if old:
            store.atomic_write_bytes(path, old)
        else:
            path.unlink(missing_ok=True)
        raise DecisionError(
            f"{path}：写入后无法按原样读回，已恢复原文件。请用 Excel 或记事本直接添加这一行：{text}"
        )
    return Recorded(path, back.lines[-1], text, encoding)


def _as_read(cell: str) -> str:
    """A cell as textfiles reads it back (store.neutralize's apostrophe taken off)."""
    return cell[1:] if cell.startswith("'") else cell


def _codec(encoding: str) -> str:
    """How appended text is encoded: the file's encoding, without a second byte-order mark."""
    return {"utf-8-sig": "utf-8", textfiles.EMPTY: "utf-8"}.get(encoding, encoding)


# --- what a decision is -------------------------------------------------------------------------------------


def _required(reason: str, unit: str) -> None:
    if not str(unit or "").strip():
        raise DecisionError("请选择单位")
    if not str(reason or "").strip():
        raise DecisionError("请写明理由（例如“1月23日电话确认”），理由会记入登记表和审核记录")


def waiver_row(unit: str, rule: str, reason: str, item: str = "") -> dict[str, str]:
    _required(reason, unit)
    if not str(rule or "").strip():
        raise DecisionError("请选择要豁免的审核意见（规则编号）")
    if rule == AUDIT_ID:
        raise DecisionError(
            "登记表本身的错误不能豁免：请直接改正 corrections.csv / waivers.csv 中写错的那一行"
        )
    return {"unit": unit, "rule": rule, "item": item, "reason": reason}


def correction_row(unit: str, item: str, value: str, reason: str, form) -> dict[str, str]:
    _required(reason, unit)
    if unit == TOTALS:
        raise DecisionError(
            f"{TOTALS}是各单位数字之和，不能直接更正：请更正有关单位的数字（见这条意见中点名的单位）"
        )
    if item not in form.codes:
        raise DecisionError(f"请选择要更正的项目（{form.codes[0]} … {form.codes[-1]}）")
    parsed = parse_blank(str(value or ""), form.item(item).is_money, form.item(item).unit)
    if parsed.status != OK:
        why = f"（{parsed.note}）" if parsed.note else ""
        raise DecisionError(
            f"更正值「{value}」不是一个数字{why}，请填写单位确认的正确数字（{form.item(item).unit}）"
        )
    return {"unit": unit, "item": item, "value": format_value(parsed.value), "reason": reason}


def record_waiver(path: Path, unit: str, rule: str, reason: str, item: str = "") -> Recorded:
    return append_row(path, WAIVER_COLUMNS, waiver_row(unit, rule, reason, item), WAIVER_HEADER)


def record_correction(path: Path, unit: str, item: str, value: str, reason: str, form) -> Recorded:
    return append_row(path, CORRECTION_COLUMNS, correction_row(unit, item, value, reason, form))


# --- ready-to-paste lines (the saved HTML has no widgets) ---------------------------------------------------


def paste_lines(finding: dict, header: list[str] = WAIVER_COLUMNS) -> tuple[str, str]:
    """A finding's waiver line and correction line, to paste into waivers.csv / corrections.csv (the
    placeholders must be replaced: left as they are, the run reports the line as an error, never applies it in
    silence). The waiver line has the cells of the register's `header`: the finding's item where it has an
    `item` column, nothing in a column of the analyst's own."""
    cells = {"unit": finding["unit"], "rule": finding["rule"], "item": finding["item"] or ""}
    waiver = _row_text([cells.get(c, REASON_PLACEHOLDER if c == "reason" else "") for c in header], ",")
    if finding["unit"] == TOTALS:
        return waiver, "（合计不能更正，请更正有关单位的数字）"
    items = [i for i in str(finding["items"]).split("|") if i] or (
        [finding["item"]] if finding["item"] else []
    )
    if not items:
        return waiver, "（这是整份表的问题，不能用更正解决：请单位重新报送）"
    return waiver, _row_text([finding["unit"], items[0], VALUE_PLACEHOLDER, REASON_PLACEHOLDER], ",")


def paste_table(issues: pd.DataFrame, form=None, waivers: Path | None = None) -> HTML:
    """The open must-fix findings with their ready-to-paste lines (any other finding's lines are written
    alike), the waiver lines in the columns of the year's `waivers` register (as the form writes them: with
    `item` where it has that column or is not there yet)."""
    header = register_header(waivers, WAIVER) if waivers else WAIVER_COLUMNS
    open_ = sort_findings(
        issues[is_open(issues) & (issues["severity"] == "error") & (issues["rule"] != AUDIT_ID)]
    )
    if open_.empty:
        return HTML("<p class='wn-note'>没有未解决的“必须修改”意见。</p>")
    lines = [paste_lines(f, header) for f in open_.to_dict("records")]
    frame = pd.DataFrame(
        {
            "单位": open_["unit"],
            "规则": open_["rule"],
            "项目": [blocks.item_name(form, c) for c in open_["item"]],
            "问题": open_["message"],
            f"豁免：粘贴到 waivers.csv（表头 {','.join(header)}）": [w for w, _ in lines],
            "更正：粘贴到 corrections.csv": [c for _, c in lines],
        }
    )
    return blocks.table(frame, "paste", wide=True, limit=PASTE_LIMIT, whole="上面的审核意见清单")


# --- the form in JupyterLab ---------------------------------------------------------------------------------


class Recorder:
    """A small form under the findings: pick a unit (its open findings are listed) and one of them, choose
    豁免 or 更正, write the reason (and the right figure), press 写入登记表. The line lands in the year's CSV;
    a re-run applies it. A waiver names the picked finding's item where the register has an `item` column
    (a register made here has one), and then waives that item's findings only; in a register without one it
    waives the unit's findings under that rule, and the form says which when that is more than the one
    picked."""

    def __init__(self, issues: pd.DataFrame, form, waivers: Path, corrections: Path, year):
        self.form, self.year = form, year
        self.paths = {WAIVER: Path(waivers), CORRECTION: Path(corrections)}
        self.findings = sort_findings(issues[is_open(issues) & (issues["rule"] != AUDIT_ID)]).reset_index(
            drop=True
        )
        self.written: set[int] = set()  # findings a line was written for in this session (applied next run)
        wide = widgets.Layout(width="95%")
        label = {"description_width": "6em"}
        units = list(dict.fromkeys(self.findings["unit"]))
        self.unit = widgets.Dropdown(
            options=units, description="单位", style=label, layout=widgets.Layout(width="60%")
        )
        self.listing = widgets.HTML()
        self.finding = widgets.Dropdown(options=[], description="审核意见", style=label, layout=wide)
        self.kind = widgets.ToggleButtons(
            options=[("豁免（认可这条意见）", WAIVER), ("更正（单位确认了正确数字）", CORRECTION)],
            description="决定",
            style={**label, "button_width": "15em"},  # the whole label, not "豁免（认可这条意…"
        )
        self.item = widgets.Dropdown(
            options=[], description="更正项目", style=label, layout=widgets.Layout(width="60%")
        )
        self.value = widgets.Text(description="正确数值", placeholder="单位确认的数字", style=label)
        self.reason = widgets.Textarea(
            description="理由",
            placeholder="例如：1月23日电话确认，总额应为各来源之和",
            style=label,
            layout=wide,
        )
        self.preview = widgets.HTML()
        self.button = widgets.Button(description="写入登记表", button_style="primary", icon="check")
        self.result = widgets.HTML()
        self.unit.observe(lambda _: self._unit_changed(), "value")
        for w in (self.finding, self.kind, self.item, self.value, self.reason):
            w.observe(lambda _: self._changed(), "value")
        self.button.on_click(lambda _: self.submit())
        self.box = widgets.VBox(
            [
                self.unit,
                self.listing,
                self.finding,
                self.kind,
                self.item,
                self.value,
                self.reason,
                self.preview,
                self.button,
                self.result,
            ]
        )
        self._unit_changed()

    def _repr_mimebundle_(self, **kwargs):
        """The form; where no kernel runs it (the notebook reopened later), Lab shows the text instead."""
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = FORM_GONE
        return bundle

    def _label(self, k: int, r: dict) -> str:
        item = f" · {r['item']}" if r["item"] else ""
        done = "（已写入登记表，重新运行后生效）" if k in self.written else ""
        severity = SEVERITY_LABELS.get(r["severity"], r["severity"])
        return f"{done}{severity} · {r['rule']}{item} · {r['message'][:60]}"

    def _unit_changed(self) -> None:
        mine = self.findings[self.findings["unit"] == self.unit.value]
        options = [(self._label(k, r), k) for k, r in zip(mine.index, mine.to_dict("records"), strict=True)]
        self.finding.options = options
        # ipywidgets leaves a dropdown without a value when its options change from none: pick the first
        self.finding.value = options[0][1] if options else None
        counts = mine["severity"].map(SEVERITY_LABELS).value_counts()
        shown = "".join(
            f"<li>{escape(SEVERITY_LABELS.get(r['severity'], r['severity']))} · {escape(r['rule'])}"
            f"{' · ' + escape(blocks.item_name(self.form, r['item'])) if r['item'] else ''}："
            f"{escape(r['message'])}</li>"
            for r in mine.head(LISTED).to_dict("records")
        )
        more = f"<li>……另有 {len(mine) - LISTED} 条，见上面的审核意见清单</li>" if len(mine) > LISTED else ""
        self.listing.value = (
            f"<div style='margin-left:6.5em'>{escape(str(self.unit.value))} 未解决的审核意见 {len(mine)} 条"
            f"（{'，'.join(f'{k} {v} 条' for k, v in counts.items())}）：<ol>{shown}{more}</ol></div>"
            if len(mine)
            else ""
        )
        self._changed()

    def _current(self) -> dict | None:
        return None if self.finding.value is None else self.findings.loc[self.finding.value].to_dict()

    def _changed(self) -> None:
        """Any field changed: a failure shown under the button is about the fields as they were."""
        if "未写入" in self.result.value:
            self.result.value = ""
        self._refresh()

    def _refresh(self) -> None:
        finding = self._current()
        if finding is None:
            self.preview.value = "<i>这个单位没有未解决的审核意见。</i>"
            return
        items = [i for i in str(finding["items"]).split("|") if i in self.form.codes]
        if list(self.item.options) != [(blocks.item_name(self.form, i), i) for i in items]:
            self.item.options = [(blocks.item_name(self.form, i), i) for i in items]
        correcting = self.kind.value == CORRECTION
        self.item.layout.display = self.value.layout.display = None if correcting else "none"
        try:
            row = self._row(finding)
            text = _row_text([row.get(c, "") for c in self._header()], ",")
            self.preview.value = (
                f"将写入 <code>{escape(str(self.paths[self.kind.value]))}</code>：<code>{escape(text)}</code>"
                + self._scope(finding)
            )
        except DecisionError as exc:
            # nothing written yet is not a mistake: what is still to fill in is said in grey, not in red, and
            # not at all beside the message of a line just written (the fields were emptied for the next one)
            pending = not self.reason.value.strip() or (correcting and not self.value.value.strip())
            just_written = "已写入" in self.result.value
            colour = "#555" if pending else "#b91c1c"
            said = f"<span style='color:{colour}'>{escape(str(exc))}</span>"
            self.preview.value = ("" if pending and just_written else said) + self._scope(finding)

    def _header(self) -> list[str]:
        """The columns the line is written with (register_header)."""
        return register_header(self.paths[self.kind.value], self.kind.value)

    def _waived_item(self, finding: dict) -> str:
        """The item a waiver line names: the picked finding's, where the register has an `item` column (or is
        made here with one) — the line then waives that item's findings only."""
        return str(finding["item"] or "") if "item" in self._header() else ""

    def _covered(self, finding: dict) -> pd.Series:
        """The findings the line would settle: a correction the one picked; a waiver every open finding of
        the unit under that rule (on its item, when the line names one)."""
        f = self.findings
        if self.kind.value != WAIVER:
            return f.index == self.finding.value
        mask = (f["unit"] == finding["unit"]) & (f["rule"] == finding["rule"])
        if item := self._waived_item(finding):
            mask &= f["item"] == item
        return mask

    def _scope(self, finding: dict) -> str:
        """What a waiver line covers when it is more than the finding picked: every open finding of the unit
        under that rule (on that item, where the line names it)."""
        if self.kind.value != WAIVER:
            return ""
        same = self.findings[self._covered(finding)]
        if len(same) < 2:
            return ""
        listed = "".join(
            f"<li>{escape(blocks.item_name(self.form, r['item']))}：{escape(r['message'])}</li>"
            for r in same.head(LISTED).to_dict("records")
        )
        if item := self._waived_item(finding):
            return (
                f"<div style='color:#92400e'><b>注意：</b>这里写入的一行会豁免{escape(finding['unit'])} 规则 "
                f"{escape(finding['rule'])} 在 {escape(blocks.item_name(self.form, item))} 上的"
                f"全部 {len(same)} 条意见：<ul>{listed}</ul></div>"
            )
        return (
            f"<div style='color:#92400e'><b>注意：</b>这里写入的一行按“单位＋规则”豁免，不分项目：会豁免"
            f"{escape(finding['unit'])} 规则 {escape(finding['rule'])} 的全部 {len(same)} 条意见，"
            f"不只是选中的这一条：<ul>{listed}</ul>"
            "只想处理其中一条的，请改用“更正”（单位确认了正确数字），或在豁免登记表中加一列 item "
            "写明项目代码（表头 unit,rule,item,reason，见 docs/corrections.md）。疑似填错的规则没有写项目、"
            "又涉及两个以上项目的，下次运行不会应用，而是列为“必须修改”。</div>"
        )

    def _row(self, finding: dict) -> dict:
        if self.kind.value == WAIVER:
            return waiver_row(finding["unit"], finding["rule"], self.reason.value, self._waived_item(finding))
        return correction_row(
            finding["unit"], self.item.value or "", self.value.value, self.reason.value, self.form
        )

    def submit(self) -> Recorded | None:
        """Write the decision (the button does this); the result is shown under the form."""
        finding = self._current()
        try:
            if finding is None:
                raise DecisionError("没有选中审核意见")
            kind = self.kind.value
            recorded = append_row(self.paths[kind], COLUMNS[kind], self._row(finding), NEW_HEADER[kind])
        except (DecisionError, textfiles.InputFileError, OSError) as exc:
            self.result.value = f"<span style='color:#b91c1c'>未写入：{escape(str(exc))}</span>"
            return None
        self.result.value = (
            "<span style='color:#166534'>"
            + escape(recorded.message(self.year)).replace("\n", "<br>")
            + "</span>"
        )
        self.written.update(self.findings.index[self._covered(finding)])
        self.reason.value = ""
        self.value.value = ""
        picked = self.finding.value
        self._unit_changed()  # the written findings are marked in the list
        self.finding.value = picked
        return recorded


FORM_GONE = "（登记决定的表单：在 JupyterLab 中打开 notebooks/02_clean.ipynb，运行全部单元格后出现在这里。）"
BY_RUN = (
    "<div class='wn-note' style='border-left:4px solid #60a5fa;padding:4px 10px'>"
    "这是运行 <code>{command}</code> 时执行的笔记本（运行记录），这里没有登记决定的表单。"
    "要在 JupyterLab 中直接登记豁免或更正：在左侧文件栏打开项目文件夹下的 "
    "<code>notebooks/02_clean.ipynb</code>（不是 <code>outputs/</code> 下的这一份），"
    "运行全部单元格，表单就在这一节。也可以复制下表中现成的登记行，用 Excel 或记事本粘贴到 "
    "<code>{waivers}</code> 或 <code>{corrections}</code>。"
    "</div>"
)
LISTED = 10


def recorder(ctx, issues: pd.DataFrame, by_run: bool = False) -> Recorder | HTML:
    """The form for the step's year: its waivers.csv and corrections.csv. In a notebook executed by `run`
    (`by_run`: the run gave it its folder), where no one will ever work the form, a note says where it is."""
    if by_run:
        return HTML(
            BY_RUN.format(
                command=escape(f"python -m wennuan_lib run --year {ctx.year}"),
                waivers=escape(str(ctx.raw("waivers"))),
                corrections=escape(str(ctx.raw("corrections"))),
            )
        )
    return Recorder(issues, ctx.form, ctx.raw("waivers"), ctx.raw("corrections"), ctx.year)
