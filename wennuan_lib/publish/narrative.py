"""The 书面总结's text, written from the city totals by the form file's Jinja2 templates, with the
analyst's own paragraphs from inputs/<year>/narrative.md in their sections.

Every figure in the generated prose is a token naming its row of the totals table
(``\\ue000key\\ue001text\\ue002``); renderers turn tokens into plain text (PDF, Word) or
into a span whose tooltip says which items and how many units it adds up (HTML).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations
from pathlib import Path

import jinja2
import pandas as pd

from wennuan_lib.base import catalog
from wennuan_lib.base.textfiles import read_text
from wennuan_lib.check.aggregate import ABOUT, AT_LEAST, NOT_COMPARED
from wennuan_lib.form import Form
from wennuan_lib.policy import NumberStyle
from wennuan_lib.read.parse import official_number, to_decimal
from wennuan_lib.read.units import Registry, normalize

NO_DATA = "【无数据】"  # a figure no unit filled in: shown where it stands, and the report stays a draft
TOKEN = re.compile("\ue000([^\ue001]*)\ue001([^\ue002]*)\ue002")
CN_NUM = "一二三四五六七八九十"
GAP = "gap"

# Sections of the analyst's narrative.md, by keywords of its "## " headings.
ANALYST_SECTIONS = [
    ("basic", ("基本情况",)),
    ("experience", ("典型经验", "主要做法", "经验")),
    ("units", ("各地", "各单位")),
    ("problems", ("存在问题", "问题")),
    ("plans", ("下一步", "打算", "计划")),
]


@dataclass
class Block:
    kind: str  # para / heading / quote / gap / error / chart
    text: str = ""
    source: str = "generated"  # generated / analyst / quote
    chart: str = ""
    heading: str = ""  # a gap: the "## " heading of narrative.md it waits for


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Narrative:
    title: str
    recipient: str
    sender: str
    date: str
    sections: list[Section]
    problems: list[str]  # quotes that do not match, unknown headings: the report stays a draft
    title_lines: list[str] = field(default_factory=list)  # the title broken where its meaning allows

    def plain(self, text: str) -> str:
        return TOKEN.sub(lambda m: m.group(2), text)

    @property
    def gaps(self) -> list[Block]:
        """The sections still waiting for the analyst's text (待补充)."""
        return [b for s in self.sections for b in s.blocks if b.kind == GAP]

    @property
    def blocks(self) -> list[Block]:
        return [b for s in self.sections for b in s.blocks]


# The title's break points (GB/T 9704-2012 7.3.3: a title of two or more lines breaks where the meaning
# allows, in a trapezoid or diamond): after the issuing unit, after 关于, after the period, before 的总结. A
# period ends in one of these words (the first of them present), else at its last 年; the subject (送温暖活动)
# is never split.
PERIOD_ENDS = ("期间", "前后", "年度")
TITLE_LINE_EM = 20  # 22 pt characters in the 156 mm text block


def em_width(text: str) -> float:
    """Width in characters of the title's size: CJK and full-width signs 1, ASCII letters and digits ½."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def title_parts(sender: str, campaign: str) -> list[str]:
    """The title's words between which it may break:
    苏州市总工会 | 关于 | 2013年元旦春节期间 | 送温暖活动情况 | 的总结."""
    ends = [campaign.find(w) + len(w) for w in PERIOD_ENDS if w in campaign]
    cut = min(ends) if ends else campaign.rfind("年") + 1
    parts = [sender, "关于", campaign[:cut], campaign[cut:] + "情况", "的总结"]
    return [p for p in parts if p]


def break_title(parts: list[str], max_em: float = TITLE_LINE_EM) -> list[str]:
    """The title in as few lines as fit `max_em`, broken only between `parts`; of those breaks, the one whose
    longest line is shortest (a balanced trapezoid or diamond), a longer line above a shorter one on a tie."""
    n = len(parts)
    best: tuple | None = None
    for lines in range(1, n + 1):
        for cuts in combinations(range(1, n), lines - 1):
            bounds = [0, *cuts, n]
            text = ["".join(parts[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
            widths = [em_width(t) for t in text]
            if max(widths) > max_em:
                continue
            # a diamond or trapezoid: widths rise then fall (never a waist)
            peak = widths.index(max(widths))
            shaped = all(widths[k] <= widths[k + 1] for k in range(peak)) and all(
                widths[k] >= widths[k + 1] for k in range(peak, len(widths) - 1)
            )
            score = (not shaped, max(widths), [-w for w in widths])
            if best is None or score < best[0]:
                best = (score, text)
        if best is not None:
            return best[1]
    longest = max(
        range(n), key=lambda k: em_width(parts[k])
    )  # a word longer than a line: split in the middle
    half = len(parts[longest]) // 2
    return break_title(
        [*parts[:longest], parts[longest][:half], parts[longest][half:], *parts[longest + 1 :]], max_em
    )


def is_count(measure: str) -> bool:
    return measure not in ("万元", "元", "%")


def number_text(value: Decimal | None, measure: str, style: NumberStyle | None = None) -> str:
    """A figure in the prose, with its measure: 4423.12万元, 22.0%, 3441户; with `style`, large counts in 万
    with a fixed number of decimals, as money is written (28996户 → 2.90万户)."""
    if value is None:
        return NO_DATA
    if style and style.wan_from and is_count(measure) and value >= style.wan_from:
        wan = (value / 10000).quantize(Decimal(1).scaleb(-style.wan_places), rounding=ROUND_HALF_UP)
        return f"{wan:f}万{measure}"
    return official_number(value, measure) + measure


class Figures:
    """The template functions: fig, yoy, top, label — every number from the totals table."""

    def __init__(self, totals: pd.DataFrame, form: Form, no_yoy: dict[str, str] | None = None):
        """`no_yoy`: items whose change on last year is not stated (key → why), e.g. last year's total holds a
        suspected slip."""
        self.rows = {r["item"]: r for r in totals.to_dict("records")}
        self.form = form
        self.style = form.policy.report.numbers
        self.no_yoy = no_yoy or {}
        self.derived = {d.key: d for d in form.policy.report.derived}
        self.last_basis: tuple | None = None  # the last basis a sentence stated: the next same one is 同上

    def key(self, key: str) -> str:
        """A template names items by concept (policy.yaml); the totals table by this year's code."""
        return self.form.code_of(key) or key

    def has(self, key: str) -> bool:
        return self.key(key) in self.rows

    def some(self, key: str) -> bool:
        """Whether a figure is there and above zero (for a clause that only makes sense then)."""
        value = to_decimal(self.rows[self.key(key)]["value"]) if self.has(key) else None
        return value is not None and value > 0

    def _row(self, key: str) -> dict:
        if key not in self.rows:
            raise KeyError(
                f"全市合计（{catalog.file_name('totals')}）中没有「{key}」，"
                "请检查 policy.yaml 中 report 部分的模板"
            )
        return self.rows[key]

    def full(self, key: str) -> str:
        """A row's value in full, with its measure (28996户, 4083.27万元)."""
        row = self._row(key)
        return number_text(to_decimal(row["value"]), row["measure"])

    def tip(self, key: str) -> str:
        """What a figure is, for the HTML hover: the item, the full figure, how it was added up or defined."""
        row = self._row(key)
        shown = number_text(to_decimal(row["value"]), row["measure"], self.style)
        full = self.full(key)
        written = f"（文中写作{shown}）" if shown != full else ""
        if row["kind"] == "item":
            tip = f"{key} {row['label']}：{full}{written}，{row['how']}"
            return tip + (f"；未写同比：{self.no_yoy[key]}" if key in self.no_yoy else "")
        if row["kind"] == "derived" and key in self.derived:
            d = self.derived[key]
            codes = [*d.num, *([d.den] if d.den else [])]
            figures = "，".join(f"{c} {self.full(c)}" for c in codes if c in self.rows)
            return f"{row['label']} = {row['how']}；本年 {figures}，得 {full}{written}"
        if row["kind"] == "rank":
            return f"{row['label']}：{row['who']}填报 {full}{written}"
        return f"{row['label']}：{row['how']}"

    def token(self, key: str, text: str) -> str:
        return f"\ue000{key}\ue001{text}\ue002"

    def fig(self, key: str) -> str:
        """A figure as the prose states it: 约 … / … 以上 when approximate entries weigh in it, and its basis
        when it leaves out units that reported a form (2.76万户（28个单位合计，昆山市总工会、…未填）)."""
        key = self.key(key)
        row = self._row(key)
        shown = self.token(key, number_text(to_decimal(row["value"]), row["measure"], self.style))
        mark = row.get("approx", "")
        shown = (ABOUT + shown) if mark == ABOUT else (shown + AT_LEAST if mark == AT_LEAST else shown)
        return shown + self.coverage(key)

    def coverage(self, key: str) -> str:
        """（28个单位合计，昆山市总工会、市交通运输系统工会未填）: how many units a figure covers and who is
        left out, when not every unit that reported a form is in it; "" when all are."""
        row = self._row(key)
        basis, n = row.get("basis", ""), row.get("units_reported", "")
        if not basis or not n or row["kind"] not in ("item", "derived") or to_decimal(row["value"]) is None:
            return ""
        said = (row["kind"], n, basis)
        if said == self.last_basis:
            return "（口径同上）"
        self.last_basis = said
        count = self.token(f"{key}#units", str(n))
        if row["kind"] == "derived":
            return f"（按{count}个单位计算，{basis}）"
        return f"（{count}个单位合计，{basis}）"

    def comparable_basis(self, key: str) -> bool:
        """Whether 同比 is on fewer units than either year's figure covers (the sentence says 按可比口径)."""
        row = self._row(key)
        n = to_decimal(row.get("units_comparable", ""))
        covered = [to_decimal(row.get(c, "")) for c in ("units_reported", "units_previous")]
        return n is not None and any(c is not None and n < c for c in covered)

    def yoy(self, key: str) -> str:
        """，同比增长7.8%; on a comparable basis narrower than either year's figure
        ，按可比口径（两年均填报的29个单位）计算，同比增长7.8%; an item reworded since last year's form
        ，与上年口径不同，不作比较."""
        key = self.key(key)
        row = self._row(key)
        if row.get("compare", "").startswith(NOT_COMPARED):
            return f"，与上年{NOT_COMPARED}"
        change = to_decimal(row.get("change_pct", ""))
        if change is None or key in self.no_yoy:
            return ""
        basis = ""
        if self.comparable_basis(key):
            count = self.token(f"{key}#comparable", str(row["units_comparable"]))
            basis = f"，按可比口径（两年均填报的{count}个单位）计算"
        if change == 0:
            return f"{basis}，与上年持平"
        word = "增长" if change > 0 else "下降"
        return f"{basis}，同比{word}" + self.token(f"{key}#change", f"{abs(change):.1f}%")

    def top(self, code: str) -> list[dict]:
        code = self.key(code)
        out = []
        for rank in range(1, 100):
            key = f"top.{code}.{rank}"
            if key not in self.rows:
                break
            basis = self.rows[key].get("basis", "")
            out.append(
                {"name": self.rows[key]["who"], "fig": self.fig(key), "note": f"，{basis}" if basis else ""}
            )
        return out

    def top_n(self, code: str) -> str:
        n = len(self.top(code))
        return CN_NUM[n - 1] if 0 < n <= 10 else str(n)

    def label(self, code: str) -> str:
        return self.form.item(self.key(code)).label

    def value(self, key: str) -> str:
        """The raw value of a token key (for checks), including the change of `key#change`."""
        base, _, part = key.partition("#")
        column = {"change": "change_pct", "units": "units_reported", "comparable": "units_comparable"}
        return self._row(base)[column.get(part, "value")]


COMMENT = re.compile(r"<!--.*?-->", re.S)
# "##典型经验" without the space CommonMark wants after the marks: still a heading, as the analyst meant it.
HEADING_NO_SPACE = re.compile(r"^(\s{0,3}#{1,6})(?=[^#\s])", re.M)


@dataclass
class AnalystText:
    """narrative.md as read: paragraphs by section, problems (unknown headings, an unclosed comment) and the
    comments left out, each as (first line, last line) in the file."""

    sections: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    comments: list[tuple[int, int]] = field(default_factory=list)


def _uncommented(content: str, children, comments: list[tuple[int, int]], line: int) -> str:
    """An inline's text without the HTML comments markdown-it found in it (html_inline tokens)."""
    out, pos = [], 0
    for child in children or ():
        if child.type == "html_inline" and child.content.startswith("<!--"):
            at = content.find(child.content, pos)
            if at < 0:
                continue
            out.append(content[pos:at])
            first = line + content.count("\n", 0, at)
            comments.append((first, first + child.content.count("\n")))
            pos = at + len(child.content)
    out.append(content[pos:])
    return "".join(out)


def parse_analyst_text(text: str, name: str = "narrative.md") -> AnalystText:
    """narrative.md's text, parsed as Markdown (CommonMark, markdown-it-py): headings pick the section, each
    paragraph (a quote as "> …", a list item with its mark) is one entry; HTML comments of any length, between
    paragraphs or inside one, never reach the report and are counted."""
    from markdown_it import MarkdownIt  # 0.05 s to import: only the report step and the summary need it

    out = AnalystText()
    tokens = MarkdownIt("commonmark").parse(HEADING_NO_SPACE.sub(r"\1 ", text))
    current = None
    prefix: list[str] = []  # "> " inside a quote; a list item's mark
    for k, tok in enumerate(tokens):
        line = tok.map[0] + 1 if tok.map else 0
        if tok.type == "heading_open":
            heading = tokens[k + 1].content.strip()
            current = next((key for key, words in ANALYST_SECTIONS if any(w in heading for w in words)), None)
            if heading and current is None and tok.tag == "h2":
                out.problems.append(
                    f"{name} 中的标题「{heading}」不属于任何一节"
                    "（可用：基本情况、典型经验、各地各单位情况、存在问题、下一步打算）"
                )
        elif tok.type == "blockquote_open":
            prefix.append("> ")
        elif tok.type == "list_item_open":
            prefix.append(f"{tok.info}{tok.markup} ")
        elif tok.type in ("blockquote_close", "list_item_close"):
            prefix.pop()
        elif tok.type == "inline" and tokens[k - 1].type == "paragraph_open":
            body = _uncommented(tok.content, tok.children, out.comments, line)
            _add(out, current, prefix, _unclosed(out, body, line, tok, name))
        elif tok.type in ("html_block", "code_block", "fence"):
            found = list(COMMENT.finditer(tok.content))
            for m in found:
                first = line + tok.content.count("\n", 0, m.start())
                out.comments.append((first, first + m.group().count("\n")))
            rest = _unclosed(out, COMMENT.sub("", tok.content), line, tok, name)
            if tok.type != "html_block" or found:  # indented text is text; other HTML as the analyst wrote it
                for para in re.split(r"\n\s*\n", rest):
                    _add(out, current, prefix, "\n".join(x.strip() for x in para.strip().splitlines()))
            else:
                _add(out, current, prefix, rest.strip())
    return out


def _unclosed(out: AnalystText, text: str, line: int, tok, name: str) -> str:
    """`text` up to a comment that is never closed (the rest is the analyst's note or lost: never printed),
    which is a problem naming its line."""
    if "<!--" not in text:
        return text
    first = line + text[: text.index("<!--")].count("\n")
    out.comments.append((first, tok.map[1] if tok.map else first))
    out.problems.append(
        f"{name} 第{first}行的注释「<!--」没有结束（缺少「-->」），其后的文字都不会写入书面总结："
        "请在注释结尾加上「-->」"
    )
    return text[: text.index("<!--")]


def _add(out: AnalystText, current: str | None, prefix: list[str], body: str) -> None:
    body = "\n".join(line.strip() for line in body.strip().splitlines())  # also 　　 (ideographic spaces)
    if current and body:
        out.sections.setdefault(current, []).append("".join(prefix[-1:]) + body)


@dataclass(frozen=True)
class AnalystFile:
    """narrative.md as the runner loads it for step 04: its path (to name it), its text (None if absent)."""

    path: Path
    text: str | None

    @classmethod
    def load(cls, path: Path) -> AnalystFile:
        path = Path(path)
        return cls(path, read_text(path).text if path.exists() else None)


def parse_analyst(source: Path | AnalystFile) -> tuple[dict[str, list[str]], list[str]]:
    """narrative.md → {section: [paragraph, …]} and problems (unknown headings, an unclosed comment)."""
    file = source if isinstance(source, AnalystFile) else AnalystFile.load(source)
    if file.text is None:
        return {}, []
    parsed = parse_analyst_text(file.text, file.path.name)
    return parsed.sections, parsed.problems


def comments_note(path: Path) -> str:
    """For the run summary: how many comment blocks of narrative.md the report left out ('' if none)."""
    if not path.exists():
        return ""
    comments = parse_analyst_text(read_text(path).text, path.name).comments
    if not comments:
        return ""
    where = "、".join(f"第{a}行" if a == b else f"第{a}–{b}行" for a, b in comments[:5])
    more = "等" if len(comments) > 5 else ""
    return f"{path.name} 中的 {len(comments)} 段注释（<!-- … -->，{where}{more}）没有写入书面总结"


def check_quote(text: str, summaries: pd.DataFrame, registry: Registry | None) -> tuple[Block, str | None]:
    """'> 单位：原文' — the quote must be in that unit's extracted 书面总结材料."""
    body = text.lstrip("> ").strip()
    m = re.match(r"([^：:]{2,40})[：:](.+)", body, re.S)
    if not m:
        return Block(
            "error", f"【引文格式有误】{body}（应为“> 单位名称：原文”）", "analyst"
        ), f"引文格式有误：{body[:30]}"
    written, quote = m.group(1).strip(), m.group(2).strip().strip('“”"')
    unit = written
    if registry is not None:
        resolved = registry.resolve(written, strict=True)
        unit = resolved.name if resolved else written
    texts = summaries.loc[summaries["unit"] == unit, "text"]
    if texts.empty:
        return (
            Block(
                "error", f"【引文无出处】{written}没有报送书面总结材料，无法核对引文：“{quote}”", "analyst"
            ),
            f"引文无出处：{written}没有书面总结材料",
        )
    squeeze = normalize
    if squeeze(quote) not in squeeze("\n".join(texts)):
        return (
            Block("error", f"【引文与原文不符】{unit}的书面总结材料中没有这段文字：“{quote}”", "analyst"),
            f"引文与原文不符：{unit}：{quote[:30]}",
        )
    return Block("quote", quoted(unit, quote), "quote"), None


SENTENCE_END = "。！？…"


def quoted(unit: str, quote: str) -> str:
    """The sentence that quotes a unit: a quotation that is a whole sentence keeps its own full stop inside
    the marks (“……宣讲。”); one that is not gets the sentence's after them (“……宣讲”。)."""
    end = "" if quote.endswith(tuple(SENTENCE_END)) else "。"
    return f"{unit}在书面总结中写道：“{quote}”{end}"


def _analyst_blocks(paragraphs: list[str], summaries, registry, problems: list[str]) -> list[Block]:
    blocks = []
    for p in paragraphs:
        if p.startswith(">"):
            block, problem = check_quote(p, summaries, registry)
            if problem:
                problems.append(problem)
            blocks.append(block)
        else:
            blocks.append(Block("para", p.replace("\n", ""), "analyst"))
    return blocks


def _gap(what: str, heading: str, narrative_path: Path) -> Block:
    return Block(
        GAP,
        f"【待补充：{what}。请在 {narrative_path} 中“## {heading}”标题下填写，系统不代写。】",
        "gap",
        heading=heading,
    )


def build(
    form: Form,
    totals: pd.DataFrame,
    cfg: dict,
    narrative_path: Path | AnalystFile,
    summaries: pd.DataFrame,
    registry: Registry | None,
    report_date: str,
    no_yoy: dict[str, str] | None = None,
) -> Narrative:
    """The report's text: the policy's prose with this year's figures, the analyst's own paragraphs from
    narrative.md, and a marked gap wherever a section the analyst writes is still empty."""
    spec = form.policy.report
    render = _prose(Figures(totals, form, no_yoy), form, cfg["year"])
    analyst, problems = parse_analyst(narrative_path)
    if isinstance(narrative_path, AnalystFile):
        narrative_path = narrative_path.path
    rel = Path(
        narrative_path.name
        if not narrative_path.parent.name
        else f"inputs/{cfg['year']}/{narrative_path.name}"
    )

    def extra(key):
        return _analyst_blocks(analyst.get(key, []), summaries, registry, problems)

    sections = _sections(spec, render, extra, rel)
    sender = cfg.get("city_unit", "")
    parts = title_parts(sender, cfg.get("campaign", str(cfg["year"]) + "年送温暖活动"))
    return Narrative(
        "".join(parts),
        cfg.get("recipient", ""),
        sender,
        report_date,
        sections,
        problems,
        break_title(parts),
    )


def _prose(figures: Figures, form: Form, year) -> Callable[[str], str]:
    """A function that writes one of the policy's prose templates with this year's figures."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    context = {
        "year": year,
        "fig": figures.fig,
        "yoy": figures.yoy,
        "top": figures.top,
        "has": figures.has,
        "some": figures.some,
        "top_n": figures.top_n,
        "label": figures.label,
        "rankings": [form.item(code).key for code in form.policy.report.rankings],
    }

    def render(template: str) -> str:
        # No spaces in Chinese prose: the template's line breaks and indentation are for its writer only.
        figures.last_basis = None  # 口径同上 never reaches back into another paragraph
        return re.sub(r"\s+", "", env.from_string(template).render(**context))

    return render


def _sections(spec, render: Callable[[str], str], extra: Callable[[str], list], rel: Path) -> list[Section]:
    """The four sections: the policy's prose and charts, the analyst's paragraphs after them, a gap where
    the analyst has written nothing yet."""
    s1 = Section(
        "一、基本情况",
        [
            Block("para", render(spec.basic)),
            Block("chart", chart="sources"),
            Block("chart", chart="trends"),
            *extra("basic"),
        ],
    )
    s2 = _themes_section(spec, render, extra, rel)
    s3 = Section(
        "三、各地各单位情况",
        [
            Block("para", render(spec.units)),
            Block("chart", chart="funds_by_unit"),
            Block("chart", chart="households_by_unit"),
            *extra("units"),
        ],
    )
    s4 = Section(
        "四、存在问题和下一步打算",
        [
            Block("heading", "（一）存在问题"),
            *(extra("problems") or [_gap("存在的问题", "存在问题", rel)]),
            Block("heading", "（二）下一步打算"),
            *(extra("plans") or [_gap("下一步打算", "下一步打算", rel)]),
        ],
    )
    return [s1, s2, s3, s4]


def _themes_section(spec, render: Callable[[str], str], extra: Callable[[str], list], rel: Path) -> Section:
    """二、主要做法和成效: a heading, paragraph and chart per theme of the policy, then the analyst's
    典型经验."""
    s2 = Section("二、主要做法和成效")
    for k, theme in enumerate(spec.themes):
        s2.blocks.append(Block("heading", f"（{CN_NUM[k]}）{theme.title}"))
        s2.blocks.append(Block("para", render(theme.text)))
        if theme.chart:
            s2.blocks.append(Block("chart", chart=theme.chart))
    s2.blocks.append(Block("heading", f"（{CN_NUM[len(spec.themes)]}）典型经验"))
    s2.blocks += extra("experience") or [_gap("各单位的典型经验", "典型经验", rel)]
    return s2


def tokens(text: str) -> list[tuple[str, str]]:
    """(key, shown text) of every figure in a text."""
    return TOKEN.findall(text)
