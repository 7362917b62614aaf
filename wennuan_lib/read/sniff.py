"""What a file is, told from its bytes: the extension only names it.

A unit's `.wps` is a Word 97 document, its `.et` an Excel 97 workbook, a `.docx` may really be
a `.doc`, a file may have no extension at all. `kind(path)` looks at the first bytes and, for
the two container formats, inside: an OLE2 compound file's stream names, a ZIP's part names.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import olefile

from wennuan_lib.base import config
from wennuan_lib.errors import ReadError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# The kinds a file can be; readers.read dispatches on them.
DOCX, XLSX, WORD97, EXCEL97, RTF, PDF, ARCHIVE, RAR, SEVENZ, IMAGE, ENCRYPTED, OOXML_OTHER, UNKNOWN = (
    "docx",
    "xlsx",
    "word97",
    "excel97",
    "rtf",
    "pdf",
    "zip",
    "rar",
    "7z",
    "image",
    "encrypted",
    "ooxml",
    "unknown",
)
# LibreOffice's documents and workbooks, e-mails and web pages saved as one file (MIME), web pages (HTML)
ODT, ODS, MIME, HTML = "odt", "ods", "mime", "html"
KIND_LABELS = {
    DOCX: "Word文档（.docx）",
    XLSX: "Excel工作簿（.xlsx）",
    WORD97: "Word 97-2003文档（.doc）",
    EXCEL97: "Excel 97-2003工作簿（.xls）",
    RTF: "RTF文档",
    PDF: "PDF文件",
    ARCHIVE: "zip压缩包",
    RAR: "rar压缩包",
    SEVENZ: "7z压缩包",
    IMAGE: "图片",
    ODT: "LibreOffice文档（.odt）",
    ODS: "LibreOffice工作簿（.ods）",
    MIME: "邮件或单个文件网页（.eml/.mht）",
    HTML: "网页（.html）",
}
# The extensions under which each kind is expected; another extension is worth a word in the log.
USUAL_SUFFIXES = {
    DOCX: {".docx", ".docm", ".dotx", ".wps"},
    XLSX: {".xlsx", ".xlsm", ".xltx", ".et"},
    WORD97: {".doc", ".wps", ".dot"},
    EXCEL97: {".xls", ".et", ".xlt"},
    RTF: {".rtf", ".doc"},
    PDF: {".pdf"},
    ARCHIVE: {".zip"},
    RAR: {".rar"},
    SEVENZ: {".7z"},
    ODT: {".odt"},
    ODS: {".ods"},
    MIME: {".eml", ".mht", ".mhtml"},
    HTML: {".html", ".htm"},
}
MIME_SUFFIXES = {".eml", ".mht", ".mhtml"}
# An e-mail or a web archive begins with header lines; MIME-Version says it is MIME.
MIME_HEAD = re.compile(rb"(?im)^mime-version:[ \t]*1\.0")
HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{1,40}:[^\r\n]*\r?\n")
HTML_HEAD = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL
)
OFFICE_SUFFIXES = {".docx", ".docm", ".doc", ".wps", ".xlsx", ".xlsm", ".xls", ".et", ".rtf"}
WORD_SUFFIXES = {".doc", ".docx", ".docm", ".wps", ".rtf", ".dot", ".dotx"}
EXCEL_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".et", ".xlt", ".xltx"}

IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
RAR_MAGIC = b"Rar!\x1a\x07"
SEVENZ_MAGIC = b"7z\xbc\xaf\x27\x1c"


def kind(path: Path) -> str:
    """The kind of file by content. Raises ReadError for what is not worth looking into (empty, huge)."""
    worth_opening(path)
    return content_kind(path)


def worth_opening(path: Path) -> None:
    """Raises ReadError for a file not worth looking into (empty, or larger than the limit)."""
    size = path.stat().st_size
    if size == 0:
        raise ReadError("文件是空的（0字节），请单位重新发送")
    if size > config.MAX_FILE_BYTES:
        raise ReadError(
            f"文件有 {size // 2**20} MB，超过上限 {config.MAX_FILE_BYTES // 2**20} MB，不像是统计表，请核实"
        )


def content_kind(path: Path) -> str:
    """The kind of a file worth opening (`worth_opening`), by its bytes and, for a damaged Office file or a
    saved e-mail, its extension."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(path)
    if head.startswith(b"PK"):
        return _zip_kind(path)
    if head.startswith(b"%PDF") or b"%PDF-" in _first(path, 1024):
        return PDF
    if head.startswith(b"{\\rtf"):
        return RTF
    if head.startswith(RAR_MAGIC):
        return RAR
    if head.startswith(SEVENZ_MAGIC):
        return SEVENZ
    if head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return IMAGE
    first = _first(path, 4096)
    if HEADER_LINE.match(first) and (MIME_HEAD.search(first) or path.suffix.lower() in MIME_SUFFIXES):
        return MIME
    if b"<html" in first[:2048].lower() or first.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(
        b"<!doctype html"
    ):
        return HTML
    return UNKNOWN


def _first(path: Path, n: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _ole_kind(path: Path) -> str:
    """An OLE2 compound file: Word 97 (WordDocument), Excel 97 (Workbook/Book), or an encrypted OOXML
    package (EncryptedPackage). A damaged one is judged by its extension, so the reader says why."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(s).lower() for s in ole.listdir(streams=True, storages=False)}
    except Exception:
        streams = set()
    if "encryptedpackage" in streams:
        return ENCRYPTED
    if "worddocument" in streams:
        return WORD97
    if "workbook" in streams or "book" in streams:
        return EXCEL97
    suffix = path.suffix.lower()
    if not streams and suffix in WORD_SUFFIXES:
        return WORD97
    if not streams and suffix in EXCEL_SUFFIXES:
        return EXCEL97
    return UNKNOWN


def _zip_kind(path: Path) -> str:
    """A ZIP: a Word or Excel package by its main part, else an archive of files."""
    try:
        with zipfile.ZipFile(path) as z:
            names = {n.lower() for n in z.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return UNKNOWN
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    if "[content_types].xml" in names:
        return OOXML_OTHER  # a PowerPoint file or another Office package
    if "mimetype" in names and "content.xml" in names:  # OpenDocument: its first part names what it is
        try:
            with zipfile.ZipFile(path) as z:
                mimetype = z.read("mimetype")[:100]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
            mimetype = b""
        if b"opendocument.text" in mimetype:
            return ODT
        if b"opendocument.spreadsheet" in mimetype:
            return ODS
    return ARCHIVE


def unexpected(kind_: str, path: Path) -> str:
    """A word for the log when the content is not what the extension says (e.g. a .docx that is a .doc)."""
    usual = USUAL_SUFFIXES.get(kind_)
    suffix = path.suffix.lower()
    if usual is None or suffix in usual:
        return ""
    named = f"扩展名为{suffix}" if suffix else "没有扩展名"
    return f"文件{named}，按内容是{KIND_LABELS[kind_]}，已按内容读取"
