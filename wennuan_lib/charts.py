"""The report's charts (matplotlib, a CJK font, no unicode minus), each with a Chinese title,
axis labels with units and a source note."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from .aggregate import in_totals  # noqa: E402
from .artifacts import Artifacts, dumps  # noqa: E402
from .parse import to_decimal  # noqa: E402
from .policy import ChartSpec  # noqa: E402

CJK_FAMILIES = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei"]
CJK_FILES = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"]
MAX_UNITS = 40  # a bar per unit stays readable up to about this many
COLOURS = ["#c0392b", "#2e86c1", "#e67e22", "#27ae60", "#8e44ad", "#7f8c8d"]


class FontMissing(RuntimeError):
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
    raise FontMissing("没有找到中文字体（Noto Sans CJK SC），图表中的汉字会显示成方框：请运行 bash setup.sh 安装 fonts-noto-cjk")


def setup() -> None:
    plt.rcParams.update({
        "font.family": [cjk_font(), "DejaVu Sans"], "axes.unicode_minus": False, "font.size": 11,
        "axes.titlesize": 14, "axes.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
        "svg.hashsalt": "wennuan", "figure.dpi": 100,
    })


@dataclass
class Chart:
    name: str
    title: str
    path: Path


def finish(fig, ax, name: str, title: str, note: str, folder: Path) -> Chart:
    ax.set_title(title, loc="left", pad=12)
    fig.text(0.01, 0.005, note, fontsize=9, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return Chart(name, title, save(fig, folder / f"{name}.png"))


def save(fig, path: Path) -> Path:
    """PNG written atomically, without a software stamp, so equal charts are equal bytes."""
    import io

    from . import store

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
    plt.close(fig)
    store.atomic_write_bytes(path, buf.getvalue())
    return path


def annotate(ax, xs: list, series: list[list[float | None]]) -> None:
    """Label each point; at each x the larger value is labelled above, the smaller below."""
    for k, ys in enumerate(series):
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if y is None:
                continue
            others = [s[i] for j, s in enumerate(series) if j != k and s[i] is not None]
            below = any(o > y for o in others)
            ax.annotate(f"{y:.0f}", (x, y), textcoords="offset points", xytext=(0, -15 if below else 7),
                        ha="center", fontsize=9, color=COLOURS[k])


def _f(x) -> float:
    d = to_decimal(x) if isinstance(x, str) else x
    return float(d) if d is not None else 0.0


def sources(totals: dict, labels: dict, year: int, note: str, folder: Path) -> Chart:
    codes = list(totals)
    vals = [_f(totals.get(c)) for c in codes]
    whole = sum(vals) or 1
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bars = ax.barh([labels[c] for c in codes][::-1], vals[::-1], color=COLOURS[:4][::-1])
    for bar, v in zip(bars, vals[::-1], strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:.2f}万元（{v / whole * 100:.1f}%）",
                va="center", fontsize=10)
    ax.set_xlabel("金额（万元）")
    ax.set_xlim(0, max(vals + [1]) * 1.45)
    return finish(fig, ax, "sources", f"{year}年送温暖活动筹集慰问款物来源", note, folder)


def by_unit(units: list[str], series: list[tuple[str, list[float]]], name: str, title: str, xlabel: str,
            note: str, folder: Path) -> Chart:
    n = len(units)
    fig, ax = plt.subplots(figsize=(8, max(4.0, 0.32 * n + 1.4)))
    height = 0.8 / len(series)
    ys = list(range(n))
    for k, (label, vals) in enumerate(series):
        ax.barh([y + (k - (len(series) - 1) / 2) * height for y in ys], vals, height=height, label=label,
                color=COLOURS[k])
    ax.set_yticks(ys, units, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if len(series) > 1:
        ax.legend(loc="lower right", frameon=False)
    return finish(fig, ax, name, title, note, folder)


def transport(totals: dict, modes: list[tuple[str, str]], everyone: str, year: int, note: str, folder: Path) -> Chart:
    vals = [_f(totals.get(c)) for c, _ in modes]
    other = max(_f(totals.get(everyone)) - sum(vals), 0)
    names = [m for _, m in modes] + ["其他方式（自行返乡等）"]
    vals.append(other)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    bars = ax.bar(names, vals, color=COLOURS[:5] + ["#bbbbbb"])
    for bar, v in zip(bars, vals, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{int(v)}", ha="center", va="bottom", fontsize=10)
    ax.set_ylabel("人次")
    ax.set_ylim(0, max(vals + [1]) * 1.15)
    ax.tick_params(axis="x", labelsize=10)
    return finish(fig, ax, "transport", f"{year}年帮助农民工平安返乡的方式", note, folder)


def trends(history: dict[int, dict], money_series: list[tuple[str, str]], household_series: list[tuple[str, str]],
           note: str, folder: Path) -> Chart:
    """Key figures over the years present: funds raised and distributed; households visited."""
    years = sorted(history)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.6))
    money = [[_f(history[y].get(code)) for y in years] for code, _ in money_series]
    for k, (ys, (_, label)) in enumerate(zip(money, money_series, strict=True)):
        a1.plot(years, ys, marker="o", color=COLOURS[k], label=label)
    annotate(a1, years, money)
    a1.set_ylabel("万元")
    a1.legend(frameon=False, fontsize=9, loc="lower right")
    for (code, label), colour in zip(household_series, COLOURS[2:], strict=False):
        ys = [_f(history[y].get(code)) for y in years]
        a2.plot(years, ys, marker="o", color=colour, label=label)
    a2.set_ylabel("户")
    a2.legend(frameon=False, fontsize=9, loc="lower right")
    for ax in (a1, a2):
        ax.set_xticks(years, [f"{y}年" for y in years])
        ax.set_xlabel("年度")
        ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
        lo, hi = ax.get_ylim()
        ax.set_ylim(0, hi * 1.15)
    title = f"{years[0]}—{years[-1]}年主要数据变化" if len(years) > 1 else f"{years[0]}年主要数据"
    a1.set_title(title, loc="left", pad=12)
    fig.text(0.01, 0.005, note, fontsize=9, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return Chart("trends", title, save(fig, folder / "trends.png"))


def _kept(cache: Artifacts | None, draw, *args) -> Chart:
    """`draw(*args, folder)`, or the PNG it drew before from the same arguments (kept in `cache` by a hash of
    them; the cache is never a source of truth)."""
    from . import store

    folder = args[-1]
    if cache is None:
        return draw(*args)
    key = cache.key(matplotlib.__version__, draw.__name__, dumps(list(args[:-1])))
    png, meta = cache.get(key + ".png"), cache.get_json(key + ".json")
    if png is not None and isinstance(meta, list) and len(meta) == 2:
        name, title = meta
        store.atomic_write_bytes(folder / f"{name}.png", png)
        return Chart(name, title, folder / f"{name}.png")
    chart = draw(*args)
    cache.put(key + ".png", chart.path.read_bytes())
    cache.put_json(key + ".json", [chart.name, chart.title])
    return chart


def make_all(totals_frame, values, history: dict[int, dict], year: int, sample: bool, folder: Path,
             spec: ChartSpec, cache: Artifacts | None = None) -> dict[str, Chart]:
    """Every chart of the report, as PNG files in `folder`. With `cache`, a chart whose data did not
    change since it was last drawn is copied instead of drawn again."""
    setup()
    note = "数据来源：各单位报送" + ("（示例数据）" if sample else "")
    items = totals_frame[totals_frame["kind"] == "item"]
    totals = {r["item"]: to_decimal(r["value"]) for r in items.to_dict("records")}
    labels = dict(zip(items["item"], items["label"], strict=True))
    counted = values[in_totals(values)]
    units = list(dict.fromkeys(counted["unit"]))

    def unit_series(code: str) -> list[float]:
        mine = counted[counted["item"] == code].set_index("unit")["value"]
        return [_f(mine.get(u, "")) for u in units]

    funds = [(s.label, unit_series(s.item)) for s in spec.funds_by_unit]
    order = sorted(range(len(units)), key=lambda i: -funds[0][1][i])[:MAX_UNITS]
    visits = [(s.label, unit_series(s.item)) for s in spec.households_by_unit]
    order_v = sorted(range(len(units)), key=lambda i: -visits[0][1][i])[:MAX_UNITS]
    more = f"（前{MAX_UNITS}个单位）" if len(units) > MAX_UNITS else ""
    modes = [(s.item, s.label) for s in spec.transport]
    trend_series = [(s.item, s.label) for s in spec.trend_money], [(s.item, s.label) for s in spec.trend_households]
    trend_codes = [c for group in trend_series for c, _ in group]
    charts = {
        "sources": _kept(cache, sources, {c: totals.get(c) for c in spec.sources}, labels, year, note, folder),
        "transport": _kept(cache, transport, {c: totals.get(c) for c in [*dict(modes), spec.transport_all]}, modes,
                           spec.transport_all, year, note, folder),
        "funds_by_unit": _kept(cache, by_unit, [units[i] for i in order],
                               [(label, [vals[i] for i in order]) for label, vals in funds],
                               "funds_by_unit", f"{year}年各单位筹集和发放慰问款物{more}", "金额（万元）", note, folder),
        "households_by_unit": _kept(cache, by_unit, [units[i] for i in order_v],
                                    [(label, [vals[i] for i in order_v]) for label, vals in visits],
                                    "households_by_unit", f"{year}年各单位走访职工家庭户数{more}", "户数（户）", note,
                                    folder),
        "trends": _kept(cache, trends, {y: {c: figures.get(c) for c in trend_codes}
                                        for y, figures in {**history, year: totals}.items()}, *trend_series, note,
                        folder),
    }
    return charts

