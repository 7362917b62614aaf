"""Issue 24.5: an Office file is inflated once — its size counted and its DTDs refused while it is read, not
in a second pass — and a Word document's XML is parsed once; what is refused stays refused."""

import io
import struct
import zipfile
from collections import Counter

import docx
import pytest

from wennuan_lib.base import config
from wennuan_lib.publish import template
from wennuan_lib.read import readers
from wennuan_lib.read.parts import read_form

from .conftest import with_part
from .test_ingest import _formula_cells
from .test_word import filled_form

UNIT = "太仓市总工会"


@pytest.fixture
def inflated(monkeypatch):
    """Bytes inflated per part by Python's zipfile (cleared by the test once its file is made)."""
    counts: Counter = Counter()
    real = zipfile.ZipExtFile.read

    def read(self, n=-1):
        data = real(self, n)
        counts[self.name] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    return counts


def sizes(path) -> dict[str, int]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: i.file_size for i in z.infolist()}


def test_a_word_document_is_inflated_once_and_its_other_parts_only_to_their_prolog(form, tmp_path, inflated):
    path = tmp_path / "填好的.docx"
    filled_form(form, path, {"01A.1": "300"})
    declared = sizes(path)
    assert declared["word/styles.xml"] > 8 * 2**10  # python-docx's default styles: worth not inflating
    inflated.clear()
    m = read_form(readers.read(path), form)
    assert m.values["01A.1"].raw.strip() == "300"
    assert inflated["word/document.xml"] == declared["word/document.xml"]  # once, whole
    for part, size in declared.items():
        assert inflated[part] <= size, part  # no part a second time
    assert inflated["word/styles.xml"] <= 2 * 2**12  # its prolog only: never parsed


def test_a_sheet_is_inflated_once_by_this_program(form, tmp_path, inflated):
    """The grid's reach, the DTD check and the formulas without a saved result come from one pass over each
    sheet (the spreadsheet reader, in Rust, reads the file on its own)."""
    path = tmp_path / "模板.xlsx"
    template.write(form, path, values={"01A.1": 12}, header={"unit": UNIT})
    _formula_cells(path, {"统计表!D7": "=1+1"})
    sheets = {p: s for p, s in sizes(path).items() if readers.SHEET_PART.match(p)}
    inflated.clear()
    ex = readers.read(path)
    assert ex.formulas  # the formula without its result is still found
    for part, size in sheets.items():
        assert inflated[part] == size, part


def plain_docx(text: str = "填报单位：太仓市总工会") -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_a_dtd_in_a_part_word_never_parses_is_refused_all_the_same(tmp_path):
    styles = (
        b'<?xml version="1.0"?><!--' + "长注释".encode() * 3000 + b'--><!DOCTYPE r [<!ENTITY x "y">]>'
        b'<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'
    )
    path = tmp_path / "样式.docx"
    path.write_bytes(with_part(plain_docx(), "word/styles.xml", styles))
    with pytest.raises(readers.ReadError, match="不安全的XML"):
        readers.read(path)


def understated(data: bytes, part: str) -> bytes:
    """The zip with `part`'s uncompressed size in the central directory written as 100 bytes: a package that
    lies about what it inflates to."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46 : at + 46 + name_len].decode() == part:
            struct.pack_into("<I", out, at + 24, 100)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def test_a_word_document_that_lies_about_its_size_is_refused_as_damaged(tmp_path):
    path = tmp_path / "谎报.docx"
    path.write_bytes(understated(plain_docx("填报单位：太仓市总工会" * 50), "word/document.xml"))
    with pytest.raises(readers.ReadError, match="损坏"):
        readers.read(path)


def test_a_word_document_past_the_inflated_limit_is_a_bomb(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MAX_INFLATED_BYTES", 2**20)
    path = tmp_path / "炸弹.docx"
    path.write_bytes(plain_docx("一" * 2**19))  # 1.5 MB of text in the main part
    with pytest.raises(readers.ReadError, match="压缩炸弹"):
        readers.read(path)


def test_a_macro_enabled_or_template_word_file_is_read_like_a_docx(form, tmp_path):
    """python-docx refused them ("not a Word file"); their body is the same XML."""
    filled_form(form, tmp_path / "a.docx", {"01A.1": "300"})
    data = (tmp_path / "a.docx").read_bytes()
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml")
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    for suffix, kind in (
        ("docm", b"application/vnd.ms-word.document.macroEnabled.main+xml"),
        ("dotx", b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"),
    ):
        assert main in types
        path = tmp_path / f"a.{suffix}"
        path.write_bytes(with_part(data, "[Content_Types].xml", types.replace(main, kind)))
        m = read_form(readers.read(path), form)
        assert m.values["01A.1"].raw.strip() == "300", suffix
