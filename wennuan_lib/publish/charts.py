"""The report's charts (matplotlib, a CJK font, no unicode minus): the form's own categories only (no invented
remainder), unit charts with the leading units and one line for the rest (legible at 30, 300 or 3,000 units),
a blank marked 未填 and never drawn as zero, measures set horizontally, a source note; the title is the
caption's."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

from wennuan_lib.base import store
from wennuan_lib.base.artifacts import Artifacts, dumps, register
from wennuan_lib.base.parallel import here_and_apart
from wennuan_lib.check.aggregate import Measure, in_totals
from wennuan_lib.check.rules import unit_dicts
from wennuan_lib.errors import WennuanError
from wennuan_lib.policy import ChartSpec
from wennuan_lib.read.parse import to_decimal

CJK_FAMILIES = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei"]
CJK_FILES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
]
COLOURS = ["#c0392b", "#2e86c1", "#e67e22", "#27ae60", "#8e44ad", "#7f8c8d"]
# Every chart is drawn at the size it is printed (the 156 mm line of the 版心, GB/T 9704), so that a font size
# here is the size on paper; none is smaller than MIN_FONT_PT. The report places each chart at exactly this
# width (render.py), and may shrink one to fit a page only as far as its smallest text stays at 9 pt.
PRINT_WIDTH_MM = 156.0
PRINT_WIDTH_IN = PRINT_WIDTH_MM / 25.4
MIN_FONT_PT = 10.0
LEGIBLE_PT = 9.0  # the smallest text on paper
BAR_ROW_IN = 0.24  # one unit's row in a ranking chart: a 10 pt name and its bars
MAX_HEIGHT_IN = 150 / 25.4  # the tallest a chart may print (the report's max-height)
DPI = 200


class FontMissing(WennuanError, RuntimeError):
    pass


def cjk_font() -> str:
    """The CJK family matplotlib will use; fonts installed after its cache was built are added."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    for path in CJK_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    raise FontMissing(
        "没有找到中文字体（Noto Sans CJK SC），图表中的汉字会显示成方框："
        "请运行 bash setup.sh 安装 fonts-noto-cjk"
    )


def subplots(*grid, figsize):
    """A figure and its axes, without pyplot: the figures are only saved, never shown (matplotlib's advice for
    programs that make files; pyplot and its GUI backends are not even imported)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid)


def setup() -> None:
    matplotlib.rcParams.update(
        {
            "font.family": [cjk_font(), "DejaVu Sans"],
            "axes.unicode_minus": False,
            "font.size": MIN_FONT_PT,
            "axes.titlesize": 14,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "wennuan",
            "figure.dpi": 100,
        }
    )


@dataclass
class Chart:
    name: str
    title: str  # the caption's text (图1　…): a report chart draws no title of its own
    path: Path | None  # where it was written, when drawn into a folder (else the runner saves `png`)
    width_mm: float = PRINT_WIDTH_MM  # drawn at the size it is printed
    min_pt: float = MIN_FONT_PT  # its smallest text, in points at that size
    png: bytes = b""


def smallest_font(fig) -> float:
    """The smallest size of any text the figure shows (tick labels, notes, value labels), in points."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) if sizes else MIN_FONT_PT


# Part of a chart's source note while the report is a draft: the chart then also carries a red 草稿
# in its corner and in its PNG title, so a chart copied out of report/ on its own still says what it is.
DRAFT_NOTE = "草稿，未定稿，请勿引用。"


def finish(
    fig,
    ax,
    name: str,
    title: str,
    note: str,
    folder: Path | None,
    title_inside: bool = True,
    bottom: float = 0.03,
) -> Chart:
    """Save a chart, its source note at the foot (`bottom`: the figure's share kept below the axes). A chart
    of the report leaves its title to the caption (`title_inside=False`); a chart that stands alone
    (outputs/trends/) carries it."""
    if title_inside:
        ax.set_title(title, loc="left", pad=12)
    fig.text(0.01, 0.005, note, fontsize=MIN_FONT_PT, color="#555555", ha="left", va="bottom")
    draft = DRAFT_NOTE in note
    if draft:
        fig.text(0.995, 0.995, "草稿", fontsize=14, fontweight="bold", color="#c00000", ha="right", va="top")
    fig.tight_layout(rect=(0, bottom, 1, 0.97 if draft else 1))
    smallest = smallest_font(fig)
    path = folder / f"{name}.png" if folder is not None else None
    png = save(fig, path, title + ("（草稿）" if draft else ""), smallest)
    return Chart(name, title, path, fig.get_size_inches()[0] * 25.4, smallest, png)


def unit_label(ax, text: str, axis: str = "y") -> None:
    """An axis's measure, set horizontally: above the top of the y axis, or at the right end of the x axis."""
    if axis == "y":
        ax.set_ylabel("")
        ax.annotate(
            text,
            xy=(0, 1),
            xycoords="axes fraction",
            xytext=(-4, 8),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=MIN_FONT_PT,
        )
    else:
        ax.set_xlabel(text, loc="right", fontsize=MIN_FONT_PT)


def save(fig, path: Path | None, title: str = "", smallest: float | None = None) -> bytes:
    """The PNG (written atomically to `path` when given), titled, without a software stamp, so equal charts
    are equal bytes. Its smallest text size is written in it too (`MinFontPt`, points at the drawn size: 200
    dots an inch)."""
    buf = io.BytesIO()
    meta = {"Software": None, "Title": title or None}
    if smallest is not None:
        meta["MinFontPt"] = f"{smallest:g}"
    fig.savefig(buf, format="png", dpi=DPI, metadata=meta)
    if path is not None:
        store.atomic_write_bytes(path, buf.getvalue())
    return buf.getvalue()


def annotate(ax, xs: list, series: list[list[float | None]]) -> None:
    """Label each point; at each x the larger value is labelled above, the smaller below."""
    for k, ys in enumerate(series):
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if y is None:
                continue
            others = [s[i] for j, s in enumerate(series) if j != k and s[i] is not None]
            below = any(o > y for o in others)
            ax.annotate(
                f"{y:.0f}",
                (x, y),
                textcoords="offset points",
                xytext=(0, -15 if below else 7),
                ha="center",
                fontsize=MIN_FONT_PT,
                color=COLOURS[k],
            )


def _f(x) -> float | None:
    """A figure as a float; None for a blank (未填), which is never drawn as zero."""
    d = to_decimal(x) if isinstance(x, str) else x
    return float(d) if d is not None else None


def _label(v: float, money: bool) -> str:
    return f"{v:.2f}" if money else f"{v:.0f}"


def sources(
    totals: dict, labels: dict, year: int, note: str, shares: dict, shares_of: str, folder: Path
) -> Chart:
    """The parts of the total raised, each with its share (`shares`: code → % as the prose states it, over
    the units that filled the part and the total `shares_of` names, which the chart's note says; empty: each
    part's share of their sum)."""
    codes = list(totals)
    vals = [_f(totals.get(c)) for c in codes]
    whole = sum(v for v in vals if v) or 1
    fig, ax = subplots(figsize=(PRINT_WIDTH_IN, 2.5))
    shown = [v or 0.0 for v in vals]
    bars = ax.barh([labels[c] for c in codes][::-1], shown[::-1], color=COLOURS[:4][::-1])
    for bar, v, code in zip(bars, vals[::-1], codes[::-1], strict=True):
        share = shares.get(code) if shares else (None if v is None else v / whole * 100)
        text = " 未填" if v is None else f" {v:.2f}万元" + ("" if share is None else f"（{share:.1f}%）")
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=MIN_FONT_PT)
    unit_label(ax, "万元", "x")
    ax.set_xlim(0, max(shown + [1]) * 1.6)
    title = f"{year}年送温暖活动筹集慰问款物来源"
    if not shares:
        return finish(fig, ax, "sources", title, note, folder, title_inside=False)
    # each share is over the units that filled the source and the total (the prose's basis), so a share
    # need not be the bar's value over the sum of the bars: the chart says what its percentages are
    basis = f"括号内为占{shares_of}的比重，按同时填报该项与总额的单位计算（同正文）。"
    return finish(fig, ax, "sources", title, basis + "\n" + note, folder, title_inside=False, bottom=0.11)


@dataclass
class UnitBars:
    """What a unit chart draws: the leading units (largest first), and one line for the rest."""

    units: list[str]
    series: list[tuple[str, list[float | None]]]  # (label, value per unit shown; None = 未填)
    rest: int  # units not drawn
    rest_sums: list[float]  # per series, what the rest add up to
    blanks: list[int]  # per series, units (of all) that left it blank


register(UnitBars)  # a chart's arguments are hashed for the cache


def legible_bars(spec: ChartSpec, series) -> int:
    """How many units a ranking chart draws: the policy's number, at most as many as fit the tallest chart
    the page takes with every name at its full size (the rest are in the table)."""
    fit = int((MAX_HEIGHT_IN - 1.3 - 0.4) / (BAR_ROW_IN + 0.1 * len(series)))
    return max(1, min(spec.top_units, fit))


def unit_bars(units: list[str], series: list[tuple[str, list[float | None]]], top: int) -> UnitBars:
    """The `top` units by the first series (blanks last), and the sums of the rest: at 30, 300 or 3,000 units
    the chart draws at most `top` of them."""
    first = series[0][1]
    order = sorted(range(len(units)), key=lambda i: (first[i] is None, -(first[i] or 0), units[i]))
    shown, rest = order[:top], order[top:]
    return UnitBars(
        [units[i] for i in shown],
        [(label, [vals[i] for i in shown]) for label, vals in series],
        len(rest),
        [sum(vals[i] or 0 for i in rest) for _, vals in series],
        [sum(v is None for v in vals) for _, vals in series],
    )


def by_unit(
    data: UnitBars, name: str, title: str, measure: str, money: bool, note: str, folder: Path
) -> Chart:
    n = len(data.units)
    k_series = len(data.series)
    rest = (
        f"其余{data.rest}个单位："
        + "，".join(
            f"{label}合计{_label(s, money)}{measure}"
            for (label, _), s in zip(data.series, data.rest_sums, strict=True)
        )
        if data.rest
        else ""
    )
    blanks = "；".join(
        f"{label}有{b}个单位未填" for (label, _), b in zip(data.series, data.blanks, strict=True) if b
    )
    fig, ax = subplots(figsize=(PRINT_WIDTH_IN, 1.3 + (BAR_ROW_IN + 0.1 * k_series) * max(n, 3)))
    height = 0.8 / k_series
    ys = list(range(n))
    top = max([v for _, vals in data.series for v in vals if v is not None] + [1])
    for k, (label, vals) in enumerate(data.series):
        pos = [y + (k - (k_series - 1) / 2) * height for y in ys]
        ax.barh(pos, [v or 0 for v in vals], height=height, label=label, color=COLOURS[k])
        for y, v in zip(pos, vals, strict=True):
            text, colour = ("未填", "#c00000") if v is None else (_label(v, money), "#333333")
            ax.text((v or 0) + top * 0.01, y, text, va="center", fontsize=MIN_FONT_PT, color=colour)
    ax.set_yticks(ys, data.units, fontsize=MIN_FONT_PT)
    ax.set_ylim(max(n, 1) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.18)
    unit_label(ax, measure, "x")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if k_series > 1:
        ax.legend(loc="lower right", frameon=False, fontsize=MIN_FONT_PT)
    lines = [x for x in (rest, blanks) if x]
    if lines:
        fig.text(
            0.01,
            0.2 / fig.get_size_inches()[1],
            "\n".join(lines),
            fontsize=MIN_FONT_PT,
            linespacing=1.5,
            color="#333333",
            ha="left",
            va="bottom",
        )
    inches = fig.get_size_inches()[1]
    return finish(
        fig, ax, name, title, note, folder, title_inside=False, bottom=(0.22 + 0.23 * len(lines)) / inches
    )


def transport_bars(totals: dict, modes: list[tuple[str, str]]) -> list[tuple[str, float | None]]:
    """The bars of the transport chart: each charter's people carried, the form's own categories only. Those
    who went home otherwise are not a category of the form (a remainder of the total): never a bar."""
    return [(label, _f(totals.get(code))) for code, label in modes]


def transport(
    totals: dict, modes: list[tuple[str, str]], everyone: str, year: int, note: str, folder: Path
) -> Chart:
    """The transport chart; the note gives everyone helped home and how many of them the charters carried."""
    bars_data = transport_bars(totals, modes)
    names, vals = [n for n, _ in bars_data], [v for _, v in bars_data]
    fig, ax = subplots(figsize=(PRINT_WIDTH_IN, 2.6))
    shown = [v or 0.0 for v in vals]
    bars = ax.bar(names, shown, color=COLOURS[: len(names)])
    for bar, v in zip(bars, vals, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height(),
            "未填" if v is None else f"{int(v)}",
            ha="center",
            va="bottom",
            fontsize=MIN_FONT_PT,
            color="#c00000" if v is None else "#333333",
        )
    unit_label(ax, "人次")
    ax.set_ylim(0, max(shown + [1]) * 1.18)
    ax.tick_params(axis="x", labelsize=MIN_FONT_PT)
    whole = _f(totals.get(everyone)) if everyone else None
    if whole is not None:
        carried = sum(v for v in vals if v)
        note = f"帮助农民工平安返乡共{int(whole)}人次，其中包车（船、机）运送{int(carried)}人次。" + note
    return finish(
        fig, ax, "transport", f"{year}年包车（船、机）运送农民工返乡人次", note, folder, title_inside=False
    )


def trends(
    history: dict[int, dict],
    money_series: list[tuple[str, str]],
    household_series: list[tuple[str, str]],
    note: str,
    folder: Path,
) -> Chart:
    """Key figures over the years present: funds raised and distributed; households visited. A year without a
    figure has no point."""
    years = sorted(history)
    fig, (a1, a2) = subplots(1, 2, figsize=(PRINT_WIDTH_IN, 3.0))
    for ax, group, measure, colours in (
        (a1, money_series, "万元", COLOURS),
        (a2, household_series, "户", COLOURS[2:]),
    ):
        data = [[_f(history[y].get(code)) for y in years] for code, _ in group]
        for ys, (_, label), colour in zip(data, group, colours, strict=False):
            pts = [(x, v) for x, v in zip(years, ys, strict=True) if v is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=colour, label=label)
        if ax is a1:
            annotate(a1, years, data)
        unit_label(ax, measure)
        ax.legend(frameon=False, fontsize=MIN_FONT_PT, loc="lower right")
        ax.set_xticks(years, [f"{y}年" for y in years])
        ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
        lo, hi = ax.get_ylim()
        ax.set_ylim(0, hi * 1.15)
    title = f"{years[0]}—{years[-1]}年主要数据变化" if len(years) > 1 else f"{years[0]}年主要数据"
    bottom = 0.03 + 0.06 * note.count("\n")  # a note on the basis: a line more at the foot
    return finish(fig, a1, "trends", title, note, folder, title_inside=False, bottom=bottom)


COVERAGE_NOTED = 4  # a trend chart's note names this many years' figures that leave units out; more: 等
NOTE_LINE_CHARS = 62  # characters of a chart note's line at 9 pt across the 8-inch chart


def coverage_note(coverage: dict[int, dict[str, str]], series: list[tuple[str, str]]) -> str:
    """The line under a trend chart saying which years' figures leave units out (a point drawn lower than a
    whole city's, e.g. 2012's 筹集 under its 发放 because a unit left 筹集 blank)."""
    said = [
        f"{y}年{label}为{coverage[y][code]}"
        for y in sorted(coverage, reverse=True)  # the latest years first
        for code, label in series
        if coverage[y].get(code)
    ]
    if not said:
        return ""
    more = "等" if len(said) > COVERAGE_NOTED else ""
    lines = ["注："]
    for k, part in enumerate(said[:COVERAGE_NOTED]):
        part += "；" if k < min(len(said), COVERAGE_NOTED) - 1 else more + "。"
        if len(lines[-1]) + len(part) > NOTE_LINE_CHARS:
            lines.append("　　")
        lines[-1] += part
    return "".join("\n" + line for line in lines)


def kept(cache: Artifacts | None, draw, *args) -> Chart:
    """`draw(*args, folder)`, or the PNG it drew before from the same arguments (kept in `cache` by a hash of
    them; the cache is never a source of truth)."""
    folder = args[-1]
    if cache is None:
        return draw(*args)
    key = cache.key(matplotlib.__version__, draw.__name__, dumps(list(args[:-1])))
    png, meta = cache.get(key + ".png"), cache.get_json(key + ".json")
    if png is not None and isinstance(meta, list) and len(meta) == 4:
        name, title, width, smallest = meta
        path = folder / f"{name}.png" if folder is not None else None
        if path is not None:
            store.atomic_write_bytes(path, png)
        return Chart(name, title, path, float(width), float(smallest), png)
    chart = draw(*args)
    cache.put(key + ".png", chart.png)
    cache.put_json(key + ".json", [chart.name, chart.title, chart.width_mm, chart.min_pt])
    return chart


def source_shares(counted, spec: ChartSpec) -> dict[str, float | None]:
    """Each source's share of `sources_total`, on the basis the prose states it (aggregate.Measure: the units
    that filled the source and the total); {} without a total (shares of the sources' sum)."""
    if not spec.sources_total:
        return {}
    units = unit_dicts(counted)
    out = {}
    for code in spec.sources:
        m = Measure((code,), spec.sources_total, percent=True)
        out[code] = _f(m.of(units, m.members(units)))
    return out


def make_all(
    totals_frame,
    values,
    history: dict[int, dict],
    year: int,
    sample: bool,
    folder: Path | None,
    spec: ChartSpec,
    cache: Artifacts | None = None,
    draft: bool = False,
    coverage: dict[int, dict[str, str]] | None = None,
) -> dict[str, Chart]:
    """Every chart of the report (PNG bytes in each `Chart`; also written into `folder` when given), each
    marked 草稿 while the report is a draft.
    With `cache`, a chart whose data did not change since it was last drawn is copied instead of drawn
    again. `coverage`: {year: {code: "29个单位合计（…未填）"}} of the trend figures that leave units out."""
    setup()
    note = (DRAFT_NOTE if draft else "") + "数据来源：各单位报送" + ("（示例数据）" if sample else "")
    items = totals_frame[totals_frame["kind"] == "item"]
    totals = {r["item"]: to_decimal(r["value"]) for r in items.to_dict("records")}
    labels = dict(zip(items["item"], items["label"], strict=True))
    measures = dict(zip(items["item"], items["measure"], strict=True))
    counted = values[in_totals(values)]
    modes = [(s.item, s.label) for s in spec.transport]
    unit_chart = _unit_charts(counted, spec, measures, year, note, folder, cache)
    draw = {
        "sources": lambda: kept(
            cache,
            sources,
            {c: totals.get(c) for c in spec.sources},
            labels,
            year,
            note,
            source_shares(counted, spec),
            labels.get(spec.sources_total, "总额"),
            folder,  # last: a chart's other arguments are its cache key (see kept)
        ),
        "transport": lambda: kept(
            cache,
            transport,
            {c: totals.get(c) for c in [*dict(modes), spec.transport_all]},
            modes,
            spec.transport_all,
            year,
            note,
            folder,
        ),
        "funds_by_unit": lambda: unit_chart("funds_by_unit", spec.funds_by_unit, "各单位筹集和发放慰问款物"),
        "households_by_unit": lambda: unit_chart(
            "households_by_unit", spec.households_by_unit, "各单位走访职工家庭户数"
        ),
        "trends": lambda: _trend_chart(spec, {**history, year: totals}, note, coverage or {}, folder, cache),
    }
    # on two cores: one units' chart and the trends are drawn by a forked process while this one draws the
    # others (the PDF waits for all of them; 30 units: 0.7 s of drawing on one core)
    here, there = here_and_apart(
        lambda names: {n: draw[n]() for n in names}, [n for n in draw if n not in DRAWN_APART], DRAWN_APART
    )
    made = {**here, **there}
    return {n: made[n] for n in draw}


DRAWN_APART = ("funds_by_unit", "trends")  # about half the drawing (see make_all)


def _trend_chart(
    spec: ChartSpec,
    by_year: dict[int, dict],
    note: str,
    coverage: dict,
    folder: Path,
    cache: Artifacts | None,
) -> Chart:
    """The years' money and households, side by side; the note names the figures that leave units out."""
    trend_series = (
        [(s.item, s.label) for s in spec.trend_money],
        [(s.item, s.label) for s in spec.trend_households],
    )
    trend_codes = [c for group in trend_series for c, _ in group]
    return kept(
        cache,
        trends,
        {y: {c: figures.get(c) for c in trend_codes} for y, figures in by_year.items()},
        *trend_series,
        note + coverage_note(coverage, [p for group in trend_series for p in group]),
        folder,
    )


def _unit_charts(
    counted, spec: ChartSpec, measures: dict, year: int, note: str, folder: Path, cache: Artifacts | None
) -> Callable[[str, tuple, str], Chart]:
    """A function that draws one chart of the units' figures (the leading units, the rest summed up)."""
    units = list(dict.fromkeys(counted["unit"]))

    def unit_series(code: str) -> list[float | None]:
        mine = counted[counted["item"] == code].set_index("unit")["value"]
        return [_f(mine.get(u, "")) for u in units]

    def unit_chart(name: str, series, title: str) -> Chart:
        data = unit_bars(units, [(s.label, unit_series(s.item)) for s in series], legible_bars(spec, series))
        more = f"（居前{len(data.units)}位）" if data.rest else ""
        measure = measures.get(series[0].item, "")
        return kept(
            cache, by_unit, data, name, f"{year}年{title}{more}", measure, measure == "万元", note, folder
        )

    return unit_chart
