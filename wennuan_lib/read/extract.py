"""What a reader gives: a file's text as blocks, each with the place the analyst can find it again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Control characters other than tab and line breaks: a vertical tab pasted from Word into Excel (saved as
# _x000B_) in a 填报单位 would reach the writers of the outputs, which refuse it. Removed as the file is read.
CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F], None)
# Excel's escape of such a character in its XML, left as it is by readers that do not decode it (openpyxl)
ESCAPED_CONTROL = re.compile(r"_x(?:000[0-8BbCcEeFf]|001[0-9A-Fa-f]|007[Ff])_")


def clean(text: str) -> str:
    """A unit's text without control characters (see CONTROL)."""
    if "_x" in text:
        text = ESCAPED_CONTROL.sub("", text)
    return text.translate(CONTROL)


@dataclass
class Block:
    loc: str
    text: str
    sep: str = "\n"  # what separates this block from the previous one in the flat text
    # character ranges of `text` that came from a tracked revision (Word's w:ins / w:moveTo); an empty range
    # (a, a) is where text was deleted (w:del / w:moveFrom)
    revised_spans: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.revised_spans:  # Word's text never holds them (XML forbids them): its spans stay exact
            self.text = clean(self.text)

    @property
    def revised(self) -> bool:
        return bool(self.revised_spans)


def touches_revision(spans, start: int, end: int) -> bool:
    """Whether a revision changed text[start:end]: a character of it was inserted, or text was deleted within
    it or at its edges (352 with the 3 deleted reads 52)."""
    return start < end and any((a < end and b > start) if a < b else start <= a <= end for a, b in spans)


@dataclass
class Extract:
    path: Path
    container: str  # the file's extension, as the unit named it
    blocks: list[Block] = field(default_factory=list)
    # defined name -> (location, raw cell value); constants have location ""
    names: dict[str, tuple[str, object]] = field(default_factory=dict)
    kind: str = ""  # what the file is by content (see sniff.kind)
    # location -> "=formula" of each formula cell the file holds without a saved result (shown as its formula)
    formulas: dict[str, str] = field(default_factory=dict)
    # the workbook's sheets in order, and those hidden (sheet_state hidden or veryHidden)
    sheets: list[str] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    # parts of the file the reader did not read at all, and why (a sheet too big to allocate)
    left_out: dict[str, str] = field(default_factory=dict)
    pictures: bool = False  # a document holding pictures (a screenshot of the form may be all it has)

    @property
    def is_word(self) -> bool:
        """Running text (Word, RTF, PDF): prose there is a unit's written summary."""
        if self.kind:
            return self.kind in ("docx", "word97", "rtf", "pdf", "odt", "html")
        return self.container in ("docx", "docm", "doc")
