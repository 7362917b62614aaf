"""The labelled layout: a table the unit made itself,
with the form's words in one column and the figures in another.

Two shapes units really send:

* the notice's table of sentences with the blanks left empty and an added column of figures
  (序号 | 项目 | 内容 | 填报数, or any column of numbers to the right of the sentences); a row whose
  sentence has several blanks carries several number cells, or one cell with several numbers;
* a two-column sheet 项目 | 数量 where 项目 is an item's words and measure (``走访企业（家）``).

Each row is read as words (its label) and figures (the cells of number columns to the right of the
label). Rows are aligned to the form in the form's order (a monotonic alignment that may skip rows
and items), so a label printed twice on the form (「其中困难农民工」 in rows 03 and 04) is read once
each, in order. A row matches an item (its label, its measure, or the sentence's words around its
blank) or one or more whole sentences (all their blanks). What is read or refused is recorded with
its cell.

Refused, never guessed: a row whose count of figures differs from its blanks (one cell ``12,345``
for a sentence with two blanks); a row with words the form prints more than once that its neighbours
do not place (rows left out around it, or a sheet in another order, where such rows are not placed at
all). A row out of the form's order is matched by its words alone, where they fit one item clearly
best. A table where too few rows match is not read at all. A 万元 item whose row says 元 is read as 元
(parse converts it and says so).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from openpyxl.utils import column_index_from_string, get_column_letter
from rapidfuzz import fuzz, process

from wennuan_lib.form import Form, Line
from wennuan_lib.read.parse import OK, UNIT_WORDS, parse_blank
from wennuan_lib.read.readers import Extract

# A row must match an item or sentence at least this well (0–1, Indel similarity of the normalised words).
MIN_SIMILARITY = 0.6
# A row without figures only counts where its words match closely (heading lines look like sentences).
MIN_SIMILARITY_EMPTY = 0.8
# Share of the form's items that must be read from matched rows for the table to be read.
CONFIDENT_SHARE = 0.5
# Lines of the form one Word cell may hold (the notice merges some letters of a row into one cell).
MAX_MERGED_LINES = 4
MEASURE_BONUS, MEASURE_PENALTY = 0.05, 0.25
# A row aligned to a span although another fits it this much better is out of the form's order: it is matched
# again on its own, only where its best span is at least UNIQUE_MATCH and this much better than any other.
OUT_OF_ORDER_MARGIN, UNIQUE_MATCH = 0.15, 0.9
# A sheet with more rows than this out of the form's order places no such row at all.
ORDER_TOLERANCE, ORDER_TOLERANCE_SHARE = 2, 0.05
COUNT_BONUS, COUNT_PENALTY = 0.1, 0.15

LOC_CELL = re.compile(r"^(?P<sheet>.+)!(?P<col>[A-Z]{1,3})(?P<row>\d+)$")
LOC_TABLE = re.compile(r"^表(?P<table>\d+)第(?P<row>\d+)行第(?P<col>\d+)列$")
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"^[约近]?\d[\d,，.]*(?:万元|万|元)?[余多]?$")
SEPARATORS = re.compile(r"[\s、；;/／|｜]+|[,，](?!\d{3}(?!\d))")
SERIAL = re.compile(r"^[\s(（]*(?:\d{1,2}|[一二三四五六七八九十]{1,3}|[A-Za-z])[)）.、．:：\s]+")
TRAILING_VALUE = re.compile(r"^(?P<label>.*?[^\d\s:：=＝])[\s:：=＝]+(?P<value>[^\s:：=＝]{1,20})$")


@dataclass
class Cell:
    col: int
    text: str
    loc: str


@dataclass
class Row:
    label: str  # the row's words as written
    loc: str  # where the words are
    name: str  # normalised words without a trailing measure
    full: str  # normalised words with it
    measure: str  # a measure the row names (家, 人, 万元 …) or ""
    values: list[tuple[str, str]] = field(default_factory=list)  # (text, cell) of each figure, in order
    numeric: int = 0  # how many of the values are numbers
    empty: list[str] = field(default_factory=list)  # a row without figures: its cells of the figure columns


@dataclass
class Span:
    codes: list[str]
    names: list[str]  # normalised descriptions to compare a row's words with
    measure: str = ""  # the item's measure, for a single item
    sentence: str = ""  # the normalised sentence(s), for whole lines


@dataclass
class Labelled:
    """What the matcher read: {code: (text, cell)}, refusals, and how sure it is."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)
    refused: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code -> (text, cell, why)
    number_rows: int = 0  # rows with words and at least one number
    unmatched: list[Row] = field(default_factory=list)  # rows with numbers that matched no item
    total: int = 0  # the form's items
    reordered: int = 0  # rows matched by their words alone, out of the form's order

    @property
    def identified(self) -> int:
        return len(self.values)

    @property
    def filled(self) -> int:
        return sum(1 for text, _ in self.values.values() if parse_blank(text, True).status == OK)

    @property
    def confident(self) -> bool:
        return self.total > 0 and self.identified >= CONFIDENT_SHARE * self.total and self.filled > 0

    def summary(self) -> str:
        """Chinese: what was found, for a rejection."""
        text = f"识别出{self.identified}/{self.total}项"
        if self.refused:
            text += f"，另有{len(self.refused)}项的数字个数与空格数对不上"
        if self.unmatched:
            first = self.unmatched[0]
            text += f"，{len(self.unmatched)}行数字无法对应到表中项目（如 {first.loc}「{first.label[:20]}」）"
        return text


def normalise(text: str) -> str:
    """Words compared without spaces, underscores, punctuation, brackets or full-width forms."""
    s = unicodedata.normalize("NFKC", str(text))
    return "".join(ch for ch in s if ch.isalnum())


def _is_number(text: str) -> bool:
    s = unicodedata.normalize("NFKC", text).strip()
    return bool(NUMBER.match(s.replace(" ", ""))) and parse_blank(s, True).status == OK


def _numbers(text: str) -> list[str] | None:
    """The numbers a cell holds (one or several, as typed), or None when it is not just numbers."""
    if not text.strip():
        return None
    if _is_number(text):
        return [text]
    parts = [p for p in SEPARATORS.split(text.strip()) if p]
    if len(parts) > 1 and all(_is_number(p) for p in parts):
        return parts
    return None


def _grid(extract: Extract) -> list[list[list[Cell]]]:
    """Tables (sheets, Word tables, loose paragraphs) of rows of cells, from the reader's locations."""
    tables: dict[tuple, dict[int, list[Cell]]] = {}
    for k, block in enumerate(extract.blocks):
        m = LOC_CELL.match(block.loc)
        if m:
            col = column_index_from_string(m.group("col"))
            key, row = ("sheet", m.group("sheet")), int(m.group("row"))
        elif m := LOC_TABLE.match(block.loc):
            key, row, col = ("table", m.group("table")), int(m.group("row")), int(m.group("col"))
        else:
            key, row, col = ("text",), k, 1
        tables.setdefault(key, {}).setdefault(row, []).append(Cell(col, block.text, block.loc))
    return [
        [sorted(cells, key=lambda c: c.col) for _r, cells in sorted(rows.items())] for rows in tables.values()
    ]


def _serial(texts: list[str]) -> bool:
    """A 序号 or row-number column: whole numbers that never go down, no larger than the rows."""
    xs = [parse_blank(t, True).value for t in texts]
    return (
        all(x is not None and x == x.to_integral_value() for x in xs)
        and all(a <= b for a, b in zip(xs, xs[1:], strict=False))
        and xs[-1] <= len(xs) + 5
    )


def _columns(rows: list[list[Cell]]) -> tuple[set[int], set[int]]:
    """(columns most of whose cells are numbers, the ones of them that hold the figures): to the right of the
    words if any is, else to their left; never a 序号 column."""
    seen: dict[int, list[int]] = {}
    numbers: dict[int, list[str]] = {}
    for cells in rows:
        for c in cells:
            counts = seen.setdefault(c.col, [0, 0])
            counts[0] += 1
            if _numbers(c.text) is not None:
                counts[1] += 1
                numbers.setdefault(c.col, []).append(c.text)
    numeric = {col for col, (n, k) in seen.items() if k >= 2 and k * 2 >= n}
    figures = numeric - {col for col in numeric if _serial(numbers[col])}
    firsts = Counter(
        next((c.col for c in cells if c.col not in numeric and CJK.search(c.text)), None) for cells in rows
    )
    firsts.pop(None, None)
    if not firsts:
        return numeric, figures
    words = firsts.most_common(1)[0][0]
    right = {col for col in figures if col > words}
    return numeric, right or {col for col in figures if col < words}


def _row(cells: list[Cell], columns: tuple[set[int], set[int]], measures: set[str]) -> Row | None:
    value_cols, figure_cols = columns
    words = [c for c in cells if c.col not in value_cols and CJK.search(c.text)]
    if not words:
        return None
    values = [c for c in cells if c.col in figure_cols]
    measure = ""
    if len(words) > 1 and normalise(words[-1].text) in measures:  # 项目 | 单位 | 数量
        measure = normalise(words[-1].text)
        words = words[:-1]
    label = "".join(c.text for c in words)
    out: list[tuple[str, str]] = []
    if not figure_cols:  # a line of text: "走访企业（家）：35"
        m = TRAILING_VALUE.match(label.strip())
        if m and CJK.search(m.group("label")) and _numbers(m.group("value")):
            label = m.group("label")
            out = [(m.group("value"), words[-1].loc)]
    numeric = 0
    for c in values:
        parts = _numbers(c.text)
        numeric += parts is not None
        out += [(p, c.loc) for p in parts] if parts else [(c.text, c.loc)]
    if out and not values:
        numeric = 1
    label = SERIAL.sub("", label, count=1).strip()
    m = re.search(r"[(（]\s*([^()（）]{1,3})\s*[)）]\s*[:：]?\s*$", label)
    if m and normalise(m.group(1)) in measures:
        measure = measure or normalise(m.group(1))
        name = normalise(label[: m.start()])
    else:
        name = normalise(label)
    if not name:
        return None
    empty = [] if out else [_cell_at(words[0].loc, col) for col in sorted(figure_cols)]
    return Row(label.strip(), words[0].loc, name, name + measure, measure, out, numeric, empty)


def _cell_at(loc: str, col: int) -> str:
    """The cell of column `col` in the row of the cell at `loc` (a sheet's cell or a Word table's)."""
    if m := LOC_CELL.match(loc):
        return f"{m.group('sheet')}!{get_column_letter(col)}{m.group('row')}"
    if m := LOC_TABLE.match(loc):
        return f"表{m.group('table')}第{m.group('row')}行第{col}列"
    return loc


def rows_of(extract: Extract, form: Form) -> list[Row]:
    """Every row with words, in the document's order."""
    measures = {normalise(i.unit) for i in form.items} | {"元"}
    out = []
    for table in _grid(extract):
        value_cols = _columns(table)
        for cells in table:
            if (row := _row(cells, value_cols, measures)) is not None:
                out.append(row)
    return out


def _clause(literal: str) -> str:
    """A literal's words up to its first punctuation."""
    return re.split(r"[,，;；。:：]", literal.strip(), maxsplit=1)[0]


def per_form(form: Form, name: str, make):
    """What `make(form)` gives, made once per form (kept on the form: the forms are loaded once per process,
    the files matched against them are many). What is kept is never changed by its users."""
    kept = form.__dict__.setdefault("_per_form", {})
    if name not in kept:
        kept[name] = make(form)
    return kept[name]


def spans_of(form: Form) -> tuple[list[str], list[tuple[int, int, Span]]]:
    """The form's blanks in order, and every span a row may match: one item, or 1–4 whole lines (made once
    per form)."""
    return per_form(form, "spans", _spans_of)


def _spans_of(form: Form) -> tuple[list[str], list[tuple[int, int, Span]]]:
    lines: list[Line] = form.blank_lines
    codes = [c for line in lines for c in line.codes]
    spans: list[tuple[int, int, Span]] = []
    start = 0
    starts = []
    for line in lines:
        starts.append(start)
        lits = line.literals
        for k, code in enumerate(line.codes):
            item = form.item(code)
            before = lits[k].strip()
            if k > 0:  # drop the previous blank's measure: "户，其中困难职工" -> "其中困难职工"
                before = before.removeprefix(form.item(line.codes[k - 1]).unit)
            after = _clause(lits[k + 1]).removeprefix(item.unit)  # "名权益受损的职工开展维权工作"
            names = {normalise(item.label), normalise(before), normalise(before) + normalise(after)} - {""}
            spans.append((start + k, start + k + 1, Span([code], sorted(names), normalise(item.unit))))
        start += len(line.codes)
    for i in range(len(lines)):
        for m in range(1, MAX_MERGED_LINES + 1):
            group = lines[i : i + m]
            if len(group) < m:
                break
            n = sum(len(g.codes) for g in group)
            sentence = normalise("".join("".join(g.literals) for g in group))
            spans.append(
                (starts[i], starts[i] + n, Span([c for g in group for c in g.codes], [], "", sentence))
            )
    # a numbered row of the notice whole (07's lines in one cell: the notice's own table with a column added)
    rows: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        rows.setdefault(line.row, []).append(i)
    for members in rows.values():
        if len(members) <= MAX_MERGED_LINES or members != list(range(members[0], members[-1] + 1)):
            continue
        group = [lines[i] for i in members]
        n = sum(len(g.codes) for g in group)
        sentence = normalise("".join("".join(g.literals) for g in group))
        first = starts[members[0]]
        spans.append((first, first + n, Span([c for g in group for c in g.codes], [], "", sentence)))
    return codes, spans


def _scores(
    rows: list[Row], spans: list[tuple[int, int, Span]], sims: dict | None = None
) -> dict[tuple[int, int], float]:
    """{(row, span): score} for every pair that may match; `sims` receives the words' similarity alone
    (without the bonus for a matching count of figures)."""
    names = sorted(
        {n for _, _, s in spans for n in s.names} | {s.sentence for _, _, s in spans if s.sentence}
    )
    index = {n: k for k, n in enumerate(names)}
    by_name = process.cdist([r.name for r in rows], names, scorer=fuzz.ratio, dtype=None)
    by_full = process.cdist([r.full for r in rows], names, scorer=fuzz.ratio, dtype=None)
    out = {}
    for i, row in enumerate(rows):
        n = len(row.values)
        for j, (_a, _b, span) in enumerate(spans):
            if span.sentence:
                sim = by_full[i][index[span.sentence]] / 100
                bonus = 0.0
            else:
                sim = (
                    max(
                        max(by_name[i][index[x]], by_full[i][index[x]] if not row.measure else 0)
                        for x in span.names
                    )
                    / 100
                )
                bonus = 0.0
                if row.measure:
                    bonus = MEASURE_BONUS if row.measure == span.measure else -MEASURE_PENALTY
            if sim < (MIN_SIMILARITY if n else MIN_SIMILARITY_EMPTY):
                continue
            if sims is not None:
                sims[(i, j)] = sim
            k = len(span.codes)
            bonus += COUNT_BONUS if n == k else (0.0 if n == 0 else -COUNT_PENALTY)
            out[(i, j)] = sim + bonus
    return out


def _align(rows: list[Row], codes: list[str], spans, scores) -> list[tuple[int, int]]:
    """The best monotonic alignment of rows to spans: [(row, span)], each blank at most once."""
    by_start: dict[int, list[int]] = {}
    for j, (a, _b, _s) in enumerate(spans):
        by_start.setdefault(a, []).append(j)
    R, C = len(rows), len(codes)
    best = [[0.0] * (C + 1) for _ in range(R + 1)]
    for i in range(R - 1, -1, -1):
        for a in range(C, -1, -1):
            v = max(best[i + 1][a], best[i][a + 1] if a < C else 0.0)
            for j in by_start.get(a, ()):
                s = scores.get((i, j))
                if s is not None:
                    v = max(v, s + best[i + 1][spans[j][1]])
            best[i][a] = v
    out, i, a = [], 0, 0
    eps = 1e-9
    while i < R and a <= C:
        choice = None
        for j in by_start.get(a, ()):  # the earliest blank wins a tie: labels repeat on the form
            s = scores.get((i, j))
            if s is not None and abs(s + best[i + 1][spans[j][1]] - best[i][a]) < eps:
                if choice is None or s > scores[(i, choice)]:
                    choice = j
        if choice is not None:
            out.append((i, choice))
            i, a = i + 1, spans[choice][1]
        elif (
            a < C and abs(best[i][a + 1] - best[i][a]) < eps and not (abs(best[i + 1][a] - best[i][a]) < eps)
        ):
            a += 1
        else:
            i += 1
    return out


def _ranked(scores: dict, spans) -> dict[int, list[tuple[float, int]]]:
    """Each row's spans, best first."""
    out: dict[int, list[tuple[float, int]]] = {}
    for (i, j), s in scores.items():
        out.setdefault(i, []).append((s, j))
    for ranked in out.values():
        ranked.sort(key=lambda x: (-x[0], x[1]))
    return out


def _in_order(pairs, rows, spans, scores) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
    """The aligned pairs split into (plain, placed, out of order). Plain rows fit one span. Placed rows have
    words the form prints more than once (「其中新生代农民工」): the rows between two plain rows are kept only
    where the spans their words fit between those plain rows' spans are exactly the ones they were aligned to
    (one place each, in order). Out of order: rows aligned although another span fits them clearly better (a
    sheet in another order), left for _by_words_alone."""
    ranked = _ranked(scores, spans)
    kept = [(i, j) for i, j in pairs if scores[(i, j)] >= ranked[i][0][0] - OUT_OF_ORDER_MARGIN]

    def fitting(i, j) -> list[int]:
        """Span j and the spans elsewhere on the form (no blank in common with j) that row i fits as well."""
        mine = set(spans[j][2].codes)
        return [j] + [
            k
            for s, k in ranked[i]
            if s >= scores[(i, j)] - OUT_OF_ORDER_MARGIN and not mine & set(spans[k][2].codes)
        ]

    plain = [(i, j) for i, j in kept if len(fitting(i, j)) == 1]
    end_of_form = max(b for _a, b, _s in spans)
    windows: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, j in kept:
        if len(fitting(i, j)) > 1:
            lo = max((spans[k][1] for r, k in plain if r < i), default=0)
            hi = min((spans[k][0] for r, k in plain if r > i), default=end_of_form)
            windows.setdefault((lo, hi), []).append((i, j))
    placed = []
    for (lo, hi), group in windows.items():
        room = {
            tuple(spans[k][2].codes)
            for i, j in group
            for k in fitting(i, j)
            if lo <= spans[k][0] and spans[k][1] <= hi
        }
        if room == {tuple(spans[j][2].codes) for _i, j in group}:
            placed += group
    return plain, sorted(placed), len(pairs) - len(kept)


def _by_words_alone(pairs, rows, spans, scores) -> list[tuple[int, int]]:
    """Rows left over, matched by their words alone where exactly one free span fits them clearly best."""
    taken = {c for _i, j in pairs for c in spans[j][2].codes}
    used = {i for i, _j in pairs}
    out = []
    for i, ranked in sorted(_ranked(scores, spans).items()):
        if i in used or not rows[i].values:
            continue
        best, j = ranked[0]
        codes = set(spans[j][2].codes)
        others = [s for s, k in ranked[1:] if set(spans[k][2].codes) != codes]
        if (
            best >= UNIQUE_MATCH
            and not codes & taken
            and (not others or others[0] <= best - OUT_OF_ORDER_MARGIN)
        ):
            out.append((i, j))
            taken |= codes
    return out


def _whole_cell(i: int, j: int, rows: list[Row], spans, sims, pairs) -> tuple[int, int]:
    """A row of several sentences (the notice's row in one cell, apart by blank lines) is matched to the
    lines its words fit best, whatever the count of its figures: a figure left out must not make it fit
    fewer lines, where its figures would go to the wrong blanks. The counts are compared after. Lines
    another row was matched to stay that row's."""
    if not spans[j][2].sentence or not rows[i].values:
        return i, j
    best = max(
        ((sim, k) for (r, k), sim in sims.items() if r == i and spans[k][2].sentence),
        default=(0.0, j),
    )
    if best[1] != j and best[0] > sims.get((i, j), 0.0) + 0.02:
        a, b = spans[j][0], spans[j][1]
        wider = spans[best[1]]
        others = {c for r, k in pairs if r != i for c in spans[k][2].codes}
        if wider[0] <= a and b <= wider[1] and not others & set(wider[2].codes):  # the same lines and more
            return i, best[1]
    return i, j


def read(extract: Extract, form: Form) -> Labelled:
    """Read a self-made table by its labels."""
    rows = rows_of(extract, form)
    result = Labelled(total=len(form.items))
    result.number_rows = sum(1 for r in rows if r.numeric)
    if not rows:
        return result
    codes, spans = spans_of(form)
    sims: dict[tuple[int, int], float] = {}
    scores = _scores(rows, spans, sims)
    plain, placed, out_of_order = _in_order(_align(rows, codes, spans, scores), rows, spans, scores)
    by_words = _by_words_alone(plain + placed, rows, spans, scores)
    result.reordered = out_of_order + len(by_words)
    if result.reordered > max(ORDER_TOLERANCE, ORDER_TOLERANCE_SHARE * len(plain)):
        placed = []  # in another order, a row with repeated words cannot be placed by its order
    pairs = plain + placed + by_words
    pairs = [_whole_cell(i, j, rows, spans, sims, pairs) for i, j in pairs]
    matched = set()
    for i, j in sorted(pairs):
        row, span = rows[i], spans[j][2]
        matched.add(i)
        k, n = len(span.codes), len(row.values)
        if n == 0:  # left empty: where its figure would be (the row's first figure cells), else its words
            places = row.empty[:k] if len(row.empty) >= k else [row.loc] * k
            for code, place in zip(span.codes, places, strict=True):
                result.values[code] = ("", place)
        elif n == k:
            for code, (text, loc) in zip(span.codes, row.values, strict=True):
                # the row's own measure, where it is not the item's, goes with the figure: parse_blank
                # converts 元 to 万元 and refuses a count of something else (家 in a 人 item)
                other = row.measure and row.measure != normalise(form.item(code).unit)
                bare = not text.strip().endswith(UNIT_WORDS) and parse_blank(text, True).value  # not 0, 无, —
                result.values[code] = (text.strip() + row.measure if other and bare else text, loc)
        else:
            text = "、".join(v for v, _ in row.values)
            why = f"这一行有{n}个数字，表中这一句有{k}个空格，无法确定哪个数字填在哪个空格"
            for code in span.codes:
                result.refused[code] = (text, row.values[0][1], why)
    result.unmatched = [r for k, r in enumerate(rows) if r.numeric and k not in matched]
    return result
