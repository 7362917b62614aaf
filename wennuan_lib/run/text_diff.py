"""What changed in the 书面总结's words between the sent version and a run: its title, headings, paragraphs,
figure captions, attachments list and closing, read from the report's HTML as the reader reads them (not
the draft list, which says why it is a draft, nor the appendices' tables, whose figures are compared as
totals). Chinese lines for each paragraph changed, added, removed or moved, quoting each place that differs
with a little of the text around it."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

from wennuan_lib import vocab

# the blocks a reader reads, and the parts of the page that are not the report's words
BLOCKS = "h1|h2|h3|p|figcaption"
LEFT_OUT = ("draft-list", "draft-mark", "appendix")
OWN_PARTS = {"attachments": "附件列表", "closing": "落款"}  # parts of the page under no heading of their own
AROUND = 12  # characters of unchanged text quoted on each side of a change
SHORT = 3  # (when no more than this many are left beyond them, those too)
LONGEST = 60  # characters quoted of a changed stretch, of a paragraph added or removed
ALIKE = 0.5  # a block sent and one now at least this alike (difflib's ratio) are one block changed
NUMBERISH = "0123456789.%"  # a change inside a number is quoted as the whole number
JOINED = 20  # changes within this many characters of each other are quoted as one stretch
MOST = 8  # text cells of a sent workbook named, the rest counted
OPENING = 20  # characters of a paragraph's opening that say which paragraph it is


def page(path: Path):
    """The report's HTML parsed (lxml), or None if the file is missing or unreadable: what the functions
    below read (parsed once for all of them)."""
    import lxml.html

    try:
        return lxml.html.document_fromstring(path.read_bytes(), lxml.html.HTMLParser(encoding="utf-8"))
    except (OSError, ValueError, lxml.etree.ParserError):
        return None


def shown_column(root, heading: str) -> dict[str, str] | None:
    """What the report (its `page`) shows in an appendix's column, by item code: the first table with a
    column headed `heading` (and one headed with the code); None if the report or the column is not there."""
    for table in [] if root is None else root.xpath("//table"):
        head = [" ".join("".join(c.itertext()).split()) for c in table.xpath(".//tr[1]/th")]
        if heading in head and vocab.CODE_HEADING in head:
            code, column = head.index(vocab.CODE_HEADING), head.index(heading)
            rows = [["".join(c.itertext()).strip() for c in tr.xpath("./td")] for tr in table.xpath(".//tr")]
            return {r[code]: r[column] for r in rows if len(r) > max(code, column)}
    return None


def captions(root) -> dict[str, str]:
    """Each chart's caption in the report (its `page`: 图1 …), by the chart's name."""
    figures = [] if root is None else root.xpath("//figure[@data-chart]")
    return {
        f.get("data-chart"): " ".join("".join(c.itertext()).split())
        for f in figures
        for c in f.xpath(".//figcaption")
    }


def report_text(root) -> list[tuple[str, str]] | None:
    """The report's words from its HTML (its `page`): (section, text) for each block in reading order, the
    section being the heading (h2) it stands under ('' before the first); None if there is no page."""
    if root is None:
        return None
    out, section = [], ""
    for block in root.xpath(f"//body//*[self::{' or self::'.join(BLOCKS.split('|'))}]"):
        within = {c for div in block.iterancestors("div") for c in div.get("class", "").split()}
        if within & set(LEFT_OUT):
            continue
        text = " ".join("".join(block.itertext()).split())
        if block.tag == "h2":
            section = text
        if text:
            out.append((next((name for c, name in OWN_PARTS.items() if c in within), section), text))
    return out


def _stretches(before: str, after: str) -> list[tuple[int, int, int, int]]:
    """Where two versions of a paragraph differ: (i1, i2, j1, j2) for each stretch, widened to whole numbers
    (4219.82 → 4319.82, not 2 → 3), changes within JOINED characters taken as one stretch."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    spans: list[list[int]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        while i1 and j1 and before[i1 - 1] == after[j1 - 1] and before[i1 - 1] in NUMBERISH:
            i1, j1 = i1 - 1, j1 - 1
        while i2 < len(before) and j2 < len(after) and before[i2] == after[j2] and before[i2] in NUMBERISH:
            i2, j2 = i2 + 1, j2 + 1
        if spans and i2 - spans[-1][0] <= JOINED:
            spans[-1][1], spans[-1][3] = max(spans[-1][1], i2), max(spans[-1][3], j2)
        else:
            spans.append([i1, i2, j1, j2])
    return [(i1, i2, j1, j2) for i1, i2, j1, j2 in spans]


def _cut(text: str, start: int, end: int) -> str:
    """text[start:end] quoted with AROUND characters on each side (all of them when only SHORT more)."""
    left_n = start if start <= AROUND + SHORT else AROUND
    right_n = len(text) - end if len(text) - end <= AROUND + SHORT else AROUND
    left = ("…" if start > left_n else "") + text[start - left_n : start]
    middle = text[start:end]
    if len(middle) > LONGEST:  # the changed stretch cut short: what follows it is not quoted either
        return f"「{left}{middle[:LONGEST]}……」"
    return f"「{left}{middle}{text[end : end + right_n]}{'…' if len(text) - end > right_n else ''}」"


def _start(text: str) -> str:
    return f"「{text[:LONGEST]}{'……' if len(text) > LONGEST else ''}」"


def _where(section: str) -> str:
    if section in OWN_PARTS.values():
        return section
    return f"“{section}”一节" if section else "标题部分"


def _changed(section: str, before: str, after: str) -> list[str]:
    """One line for a paragraph changed in one place; a line and one under it for each place otherwise."""
    spans = _stretches(before, after)
    quoted = [f"已报送 {_cut(before, i1, i2)} → 现在 {_cut(after, j1, j2)}" for i1, i2, j1, j2 in spans]
    if len(quoted) == 1:
        return [f"{_where(section)}：{quoted[0]}"]
    return [  # the paragraph named by its opening as sent (what the reader of the sent report finds)
        f"{_where(section)}的一段（已报送的开头是「{before[:OPENING]}…」）有 {len(quoted)} 处不同：",
        *(f"    {q}" for q in quoted),
    ]


def changes(sent: list[tuple[str, str]], now: list[tuple[str, str]]) -> list[list[str]]:
    """What changed, block by block, between the sent text and this run's: for each block changed, added,
    removed or moved, its Chinese lines (the first says where; a paragraph changed in several places has
    one line under it for each)."""
    found: list[tuple[str, tuple[str, str], list[str]]] = []  # (how, the block, its lines)
    matcher = difflib.SequenceMatcher(None, [t for _, t in sent], [t for _, t in now], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        at = b0
        for a in range(a0, a1):  # each block sent paired, in order, with the most alike of those after it
            alike = [(difflib.SequenceMatcher(None, sent[a][1], now[b][1]).ratio(), b) for b in range(at, b1)]
            ratio, b = max(alike, key=lambda rb: (rb[0], -rb[1]), default=(0.0, at))
            if ratio < ALIKE:
                found.append(("gone", sent[a], [f"{_where(sent[a][0])}：删去了 {_start(sent[a][1])}"]))
                continue
            found += [
                ("new", block, [f"{_where(block[0])}：新增了 {_start(block[1])}"]) for block in now[at:b]
            ]
            found.append(("changed", now[b], _changed(now[b][0], sent[a][1], now[b][1])))
            at = b + 1
        found += [("new", block, [f"{_where(block[0])}：新增了 {_start(block[1])}"]) for block in now[at:b1]]
    was_in = {block[1]: block[0] for how, block, _ in found if how == "gone"}
    moved = was_in.keys() & {block[1] for how, block, _ in found if how == "new"}
    return [
        [f"{_where(block[0])}：调整了位置（内容未改，原在{_where(was_in[block[1]])}） {_start(block[1])}"]
        if block[1] in moved
        else lines
        for how, block, lines in found
        if not (how == "gone" and block[1] in moved)
    ]


def workbook_words(path: Path) -> dict[tuple[str, int, int], str] | None:
    """The words of a workbook sent beside the report (the summary form's header, the detail workbook's
    names and notes): every cell that holds text or a date, by (sheet, row, column); its numbers are the
    totals, compared as such. None if the file is missing or unreadable."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        return {
            (name, r, c): " ".join(cell.split()) if isinstance(cell, str) else cell.isoformat()
            for name in book.sheet_names
            for r, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False), 1)
            for c, cell in enumerate(row, 1)
            if (isinstance(cell, str) and cell.strip()) or isinstance(cell, dt.date | dt.time)
        }
    except (OSError, ValueError, CalamineError):
        return None


def workbook_changes(name: str, sent: dict, now: dict) -> list[str]:
    """Chinese lines for the text of a workbook sent and this run's, sheet by sheet: rows removed or added
    (a unit gone shifts the rows after it: those are not changes), and in a row changed, each cell
    (MOST lines at most)."""
    lines = []
    for sheet in sorted({k[0] for k in sent} | {k[0] for k in now}):
        old, new = _rows(sent, sheet), _rows(now, sheet)
        matcher = difflib.SequenceMatcher(
            None, [t for _, t, _ in old], [t for _, t, _ in new], autojunk=False
        )
        where = f"{name} 工作表「{sheet}」"
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op == "equal":
                continue
            paired = min(a1 - a0, b1 - b0) if op == "replace" else 0
            for was, is_ in zip(old[a0 : a0 + paired], new[b0 : b0 + paired], strict=True):
                lines += _cells(where, was, is_)
            lines += [f"{where}删去了第{r}行（行中的文字：{_start(t)}）" for r, t, _ in old[a0 + paired : a1]]
            lines += [f"{where}新增了第{r}行（行中的文字：{_start(t)}）" for r, t, _ in new[b0 + paired : b1]]
    return lines[:MOST] + ([f"……{name} 另有 {len(lines) - MOST} 处文字不同"] if len(lines) > MOST else [])


def _rows(cells: dict, sheet: str) -> list[tuple[int, str, dict[int, str]]]:
    """A sheet's rows that hold text, in order: (row, its text cells joined, its text cells by column)."""
    rows: dict[int, dict[int, str]] = {}
    for (in_sheet, r, c), text in sorted(cells.items()):
        if in_sheet == sheet:
            rows.setdefault(r, {})[c] = text
    return [(r, " ".join(row.values()), row) for r, row in rows.items()]


def _cells(where: str, was: tuple, is_: tuple) -> list[str]:
    """A line for each text cell that differs between a row sent (`was`) and its row now (`is_`)."""
    (_, _, before_row), (r, _, after_row) = was, is_
    lines = []
    for column in sorted(before_row.keys() | after_row.keys()):
        before, after = before_row.get(column, ""), after_row.get(column, "")
        if before == after:
            continue
        label = next((after_row[c] for c in range(column - 1, 0, -1) if c in after_row), "")
        cell = f"{where}{_column_letters(column)}{r}" + (f"（{label}）" if label else "")
        if before and after:  # one quote from the first place that differs to the last
            spans = _stretches(before, after)
            (i1, _, j1, _), (_, i2, _, j2) = spans[0], spans[-1]
            lines.append(f"{cell}：已报送 {_cut(before, i1, i2)} → 现在 {_cut(after, j1, j2)}")
        else:
            quoted = (_start(t) if t else "（空）" for t in (before, after))
            lines.append("{}：已报送 {} → 现在 {}".format(cell, *quoted))
    return lines


def _column_letters(column: int) -> str:
    """A column's letters as Excel shows them (1 → A, 27 → AA)."""
    letters = ""
    while column:
        column, k = divmod(column - 1, 26)
        letters = chr(ord("A") + k) + letters
    return letters
