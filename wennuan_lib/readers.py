"""One reader per container (.xlsx/.xlsm, .xls, .docx, .doc): file → text blocks with their places.

A reader knows nothing of the form. It returns every non-empty cell or paragraph with a
location the analyst can find again (``统计表!D7``, ``表1第5行第4列``, ``第3段``), and for
workbooks the defined names. Problems raise ReadError with a Chinese reason.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import config

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
WORD_SUFFIXES = {".docx", ".docm"}
CONTAINERS = EXCEL_SUFFIXES | WORD_SUFFIXES | {".xls", ".doc"}


class ReadError(Exception):
    """A file that cannot be read; the message is Chinese and says what to ask the unit for."""


@dataclass
class Block:
    loc: str
    text: str
    sep: str = "\n"  # what separates this block from the previous one in the flat text


@dataclass
class Extract:
    path: Path
    container: str
    blocks: list[Block] = field(default_factory=list)
    # defined name -> (location, raw cell value); constants have location ""
    names: dict[str, tuple[str, object]] = field(default_factory=dict)

    @property
    def is_word(self) -> bool:
        return self.container in ("docx", "docm", "doc")


def cell_text(value: object) -> str:
    """A cell's value as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _encrypted(path: Path) -> bool:
    """An Office file with an open password (OOXML encrypted files are OLE containers)."""
    import msoffcrypto

    try:
        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:
        return False


def check_zip(path: Path) -> None:
    """Before any parser sees an OOXML file: bounded inflated size (declared and actual), and no
    DTD in any XML part (entity expansion, external entities)."""
    limit = config.MAX_INFLATED_BYTES
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > limit:
                raise ReadError(f"文件解压后达 {declared // 2**20} MB，超过上限 {limit // 2**20} MB（疑似“压缩炸弹”），"
                                "已拒绝读取；请单位重新保存后发送")
            actual = 0
            for info in infos:
                with z.open(info) as fh:
                    head = True
                    while chunk := fh.read(1 << 20):
                        actual += len(chunk)
                        if actual > limit:
                            raise ReadError(f"文件解压后超过上限 {limit // 2**20} MB（实际大小与声明不符，疑似“压缩炸弹”），"
                                            "已拒绝读取；请单位重新保存后发送")
                        if head and info.filename.endswith((".xml", ".rels", ".vml")) and (
                                b"<!DOCTYPE" in chunk[:4096].upper() or b"<!ENTITY" in chunk[:4096].upper()):
                            raise ReadError("文件中含有不安全的XML内容（DTD/实体定义，正常的Office文件不会有），"
                                            "已拒绝读取；请单位用Office重新保存后发送")
                        head = False
    except ReadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ReadError(f"文件已损坏（{type(exc).__name__}），请单位重新保存后发送") from exc


def _sniff(path: Path) -> str:
    """Reject what cannot be read, with the right reason; return the container to read it as."""
    size = path.stat().st_size
    if size == 0:
        raise ReadError("文件是空的（0字节），请单位重新发送")
    if size > config.MAX_FILE_BYTES:
        raise ReadError(f"文件有 {size // 2**20} MB，超过上限 {config.MAX_FILE_BYTES // 2**20} MB，不像是统计表，请核实")
    with path.open("rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head == OLE_MAGIC:
        if _encrypted(path):
            raise ReadError("文件设置了打开密码（已加密），无法读取；请单位取消密码后重新发送")
        if suffix in EXCEL_SUFFIXES | {".xls"}:
            return ".xls"  # an Excel 97-2003 file, whatever its name says
        if suffix in WORD_SUFFIXES | {".doc"}:
            return ".doc"
    if zipfile.is_zipfile(path):
        check_zip(path)
        if suffix in (".xls",) or suffix in EXCEL_SUFFIXES:
            return ".xlsx"
        if suffix in (".doc",) or suffix in WORD_SUFFIXES:
            return ".docx"
    if suffix in EXCEL_SUFFIXES | WORD_SUFFIXES:
        raise ReadError("文件已损坏或不是有效的Office文件，请单位重新保存后发送")
    raise ReadError("文件已损坏或不是有效的Office 97-2003文件，请单位重新保存后发送")


def read_xlsx(path: Path) -> Extract:
    """Cell values by python-calamine (fast); defined names from the workbook part itself."""
    try:
        return _read_xlsx_calamine(path)
    except ReadError:
        raise
    except Exception:
        return _read_xlsx_openpyxl(path)


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


def _read_xlsx_calamine(path: Path) -> Extract:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    grids = {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    ex = Extract(path, path.suffix.lower().lstrip("."))
    _grid_blocks(ex, list(grids.items()))
    for name, ref in _defined_names(path).items():
        ex.names[name] = _lookup(ref, grids)
    return ex


def _defined_names(path: Path) -> dict[str, str]:
    """{name: reference text} from xl/workbook.xml, parsed with defusedxml."""
    from defusedxml import ElementTree

    with zipfile.ZipFile(path) as z:
        part = next((n for n in z.namelist() if n.lower() == "xl/workbook.xml"), None)
        if part is None:
            return {}
        root = ElementTree.fromstring(z.read(part))
    return {el.get("name"): (el.text or "") for el in root.iter() if el.tag.endswith("}definedName") and el.get("name")}


REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))!\$?([A-Z]{1,3})\$?(\d+)")


def _lookup(ref: str, grids: dict[str, list[list]]) -> tuple[str, object]:
    m = REF.match(ref.strip())
    if not m:
        value = ref.strip()
        return "", value[1:-1] if value.startswith('"') and value.endswith('"') else value
    sheet = (m.group(1) or m.group(2)).replace("''", "'")
    col = 0
    for ch in m.group(3):
        col = col * 26 + ord(ch) - 64
    row = int(m.group(4))
    rows = grids.get(sheet, [])
    value = rows[row - 1][col - 1] if row <= len(rows) and col <= len(rows[row - 1]) else None
    return f"{sheet}!{m.group(3)}{row}", (None if value == "" else value)


def _read_xlsx_openpyxl(path: Path) -> Extract:
    import openpyxl

    try:
        with path.open("rb") as fh:  # a file object: openpyxl judges by content, not by the name
            wb = openpyxl.load_workbook(fh, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on broken files
        raise ReadError(f"Excel文件无法打开（{type(exc).__name__}），请单位重新保存为.xlsx后发送") from exc
    ex = Extract(path, path.suffix.lower().lstrip("."))
    _grid_blocks(ex, [(ws.title, [[c.value for c in row] for row in ws.iter_rows()]) for ws in wb.worksheets])
    scopes = [wb.defined_names] + [ws.defined_names for ws in wb.worksheets]
    for names in scopes:
        for name, dn in names.items():
            ex.names[name] = _resolve_name(wb, dn)
    wb.close()
    return ex


def _resolve_name(wb, dn) -> tuple[str, object]:
    try:
        dests = list(dn.destinations)
    except Exception:
        dests = []
    for sheet, coord in dests:
        if sheet in wb.sheetnames:
            ref = coord.replace("$", "").split(":")[0]
            return f"{sheet}!{ref}", wb[sheet][ref].value
    value = (dn.value or "").strip()
    if value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return "", value


def read_xls(path: Path) -> Extract:
    import xlrd

    try:
        book = xlrd.open_workbook(path)
    except Exception as exc:
        raise ReadError(f"Excel 97-2003 文件无法打开（{type(exc).__name__}），请单位另存为.xlsx后发送") from exc
    ex = Extract(path, "xls")
    for sh in book.sheets():
        for r in range(sh.nrows):
            row_first = True
            for c in range(sh.ncols):
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


def read_docx(path: Path, container: str | None = None) -> Extract:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise ReadError(f"Word文件无法打开（{type(exc).__name__}），请单位重新保存为.docx后发送") from exc
    ex = Extract(path, container or path.suffix.lower().lstrip("."))
    n_par = n_tab = 0
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            n_tab += 1
            seen = set()  # holds the elements themselves, so their identity stays stable
            for r, row in enumerate(part.rows, 1):
                for c, cell in enumerate(row.cells, 1):
                    if cell._tc in seen:  # a merged cell repeats in every grid slot
                        continue
                    seen.add(cell._tc)
                    if cell.text.strip():
                        ex.blocks.append(Block(f"表{n_tab}第{r}行第{c}列", cell.text, "\n"))
        else:
            n_par += 1
            if part.text.strip():
                ex.blocks.append(Block(f"第{n_par}段", part.text, "\n"))
    if ex.blocks:
        ex.blocks[0].sep = ""
    return ex


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_docs(paths: list[Path], folder: Path) -> dict[Path, Path]:
    """Legacy Word files converted to .docx by one LibreOffice run (its start-up costs seconds);
    copies are converted, never the raw files. Returns {original: converted} for those that converted."""
    exe = soffice()
    if not exe or not paths:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for k, path in enumerate(paths):
        src = folder / f"f{k:06d}.doc"
        shutil.copyfile(path, src)
        copies[path] = src
    profile = folder / "profile"
    cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", "docx",
           "--outdir", str(folder), *[str(c) for c in copies.values()]]
    try:
        subprocess.run(cmd, capture_output=True, timeout=60 + 10 * len(paths), check=False,
                       env={**os.environ, "HOME": str(folder)})
    except subprocess.TimeoutExpired:
        pass
    return {orig: src.with_suffix(".docx") for orig, src in copies.items() if src.with_suffix(".docx").exists()}


def read_doc(path: Path, converted: Path | None = None) -> Extract:
    """Legacy Word: read through LibreOffice's .docx conversion of a copy."""
    if converted is None:
        if not soffice():
            raise ReadError(
                "这是旧版Word（.doc）文件，需要LibreOffice才能读取：请运行 bash setup.sh 安装，"
                "或在Word中另存为.docx后放回收件箱"
            )
        with tempfile.TemporaryDirectory(prefix="wennuan-doc-") as tmp:
            done = convert_docs([path], Path(tmp))
            if path not in done:
                raise ReadError("旧版Word（.doc）文件无法转换，文件可能已损坏，请单位另存为.docx后发送")
            return read_docx(done[path], container="doc")
    return read_docx(converted, container="doc")


def read(path: Path, converted: Path | None = None) -> Extract:
    """Read any supported container, judged by its content as well as its name. `converted`: a
    legacy .doc already converted to .docx (see convert_docs)."""
    if path.suffix.lower() not in CONTAINERS:
        raise ReadError(f"不支持的文件类型：{path.suffix}")
    kind = _sniff(path)
    container = path.suffix.lower().lstrip(".")
    if kind == ".xlsx":
        ex = read_xlsx(path)
    elif kind == ".docx":
        ex = read_docx(path)
    elif kind == ".xls":
        ex = read_xls(path)
    else:
        if converted is None and not soffice():
            raise ReadError("这是旧版Word（.doc）文件，需要LibreOffice才能读取：请运行 bash setup.sh 安装，"
                            "或在Word中另存为.docx后放回收件箱")
        ex = read_doc(path, converted)
    ex.container = container
    return ex
