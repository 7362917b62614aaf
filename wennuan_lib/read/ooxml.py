"""Office packages (zip) read safely, each part inflated once: sizes bounded while reading, DTDs refused.

A part is inflated by the reader that needs it, through `inflated`, which counts what comes out against the
file's budget (config.MAX_INFLATED_BYTES) and hands every chunk to `Prolog`, which refuses a DTD before the
part's root element. No part is inflated a second time only to be checked: a part nobody reads is checked
for a DTD by its prolog alone (a few kilobytes inflated), and its declared size counts against the budget.
"""

from __future__ import annotations

import codecs
import re
import zipfile

from defusedxml import DefusedXmlException, ElementTree
from defusedxml.ElementTree import DefusedXMLParser

from wennuan_lib.base import config
from wennuan_lib.errors import ReadError

UNSAFE_XML = (
    "文件中含有不安全的XML内容（DTD/实体定义，正常的Office文件不会有），"
    "已拒绝读取；请单位用Office重新保存后发送"
)
XML_PARTS = (".xml", ".rels", ".vml")
CHUNK = 1 << 20
PROLOG_CHUNK = 1 << 12  # what is inflated at a time of a part only checked for a DTD


def declared_too_big(declared: int, limit: int) -> str:
    return (
        f"文件解压后达 {declared // 2**20} MB，超过上限 {limit // 2**20} MB（疑似“压缩炸弹”），"
        "已拒绝读取；请单位重新保存后发送"
    )


def actual_too_big(limit: int) -> str:
    return (
        f"文件解压后超过上限 {limit // 2**20} MB（实际大小与声明不符，疑似“压缩炸弹”），"
        "已拒绝读取；请单位重新保存后发送"
    )


class _RootStarted(Exception):
    """The part's root element began: a DTD can no longer come (the XML prolog is over)."""


class _StopAtRoot:
    def start(self, tag, attrib):
        raise _RootStarted

    def end(self, tag):
        pass

    def data(self, data):
        pass

    def close(self):
        return None


class Prolog:
    """An XML part fed chunk by chunk to defusedxml's parser with DTDs forbidden, up to its root element: a
    DTD can only stand before the root, so the check is exact wherever the DTD stands (after a long comment)
    and in any encoding the part declares (UTF-16 by its BOM, GBK by its declaration), and costs the prolog
    only, never a second parse of the part."""

    def __init__(self) -> None:
        self.parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True)
        self.done = False
        self.decoder = None
        self.first = True

    def feed(self, chunk: bytes) -> None:
        """Raises ReadError on a DTD or an entity declaration."""
        if self.done:
            return
        try:
            if self.decoder is not None:
                chunk = self.decoder.decode(chunk).encode("utf-8")
            try:
                self.parser.feed(chunk)
            except DefusedXmlException:
                raise
            except ValueError:  # expat reads UTF-8/16 and one-byte encodings itself; GBK is decoded here
                if not self.first or self.decoder is not None:
                    raise
                self._decoded(chunk)
        except _RootStarted:
            self.done = True
        except DefusedXmlException as exc:  # a DTD, an entity declaration, an external reference
            raise ReadError(UNSAFE_XML) from exc
        except (ElementTree.ParseError, ValueError, LookupError):  # not XML: the part's reader says so
            self.done = True
        finally:
            self.first = False

    def _decoded(self, chunk: bytes) -> None:
        declared = re.match(rb"\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']", chunk)
        if declared is None:
            raise ValueError("no encoding")
        self.decoder = codecs.getincrementaldecoder(declared.group(1).decode("ascii"))("replace")
        text = self.decoder.decode(chunk)
        text = re.sub(r"encoding=[\"'][A-Za-z0-9._-]+[\"']", 'encoding="utf-8"', text, count=1)
        self.parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True)
        self.parser.feed(text.encode("utf-8"))


class Budget:
    """What a file may inflate to in all (config.MAX_INFLATED_BYTES, read when made), counted as parts come
    out; ReadError when the parts' declared sizes already pass it."""

    def __init__(self, infos: list[zipfile.ZipInfo]) -> None:
        self.limit = config.MAX_INFLATED_BYTES
        declared = sum(i.file_size for i in infos)
        if declared > self.limit:
            raise ReadError(declared_too_big(declared, self.limit))
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise ReadError(actual_too_big(self.limit))


def inflated(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, chunk: int = CHUNK):
    """A part's bytes, chunk by chunk, counted against the budget, its prolog checked for a DTD when it is
    XML. (Python's zipfile never gives more than the declared size and checks the CRC at the end: a part
    that lies about its size is refused as damaged.)"""
    prolog = Prolog() if info.filename.lower().endswith(XML_PARTS) else None
    with z.open(info) as fh:
        while data := fh.read(chunk):
            budget.take(len(data))
            if prolog is not None:
                prolog.feed(data)
            yield data


def check_prolog(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A part nobody reads: its DTD refused all the same (inflated only up to its root element)."""
    if not info.filename.lower().endswith(XML_PARTS):
        return
    prolog = Prolog()
    with z.open(info) as fh:
        while not prolog.done and (data := fh.read(PROLOG_CHUNK)):
            prolog.feed(data)
