"""One reader per container (.xlsx/.xlsm, .xls, .docx, .doc): file → text blocks with their places.

A reader knows nothing of the form. It returns every non-empty cell or paragraph with a
location the analyst can find again (``统计表!D7``, ``表1第5行第4列``, ``第3段``), and for
workbooks the defined names. Problems raise ReadError with a Chinese reason.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.parsers import expat

import msoffcrypto
import openpyxl
import xlrd
from defusedxml import ElementTree
from openpyxl.formula.translate import Translator
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from wennuan_lib.base import config
from wennuan_lib.errors import ReadError
from wennuan_lib.read import convert, ooxml, pdf, sniff, word
from wennuan_lib.read.extract import Block, Extract, clean
from wennuan_lib.read.ooxml import UNSAFE_XML, Prolog
from wennuan_lib.read.sniff import OLE_MAGIC

__all__ = [
    "Block",
    "Extract",
    "ReadError",
    "OLE_MAGIC",
    "read",
    "cell_text",
    "check_zip",
    "Prolog",
    "UNSAFE_XML",
]

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
WORD_SUFFIXES = {".docx", ".docm"}


def cell_text(value: object) -> str:
    """A cell's value as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # as Excel shows it, 15 significant digits: float noise (11399.220000000001) is no figure
        text = format(value, ".15g")
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _encrypted(path: Path) -> bool:
    """An Office file with an open password (OOXML encrypted files are OLE containers)."""
    try:
        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:
        return False


SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
ODS_CONTENT = "content.xml"  # an OpenDocument workbook's sheets, all in one part
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class OdsExtent:
    """How far each sheet of an OpenDocument workbook's content.xml reaches, counted from the rows and cells
    as declared (table:number-rows-repeated, table:number-columns-repeated) without building anything: the
    spreadsheet reader allocates a sheet's grid to its last cell with content (empty repeated rows and cells,
    which LibreOffice writes to the sheet's end, are not allocated and not counted). Fed in chunks."""

    def __init__(self) -> None:
        self.sheets: dict[str, tuple[str, int]] = {}  # sheet name: (last cell, cells) for every sheet
        self._parser = expat.ParserCreate(namespace_separator=" ")
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._name = ""
        self._row = self._rows = self._cols = 0
        self._repeat = 1  # the current row's repetitions
        self._row_end = 0  # the current row's last column with content
        self._cell: tuple[int, bool] | None = None  # (last column of the current cell, has content)
        self._col = 0

    def feed(self, chunk: bytes) -> None:
        self._parser.Parse(chunk, False)

    @staticmethod
    def _repeated(attrs: dict, name: str) -> int:
        try:
            return max(1, int(attrs.get(f"{_TABLE} {name}", 1)))
        except ValueError:
            return 1

    def _start(self, tag: str, attrs: dict) -> None:
        if tag == f"{_TABLE} table":
            self._name = attrs.get(f"{_TABLE} name", "")
            self._row = self._rows = self._cols = 0
        elif tag == f"{_TABLE} table-row":
            self._repeat, self._col, self._row_end = self._repeated(attrs, "number-rows-repeated"), 0, 0
        elif tag in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            self._col += self._repeated(attrs, "number-columns-repeated")
            self._cell = (self._col, f"{_OFFICE} value-type" in attrs)
        elif self._cell is not None:  # anything inside a cell (its text) is content
            self._cell = (self._cell[0], True)

    def _end(self, tag: str) -> None:
        if tag in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            if self._cell is not None and self._cell[1]:
                self._row_end = self._cell[0]
            self._cell = None
        elif tag == f"{_TABLE} table-row":
            self._row += self._repeat
            if self._row_end:
                self._rows, self._cols = self._row, max(self._cols, self._row_end)
        elif tag == f"{_TABLE} table":
            cells = self._rows * self._cols
            self.sheets[self._name] = (f"{_col_letter(max(self._cols, 1) - 1)}{self._rows}", cells)


def check_zip(
    path: Path,
    ods: bool = False,
    formulas: dict[str, dict[tuple[int, int], str]] | None = None,
) -> dict[str, tuple[str, int]]:
    """Before any parser sees an OOXML (or OpenDocument) file: bounded inflated size (declared and
    actual), no DTD in any XML part (Prolog), and how far each sheet's grid reaches, so that a sheet too
    big to allocate is never given to the spreadsheet reader. Returns {sheet part (.xlsx) or sheet name
    (`ods`: from content.xml, OdsExtent): (last cell, cells)} for the sheets over config.MAX_SHEET_CELLS.

    `formulas`: given by the .xlsx reader, which reads the same sheets next — filled, while each sheet is
    inflated here, with {sheet part: its formula cells without a saved result} (see _uncached_formulas), so
    that no sheet is inflated a second time for them; and the parts no spreadsheet reader inflates (pictures,
    printer settings: not XML) are left alone, their declared size counted."""
    too_big: dict[str, tuple[str, int]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            budget = ooxml.Budget(infos)
            for info in infos:
                if formulas is not None and not info.filename.lower().endswith(ooxml.XML_PARTS):
                    continue
                too_big.update(_scan_part(ooxml.inflated(z, info, budget), info.filename, ods, formulas))
    except ReadError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        expat.ExpatError,
    ) as exc:
        raise ReadError(f"文件已损坏（{type(exc).__name__}），请单位重新保存后发送") from exc
    return too_big


def _scan_part(parts, name: str, ods: bool, formulas: dict | None) -> dict[str, tuple[str, int]]:
    """One part inflated to its end (`parts`: its chunks, counted against the file's budget): a sheet's grid
    measured (and its formulas without a saved result noted in `formulas`), an OpenDocument's sheets
    measured. Returns the part's sheets over config.MAX_SHEET_CELLS."""
    if SHEET_PART.match(name):
        data = bytearray()
        for chunk in parts:
            data += chunk
        last, cells = _sheet_extent(data)
        if cells > config.MAX_SHEET_CELLS:
            return {name: (last, cells)}
        if formulas is not None and UNCACHED.search(data):
            if found := _uncached_formulas(bytes(data)):
                formulas[name] = found
        return {}
    if ods and name == ODS_CONTENT:
        extent = OdsExtent()
        for chunk in parts:
            extent.feed(chunk)
        return {sheet: size for sheet, size in extent.sheets.items() if size[1] > config.MAX_SHEET_CELLS}
    for _chunk in parts:
        pass
    return {}


# A cell's reference in a sheet's XML (<c r="B7" …>, any prefix): its row, its column.
CELL_ROW = re.compile(rb"\sr=\"[A-Z]{1,3}([0-9]{1,7})\"")
CELL_COLUMN = re.compile(rb"\sr=\"([A-Z]{1,3})[0-9]{1,7}\"")


def _sheet_extent(data: bytes | bytearray) -> tuple[str, int]:
    """(last cell, cells) of the grid a sheet's cells reach: its highest row by its widest column."""
    rows = max((int(r) for r in set(CELL_ROW.findall(data))), default=0)
    cols = max((_col_number(c.decode("ascii")) for c in set(CELL_COLUMN.findall(data))), default=0)
    return f"{_col_letter(max(cols, 1) - 1)}{rows}", rows * cols


def _col_number(letters: str) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col


def too_big_reason(sheet: str, last: str, cells: int) -> str:
    return (
        f"工作表「{sheet}」的表格范围从A1一直到{last}（约{cells:,}个单元格，上限"
        f"{config.MAX_SHEET_CELLS:,}个），多半是远处有一个多余的单元格，为避免程序卡死未读取这张工作表；"
        "请单位删除多余的行和列（或把统计表复制到新工作簿）后重新发送"
    )


def read_xlsx(
    path: Path,
    too_big: dict[str, tuple[str, int]] | None = None,
    formulas: dict[str, dict[tuple[int, int], str]] | None = None,
) -> Extract:
    """Cell values by python-calamine (fast); defined names from the workbook part itself. `too_big`: the
    sheet parts check_zip found too big to allocate, left out with their reason; `formulas`: the formula
    cells without a saved result check_zip found ({sheet part: cells}), None to look for them here."""
    try:
        return _read_xlsx_calamine(path, too_big or {}, formulas)
    except ReadError:
        raise
    except Exception:
        return _read_xlsx_openpyxl(path, too_big or {}, formulas)


def _grid_blocks(ex: Extract, sheets: list[tuple[str, list[list]]]) -> None:
    for title, rows in sheets:
        for r, row in enumerate(rows, 1):
            row_first = True
            for c, value in enumerate(row):
                text = cell_text(value)
                if text.strip() == "":
                    continue
                sep = "\n" if row_first else "\t"
                ex.blocks.append(Block(f"{title}!{_col_letter(c)}{r}", text, sep if ex.blocks else ""))
                row_first = False


def _left_out(ex: Extract, sheet_parts: dict[str, str], too_big: dict[str, tuple[str, int]]) -> set[str]:
    """The sheets too big to read, each with its reason in ex.left_out; ReadError when no sheet is left."""
    skipped = set()
    for sheet, part in sheet_parts.items():
        if part in too_big:
            ex.left_out[sheet] = too_big_reason(sheet, *too_big[part])
            skipped.add(sheet)
    if skipped and skipped >= set(ex.sheets):
        raise ReadError(next(iter(ex.left_out.values())))
    return skipped


def _read_xlsx_calamine(path: Path, too_big: dict[str, tuple[str, int]], uncached=None) -> Extract:
    wb = CalamineWorkbook.from_path(str(path))
    ex = Extract(path, path.suffix.lower().lstrip("."))
    ex.sheets = list(wb.sheet_names)
    ex.hidden = {m.name for m in wb.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
    names, formulas, sheet_parts = _workbook_parts(path, uncached)
    skipped = _left_out(ex, sheet_parts, too_big)
    grids = {
        name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in wb.sheet_names
        if name not in skipped
    }
    _show_formulas(ex, grids, formulas)
    _grid_blocks(ex, list(grids.items()))
    for name, ref in names.items():
        ex.names[name] = _lookup(ref, grids)
    return ex


def _show_formulas(ex: Extract, grids: dict[str, list[list]], formulas: dict[str, dict]) -> None:
    """A formula cell without a saved result reads as empty; it is shown as its formula instead, and listed
    in ex.formulas, so that it is refused with its reason rather than taken for a blank left empty."""
    for sheet, cells in formulas.items():
        rows = grids.get(sheet)
        if rows is None:
            continue
        for (r, c), formula in cells.items():
            while len(rows) < r:
                rows.append([])
            row = rows[r - 1]
            row.extend([""] * (c - len(row)))
            if row[c - 1] in (None, ""):
                row[c - 1] = formula
                ex.formulas[f"{sheet}!{_col_letter(c - 1)}{r}"] = formula


def _workbook_parts(
    path: Path, uncached: dict[str, dict[tuple[int, int], str]] | None = None
) -> tuple[dict[str, str], dict[str, dict[tuple[int, int], str]], dict[str, str]]:
    """From the workbook's XML (parsed with defusedxml): {defined name: reference text}, per sheet the
    formula cells without a saved result {(row, column): "=formula"} (1-based; see _uncached_formulas), and
    {sheet name: its part in the zip}. `uncached`: those cells per sheet part as check_zip found them (the
    sheets are then not inflated again here)."""
    with zipfile.ZipFile(path) as z:
        parts = {n.lower(): n for n in z.namelist()}
        part = parts.get("xl/workbook.xml")
        if part is None:
            return {}, {}, {}
        root = ElementTree.fromstring(z.read(part), forbid_dtd=True)
        names = {
            el.get("name"): (el.text or "")
            for el in root.iter()
            if el.tag.endswith("}definedName") and el.get("name")
        }
        formulas = {}
        sheet_parts = _sheet_parts(z, parts, root)
        for sheet, target in sheet_parts.items():
            if uncached is not None:
                if target in uncached:
                    formulas[sheet] = uncached[target]
                continue
            data = z.read(target)
            if UNCACHED.search(data) and (found := _uncached_formulas(data)):  # parsed only with formulas
                formulas[sheet] = found
    return names, formulas, sheet_parts


def _sheet_parts(z: zipfile.ZipFile, parts: dict[str, str], workbook) -> dict[str, str]:
    """{sheet name: its part in the zip}, by the workbook's relationships."""
    rels = parts.get("xl/_rels/workbook.xml.rels")
    if rels is None:
        return {}
    targets = {
        el.get("Id"): el.get("Target") or ""
        for el in ElementTree.fromstring(z.read(rels), forbid_dtd=True).iter()
        if el.tag.endswith("}Relationship")
    }
    out = {}
    for el in workbook.iter():
        if not el.tag.endswith("}sheet"):
            continue
        rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if el.get("name") and (part := parts.get(posixpath.normpath(target).lower())):
            out[el.get("name")] = part
    return out


# A cell's formula element (</f>, <f t="shared" …/>, with or without a prefix: </x:f>) followed by no value or
# an empty one, then the end of the cell: a sheet without one is not parsed (Excel saves every result).
UNCACHED = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\s[^>]*/>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _uncached_formulas(data: bytes) -> dict[tuple[int, int], str]:
    """{(row, column): "=formula"} of a sheet's formula cells that carry no saved result: a program that does
    not calculate (openpyxl) writes the formula with an empty <v>, and a reader sees an empty cell although
    Excel shows a number. A shared formula's other cells are translated from its first cell."""
    out, shared = {}, {}
    for _, el in ElementTree.iterparse(io.BytesIO(data), forbid_dtd=True):
        if not el.tag.endswith("}c"):
            continue
        f = v = None
        for child in el:
            if child.tag.endswith("}f"):
                f = child
            elif child.tag.endswith("}v"):
                v = child
        ref = CELL_REF.match(el.get("r") or "")
        if f is not None and ref:
            text = f.text or ""
            if f.get("t") == "shared" and f.get("si") is not None:
                if text:
                    shared[f.get("si")] = ("=" + text, ref.group(0))
                elif f.get("si") in shared:
                    first, origin = shared[f.get("si")]
                    try:
                        text = Translator(first, origin=origin).translate_formula(ref.group(0))[1:]
                    except Exception:
                        text = ""
            empty = v is None or (not (v.text or "") and el.get("t") not in ("str", "inlineStr"))
            if empty:
                col = 0
                for ch in ref.group(1):
                    col = col * 26 + ord(ch) - 64
                out[int(ref.group(2)), col] = "=" + text if text else "=（公式）"
        el.clear()
    return out


REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))!\$?([A-Z]{1,3})\$?(\d+)")


def _lookup(ref: str, grids: dict[str, list[list]]) -> tuple[str, object]:
    m = REF.match(ref.strip())
    if not m:
        value = ref.strip()
        return "", clean(value[1:-1] if value.startswith('"') and value.endswith('"') else value)
    sheet = (m.group(1) or m.group(2)).replace("''", "'")
    col = 0
    for ch in m.group(3):
        col = col * 26 + ord(ch) - 64
    row = int(m.group(4))
    rows = grids.get(sheet, [])
    value = rows[row - 1][col - 1] if row <= len(rows) and col <= len(rows[row - 1]) else None
    if isinstance(value, str):
        value = clean(value)
    return f"{sheet}!{m.group(3)}{row}", (None if value == "" else value)


def _read_xlsx_openpyxl(path: Path, too_big: dict[str, tuple[str, int]], uncached=None) -> Extract:
    try:
        with path.open("rb") as fh:  # a file object: openpyxl judges by content, not by the name
            wb = openpyxl.load_workbook(fh, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on broken files
        raise ReadError(f"Excel文件无法打开（{type(exc).__name__}），请单位重新保存为.xlsx后发送") from exc
    ex = Extract(path, path.suffix.lower().lstrip("."))
    ex.sheets = [ws.title for ws in wb.worksheets]
    ex.hidden = {ws.title for ws in wb.worksheets if ws.sheet_state != "visible"}
    try:
        _names, formulas, sheet_parts = _workbook_parts(path, uncached)
    except Exception:  # the part openpyxl read is enough; formulas without results then read as empty
        formulas, sheet_parts = {}, {}
    skipped = _left_out(ex, sheet_parts, too_big)
    grids = {
        ws.title: [[c.value for c in row] for row in ws.iter_rows()]
        for ws in wb.worksheets
        if ws.title not in skipped
    }
    _show_formulas(ex, grids, formulas)
    _grid_blocks(ex, list(grids.items()))
    scopes = [wb.defined_names] + [ws.defined_names for ws in wb.worksheets]
    for names in scopes:
        for name, dn in names.items():
            ex.names[name] = _resolve_name(wb, dn, ex.formulas)
    wb.close()
    return ex


def _resolve_name(wb, dn, formulas: dict[str, str]) -> tuple[str, object]:
    try:
        dests = list(dn.destinations)
    except Exception:
        dests = []
    for sheet, coord in dests:
        if sheet in wb.sheetnames:
            ref = coord.replace("$", "").split(":")[0]
            value = formulas.get(f"{sheet}!{ref}", wb[sheet][ref].value)
            return f"{sheet}!{ref}", clean(value) if isinstance(value, str) else value
    value = (dn.value or "").strip()
    if value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return "", clean(value)


def read_ods(path: Path, too_big: dict[str, tuple[str, int]] | None = None) -> Extract:
    """A LibreOffice workbook (.ods), by python-calamine like an .xlsx (LibreOffice Calc is not installed:
    only its Writer converts). `too_big`: the sheets whose declared grid (check_zip) is past
    config.MAX_SHEET_CELLS — calamine loads every sheet of an .ods when it opens it, so one such sheet
    refuses the whole file, naming it, before calamine sees it. A sheet found past the limit once loaded is
    left out, with why."""
    ex = Extract(path, path.suffix.lower().lstrip("."))
    if too_big:
        name, (last, cells) = next(iter(too_big.items()))
        raise ReadError(
            too_big_reason(name, last, cells).replace(
                "未读取这张工作表", "整个文件未读取（LibreOffice工作簿打开时要载入全部工作表）"
            )
        )
    try:
        with path.open("rb") as fh:
            wb = CalamineWorkbook.from_filelike(fh)
    except Exception as exc:
        raise ReadError(
            f"LibreOffice工作簿无法打开（{type(exc).__name__}），请单位另存为.xlsx后发送"
        ) from exc
    ex.sheets = list(wb.sheet_names)
    ex.hidden = {m.name for m in wb.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
    grids = {}
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        cells = sheet.height * sheet.width
        if cells > config.MAX_SHEET_CELLS:
            ex.left_out[name] = too_big_reason(
                name, f"{_col_letter(max(sheet.width, 1) - 1)}{sheet.height}", cells
            )
            continue
        grids[name] = sheet.to_python(skip_empty_area=False)
    if not grids and ex.left_out:
        raise ReadError(next(iter(ex.left_out.values())))
    _grid_blocks(ex, list(grids.items()))
    return ex


HTML_BLOCKS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "div",
    "pre",
    "blockquote",
    "td",
    "th",
    "caption",
}


def read_html(path: Path) -> Extract:
    """A web page (Word's 单个文件网页 out of its .mht, a form saved as HTML): its tables' cells as in Word
    (表1第2行第3列) and its paragraphs (第3段), so the layouts read it like a Word document."""
    import lxml.html

    try:
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
        root = lxml.html.parse(str(path), parser).getroot()
    except Exception as exc:
        raise ReadError(f"网页文件无法读取（{type(exc).__name__}），请单位报送Word或Excel文件") from exc
    if root is None:
        raise ReadError("网页文件是空的，请单位报送Word或Excel文件")
    for junk in list(root.iter("script", "style", "head", "title")):
        if junk.getparent() is not None:
            junk.drop_tree()
    ex = Extract(path, path.suffix.lower().lstrip("."))
    tables = paragraphs = 0

    def text_of(el) -> str:
        return re.sub(r"[ \t\r\n\xa0]+", " ", el.text_content()).strip()

    def walk(el) -> None:
        nonlocal tables, paragraphs
        for child in el:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag.lower().rpartition(":")[2]
            if tag == "table":
                tables += 1
                rows = [r for r in child.iter("tr") if _own_table(r, child)]
                for r, tr in enumerate(rows, 1):
                    cells = [c for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
                    for c, td in enumerate(cells, 1):
                        lines = [text_of(p) for p in td.iter("p", "div") if not p.findall(".//p")]
                        text = "\n".join(x for x in lines if x) or text_of(td)
                        if text:
                            ex.blocks.append(
                                Block(f"表{tables}第{r}行第{c}列", text, "\n" if ex.blocks else "")
                            )
            elif tag in HTML_BLOCKS and not any(
                isinstance(d.tag, str) and d.tag.lower() in HTML_BLOCKS | {"table"}
                for d in child.iterdescendants()
            ):
                paragraphs += 1
                if text := text_of(child):
                    ex.blocks.append(Block(f"第{paragraphs}段", text, "\n" if ex.blocks else ""))
            else:
                walk(child)

    walk(root)
    return ex


def _own_table(tr, table) -> bool:
    """Whether a row belongs to this table, not to a table nested in one of its cells."""
    parent = tr.getparent()
    while parent is not None and parent.tag.lower() != "table":
        parent = parent.getparent()
    return parent is table


def read_xls(path: Path) -> Extract:
    try:
        # ragged rows: a row is as long as its last cell, not as the sheet's widest row
        book = xlrd.open_workbook(path, ragged_rows=True)
    except Exception as exc:
        raise ReadError(
            f"Excel 97-2003 文件无法打开（{type(exc).__name__}），请单位另存为.xlsx后发送"
        ) from exc
    ex = Extract(path, "xls")
    ex.sheets = [sh.name for sh in book.sheets()]
    ex.hidden = {sh.name for sh in book.sheets() if sh.visibility}
    for sh in book.sheets():
        for r in range(sh.nrows):
            row_first = True
            for c in range(sh.row_len(r)):
                cell = sh.cell(r, c)
                value = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    value = xlrd.xldate_as_datetime(value, book.datemode)
                text = cell_text(value)
                if text.strip() == "":
                    continue
                ref = f"{sh.name}!{_col_letter(c)}{r + 1}"
                sep = "\n" if row_first else "\t"
                ex.blocks.append(Block(ref, text, sep if ex.blocks else ""))
                row_first = False
    return ex


def _col_letter(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


NEEDS_LIBREOFFICE = (
    "这是旧版Word（.doc/.wps）或RTF文件，需要LibreOffice才能读取：请运行 bash setup.sh 安装，"
    "或在Word中另存为.docx后放回收件箱"
)


def read_doc(path: Path, converted: Path | None = None, kind: str = sniff.WORD97) -> Extract:
    """Legacy Word (and RTF): read through LibreOffice's .docx conversion of a copy."""
    if converted is None:
        if not convert.soffice():
            raise ReadError(NEEDS_LIBREOFFICE)
        with tempfile.TemporaryDirectory(prefix="wennuan-doc-") as tmp:
            done = convert.convert_docs([path], Path(tmp), {path: kind})
            if path not in done:
                raise ReadError("旧版Word（.doc）或RTF文件无法转换，文件可能已损坏，请单位另存为.docx后发送")
            return word.read_docx(done[path])
    return word.read_docx(converted)


IMAGE_REASON = (
    "这是图片（扫描件或照片），无法读取其中的数字；请单位报送Word或Excel版本，"
    "或可以复制文字的PDF（在Word中“另存为PDF”）"
)


def _encrypted_reason() -> str:
    return "文件设置了打开密码（已加密），无法读取；请单位取消密码后重新发送"


def rejection(kind: str, path: Path) -> str:
    """Why a file of this kind is not read (the kinds no reader takes)."""
    suffix = path.suffix.lower()
    if kind == sniff.IMAGE:
        return IMAGE_REASON
    if kind == sniff.OOXML_OTHER:
        return "这是Office文件，但不是Word或Excel（可能是PowerPoint），请单位报送Word或Excel文件"
    if kind in (sniff.RAR, sniff.SEVENZ):
        return ARCHIVE_REASON
    if suffix in sniff.OFFICE_SUFFIXES:
        if suffix in (".xls", ".doc", ".wps", ".et"):
            return "文件已损坏或不是有效的Office 97-2003文件，请单位重新保存后发送"
        return "文件已损坏或不是有效的Office文件，请单位重新保存后发送"
    return f"不支持的文件类型（{suffix or '无扩展名'}），请单位报送Word或Excel文件"


ARCHIVE_REASON = "rar/7z压缩包无法自动解开（系统只解开zip压缩包）；请单位改用zip压缩，或把其中的文件直接发送"


def read(path: Path, converted: Path | None = None, kind: str | None = None) -> Extract:
    """Read any supported file, judged by its content, not its name. `converted`: a legacy Word or RTF
    file already converted to .docx (see convert_docs); `kind`: the file's kind if already sniffed."""
    kind = kind or sniff.kind(path)
    if kind == sniff.ENCRYPTED or (kind in (sniff.WORD97, sniff.EXCEL97) and _encrypted(path)):
        raise ReadError(_encrypted_reason())
    too_big, formulas = {}, {}
    if kind in (sniff.XLSX, sniff.OOXML_OTHER, sniff.ODT, sniff.ODS):
        # bounded inflated size, no DTD, sheet sizes: before any parser sees a part (Word's reader checks the
        # same as it reads, see word.read_docx)
        too_big = check_zip(path, kind == sniff.ODS, formulas if kind == sniff.XLSX else None)
    if kind == sniff.XLSX:
        ex = read_xlsx(path, too_big, formulas)
    elif kind == sniff.DOCX:
        ex = word.read_docx(path)
    elif kind == sniff.EXCEL97:
        ex = read_xls(path)
    elif kind == sniff.ODS:
        ex = read_ods(path, too_big)
    elif kind == sniff.HTML:
        ex = read_html(path)
    elif kind in convert.CONVERTED_KINDS:
        if converted is None and not convert.soffice():
            raise ReadError(NEEDS_LIBREOFFICE)
        ex = read_doc(path, converted, kind)
    elif kind == sniff.PDF:
        ex = pdf.read_pdf(path)
    else:
        raise ReadError(rejection(kind, path))
    ex.path, ex.kind = path, kind
    ex.container = path.suffix.lower().lstrip(".")
    return ex
