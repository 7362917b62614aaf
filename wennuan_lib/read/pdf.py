"""PDF files with a text layer (a form saved as PDF from Word) as text blocks, by pdfplumber.

A ruled table's cells are blocks of their own (``第1页表1第3行第4列``), so that a sentence wrapped
inside its cell is not interleaved with the letters of the cell beside it; the text outside
tables is a block per line (``第2页第14行``). The lines of one cell are joined without a break:
Word wraps Chinese text wherever the column ends, even inside a number.

A PDF without a text layer (a scan) is refused: figures are never guessed from pictures (no OCR).
"""

from __future__ import annotations

import re
from pathlib import Path

from wennuan_lib.errors import ReadError
from wennuan_lib.read.extract import Block, Extract

# A page of a form carries hundreds of characters; a scan carries none (or a stray page number).
MIN_CHARS = 20
MAX_PAGES = 50
NO_TEXT = (
    "PDF文件中没有文字（是扫描件或图片），无法读取其中的数字；请单位报送Word或Excel版本，"
    "或在Word中“另存为PDF”得到可以复制文字的PDF"
)


# A text layer that is not real text: glyph codes without a ToUnicode map ("(cid:1)"), private-use characters
# (a font's own codes), or too few Chinese characters and digits for a form or a summary.
CID = re.compile(r"\(cid:\d+\)")
MAX_CID_SHARE, MAX_PRIVATE_SHARE, MIN_CJK_DIGIT_SHARE = 0.05, 0.05, 0.3
GARBLED = (
    "PDF文件中的文字无法识别（{why}，复制出来是乱码），无法读取其中的数字；"
    "请单位报送Word或Excel版本，或在Word中“另存为PDF”重新导出"
)


def garbled(text: str) -> str | None:
    """Why a PDF's text layer is not real text, or None."""
    cids = len(CID.findall(text))
    chars = [ch for ch in CID.sub("", text) if not ch.isspace()]
    total = len(chars) + cids
    if not total:
        return None
    if cids / total > MAX_CID_SHARE:
        return GARBLED.format(why=f"文字层是字形编号（如“(cid:1)”），共{cids}处")
    private = sum(1 for ch in chars if 0xE000 <= ord(ch) <= 0xF8FF)
    if private / total > MAX_PRIVATE_SHARE:
        return GARBLED.format(why=f"文字层中有{private}个字体私用编码字符")
    cjk_digits = sum(1 for ch in chars if "\u4e00" <= ch <= "\u9fff" or ch.isdigit())
    if cjk_digits / total < MIN_CJK_DIGIT_SHARE:
        return GARBLED.format(why=f"文字层中汉字和数字只占{cjk_digits * 100 // total}%")
    return None


def _inside(obj: dict, box: tuple) -> bool:
    x0, top, x1, bottom = box
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return x0 <= cx <= x1 and top <= cy <= bottom


def _cell_text(text: str | None) -> str:
    """A cell's lines joined: the breaks are where the column ended, not where the unit pressed Enter."""
    return "".join((text or "").split("\n"))


def read_pdf(path: Path) -> Extract:
    # pdfplumber: 0.03 s and 13 MiB in the kernel (and so in every worker forked from it), for the rare PDF
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    ex = Extract(path, path.suffix.lower().lstrip("."))
    try:
        with pdfplumber.open(str(path)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise ReadError(f"PDF文件有{len(pdf.pages)}页，不像是统计表（上限{MAX_PAGES}页），请核实")
            for n, page in enumerate(pdf.pages, 1):
                _page_blocks(ex, page, n)
    except ReadError:
        raise
    except PDFPasswordIncorrect as exc:
        raise ReadError(
            "PDF文件设置了密码，无法读取；请单位取消密码后重新发送，或报送Word或Excel版本"
        ) from exc
    except Exception as exc:  # pdfminer raises many kinds on broken files
        if "password" in str(exc).lower() or "encrypt" in type(exc).__name__.lower():
            raise ReadError(
                "PDF文件设置了密码，无法读取；请单位取消密码后重新发送，或报送Word或Excel版本"
            ) from exc
        raise ReadError(
            f"PDF文件已损坏，无法读取（{type(exc).__name__}）；请单位重新导出PDF，或报送Word或Excel版本"
        ) from exc
    if sum(len("".join(b.text.split())) for b in ex.blocks) < MIN_CHARS:
        raise ReadError(NO_TEXT)
    if (why := garbled("".join(b.text for b in ex.blocks))) is not None:
        raise ReadError(why)
    if ex.blocks:
        ex.blocks[0].sep = ""
    return ex


def _page_blocks(ex: Extract, page, n: int) -> None:
    """One page's blocks from top to bottom: lines outside tables, and every table's cells in order."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    outside = page.filter(lambda obj: not any(_inside(obj, b) for b in boxes) if "x0" in obj else True)
    items: list[tuple[float, int, list[Block]]] = []
    for k, line in enumerate(outside.extract_text_lines(), 1):
        if line["text"].strip():
            items.append((line["top"], 0, [Block(f"第{n}页第{k}行", line["text"])]))
    for t, table in enumerate(tables, 1):
        cells = []
        for r, row in enumerate(table.extract(), 1):
            for c, text in enumerate(row, 1):
                joined = _cell_text(text)
                if joined.strip():
                    cells.append(Block(f"第{n}页表{t}第{r}行第{c}列", joined))
        items.append((table.bbox[1], 1, cells))
    for _top, _kind, blocks in sorted(items, key=lambda x: (x[0], x[1])):
        ex.blocks.extend(blocks)
