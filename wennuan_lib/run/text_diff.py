"""What changed in the 书面总结's words between the sent version and a run: its title, headings, paragraphs,
figure captions, attachments list and closing, read from the report's HTML as the reader reads them (not
the draft list, which says why it is a draft, nor the appendices' tables, whose figures are compared as
totals). Chinese lines, one per changed paragraph, each quoting what differs with a little of the text
around it."""

from __future__ import annotations

import difflib
from pathlib import Path

# the blocks a reader reads, and the parts of the page that are not the report's words
BLOCKS = "h1|h2|h3|p|figcaption"
LEFT_OUT = ("draft-list", "draft-mark", "appendix")
OWN_PARTS = {"attachments": "附件列表", "closing": "落款"}  # parts of the page under no heading of their own
AROUND = 12  # characters of unchanged text quoted on each side of a change
SHORT = 3  # (when no more than this many are left beyond them, those too)
LONGEST = 60  # characters quoted of a changed stretch, of a paragraph added or removed
ALIKE = 0.5  # a block sent and one now at least this alike (difflib's ratio) are one block changed


def report_text(path: Path) -> list[tuple[str, str]] | None:
    """The report's words from its HTML: (section, text) for each block in reading order, the section being
    the heading (h2) it stands under ('' before the first); None if the file is missing or unreadable."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(path.read_bytes(), lxml.html.HTMLParser(encoding="utf-8"))
    except (OSError, ValueError, lxml.etree.ParserError):
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


def _quote(before: str, after: str) -> tuple[str, str]:
    """The stretch where two paragraphs differ, with AROUND characters of what they share on each side."""
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < min(len(before), len(after)) - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1

    before_n, after_n = (n if n <= AROUND + SHORT else AROUND for n in (head, tail))  # a few more: all

    def cut(text: str) -> str:
        middle = text[head : len(text) - tail]
        left = ("…" if head > before_n else "") + text[head - before_n : head]
        if len(middle) > LONGEST:  # the changed stretch cut short: what follows it is not quoted either
            return f"「{left}{middle[:LONGEST]}……」"
        right = text[len(text) - tail : len(text) - tail + after_n] + ("…" if tail > after_n else "")
        return f"「{left}{middle}{right}」"

    return cut(before), cut(after)


def _start(text: str) -> str:
    return f"「{text[:LONGEST]}{'……' if len(text) > LONGEST else ''}」"


def _where(section: str) -> str:
    if section in OWN_PARTS.values():
        return section
    return f"“{section}”一节" if section else "标题部分"


def changes(sent: list[tuple[str, str]], now: list[tuple[str, str]]) -> list[str]:
    """One Chinese line per block changed, added or removed between the sent text and this run's."""
    lines = []
    matcher = difflib.SequenceMatcher(None, [t for _, t in sent], [t for _, t in now], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        at = b0
        for a in range(a0, a1):  # each block sent paired, in order, with the most alike of those after it
            alike = [(difflib.SequenceMatcher(None, sent[a][1], now[b][1]).ratio(), b) for b in range(at, b1)]
            ratio, b = max(alike, key=lambda rb: (rb[0], -rb[1]), default=(0.0, at))
            if ratio < ALIKE:
                lines.append(f"{_where(sent[a][0])}：删去了 {_start(sent[a][1])}")
                continue
            lines += [f"{_where(s)}：新增了 {_start(t)}" for s, t in now[at:b]]
            was, is_ = _quote(sent[a][1], now[b][1])
            lines.append(f"{_where(now[b][0])}：已报送 {was} → 现在 {is_}")
            at = b + 1
        lines += [f"{_where(s)}：新增了 {_start(t)}" for s, t in now[at:b1]]
    return lines
