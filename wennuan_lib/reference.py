"""The generated parts of the documentation: every rule with its words (from policy.yaml and the rules
engine's own checks), every file read and made (from the catalog), and outputs/README.md.

Each generated text sits in a page between markers (``<!-- rules:begin -->`` … ``<!-- rules:end -->``); the
prose around it is written by hand. ``python -m wennuan_lib docs`` writes every generated part into its page,
``python -m wennuan_lib docs --check`` (and tests/test_docs.py) says which page is out of date.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from wennuan_lib.base import catalog, config
from wennuan_lib.base.textfiles import read_program_yaml
from wennuan_lib.check import rules
from wennuan_lib.form import Form, load_form
from wennuan_lib.policy import raw_policy, resolve

FORMS_DIR = config.FORMS_DIR
RULES_PAGE = "docs/reference-rules.md"
OUTPUTS_PAGE = "docs/reference-outputs.md"
OUTPUTS_README = "outputs/README.md"

OPS = {"<=": "≤", ">=": "≥", "==": "＝"}
SEVERITY = {rules.ERROR: "必须修改", rules.WARNING: "请核实"}

# The rules the engine makes itself (not from policy.yaml): what each checks and its severity. The wording of
# the finding is made where the check is; what the unit is asked to do is rules.ACTIONS. tests/test_docs.py
# checks that every *_ID of rules.py is here.
BUILTIN = {
    rules.MISSING_ID: ("未填：表中这一格没有填", rules.WARNING),
    rules.UNREADABLE_ID: (
        "无法识别：这一格写的不是一个能读的数字（如“见附件”“三五”、计量单位不符、没有结果的公式）",
        rules.ERROR,
    ),
    rules.NOT_FOUND_ID: ("表中未找到：单位改排的表里找不到这一句（被删改，或前后顺序对不上）", rules.ERROR),
    rules.APPROX_ID: ("约数：写的是“约500”“500余”之类，按500计入，待确认", rules.WARNING),
    rules.REVISED_ID: ("Word修订：这一格的数字来自未接受的修订，已按修订后的文字读取", rules.WARNING),
    rules.DATE_ID: ("填报日期：识别不了，或晚于报告日期、早于通知日期，不作为取舍依据", rules.WARNING),
    rules.EMPTY_ID: ("统计表全部未填：整张表一项都没有填数字（只算这一条）", rules.ERROR),
    rules.FORM_YEAR_ID: ("用了往年的表式：按那一年的表式读取，往年没有的项目列为“表中未找到”", rules.ERROR),
    rules.SUMMARY_ID: ("书面总结与统计表不一致：书面总结写到的数字与统计表（更正后）明显不同", rules.WARNING),
    rules.UNIT_ID: (
        "填报单位与文件名不符：表上的填报单位是名录中的一个单位，文件名写的是另一个",
        rules.ERROR,
    ),
    rules.VERSIONS_ID: ("两份统计表数字不同：同一单位的两份无法按填报日期取舍，数字又不同", rules.ERROR),
    rules.CHECK_FAILED_ID: (
        "审核未能完成：审核这个单位报来的数字时程序出错，这一项审核结果不全（其他单位不受影响）",
        rules.ERROR,
    ),
    rules.AUDIT_ID: (
        "登记表有误：更正或豁免登记表中写错的单位名称、项目代码、数值，矛盾或重复的行（重复的为请核实）",
        rules.ERROR,
    ),
}

# The plausibility entries of policy.yaml this page words; any other is listed with its settings as written
KNOWN_PLAUSIBILITY = ("money_per_household", "yuan_slip", "peers", "magnitude", "history")

# What the placeholders of a message stand for, as the page shows them
PLACEHOLDERS = {
    "left": "左边的项目和数字",
    "right": "右边的项目和数字",
    "ratio": "比值",
    "item": "项目",
    "typed": "填的数",
    "wan": "按万元应约为",
    "label": "比例的名称",
    "median": "各单位中位数",
    "times": "倍数",
    "bound": "最大值或最小值",
    "peer": "其他单位的数",
    "previous": "上年数",
    "direction": "增加或减少",
    "pct": "百分比",
}


def newest_form() -> Form:
    years = sorted(p.stem for p in FORMS_DIR.glob("*.yaml") if p.stem.isdigit())
    return load_form(years[-1])


def _words(message: str, **known) -> str:
    """A message template as the page shows it: thresholds filled in, other placeholders named in 〔〕."""
    fields = {name for _, name, _, _ in string.Formatter().parse(message) if name}
    values = {n: known[n] if n in known else f"〔{PLACEHOLDERS.get(n, n)}〕" for n in fields}
    return message.format(**values).replace("|", "\\|")


@dataclass(frozen=True)
class _Say:
    form: Form

    def item(self, code: str) -> str:
        found = self.form.code_of(code)
        return (
            f"{code} {self.form.item(found).label}"
            if found
            else f"{code}（{self.form.form}年表式中没有此项）"
        )

    def per(self, code: str) -> str:
        found = self.form.code_of(code)
        unit = self.form.item(found).unit if found else ""
        return f"每{unit}（{self.item(code)}）的金额与其他单位的中位数相比"

    def share_of(self, code: str) -> str:
        return f"与本单位的 {self.item(code)} 相比"

    def side(self, terms) -> str:
        return " ＋ ".join(("" if f == 1 else f"{f}×") + self.item(c) for f, c in terms)

    def check(self, text: str) -> str:
        c = rules.parse_check(text)
        if c.op == "~":
            return f"{self.side(c.left)} 与 {self.side(c.right)} 同为0或同不为0"
        return f"{self.side(c.left)} {OPS[c.op]} {self.side(c.right)}"


def rules_markdown() -> str:
    """Every rule with its words: the tables of docs/reference-rules.md (python -m wennuan_lib docs)."""
    raw = raw_policy()
    form = newest_form()
    say = _Say(form)
    policy = resolve(raw, lambda concept: concept)  # in the policy's own words: concepts = the item codes
    out = [
        f"政策文件版本 {policy.version}；项目名称取自 {form.form} 年表式。",
        "",
        "处理意见（反馈表中写给单位的）按审核的类别："
        + "；".join(f"{label}“{rules.ACTIONS[kind]}”" for kind, label in rules.CHECK_TYPES.items())
        + "；疑似按元填写的金额（Y01）“"
        + rules.ACTIONS["yuan"]
        + "”。",
        "",
        "### 表内关系",
        "",
        "| 规则 | 类别 | 检查 | 审核意见的写法 |",
        "|---|---|---|---|",
    ]
    for r in policy.rules:
        out.append(
            f"| {r.id} | {SEVERITY[r.severity]}（{rules.CHECK_TYPES[r.kind]}） | {say.check(r.check)} | "
            f"{_words(r.message)} |"
        )
    out += ["", "### 合理性、疑似填错与历史审核", ""]
    out += ["| 规则 | 类别 | 检查 | 审核意见的写法 |", "|---|---|---|---|"]
    out += _plausibility_rows(policy, say)
    for key, entry in raw.get("plausibility", {}).items():  # a check this page does not word yet: as written
        if key not in KNOWN_PLAUSIBILITY and isinstance(entry, dict) and "id" in entry:
            settings = "，".join(
                f"{k} = {v}"
                for k, v in entry.items()
                if k not in ("id", "severity", "message", "far_message")
            )
            words = _words(str(entry.get("message", "")))
            out.append(f"| {entry['id']} | {SEVERITY[entry['severity']]} | `{key}`：{settings} | {words} |")
    out += ["", "### 逐格检查和整份统计表的检查", ""]
    out += ["| 规则 | 类别 | 检查 | 处理意见 |", "|---|---|---|---|"]
    for rule_id, (what, severity) in sorted(BUILTIN.items()):
        out.append(f"| {rule_id} | {SEVERITY[severity]} | {what} | {rules.ACTIONS[rule_id]} |")
    changed = _year_changes()
    if changed:
        out += ["", "### 各年表式对规则的改动", ""]
        out += [f"- {line}" for line in changed]
    return "\n".join(out)


def _plausibility_rows(policy, say: _Say) -> list[str]:
    """The rows of the plausibility checks the page words: money per household, 元 for 万元, peers,
    magnitude, history."""
    out = []
    m = policy.money_per_household
    if m:
        what = (
            f"每户慰问款物 ＝ {say.item(m.numerator)} × {m.factor} ÷ {say.item(m.denominator)}（元），"
            f"应在 {m.low}–{m.high} 元之间"
        )
        out.append(_row(m, what, _words(m.message, low=m.low, high=m.high)))
    y = policy.yuan_slip
    if y:
        parts = [
            f"{say.item(c.item)}（{say.per(c.per) if c.per else say.share_of(c.share_of)}）" for c in y.checks
        ]
        what = f"金额疑似按元填写：比按其他数字推算的大 {y.ratio} 倍以上。检查的项目：" + "；".join(parts)
        out.append(_row(y, what, _words(y.message)))
    p = policy.peers
    if p:
        ratios = "；".join(f"{r.label}（{say.item(r.num)} ÷ {say.item(r.den)}）" for r in p.ratios)
        what = (
            f"比例与其他单位相比明显异常：是各单位中位数的 {p.factor:g} 倍以上或 1/{p.factor:g} 以下"
            f"（至少 {p.min_units} 个单位填了才比）。比较的比例：{ratios}"
        )
        out.append(_row(p, what, _words(p.message)))
    g = policy.magnitude
    if g:
        items = "全部项目" if g.items is None else "、".join(say.item(c) for c in g.items)
        what = (
            f"比其他单位中最大的还大 {g.factor:g} 倍以上，或比最小的还小 {g.factor:g} 倍以上"
            f"（不计未填和0，至少 {g.min_units} 个其他单位）。检查的项目：{items}"
        )
        out.append(_row(g, what, _words(g.message)))
    h = policy.history
    if h:
        what = (
            f"与本单位上年相比变化超过 {h.max_change:.0%}"
            f"（变化小于 {h.floor:g}、金额小于 {h.money_floor:g} 万元的不提示）；"
            f"两年相差 {h.far:g} 倍以上时不写百分比：“{_words(h.far_message)}”"
        )
        out.append(_row(h, what, _words(h.message), rules.CHECK_TYPES["history"]))
    return out


def _row(entry, what: str, words: str, kind: str = rules.CHECK_TYPES["soft"]) -> str:
    return f"| {entry.id} | {SEVERITY[entry.severity]}（{kind}） | {what} | {words} |"


def _year_changes() -> list[str]:
    """What each year's form changes in the rules (its `policy:` overrides of rules and checks, and the checks
    left out because its form lacks an item)."""
    lines = []
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        data = read_program_yaml(path)
        for key, fields in (data.get("policy") or {}).items():
            if str(key).split(".")[0] in ("rules", "plausibility"):
                lines.append(f"{path.stem}年表式：`{key}` 改为 `{fields}`")
        dropped = load_form(path.stem).policy.dropped
        lines += [f"{path.stem}年表式：{d}" for d in dropped]
    return lines


def outputs_markdown() -> str:
    """Every file read and made: the tables of docs/reference-outputs.md."""
    return catalog.markdown()


# The folders a scope keeps beside its runs (catalog.yaml's scope:), as the analyst sees them
SCOPE_FOLDERS = {
    "runs": (
        "各次运行的文件夹：每次运行先写在这里，全部完成才成为 `current`；"
        "只保留当前和上一次，没做完的标“-未完成”"
    ),
    "cache": (
        "按内容保存的中间结果，只为重跑时更快；删除后结果不变，只是下次慢一些；"
        "程序更新后，旧程序留下的在下一次运行完成时自动删除"
    ),
    "sent": "`freeze` 封存的已报送版本（`sent/<日期>/`），只读，以后的运行不会改动",
    "logs": "程序出错时的详细信息（给维护人员看）",
    "lock": "运行或封存进行时的锁文件（同一年度同时只能有一个运行），不用管它",
}


def outputs_readme() -> str:
    """outputs/README.md: every folder and file a run makes here, from the catalog."""
    from wennuan_lib.run.runs import RUN_OWN

    layout = catalog.layout()
    lines = [
        "# outputs/",
        "",
        "运行 `python -m wennuan_lib run --year <年度>` 生成的全部结果都在这里，"
        "按年度分目录，历年对比在 `trends/`。",
        "除已封存的 `sent/` 外都可以随时删除后重新生成。本目录的内容不纳入版本库。",
        "每个文件的内容见 [docs/reference-outputs.md](../docs/reference-outputs.md)。",
        "",
        "<!-- 本页由 python -m wennuan_lib docs 从数据目录 wennuan_lib/catalog.yaml 生成，请勿手工修改 -->",
    ]
    for scope, root in ((catalog.YEAR, "<年度>"), (catalog.TRENDS, "trends")):
        sets = catalog.datasets(scope)
        top: dict[str, list[str]] = {}
        for d in sets:
            top.setdefault(d.path.split("/")[0], []).append(d.path)

        folders = {d.path for d in sets if d.kind == "folder"} | {
            str(parent) for d in sets for parent in Path(d.path).parents if str(parent) != "."
        }

        def shown(path: str, folders=folders) -> str:
            return f"`{Path(path).name}{'/' if path in folders else ''}`"

        opened = "、".join(shown(h) for h in top if h not in RUN_OWN)
        lines += ["", f"## `{root}/`", ""]
        lines.append(
            f"- `{layout.current}/`：最近一次完整运行的结果（其中 {opened} 在 `{root}/` 下也能直接打开）："
        )
        for head, paths in top.items():
            inside = "、".join(shown(p) for p in paths if p != head)
            lines.append(f"  - {shown(head)}" + (f"：{inside}" if inside else ""))
        for name, text in SCOPE_FOLDERS.items():
            if name == "sent" and scope == catalog.TRENDS:
                continue
            lines.append(f"- `{getattr(layout, name)}{'' if name == 'lock' else '/'}`：{text}")
    return "\n".join(lines) + "\n"


def _short(d: catalog.Dataset) -> str:
    name = Path(d.path).name + ("/" if d.kind == "folder" else "")
    return f"trends/{name}" if d.scope == catalog.TRENDS else name


def flow_mermaid() -> str:
    """The data flow of docs/maintainer.md, from the catalog: raw inputs → steps → datasets → later steps
    (a Mermaid flowchart; last year's and every year's reads dotted). The raw files every step reads (the
    registry, the year's settings) are named once in a note instead of drawn to each step."""
    cat = catalog.load()
    everywhere = [n for n in cat.raw if all(n in s.reads for s in cat.steps if s.scope == catalog.YEAR)]

    def node(name: str) -> str:
        return "d_" + re.sub(r"\W", "_", name, flags=re.A)

    lines = ["```mermaid", "flowchart TB", '  subgraph inputs["inputs/ (read-only)"]']
    lines += [f'    {node("raw_" + n)}[/"{r.path}"/]' for n, r in cat.raw.items() if n not in everywhere]
    shared = " · ".join(cat.raw[n].path for n in everywhere)
    lines += [f'    {node("raw_shared")}[/"{shared}<br/>(read by every step)"/]', "  end"]
    layers: dict[str, list] = {}
    for d in cat.datasets.values():
        if d.producer in {s.name for s in cat.steps}:
            layers.setdefault(d.layer, []).append(d)
    for layer, sets in layers.items():
        lines.append(f'  subgraph layer_{layer}["{layer}"]')
        lines += [f'    {node(d.name)}["{_short(d)}"]' for d in sets]
        lines.append("  end")
    made = {d.name for sets in layers.values() for d in sets}
    for s in cat.steps:
        lines.append(f'  {node("step_" + s.name)}(["{s.name}"])')
        for read in s.reads:
            how, _, name = read.rpartition(":")
            source = node("raw_" + name) if name in cat.raw and how != "previous" else node(name)
            if how == "run_date" or name in everywhere or (name not in made and name not in cat.raw):
                continue
            arrow = {"previous": "-. last year .->", "years": "-. every year .->"}.get(how, "-->")
            lines.append(f"  {source} {arrow} {node('step_' + s.name)}")
        lines += [f"  {node('step_' + s.name)} --> {node(d.name)}" for d in s.outputs if d.name in made]
    lines.append("```")
    return "\n".join(lines)


MAINTAINER_PAGE = "docs/maintainer.md"
MARKERS = {
    RULES_PAGE: ("rules", rules_markdown),
    OUTPUTS_PAGE: ("catalog", outputs_markdown),
    MAINTAINER_PAGE: ("flow", flow_mermaid),
}


def _block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:begin -->)\n(.*?)\n?(<!-- {name}:end -->)", re.S)


def generated(page: str) -> str:
    """The generated text of `page` (between its markers), as it should be."""
    return MARKERS[page][1]().strip()


def committed(page: str, root: Path = config.ROOT) -> str | None:
    """The generated text as committed in `page`, or None if the page has no markers."""
    m = _block(MARKERS[page][0]).search((root / page).read_text(encoding="utf-8"))
    return m.group(2).strip() if m else None


def stale(root: Path = config.ROOT) -> list[str]:
    """The pages whose generated part differs from what the policy and the catalog say now."""
    out = [p for p in MARKERS if committed(p, root) != generated(p)]
    readme = root / OUTPUTS_README
    if not readme.is_file() or readme.read_text(encoding="utf-8") != outputs_readme():
        out.append(OUTPUTS_README)
    return out


def write(root: Path = config.ROOT) -> list[str]:
    """Write every generated part into its page; returns the pages changed."""
    changed = []
    for page, (name, _) in MARKERS.items():
        path = root / page
        text = path.read_text(encoding="utf-8")
        body = generated(page)
        new = _block(name).sub(lambda m, body=body: f"{m.group(1)}\n{body}\n{m.group(3)}", text, count=1)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(page)
    readme = root / OUTPUTS_README
    if not readme.is_file() or readme.read_text(encoding="utf-8") != outputs_readme():
        readme.write_text(outputs_readme(), encoding="utf-8")
        changed.append(OUTPUTS_README)
    return changed
