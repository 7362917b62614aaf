"""The registry of reporting units (inputs/units.csv): written names → canonical names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

UNIT_TYPES = ("市、区", "局(公司)", "直属")
SEAL_RX = re.compile(r"[(（][^()（）]{0,6}(?:盖章|公章|章)[)）]")


def normalize(name: str) -> str:
    """Compare names without spaces, full-width forms or a seal remark."""
    s = unicodedata.normalize("NFKC", str(name or ""))
    s = SEAL_RX.sub("", s)
    return re.sub(r"[\s_]+", "", s)


@dataclass(frozen=True)
class Resolved:
    name: str  # canonical when registered, else the written name
    registered: bool
    type: str = ""
    how: str = ""  # Chinese: how the name was matched


class Registry:
    def __init__(self, frame: pd.DataFrame, path: Path | None = None):
        self.path = path
        self.frame = frame
        self.order = {name: i for i, name in enumerate(frame["name"])}
        self.types = dict(zip(frame["name"], frame["type"], strict=True))
        self.keys: dict[str, str] = {}
        for name, aliases in zip(frame["name"], frame["aliases"], strict=True):
            for written in [name, *[a for a in str(aliases or "").split("|") if a.strip()]]:
                self.keys[normalize(written)] = name

    @classmethod
    def load(cls, path: Path) -> Registry:
        if not path.exists():
            raise FileNotFoundError(f"找不到单位名录：{path}（列：name,aliases,type）")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        missing = {"name", "aliases", "type"} - set(frame.columns)
        if missing:
            raise ValueError(f"单位名录 {path} 缺少列：{'、'.join(sorted(missing))}")
        bad = frame[~frame["type"].isin(UNIT_TYPES)]
        if len(bad):
            raise ValueError(
                f"单位名录 {path} 中单位类型有误：{'、'.join(bad['name'])}（应为 {' / '.join(UNIT_TYPES)}）"
            )
        return cls(frame, path)

    @property
    def names(self) -> list[str]:
        return list(self.frame["name"])

    def resolve(self, written: str, strict: bool = False) -> Resolved | None:
        """The registered unit a written name means, or None. `strict`: only a name or an alias,
        never a name found inside a longer text (for the analyst's own tables, where a typo must show)."""
        key = normalize(written)
        if not key:
            return None
        if key in self.keys:
            name = self.keys[key]
            return Resolved(name, True, self.types[name], "名称一致" if key == normalize(name) else "别名")
        if strict:
            return None
        # A registered name inside a longer written one (…总工会办公室); the longest wins.
        hits = [k for k in self.keys if len(k) >= 2 and k in key]
        if hits:
            name = self.keys[max(hits, key=len)]
            return Resolved(name, True, self.types[name], "名称包含")
        return None

    def sort_key(self, name: str) -> tuple[int, str]:
        return (self.order.get(name, len(self.order)), name)
