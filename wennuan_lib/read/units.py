"""The registry of reporting units (inputs/units.csv): written names → canonical names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wennuan_lib.base.textfiles import InputFileError, read_table

UNIT_TYPES = ("市、区", "局(公司)", "直属")
COLUMNS = ["name", "aliases", "type"]
SEAL_RX = re.compile(r"[(（][^()（）]{0,6}(?:盖章|公章|章)[)）]")
# What may stand around a registered name or alias inside a written one without making it another body: the
# city, 总工会/工会/委员会, and a department of the union (…办公室, 保障部).
GENERIC_REST = re.compile(
    r"(?:苏州市|苏州|江苏省)?(?:总工会|工会|工委|委员会)*(?:[^\W\d_]{0,5}?(?:办公室|部|室|科|处|办))?"
)


# Characters that print as nothing (zero-width spaces and joiners, the BOM, direction marks, soft hyphens:
# Unicode's "format" class) or that are not text at all (control characters): a name holding one looks
# identical to the name without it.
INVISIBLE_CATEGORIES = ("Cf", "Cc")
INVISIBLE_NAMES = {
    "\u200b": "零宽空格",
    "\u200c": "零宽不连字",
    "\u200d": "零宽连字",
    "\ufeff": "零宽不换行空格",
}


def invisible(text: str) -> list[str]:
    """The invisible characters in a text (tab and line breaks count as spaces, not as these)."""
    return [
        ch
        for ch in str(text or "")
        if unicodedata.category(ch) in INVISIBLE_CATEGORIES and ch not in "\t\r\n"
    ]


def visible(text: str) -> str:
    """A text without its invisible characters (see `invisible`)."""
    return "".join(
        ch for ch in str(text or "") if ch in "\t\r\n" or unicodedata.category(ch) not in INVISIBLE_CATEGORIES
    )


def normalize(name: str) -> str:
    """Compare names without spaces, full-width forms, invisible characters or a seal remark."""
    s = unicodedata.normalize("NFKC", visible(name))
    s = SEAL_RX.sub("", s)
    return re.sub(r"[\s_]+", "", s)


def split_aliases(aliases) -> list[str]:
    return [a.strip() for a in str(aliases or "").split("|") if a.strip()]


def canonical_type(written) -> str:
    """The registered spelling of a unit type typed with full-width brackets or spaces (局（公司）)."""
    key = normalize(written)
    return next((t for t in UNIT_TYPES if normalize(t) == key), str(written or "").strip())


def check(frame: pd.DataFrame, lines: list[int]) -> list[str]:
    """Every problem of the registry, in Chinese, each naming the line(s) concerned: a missing name, an
    unknown type, two units with the same name, an alias that is another unit's name or that two units share
    (names compared after `normalize`: spaces, full-width forms and seal remarks do not count)."""
    problems = []
    names: dict[str, tuple[int, str]] = {}  # normalised name -> (line, name)
    for line, name, aliases, utype in zip(lines, frame["name"], frame["aliases"], frame["type"], strict=True):
        if not normalize(name):
            problems.append(f"第{line}行没有单位名称（name 列为空；别名「{aliases}」、类型「{utype}」）")
            continue
        if utype not in UNIT_TYPES:
            problems.append(
                f"第{line}行单位「{name}」的类型「{utype}」有误，应为 {' / '.join(UNIT_TYPES)} 之一"
            )
        key = normalize(name)
        if key in names:
            first, other = names[key]
            problems.append(
                f"第{first}行「{other}」与第{line}行「{name}」是同一个单位名称"
                "（不计空格和全角/半角），请删去或改正其中一行"
            )
        else:
            names[key] = (line, name)
    aliases_seen: dict[str, tuple[int, str, str]] = {}  # normalised alias -> (line, unit, alias as written)
    for line, name, aliases in zip(lines, frame["name"], frame["aliases"], strict=True):
        key_name = normalize(name)
        if not key_name:
            continue
        for alias in split_aliases(aliases):
            key = normalize(alias)
            if not key or key == key_name:
                continue
            if key in names and names[key][1] != name:
                other_line, other = names[key]
                problems.append(
                    f"第{line}行单位「{name}」的别名「{alias}」是第{other_line}行单位「{other}」的名称，"
                    "请删去这个别名"
                )
            elif key in aliases_seen and aliases_seen[key][1] != name:
                other_line, other, written = aliases_seen[key]
                spelt = f"（第{other_line}行写作「{written}」）" if written != alias else ""
                problems.append(
                    f"别名「{alias}」同时属于第{other_line}行单位「{other}」和第{line}行单位「{name}」{spelt}，"
                    "请只留在其中一个单位"
                )
            else:
                aliases_seen.setdefault(key, (line, name, alias))
    return problems


@dataclass(frozen=True)
class Resolved:
    name: str  # canonical when registered, else the written name
    registered: bool
    type: str = ""
    how: str = ""  # Chinese: how the name was matched


def _invisible_notes(frame: pd.DataFrame, lines: list[int], path: Path | None) -> list[str]:
    """A Chinese line for every name or alias of units.csv that holds an invisible character: it is used
    without it (so it never shows as a second unit that looks the same), and the analyst is told where."""
    notes = []
    where = path.name if path else "units.csv"
    for line, name, aliases in zip(lines, frame["name"], frame["aliases"], strict=True):
        for column, text in (("单位名称", name), ("别名", aliases)):
            found = invisible(text)
            if found:
                what = "、".join(dict.fromkeys(f"U+{ord(c):04X}{INVISIBLE_NAMES.get(c, '')}" for c in found))
                notes.append(
                    f"{where} 第{line}行{column}「{visible(text).strip()}」中有看不见的字符（{what}），"
                    f"已去掉后使用；请在 {where} 中删去这个字符（删去后重打这个名称最简单）"
                )
    return notes


class RegistryError(InputFileError):
    """units.csv has clashes or wrong entries; the message lists every one, naming both lines."""


class Registry:
    """`frame`: columns name, aliases (separated by |), type; its index is each row's line in units.csv
    when read from the file. A clash (two entries meaning the same written name) is an error, never
    resolved by taking one of them."""

    def __init__(self, frame: pd.DataFrame, path: Path | None = None, encoding: str = ""):
        self.path = path
        self.encoding = encoding
        lines = list(frame.index) if frame.index.name == "line" else [n + 2 for n in range(len(frame))]
        self.notes = _invisible_notes(frame, lines, path)
        frame = frame.assign(name=[visible(n).strip() for n in frame["name"]])
        frame = frame.assign(aliases=[visible(a) for a in frame["aliases"]])
        frame = frame.assign(type=[canonical_type(t) for t in frame["type"]])
        problems = check(frame, lines)
        if problems:
            raise RegistryError(
                path or "units.csv",
                f"单位名录有 {len(problems)} 处问题，请改正后再运行"
                "（改正之前不读取任何报送文件）：\n" + "\n".join(f"  {p}" for p in problems),
            )
        self.frame = frame.reset_index(drop=True)
        self.order = {name: i for i, name in enumerate(self.frame["name"])}
        self.types = dict(zip(self.frame["name"], self.frame["type"], strict=True))
        self.keys: dict[str, str] = {}  # every name and alias, normalised → the unit's name
        self.keys_of: dict[str, list[str]] = {}  # the unit's name → its name and aliases, normalised
        for name, aliases in zip(self.frame["name"], self.frame["aliases"], strict=True):
            for written in [name, *split_aliases(aliases)]:
                self.keys[normalize(written)] = name
                self.keys_of.setdefault(name, []).append(normalize(written))

    def named_inside(self, name: str, written: str) -> bool:
        """Whether a unit's name or one of its aliases (two characters or more) stands inside a text."""
        key = normalize(written)
        return any(k in key for k in self.keys_of.get(name, ()) if len(k) >= 2)

    @classmethod
    def load(cls, path: Path) -> Registry:
        if not path.exists():
            raise FileNotFoundError(
                f"找不到单位名录：{path}（第一行为表头 name,aliases,type，以下每行一个单位）"
            )
        table = read_table(path, COLUMNS, empty_ok=False)
        if not table.rows:
            raise RegistryError(path, f"单位名录中没有任何单位。表头 {','.join(COLUMNS)} 之下每行写一个单位")
        return cls(table.frame(), path, table.encoding)

    @property
    def names(self) -> list[str]:
        return list(self.frame["name"])

    def resolve(self, written: str, strict: bool = False, field: bool = False) -> Resolved | None:
        """The registered unit a written name means, or None. `strict`: only a name or an alias,
        never a name found inside a longer text (for the analyst's own tables, where a typo must show).
        `field`: `written` is a name field (a form's 填报单位), not a file or folder name: a registered name
        found inside it counts only with nothing but generic words around it (GENERIC_REST)."""
        key = normalize(written)
        if not key:
            return None
        if key in self.keys:
            name = self.keys[key]
            return Resolved(name, True, self.types[name], "名称一致" if key == normalize(name) else "别名")
        if strict:
            return None
        # A registered name inside a longer written one (…总工会办公室, 常熟工会); the longest wins — in a
        # name field, when what is left is only generic words: 常熟市人民医院工会 is not 常熟市总工会.
        hits = [k for k in self.keys if len(k) >= 2 and k in key]
        if hits:
            best = max(hits, key=len)
            if not field or GENERIC_REST.fullmatch(key.replace(best, "", 1)):
                name = self.keys[best]
                return Resolved(name, True, self.types[name], "名称包含")
        return None

    def sort_key(self, name: str) -> tuple[int, str]:
        return (self.order.get(name, len(self.order)), name)
