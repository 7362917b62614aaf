"""Reading the text files the analyst edits (units.csv, corrections.csv, waivers.csv, narrative.md,
year.yaml) as Excel and Notepad on Chinese Windows save them.

Encoding: a byte-order mark first (UTF-8, UTF-16 LE/BE: Excel's "Unicode 文本" is UTF-16LE with a
BOM), then strict UTF-8, then strict GB18030 (a superset of GBK, Notepad's "ANSI" on Chinese
Windows). Measured on the sample's names and files: this order reads every GBK file right, where
charset-normalizer misread about a third of them (short Chinese text comes out as Korean or Cyrillic),
so no detection library is used. Tables: tab or comma separated (a line typed with the other separator is
read too), CRLF, Excel's empty rows (`,,,`)
ignored, cells trimmed, each row with its line number in the file.

What cannot be read raises InputFileError: a Chinese message naming the file (and line) and what to do.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from wennuan_lib.errors import WennuanError

EMPTY = "empty"
ENCODING_LABELS = {
    "utf-8-sig": "UTF-8（带BOM）",
    "utf-8": "UTF-8",
    "gb18030": "GBK/GB18030",
    "utf-16-le": "UTF-16（Unicode 文本）",
    "utf-16-be": "UTF-16BE（Unicode big endian）",
    EMPTY: "空文件",
}
BOMS = [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]
# Files that are not text at all: a workbook or document renamed, or saved in the wrong format.
BINARY_SIGNATURES = [
    (b"PK\x03\x04", "Excel 或 Word 文件（.xlsx/.docx）"),
    (b"\xd0\xcf\x11\xe0", "Excel 或 Word 97-2003 文件（.xls/.doc）"),
]
SAVE_AS_TABLE = (
    "请用 Excel 或记事本打开，「另存为」时选择「CSV UTF-8（逗号分隔）」或「Unicode 文本」"
    "（记事本选编码「UTF-8」），然后再运行"
)
SAVE_AS_TEXT = "请用记事本打开，「另存为」时编码选「UTF-8」，然后再运行"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Characters a GBK text can turn into when its bytes happen to be valid UTF-8 (U+0080–U+07FF).
LATIN_ETC = re.compile(r"[\u0080-\u07ff]")


class InputFileError(WennuanError, ValueError):
    """A file the analyst edits cannot be used; the message is Chinese and names the file (and line)."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path, self.line = Path(path), line
        where = f"{path}" + (f" 第{line}行" if line else "")
        super().__init__(f"{where}：{message}")


@dataclass(frozen=True)
class Text:
    path: Path
    text: str
    encoding: str  # a key of ENCODING_LABELS

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS[self.encoding]


def _line_of(data: bytes, position: int, encoding: str) -> int:
    return data[:position].decode(encoding, errors="replace").count("\n") + 1


def _save_as(path: Path | str) -> str:
    return SAVE_AS_TABLE if str(path).lower().endswith((".csv", ".txt", ".tsv")) else SAVE_AS_TEXT


def decode(data: bytes, path: Path | str = "") -> tuple[str, str]:
    """(text, encoding) of a text file's bytes; InputFileError when they are not text."""
    if not data:
        return "", EMPTY
    for signature, what in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise InputFileError(path, f"这是{what}，不是文本文件。{_save_as(path)}")
    bom = next(((mark, enc) for mark, enc in BOMS if data.startswith(mark)), None)
    if bom:
        data, tries = data[len(bom[0]) :], [bom[1]]
    elif b"\x00" in data:  # UTF-16 without a BOM: ASCII characters have a zero byte beside them
        odd = data[1::2].count(0) >= data[0::2].count(0)
        tries = ["utf-16-le" if odd else "utf-16-be"]
    else:
        tries = ["utf-8", "gb18030"]
    failures = []
    for encoding in tries:
        try:
            text = data.decode("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError as exc:
            failures.append((exc.start, encoding))
            continue
        if encoding == "utf-8" and LATIN_ETC.search(text) and not CJK.search(text):
            # GBK whose bytes are also valid UTF-8 (一业专…): that reading has no Chinese at all.
            try:
                gbk = data.decode("gb18030")
            except UnicodeDecodeError:
                gbk = ""
            if CJK.search(gbk) and not LATIN_ETC.search(gbk):
                text, encoding = gbk, "gb18030"
        if "\x00" in text:
            raise InputFileError(path, f"文件中有空字符，不是文本文件。{_save_as(path)}")
        # read whole in one encoding, but a line is the other's: GBK reads a UTF-8 line garbled, UTF-8
        # reads a GBK line whose bytes happen to be UTF-8 as letters
        if encoding == "gb18030" and (line := _first_line(data, _chinese_in_utf8)):
            raise _mixed(path, line, "UTF-8", ENCODING_LABELS["gb18030"])
        if encoding == "utf-8" and CJK.search(text) and (line := _first_line(data, _gbk_as_letters)):
            raise _mixed(path, line, ENCODING_LABELS["gb18030"], "UTF-8")
        return text.lstrip("\ufeff"), encoding
    position, encoding = max(failures)
    line = _line_of(data, position, encoding)
    lines = data.splitlines()
    if "gb18030" in tries and line <= len(lines) and _chinese_in_utf8(lines[line - 1]):
        raise _mixed(path, line, "UTF-8", ENCODING_LABELS["gb18030"])
    if encoding in ("utf-8", "utf-8-sig") and line <= len(lines) and _is_gbk(lines[line - 1]):
        raise _mixed(path, line, ENCODING_LABELS["gb18030"], "UTF-8")
    known = "、".join(ENCODING_LABELS[e] for e in tries)
    raise InputFileError(path, f"有无法识别的字符（不是 {known} 编码的文本）。{_save_as(path)}", line)


def _decoded(line: bytes, encoding: str) -> str | None:
    try:
        return line.decode(encoding)
    except UnicodeDecodeError:
        return None


def _first_line(data: bytes, looks_wrong) -> int | None:
    """The number of the first line with non-ASCII bytes that `looks_wrong`, if any."""
    lines = enumerate(data.splitlines(), 1)
    return next((k for k, line in lines if max(line, default=0) >= 0x80 and looks_wrong(line)), None)


def _chinese_in_utf8(line: bytes) -> bool:
    """A line of a file read as GBK that is Chinese in UTF-8 (the rest cannot be: the file would have been
    read as UTF-8): a line written by another program, which GBK would read garbled."""
    said = _decoded(line, "utf-8")
    return said is not None and bool(CJK.search(said)) and not LATIN_ETC.search(said)


def _gbk_as_letters(line: bytes) -> bool:
    """A line of a Chinese UTF-8 file that is GBK whose bytes happen to be valid UTF-8 too (钱平 → Ǯƽ): in
    UTF-8 nothing but letters of U+0080–U+07FF (two or more, not all Latin-1), in GBK Chinese."""
    odd = [c for c in line.decode("utf-8", "replace") if ord(c) >= 0x80]
    # (Latin-1 alone — é ü × ° · — is what a UTF-8 file holds by itself: Café, 3×4, 阿卜杜拉·艾力)
    if len(odd) < 2 or not all(LATIN_ETC.match(c) for c in odd) or all(ord(c) < 0x100 for c in odd):
        return False
    gbk = _decoded(line, "gb18030")
    return gbk is not None and bool(CJK.search(gbk)) and not LATIN_ETC.search(gbk)


def _is_gbk(line: bytes) -> bool:
    gbk = _decoded(line, "gb18030")
    return gbk is not None and CJK.search(gbk) is not None


def _mixed(path: Path | str, line: int, here: str, rest: str) -> InputFileError:
    return InputFileError(
        path,
        f"文件混用了两种编码：这一行是 {here}，其余是 {rest}（多半是用不同的程序先后编辑或粘贴过），"
        "不论按哪一种读，总有一部分是乱码。请用记事本打开，核对这一行（显示为乱码的就重新输入），"
        "「另存为」时编码选「UTF-8」，然后再运行",
        line,
    )


def read_text(path: Path) -> Text:
    """A text file the analyst edits, in the encoding it was saved in."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            path, f"无法打开（{exc.strerror or exc}）。请检查文件是否存在、是否被其他程序占用"
        ) from exc
    text, encoding = decode(data, path)
    return Text(path, text, encoding)


# year.yaml is a dozen `key: value` lines. Anything far beyond that is a mistake or hostile: an anchor bomb
# (a few lines whose aliases expand a billion times) is refused from its event stream, before it is built.
MAX_YAML_BYTES = 64 * 1024
MAX_YAML_ALIASES = 10
MAX_YAML_DEPTH = 10
FIX_YAML = "请用记事本打开改正后再运行"


def read_program_yaml(path: Path):
    """One of the program's own YAML files (the catalog, the policy, a year's form: UTF-8, written by the
    maintainers): parsed by libyaml's safe loader when PyYAML has it (the same document, about a tenth of the
    pure-Python loader's time, which every process that loads them paid), else by the pure-Python one."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader


class _TextLoader(yaml.SafeLoader):
    """SafeLoader without YAML's own dates: 2013-02-30 or 2013-01-21 10:00 stay text, for the program to read
    as dates the way it reads a unit's (and to refuse with the file, line and value)."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_syntax(path: Path, exc: yaml.YAMLError) -> InputFileError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    start = getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    where = f"（第{mark.column + 1}列附近" if mark is not None else "（"
    if start is not None and mark is not None and start.line != mark.line:
        where += f"，问题从第{start.line + 1}行开始"
    return InputFileError(
        path,
        f"格式有误{where}）。每行应为「名称: 值」，冒号后要有空格；缩进请用空格，不要用Tab；"
        f"引号和括号要成对。{FIX_YAML}",
        line,
    )


def _yaml_limits(path: Path, text: str) -> None:
    """Refuse, from the event stream (nothing built yet), more aliases or deeper nesting than year.yaml ever
    needs."""
    aliases = depth = 0
    for event in yaml.parse(text, Loader=_TextLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise InputFileError(
                    path,
                    f"引用（*别名）超过 {MAX_YAML_ALIASES} 个，这不是年度设置应有的写法"
                    "（可能是恶意构造的文件，展开后会耗尽内存），已拒绝读取。"
                    f"每行写「名称: 值」即可，{FIX_YAML}",
                    event.start_mark.line + 1,
                )
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise InputFileError(
                    path,
                    f"嵌套超过 {MAX_YAML_DEPTH} 层，这不是年度设置应有的写法，已拒绝读取。"
                    f"每行写「名称: 值」即可，{FIX_YAML}",
                    event.start_mark.line + 1,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_yaml_lines(path: Path) -> tuple[dict, str, dict[str, int]]:
    """A YAML file of `key: value` lines (year.yaml): its mapping, its encoding and each top-level key's line.
    Parsed safely (no Python objects, no YAML dates: values are text, numbers, booleans) and within limits
    (size, aliases, nesting); a syntax error names the line."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_YAML_BYTES:
        raise InputFileError(
            path,
            f"文件太大（{size // 1024} KB；年度设置只有十几行，不超过 {MAX_YAML_BYTES // 1024} KB），"
            "已拒绝读取。"
            f"请检查是否选错了文件，{FIX_YAML}",
        )
    source = read_text(path)
    data, lines = _parse_lines(path, source.text)
    return copy.deepcopy(data), source.encoding, dict(lines)


@functools.lru_cache(maxsize=32)
def _parse_lines(path: Path, text: str) -> tuple[dict, dict[str, int]]:
    """read_yaml_lines' parse, once per text in a process (a step reads its year's settings, and the years'
    before it, a dozen times; the pure-Python parser it needs for its own resolvers takes 5 ms each time).
    The callers get copies."""
    try:
        _yaml_limits(path, text)
        loader = _TextLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_syntax(path, exc) from None
    except RecursionError:
        raise InputFileError(path, f"嵌套过深，已拒绝读取。{FIX_YAML}") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise InputFileError(path, f"内容应为「名称: 值」的若干行（例如 deadline: 2013-01-21），{FIX_YAML}")
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return data, lines


def read_yaml_mapping(path: Path) -> tuple[dict, str]:
    """A YAML file of `key: value` lines (year.yaml) and its encoding (see read_yaml_lines)."""
    data, encoding, _ = read_yaml_lines(path)
    return data, encoding


@dataclass
class Table:
    """The rows of a table the analyst edits, each cell text, with its line number in the file."""

    path: Path
    encoding: str
    delimiter: str
    columns: list[str]  # the header, trimmed; required columns spelt as the caller asked
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # line number in the file of each row

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS[self.encoding]

    def frame(self):
        """The rows as a DataFrame of text columns, indexed by their line numbers in the file (index name
        "line")."""
        import pandas as pd  # 0.25 s to import: config imports this module, so every CLI command would wait

        frame = pd.DataFrame(self.rows, columns=self.columns, dtype=object)
        frame.index = pd.Index(self.lines, name="line", dtype="int64")
        return frame


def _cell(value: str) -> str:
    value = value.strip()
    # store.write_csv puts an apostrophe before text Excel would run as a formula; it is not part of the text
    return value[1:] if value.startswith("'") else value


def _column_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


def read_table(path: Path, required: list[str], empty_ok: bool = True) -> Table:
    """A CSV or tab-separated table (Excel's "Unicode 文本"). `required`: columns the header must have
    (others are allowed). A file with no bytes or only empty rows has no rows when `empty_ok`."""
    source = read_text(path)
    header_line = next((line for line in source.text.splitlines() if line.strip(" \t,;")), None)
    if header_line is None:
        if empty_ok:
            return Table(Path(path), source.encoding, ",", list(required))
        raise InputFileError(path, f"文件是空的。第一行应为表头：{','.join(required)}")
    # Tab or comma, whichever the header has more of (csv.Sniffer chose the comma for a tab-separated
    # header whose one cell held a comma).
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(source.text, newline=""), delimiter=delimiter)
    table = None
    previous_end = 0
    for cells in reader:
        line, previous_end = previous_end + 1, reader.line_num
        values = [_cell(c) for c in cells]
        if not any(values):
            continue  # an empty row, or Excel's ,,,
        if table is None:
            table = _header(path, values, required, line, source.encoding, delimiter)
            continue
        width = len(table.columns)
        values = _pasted(values, delimiter, width)
        if any(values[width:]):
            raise InputFileError(
                path,
                f"这一行有 {len(values)} 格，比表头（{width} 列）多。文字中有英文逗号时，"
                "请改用中文逗号「，」，或在 Excel 中编辑后另存为 CSV",
                line,
            )
        values = (values + [""] * width)[:width]
        table.rows.append(dict(zip(table.columns, values, strict=True)))
        table.lines.append(line)
    return table


def _pasted(values: list[str], delimiter: str, width: int) -> list[str]:
    """A row typed with the other separator, all of it in the first cell: a comma line pasted into a
    tab-separated file (the line a notebook offers to copy), or cells copied out of Excel (tabs) pasted into
    a comma file. Read as the cells it names."""
    other = "," if delimiter == "\t" else "\t"
    if width > 1 and values and other in values[0] and not any(values[1:]):
        return [_cell(c) for c in next(csv.reader([values[0]], delimiter=other))]
    return values


def _header(path, cells: list[str], required: list[str], line: int, encoding: str, delimiter: str) -> Table:
    while cells and not cells[-1]:
        cells = cells[:-1]  # empty cells Excel leaves after the last column
    wanted = {_column_key(c): c for c in required}
    columns = [wanted.get(_column_key(c), c) for c in cells]
    # a tab shows as blank space in a message: the columns named, and the separator said in words
    expected = f"{'、'.join(required)}（用 Tab 分隔）" if delimiter == "\t" else ",".join(required)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputFileError(
            path, f"表头缺少列：{'、'.join(missing)}。第一行（表头）应为：{expected}（可以另有其他列）", line
        )
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if doubled or "" in columns:
        what = f"列名重复：{'、'.join(doubled)}" if doubled else "有空白的列名"
        raise InputFileError(path, f"表头{what}。第一行（表头）应为：{expected}（可以另有其他列）", line)
    return Table(Path(path), encoding, delimiter, columns)
