"""The policy years share (policy.yaml): checks, plausibility thresholds, the report's prose and the key items
of charts, appendices and trends — parsed into validated dataclasses and resolved to one year's item codes.

policy.yaml names items by concept (their 2013 code). A year's form maps each concept to its own code, or to
nothing when the item is not on that year's form: a check, figure or chart entry that needs a missing concept
is left out for that year. A year may override one entry (`policy:` in forms/<year>.yaml, e.g. ``rules.W02``
or ``report.themes.study``); the override's fields replace the entry's.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wennuan_lib.base import config
from wennuan_lib.base.textfiles import read_program_yaml
from wennuan_lib.errors import WennuanError

POLICY_FILE = config.PACKAGE_DIR / "policy.yaml"
CODE = re.compile(r"\b\d\d[A-Z]?\.\d\b")
SEVERITIES = ("error", "warning")


class PolicyError(WennuanError, ValueError):
    """policy.yaml or a year's override is inconsistent; the message is Chinese and names the entry."""


@dataclass(frozen=True)
class Rule:
    id: str
    check: str  # "<sum of codes> <op> <sum of codes>", op one of <= >= == ~
    severity: str
    message: str

    @property
    def kind(self) -> str:
        return "hard" if self.severity == "error" else "soft"


@dataclass(frozen=True)
class MoneyPerHousehold:
    id: str
    severity: str
    numerator: str
    denominator: str
    factor: int
    low: int
    high: int
    message: str


@dataclass(frozen=True)
class SlipCheck:
    item: str
    per: str = ""  # compared per unit of this item against the other units
    share_of: str = ""  # compared with this total of the same unit


@dataclass(frozen=True)
class YuanSlip:
    id: str
    severity: str
    ratio: int
    message: str
    checks: tuple[SlipCheck, ...]


@dataclass(frozen=True)
class PeerRatio:
    num: str
    den: str
    label: str
    scale: float = 1.0  # the ratio as the message states it: num ÷ den × scale …
    measure: str = ""  # … in this measure (元 for 万元 per 户 × 10000, % for a share × 100)


@dataclass(frozen=True)
class Peers:
    id: str
    severity: str
    factor: float
    min_units: int
    message: str
    ratios: tuple[PeerRatio, ...]


@dataclass(frozen=True)
class Magnitude:
    id: str
    severity: str
    factor: float
    min_units: int
    message: str
    items: tuple[str, ...] | None  # None: every item of the form


@dataclass(frozen=True)
class History:
    id: str
    severity: str
    max_change: float
    floor: float
    money_floor: float
    message: str
    far: float = 0  # one year more than this many times the other: no percentage, `far_message` instead
    far_message: str = ""


@dataclass(frozen=True)
class Repeats:
    """A unit whose figures repeat last year's exactly (zeros aside) on at least `min_items` items: copied
    forward? (提示性)."""

    id: str
    severity: str
    min_items: int
    message: str


@dataclass(frozen=True)
class Derived:
    key: str
    label: str
    num: tuple[str, ...]
    den: str = ""
    factor: int = 1
    measure: str = ""


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    text: str
    chart: str = ""


@dataclass(frozen=True)
class NumberStyle:
    """How the prose writes a count: whole (28996户), or in 万 from `wan_from` on with `wan_places` decimals
    (2.90万户); 0 writes every count whole."""

    wan_from: int = 0
    wan_places: int = 2


@dataclass(frozen=True)
class BasisSpec:
    """How a figure's basis is stated (aggregate.py): a total whose approximate entries exceed `approx_share`
    of it is written 约 … (… 以上 when they are all lower bounds); at most `listed` units are named where
    units are left out; `same_concept`: items whose wording changed between the forms but which measure the
    same thing (compared across years; any other reworded item is 口径不同，不作比较)."""

    approx_share: float = 0.05
    listed: int = 3
    same_concept: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportSpec:
    derived: tuple[Derived, ...]
    rankings: tuple[str, ...]
    top: int
    basic: str
    themes: tuple[Theme, ...]
    units: str
    numbers: NumberStyle = NumberStyle()
    basis: BasisSpec = BasisSpec()


@dataclass(frozen=True)
class Series:
    item: str
    label: str


@dataclass(frozen=True)
class ChartSpec:
    sources: tuple[str, ...]
    transport: tuple[Series, ...]
    transport_all: str
    funds_by_unit: tuple[Series, ...]
    households_by_unit: tuple[Series, ...]
    trend_money: tuple[Series, ...]
    trend_households: tuple[Series, ...]
    top_units: int = 15  # a unit chart draws this many units; the rest are summed up in one line
    sources_total: str = ""  # the sources' shares are of this total (as in the prose), else of their sum


@dataclass(frozen=True)
class TrendGroup:
    id: str
    title: str
    measure: str
    concepts: tuple[Series, ...]  # by concept: trends join the years


@dataclass(frozen=True)
class Policy:
    version: str
    rules: tuple[Rule, ...]
    money_per_household: MoneyPerHousehold | None
    yuan_slip: YuanSlip | None
    peers: Peers | None
    history: History | None
    report: ReportSpec
    charts: ChartSpec
    key_items: dict[str, tuple[str, ...]]
    trends: tuple[TrendGroup, ...]
    dropped: tuple[str, ...] = ()  # entries left out for this year (a concept its form lacks), in Chinese
    magnitude: Magnitude | None = None
    repeats: Repeats | None = None

    @property
    def slip_rules(self) -> tuple[str, ...]:
        """The ids of the checks that suspect a unit's slip (元 for 万元,
        a figure an order of magnitude off)."""
        return tuple(x.id for x in (self.yuan_slip, self.magnitude) if x)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def raw_policy() -> dict:
    return read_program_yaml(POLICY_FILE)


def apply_overrides(raw: dict, overrides: dict | None, source: Path | None = None) -> dict:
    """A copy of `raw` with each `path: fields` of the year's form applied (fields replace the entry's)."""
    out = copy.deepcopy(raw)
    for path, fields in (overrides or {}).items():
        parts = str(path).split(".")
        node, parent, key = out, None, None
        for part in parts:
            parent = node
            if isinstance(node, dict) and part in node:
                key, node = part, node[part]
            elif isinstance(node, list):
                hits = [
                    k
                    for k, e in enumerate(node)
                    if isinstance(e, dict) and part in (e.get("id"), e.get("key"))
                ]
                if not hits:
                    node = None
                    break
                key, node = hits[0], node[hits[0]]
            else:
                node = None
                break
        if node is None:
            raise PolicyError(f"{source or '表式文件'} 中 policy 的「{path}」在 policy.yaml 中找不到对应条目")
        parent[key] = {**node, **fields} if isinstance(node, dict) and isinstance(fields, dict) else fields
    return out


class _Codes:
    """One year's codes of the policy's concepts; what the year's form lacks is noted in `dropped`."""

    def __init__(self, code_of: Callable[[str], str | None]):
        self.code_of = code_of
        self.dropped: list[str] = []

    def one(self, concept, where: str) -> str | None:
        c = self.code_of(str(concept))
        if c is None:
            self.dropped.append(f"{where}：本年表式中没有 {concept}")
        return c

    def all(self, concepts, where: str) -> tuple[str, ...] | None:
        """Every concept's code, or None when the form lacks any of them."""
        out = [self.one(c, where) for c in concepts]
        return None if any(c is None for c in out) else tuple(out)

    def present(self, concepts, where: str) -> tuple[str, ...]:
        """The codes of the concepts the form has."""
        return tuple(c for c in (self.one(x, where) for x in concepts) if c)

    def series(self, entries, where: str) -> tuple[Series, ...]:
        out = []
        for e in entries or []:
            c = self.one(e["item"], where)
            if c:
                out.append(Series(c, str(e["label"])))
        return tuple(out)


def resolve(raw: dict, code_of: Callable[[str], str | None], source: str = "policy.yaml") -> Policy:
    """The policy in one year's codes. `code_of(concept)` gives that year's code,
    or None when its form lacks it. Each section is resolved by its own function, in the file's order (the
    order of `dropped`)."""
    codes = _Codes(code_of)
    try:
        rules = _rules(raw.get("rules", []), codes)
        pl = raw.get("plausibility", {})
        mph = _money_per_household(pl["money_per_household"], codes) if "money_per_household" in pl else None
        slip = _yuan_slip(pl["yuan_slip"], codes) if "yuan_slip" in pl else None
        peers = _peers(pl["peers"], codes) if "peers" in pl else None
        magnitude = _magnitude(pl["magnitude"], codes) if "magnitude" in pl else None
        history = _history(pl["history"]) if "history" in pl else None
        repeats = _repeats(pl["repeats"]) if "repeats" in pl else None
        report = _report(raw["report"], codes)
        charts = _charts(raw["charts"], codes)
        key_items = {
            name: codes.present(items, f"重点项目 {name}") for name, items in raw.get("key_items", {}).items()
        }
        trends = _trends(raw.get("trends", []))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(f"{source} 写法有误：缺少或写错了「{exc}」") from exc
    policy = Policy(
        str(raw.get("version", "")),
        rules,
        mph,
        slip,
        peers,
        history,
        report,
        charts,
        key_items,
        trends,
        tuple(codes.dropped),
        magnitude,
        repeats,
    )
    _validate(policy, source)
    return policy


def _rules(entries: list, codes: _Codes) -> tuple[Rule, ...]:
    """The form's checks, their concepts replaced by the year's codes; a check on a missing item is left
    out."""
    rules = []
    for r in entries:
        concepts = CODE.findall(r["check"])
        mapped = codes.all(concepts, f"规则 {r['id']}")
        if mapped is None:
            continue
        lookup = dict(zip(concepts, mapped, strict=True))
        check = CODE.sub(lambda m, lookup=lookup: lookup[m.group(0)], r["check"])
        rules.append(Rule(str(r["id"]), check, str(r["severity"]), str(r["message"])))
    return tuple(rules)


def _money_per_household(m: dict, codes: _Codes) -> MoneyPerHousehold | None:
    pair = codes.all([m["numerator"], m["denominator"]], f"规则 {m['id']}")
    if not pair:
        return None
    return MoneyPerHousehold(
        str(m["id"]),
        str(m["severity"]),
        pair[0],
        pair[1],
        int(m["factor"]),
        int(m["low"]),
        int(m["high"]),
        str(m["message"]),
    )


def _yuan_slip(y: dict, codes: _Codes) -> YuanSlip:
    checks = []
    for c in y["checks"]:
        other = c.get("per") or c.get("share_of")
        pair = codes.all([c["item"], other], f"规则 {y['id']}")
        if pair:
            checks.append(
                SlipCheck(pair[0], pair[1] if "per" in c else "", pair[1] if "share_of" in c else "")
            )
    return YuanSlip(str(y["id"]), str(y["severity"]), int(y["ratio"]), str(y["message"]), tuple(checks))


def _peers(p: dict, codes: _Codes) -> Peers:
    ratios = []
    for r in p["ratios"]:
        pair = codes.all([r["num"], r["den"]], f"规则 {p['id']}")
        if pair:
            ratios.append(
                PeerRatio(
                    pair[0], pair[1], str(r["label"]), float(r.get("scale", 1)), str(r.get("measure", ""))
                )
            )
    return Peers(
        str(p["id"]),
        str(p["severity"]),
        float(p["factor"]),
        int(p["min_units"]),
        str(p["message"]),
        tuple(ratios),
    )


def _magnitude(g: dict, codes: _Codes) -> Magnitude:
    items = None  # every item of the form
    if g.get("items", "all") != "all":
        items = codes.present(g["items"], f"规则 {g['id']}")
    return Magnitude(
        str(g["id"]),
        str(g["severity"]),
        float(g["factor"]),
        int(g["min_units"]),
        str(g["message"]),
        items,
    )


def _history(h: dict) -> History:
    return History(
        str(h["id"]),
        str(h["severity"]),
        float(h["max_change"]),
        float(h["floor"]),
        float(h["money_floor"]),
        str(h["message"]),
        float(h.get("far", 0)),
        str(h.get("far_message", "")),
    )


def _repeats(r: dict) -> Repeats:
    return Repeats(str(r["id"]), str(r["severity"]), int(r["min_items"]), str(r["message"]))


def _report(rep: dict, codes: _Codes) -> ReportSpec:
    derived = []
    for d in rep.get("derived", []):
        num = codes.all(d["num"], f"派生数字 {d['key']}")
        den = codes.one(d["den"], f"派生数字 {d['key']}") if d.get("den") else ""
        if num is None or den is None:
            continue
        derived.append(
            Derived(str(d["key"]), str(d["label"]), num, den, int(d.get("factor", 1)), str(d["measure"]))
        )
    rankings = codes.present(rep.get("rankings", []), "排名")
    themes = tuple(
        Theme(str(t["id"]), str(t["title"]), str(t["text"]), str(t.get("chart", "")))
        for t in rep.get("themes", [])
    )
    nums = rep.get("numbers") or {}
    bs = rep.get("basis") or {}
    basis = BasisSpec(  # items reworded alike: a year whose form lacks one has nothing to compare
        float(bs.get("approx_share", 0.05)),
        int(bs.get("listed", 3)),
        tuple(c for c in (codes.code_of(str(x)) for x in bs.get("same_concept") or []) if c),
    )
    return ReportSpec(
        tuple(derived),
        rankings,
        int(rep.get("top", 3)),
        str(rep["basic"]),
        themes,
        str(rep["units"]),
        NumberStyle(int(nums.get("wan_from", 0)), int(nums.get("wan_places", 2))),
        basis,
    )


def _charts(ch: dict, codes: _Codes) -> ChartSpec:
    return ChartSpec(
        sources=codes.present(ch["sources"], "图表 sources"),
        transport=codes.series(ch["transport"], "图表 transport"),
        transport_all=codes.one(ch["transport_all"], "图表 transport") or "",
        funds_by_unit=codes.series(ch["funds_by_unit"], "图表 funds_by_unit"),
        households_by_unit=codes.series(ch["households_by_unit"], "图表 households_by_unit"),
        trend_money=codes.series(ch["trend_money"], "图表 trend_money"),
        trend_households=codes.series(ch["trend_households"], "图表 trend_households"),
        top_units=int(ch.get("top_units", 15)),
        sources_total=(codes.one(ch["sources_total"], "图表 sources") or "")
        if ch.get("sources_total")
        else "",
    )


def _trends(entries: list) -> tuple[TrendGroup, ...]:
    """The trend groups, by concept (trends join the years; each year's code is found when they are drawn)."""
    return tuple(
        TrendGroup(
            str(t["id"]),
            str(t["title"]),
            str(t["measure"]),
            tuple(Series(str(c["item"]), str(c["label"])) for c in t["concepts"]),
        )
        for t in entries
    )


def _validate(policy: Policy, source: str) -> None:
    problems = []
    ids = [r.id for r in policy.rules]
    checks = (
        policy.money_per_household,
        policy.yuan_slip,
        policy.peers,
        policy.history,
        policy.magnitude,
        policy.repeats,
    )
    ids += [x.id for x in checks if x]
    if len(set(ids)) != len(ids):
        problems.append("规则编号重复：" + "、".join(sorted({i for i in ids if ids.count(i) > 1})))
    severities = [r.severity for r in policy.rules]
    severities += [x.severity for x in checks if x]
    if set(severities) - set(SEVERITIES):
        problems.append(f"severity 只能是 {' / '.join(SEVERITIES)}")
    for r in policy.rules:
        if not re.fullmatch(r"[^<>=~]+(<=|>=|==|~)[^<>=~]+", r.check):
            problems.append(f"规则 {r.id} 的 check 写法有误：{r.check}")
    themes = [t.id for t in policy.report.themes]
    if len(set(themes)) != len(themes):
        problems.append("report.themes 的 id 重复")
    keys = [d.key for d in policy.report.derived]
    if len(set(keys)) != len(keys):
        problems.append("report.derived 的 key 重复")
    if problems:
        raise PolicyError(f"{source} 有误：" + "；".join(problems))
