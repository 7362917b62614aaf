"""The year's form (统计表) as data: what is printed on it (items, sentences, header), with the shared policy
(policy.yaml: checks, thresholds, report prose, key items) resolved to its codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from wennuan_lib.base import config
from wennuan_lib.base.textfiles import read_program_yaml
from wennuan_lib.policy import Policy, PolicyError, apply_overrides, raw_policy, resolve

BLANK = re.compile(r"\{([0-9A-Z.]+)\}")
# The note on an item that another year's form, used by a unit, does not have.
ABSENT_NOTE = "{year}年表式中没有此项"


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    unit: str
    kind: str  # "count" or "money"
    concept: str = ""  # stable across years; defaults to the code

    @property
    def key(self) -> str:
        """The concept this item measures: years are compared by it, not by code or wording."""
        return self.concept or self.code

    @property
    def is_money(self) -> bool:
        return self.kind == "money"

    @property
    def name(self) -> str:
        """The Excel defined name of this item's cell in the project's template."""
        return "WN_" + self.code.replace(".", "_")


@dataclass(frozen=True)
class Line:
    """One printed line of the table: row number, letter and sentence with its blanks."""

    row: str
    letter: str
    text: str

    @property
    def parts(self) -> list[str]:
        """Alternating literal, code, literal, … (always starts and ends with a literal)."""
        return BLANK.split(self.text)

    @property
    def literals(self) -> list[str]:
        return self.parts[0::2]

    @property
    def codes(self) -> list[str]:
        return self.parts[1::2]

    @property
    def printed(self) -> str:
        """The sentence as on paper, blanks shown as underscores."""
        return BLANK.sub("______", self.text)


@dataclass(frozen=True)
class HeaderField:
    key: str
    label: str
    name: str


@dataclass(frozen=True)
class Identity:
    """What tells this year's form from another year's on paper: `title` and `phrases` are printed with the
    year ({year}); `texts` are words only this year's form prints (its notice number, a reworded sentence)."""

    title: str = ""
    phrases: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()


@dataclass
class Form:
    form: str
    version: str
    title: str
    source: str
    note: str
    items: list[Item]
    layout: list[Line]
    header: list[HeaderField]
    policy: Policy | None = None
    path: Path | None = None
    identity: Identity = Identity()

    @property
    def year(self) -> int:
        """The year whose form this is (its file name)."""
        return int(self.form)

    @property
    def rules(self):
        return self.policy.rules

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.items]

    def item(self, code: str) -> Item:
        if not hasattr(self, "_by_code"):
            self._by_code = {i.code: i for i in self.items}
        return self._by_code[code]

    @property
    def blank_lines(self) -> list[Line]:
        return [line for line in self.layout if line.codes]

    def code_of(self, concept: str) -> str | None:
        """This year's code for a concept, or None when the year's form lacks it."""
        return next((i.code for i in self.items if i.key == concept), None)

    def validate(self) -> None:
        """The form file must be self-consistent: every item in the layout exactly once."""
        in_layout = [c for line in self.layout for c in line.codes]
        problems = []
        dup = sorted({c for c in in_layout if in_layout.count(c) > 1})
        if dup:
            problems.append(f"版式中重复的项目：{'、'.join(dup)}")
        missing = sorted(set(self.codes) - set(in_layout))
        if missing:
            problems.append(f"版式中缺少的项目：{'、'.join(missing)}")
        unknown = sorted(set(in_layout) - set(self.codes))
        if unknown:
            problems.append(f"版式中未定义的项目：{'、'.join(unknown)}")
        if len(set(self.codes)) != len(self.codes):
            problems.append("项目代码重复")
        keys = [i.key for i in self.items]
        if len(set(keys)) != len(keys):
            problems.append("概念（concept）重复")
        if problems:
            raise ValueError(f"表式文件 {self.path} 有误：" + "；".join(problems))


def form_path(form_id: str | int) -> Path:
    return config.FORMS_DIR / f"{form_id}.yaml"


@lru_cache(maxsize=16)
def load_form(form_id: str | int) -> Form:
    """Read forms/<form_id>.yaml."""
    path = form_path(form_id)
    if not path.exists():
        have = sorted(config.FORMS_DIR.glob("*.yaml"))
        like = f"把最近一年的 {have[-1].name} 复制为 {path.name}，" if have else ""
        raise FileNotFoundError(
            f"找不到 {form_id} 年的表式文件 {path}：表式文件和程序放在一起（{path.parent}），"
            f"每年一份。请{like}按当年的通知修改年份、措辞和项目（见 docs/past-years.md「新的一年」）"
        )
    data = read_program_yaml(path)
    year = str(data["form"])

    def printed(text: str) -> str:  # the year as printed on that year's form
        return str(text).replace("{year}", year)

    form = Form(
        form=year,
        version=str(data["version"]),
        title=printed(data["title"]),
        source=data.get("source", ""),
        note=data.get("note", ""),
        items=[
            Item(str(i["code"]), i["label"], i["unit"], i["kind"], str(i.get("concept") or ""))
            for i in data["items"]
        ],
        layout=[Line(str(r["row"]), str(r.get("letter") or ""), printed(r["text"])) for r in data["layout"]],
        header=[HeaderField(h["key"], h["label"], h["name"]) for h in data["header"]],
        path=path,
        identity=_identity(data.get("identity") or {}, year),
    )
    form.validate()
    try:
        raw = apply_overrides(raw_policy(), data.get("policy"), path)
        form.policy = resolve(raw, form.code_of, f"policy.yaml（{year}年表式）")
    except PolicyError as exc:
        raise ValueError(str(exc)) from exc
    return form


def _identity(data: dict, year: str) -> Identity:
    texts = tuple(str(t).replace("{year}", year) for t in data.get("texts") or ())
    return Identity(str(data.get("title") or ""), tuple(str(p) for p in data.get("phrases") or ()), texts)


def translate(frame, source: Form, target: Form, column: str = "item"):
    """Rows of another year's data keyed by `target`'s codes, joined by concept. Items the target
    form lacks are dropped; other rows (totals' derived keys, counts) pass through unchanged."""
    mapping = {i.code: target.code_of(i.key) for i in source.items}
    out = frame.copy()
    out[column] = [mapping.get(c, c) if c in mapping else c for c in out[column]]
    return out[out[column].notna()]
