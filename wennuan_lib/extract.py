"""What a reader gives: a file's text as blocks, each with the place the analyst can find it again."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Block:
    loc: str
    text: str
    sep: str = "\n"  # what separates this block from the previous one in the flat text
    # character ranges of `text` that came from a tracked revision (Word's w:ins / w:moveTo); an empty range
    # (a, a) is where text was deleted (w:del / w:moveFrom)
    revised_spans: tuple[tuple[int, int], ...] = ()

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

    @property
    def is_word(self) -> bool:
        """Running text (Word, RTF, PDF): prose there is a unit's written summary."""
        if self.kind:
            return self.kind in ("docx", "word97", "rtf", "pdf")
        return self.container in ("docx", "docm", "doc")
