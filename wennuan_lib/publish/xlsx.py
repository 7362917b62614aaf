"""Workbooks the program only writes (feedback to the units, 审核数据, 分单位明细表), made with XlsxWriter.

Measured on the feedback workbook (two sheets, about 80 styled rows): openpyxl 57 ms, XlsxWriter 5 ms — at a
province's 1,800 units with findings, 100 s of one core against 9 s. openpyxl stays for what the program reads
back (the template and the summary form, with their defined names). Text is always written as text, never as a
formula (a unit's name may start with '='), and equal content gives equal bytes.
"""

from __future__ import annotations

import datetime as dt
import io

import xlsxwriter

STAMP = dt.datetime(2000, 1, 1)  # the documents' own dates: fixed, so that equal content gives equal bytes


class Book:
    """A workbook with its cell formats made once each. `rows_as_written`: each sheet's rows are written in
    order and each row is let go once the next starts (XlsxWriter's constant_memory: a row's text is written
    in the row, not in a shared table), for a sheet of thousands of rows made beside other work; otherwise
    the whole workbook is kept in memory until its bytes are asked for (faster for small ones)."""

    def __init__(self, author: str = "wennuan", rows_as_written: bool = False):
        self._buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self._buffer,
            {
                "in_memory": not rows_as_written,
                "constant_memory": rows_as_written,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.wb.set_properties({"created": STAMP, "author": author})
        self._formats: dict[tuple, object] = {}

    def style(self, **spec):
        """A cell format (XlsxWriter's names: bold, font_size, font_color, bg_color, text_wrap, valign, align,
        num_format, border); the same spec gives the same format object."""
        key = tuple(sorted(spec.items()))
        if key not in self._formats:
            fmt = dict(spec)
            if "bg_color" in fmt:
                fmt.setdefault("pattern", 1)
            self._formats[key] = self.wb.add_format(fmt)
        return self._formats[key]

    def sheet(self, name: str):
        return self.wb.add_worksheet(name)

    def bytes(self) -> bytes:
        self.wb.close()
        return self._buffer.getvalue()


def cell(ws, row: int, col: int, value, fmt=None) -> None:
    """One cell (0-based row and column): text as text, numbers as numbers, None as an empty (formatted)
    cell. A row above one written already, in a sheet whose rows are let go as they are written
    (Book(rows_as_written=True)), is an error: XlsxWriter would leave it out without a word."""
    if value is None or value == "":
        refused = ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        refused = ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        refused = ws.write_boolean(row, col, value, fmt)
    else:
        refused = ws.write_number(row, col, value, fmt)
    # looked into only when XlsxWriter refused the cell (-1), not at every cell (the benchmark's other writers
    # return nothing)
    if refused == -1 and getattr(ws, "constant_memory", False) and row < ws.previous_row:
        where = f"sheet {ws.name!r}: row {row} written after row {ws.previous_row}"
        raise ValueError(f"{where} (rows_as_written)")


def display_width(text: str) -> int:
    """Columns a text takes in a cell: a Chinese character two, others one."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


CLOSING = set("）)」』”’，、。；：！？%》〉】")  # never the first character of a line
OPENING = set("（(「『“‘《〈【")  # never the last


def wrap_label(text: str, columns: float) -> str:
    """A label with its line breaks set where Excel, WPS and LibreOffice would break it in a cell `columns`
    wide (display_width units, a little to spare), but never before a closing bracket or mark
    (「会议（活动\\n）」) nor after an opening one: such a character is carried with its neighbour to the
    next line. Breaks already in the text are kept."""
    room = max(columns - 1.5, 2)
    out = []
    for part in text.split("\n"):
        lines, line = [], ""
        for ch in part:
            if line and display_width(line + ch) > room:
                cut = len(line)
                while cut > 1 and (line[cut - 1] in OPENING or (line[cut:] + ch)[0] in CLOSING):
                    cut -= 1  # carry the opening bracket, or the character a closing one follows
                lines.append(line[:cut])
                line = line[cut:]
            line += ch
        out.append("\n".join([*lines, line]))
    return "\n".join(out)


def lines_of(text: str) -> int:
    return text.count("\n") + 1
