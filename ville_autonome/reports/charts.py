"""The report's charts, drawn with matplotlib (Agg) into SVG text for the PDF.

Every axis speaks the report's language (French month names, decimal comma; :mod:`reports.typography`);
a chart with nothing to show is not drawn (``None``); times with no data are gaps — shaded and
named in the legend — never zeros; legends sit above the plot, never over the data. Text stays
text in the SVG (``svg.fonttype: none``), set in DejaVu Sans by the PDF engine. Nothing here
touches pyplot's global state (each figure is its own ``Figure``), so charts can be drawn from any
thread (the API serves reports concurrently).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DayLocator, MonthLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.typography import MONTHS_SHORT, number

SIZE_IN = (7.0, 2.7)
# colour-blind-safe (Okabe-Ito); every series also has a label in the legend
COLOURS = {
    "hydro": "#0072B2",
    "pv": "#E69F00",
    "wind": "#56B4E9",
    "chp": "#009E73",
    "other": "#999999",
    "load": "#000000",
    "ss": "#009E73",
    "soc": "#CC79A7",
    "target": "#D55E00",
    "gap": "#BBBBBB",
}
SOURCES = ("hydro", "pv", "wind", "chp", "other")
RC: Any = {"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 8, "svg.hashsalt": "ville-autonome"}
MAX_DAYS_PER_DAY_BARS = 62  # longer periods are drawn per month
MAX_DAYS_POWER = 92  # the power chart (hourly means beyond 14 days) is left out of longer periods


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    FigureCanvasAgg(fig)
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def _figure() -> tuple[Figure, Axes]:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=SIZE_IN)
        ax = fig.add_subplot()
    ax.grid(True, axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _legend(ax: Axes, extra: Sequence[Patch] = ()) -> None:
    handles, labels = ax.get_legend_handles_labels()
    handles, labels = [*handles, *extra], [*labels, *(p.get_label() for p in extra)]
    ax.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=min(len(handles), 6),
        frameon=False,
        fontsize=7.5,
    )


def _y_numbers(ax: Axes, lang: Lang, digits: int = 0, suffix: str = "") -> None:
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v, lang, digits) + suffix))


def _time_axis(ax: Axes, lang: Lang, days: int, tz: ZoneInfo) -> None:
    """Ticks at local midnights ("3 nov.") or on the first of each month ("nov.") of a time series
    drawn against UTC times."""
    months = MONTHS_SHORT[lang]
    long = days > MAX_DAYS_PER_DAY_BARS
    ax.xaxis.set_major_locator(MonthLocator(tz=tz) if long else DayLocator(interval=max(1, days // 10), tz=tz))

    def fmt(v: float, _: int) -> str:
        d = num2date(v, tz=tz)
        return months[d.month - 1] if long else f"{d.day} {months[d.month - 1]}"

    ax.xaxis.set_major_formatter(FuncFormatter(fmt))


def _bar_axis(ax: Axes, lang: Lang, starts: Sequence[date], x: np.ndarray, monthly: bool) -> None:
    """One tick under each bar (at most 12 labelled): "3 nov." per day, "nov." per month."""
    months = MONTHS_SHORT[lang]
    step = max(1, -(-len(starts) // 12))
    ax.set_xticks(x[::step])
    ax.set_xticklabels([months[d.month - 1] if monthly else f"{d.day} {months[d.month - 1]}" for d in starts[::step]])


def _period_xlim(ax: Axes, data: ReportData) -> None:
    """The x axis spans the period exactly (local midnight to local midnight)."""
    ax.set_xlim(float(date2num(data.period.start)), float(date2num(data.period.end)))


def _utc_x(start_ms: np.ndarray) -> np.ndarray:
    return np.asarray(date2num([datetime.fromtimestamp(int(ms) / 1000, tz=UTC) for ms in start_ms]))


def _bar_x(starts: Sequence[date], monthly: bool, tz: ZoneInfo) -> np.ndarray:
    """Bar centres: local noon of each day, the 15th of each month (as UTC date numbers)."""
    return np.asarray(date2num([datetime(d.year, d.month, 15 if monthly else d.day, 12, tzinfo=tz) for d in starts]))


def _gap_patch(lang: Lang) -> Patch:
    return Patch(facecolor=COLOURS["gap"], alpha=0.5, hatch="///", edgecolor="#888888", label=label(lang, "chart.gap"))


def _shade(ax: Axes, starts: np.ndarray, missing: np.ndarray, width: float) -> bool:
    """Shade the runs of ``missing`` (x = ``starts``, each ``width`` wide); True if any."""
    if not missing.any():
        return False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], missing.astype(np.int8), [0]))))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(
            starts[a],
            starts[b - 1] + width,
            facecolor=COLOURS["gap"],
            alpha=0.5,
            hatch="///",
            edgecolor="#888888",
            lw=0,
        )
    return True


def _buckets(data: ReportData) -> tuple[list[date], str]:
    """The bars' periods: days, or months for a period longer than two months."""
    if len(data.period.days) <= MAX_DAYS_PER_DAY_BARS:
        return [d.day for d in data.days], "day"
    months = sorted({(d.day.year, d.day.month) for d in data.days})
    return [date(y, m, 1) for y, m in months], "month"


def _grouped(data: ReportData) -> list[tuple[date, dict[str, float] | None, float | None, float | None]]:
    """(start, generation by source [Wh], load [Wh], self-sufficiency) per bar; None: no data."""
    starts, kind = _buckets(data)
    if kind == "day":
        return [(d.day, dict(d.generation_by_source_wh) if d.metrics else None, d.metrics.load_wh if d.metrics else None,
                 d.metrics.self_sufficiency if d.metrics else None) for d in data.days]  # fmt: skip
    out: list[tuple[date, dict[str, float] | None, float | None, float | None]] = []
    for start in starts:
        rows = [d for d in data.days if (d.day.year, d.day.month) == (start.year, start.month) and d.metrics]
        if not rows:
            out.append((start, None, None, None))
            continue
        gen: dict[str, float] = {}
        for r in rows:
            for s, v in r.generation_by_source_wh.items():
                gen[s] = gen.get(s, 0.0) + v
        load = sum(r.metrics.load_wh for r in rows if r.metrics)
        local = sum(r.metrics.local_supply_wh for r in rows if r.metrics)
        out.append((start, gen, load, local / load if load > 0 else None))
    return out


def energy_chart(data: ReportData, lang: Lang) -> str | None:
    """Stacked local production by source and the load, per day (or per month) [kWh or MWh]."""
    groups = _grouped(data)
    if len(groups) < 2 or not any(g is not None for _, g, _, _ in groups):
        return None  # one bar says nothing the figures table does not
    peak = max(max(sum(g.values()) if g else 0.0, load or 0.0) for _, g, load, _ in groups)
    scale, unit = (1e6, "MWh") if peak >= 1e6 else (1e3, "kWh")
    monthly = len(data.period.days) > MAX_DAYS_PER_DAY_BARS
    x = _bar_x([d for d, *_ in groups], monthly, data.period.tz)
    width = 25.0 if monthly else 0.8
    fig, ax = _figure()
    _stacked_sources(ax, x, width, [g for _, g, _, _ in groups], scale, lang)
    load = np.array([np.nan if v is None else v / scale for _, _, v, _ in groups])
    ax.plot(
        x,
        load,
        "_",
        color=COLOURS["load"],
        markersize=9 if monthly else 6,
        mew=2,
        label=label(lang, "load_wh"),
    )
    missing = np.array([g is None for _, g, _, _ in groups])
    gap = _shade(ax, x - width / 2, missing, width)
    _y_numbers(ax, lang, 1 if peak / scale < 10 else 0)
    ax.set_ylabel(unit)
    _bar_axis(ax, lang, [d for d, *_ in groups], x, monthly)
    _legend(ax, [_gap_patch(lang)] if gap else [])
    return _svg(fig)


def _stacked_sources(
    ax: Axes, x: np.ndarray, width: float, by_source: list[dict[str, float] | None], scale: float, lang: Lang
) -> None:
    """One stacked bar layer per source present in any group (a group without data adds nothing)."""
    bottom = np.zeros(len(by_source))
    present = [s for s in SOURCES if any(g and g.get(s, 0.0) > 0 for g in by_source)]
    for s in present:
        vals = np.array([(g or {}).get(s, 0.0) / scale for g in by_source])
        ax.bar(x, vals, width=width, bottom=bottom, color=COLOURS[s], label=label(lang, f"source.{s}"))
        bottom += vals


def self_sufficiency_chart(data: ReportData, lang: Lang, target: float | None = None) -> str | None:
    """Self-sufficiency per day (or month) [%], with the target as a line when there is one."""
    groups = _grouped(data)
    ss = np.array([np.nan if v is None else 100 * v for *_, v in groups])
    if not np.isfinite(ss).any() or len(groups) < 2:
        return None
    monthly = len(data.period.days) > MAX_DAYS_PER_DAY_BARS
    x = _bar_x([d for d, *_ in groups], monthly, data.period.tz)
    width = 25.0 if monthly else 0.8
    fig, ax = _figure()
    ax.bar(x, np.nan_to_num(ss), width=width, color=COLOURS["ss"], label=label(lang, "self_sufficiency"))
    if target is not None:
        ax.axhline(100 * target, color=COLOURS["target"], lw=1.2, ls="--", label=label(lang, "chart.target"))
    gap = _shade(ax, x - width / 2, ~np.isfinite(ss), width)
    ax.set_ylim(0, 100)
    _y_numbers(ax, lang, 0, "\u202f%" if lang == "fr" else "%")
    _bar_axis(ax, lang, [d for d, *_ in groups], x, monthly)
    _legend(ax, [_gap_patch(lang)] if gap else [])
    return _svg(fig)


def power_chart(data: ReportData, lang: Lang) -> str | None:
    """Mean power of the load and of local production [kW]: per interval up to 14 days, hourly
    means up to three months; gaps where no data."""
    s = data.result.series
    days = len(data.period.days)
    if days > MAX_DAYS_POWER or not np.isfinite(s.load_wh).any():
        return None
    per = 1 if days <= 14 else max(1, 3600 // data.interval_s)
    n = s.start_ms.shape[0] // per * per
    to_kw = 3600 / (data.interval_s * per) / 1000

    def mean(a: np.ndarray) -> np.ndarray:
        blocks = a[:n].reshape(-1, per)
        return np.where(np.isfinite(blocks).all(axis=1), np.nansum(blocks, axis=1), np.nan) * to_kw

    x = _utc_x(s.start_ms[:n:per])
    load, gen = mean(s.load_wh), mean(s.generation_wh)
    fig, ax = _figure()
    ax.plot(x, load, color=COLOURS["load"], lw=0.8, label=label(lang, "load_wh"))
    ax.plot(x, gen, color=COLOURS["pv"], lw=0.8, label=label(lang, "generation_wh"))
    gap = _shade(ax, x, ~np.isfinite(load), (x[1] - x[0]) if len(x) > 1 else 1 / 96)
    ax.set_ylim(bottom=0)
    _y_numbers(ax, lang)
    ax.set_ylabel("kW")
    _period_xlim(ax, data)
    _time_axis(ax, lang, days, data.period.tz)
    _legend(ax, [_gap_patch(lang)] if gap else [])
    return _svg(fig)


def soc_chart(data: ReportData, lang: Lang) -> str | None:
    """The batteries' state of charge [%]: per interval up to 14 days; beyond, each day's range
    (minimum to maximum) and mean, which a daily cycle would otherwise fill solid. Not drawn without
    a battery reading."""
    soc = data.soc_pct
    if not len(soc) or not np.isfinite(soc).any():
        return None
    s = data.result.series
    tz = data.period.tz
    days = len(data.period.days)
    local = [datetime.fromtimestamp(int(ms) / 1000, tz=tz).replace(tzinfo=None) for ms in s.start_ms]
    fig, ax = _figure()
    if days <= 14:
        x = np.asarray(date2num(local))
        ax.plot(x, soc, color=COLOURS["soc"], lw=0.8, label=label(lang, "soc_pct"))
        gap = _shade(ax, x, ~np.isfinite(soc), (x[1] - x[0]) if len(x) > 1 else 1 / 96)
    else:
        keys = np.array([d.toordinal() for d in local])
        ords = np.unique(keys)
        x = np.asarray(date2num([datetime.fromordinal(int(o)) for o in ords]))
        stats = np.full((len(ords), 3), np.nan)
        for i, o in enumerate(ords):
            v = soc[keys == o]
            if np.isfinite(v).any():
                stats[i] = np.nanmin(v), np.nanmean(v), np.nanmax(v)
        ax.fill_between(x + 0.5, stats[:, 0], stats[:, 2], color=COLOURS["soc"], alpha=0.3, lw=0,
                        label=label(lang, "chart.soc_range"))  # fmt: skip
        ax.plot(x + 0.5, stats[:, 1], color=COLOURS["soc"], lw=1.0, label=label(lang, "chart.soc_mean"))
        gap = _shade(ax, x, ~np.isfinite(stats[:, 1]), 1.0)
    ax.set_ylim(0, 100)
    _y_numbers(ax, lang, 0, "\u202f%" if lang == "fr" else "%")
    _period_xlim(ax, data)
    _time_axis(ax, lang, days, data.period.tz)
    _legend(ax, [_gap_patch(lang)] if gap else [])
    return _svg(fig)


def trajectory_chart(data: ReportData, lang: Lang) -> str | None:
    """Monthly self-sufficiency since the data began, and the target path to 2050."""
    t = data.trajectory
    if t is None or not any(p.metrics and p.metrics.self_sufficiency is not None for p in t.months):
        return None
    fig, ax = _figure()
    xs = [p.start_ms for p in t.months]
    x = np.asarray(date2num([datetime.fromtimestamp(ms / 1000, tz=data.period.tz).replace(tzinfo=None) for ms in xs]))
    ss = np.array(
        [
            np.nan if not p.metrics or p.metrics.self_sufficiency is None else 100 * p.metrics.self_sufficiency
            for p in t.months
        ]
    )
    thin = np.array([p.coverage < data.result.coverage.threshold for p in t.months])  # a few intervals of data
    ax.bar(x[~thin], np.nan_to_num(ss[~thin]), width=25, align="edge", color=COLOURS["ss"],
           label=label(lang, "chart.measured"))  # fmt: skip
    if (thin & np.isfinite(ss)).any():
        ax.bar(x[thin], np.nan_to_num(ss[thin]), width=25, align="edge", facecolor="none", edgecolor=COLOURS["ss"],
               hatch="///", lw=0.6, label=label(lang, "chart.incomplete"))  # fmt: skip
    if t.path:
        px = np.asarray(
            date2num(
                [
                    datetime(int(y), 1, 1) + (datetime(int(y) + 1, 1, 1) - datetime(int(y), 1, 1)) * (y % 1)
                    for y, _ in t.path
                ]
            )
        )
        ax.plot(
            px,
            [100 * v for _, v in t.path],
            color=COLOURS["target"],
            lw=1.2,
            ls="--",
            marker="o",
            ms=3,
            label=label(lang, "chart.target"),
        )
    ax.set_ylim(0, 100)
    _y_numbers(ax, lang, 0, "\u202f%" if lang == "fr" else "%")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(num2date(v).year)))
    ax.xaxis.set_major_locator(
        matplotlib.dates.YearLocator(base=5 if (t.path and t.path[-1][0] - t.path[0][0] > 12) else 1)
    )
    _legend(ax)
    return _svg(fig)
