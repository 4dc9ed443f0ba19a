"""The report's four charts, drawn with matplotlib's Agg backend into PNG bytes.

Daily self-sufficiency, energy by source, load vs local supply, battery state of charge. Times
on the axes are Europe/Paris. Nothing here touches pyplot's global state (each figure is its own
``Figure``), so charts can be drawn from any thread (the API serves reports concurrently).
"""

from __future__ import annotations

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.model import ReportData

SIZE_IN = (7.2, 3.0)
DPI = 110
# colour-blind-safe (Okabe-Ito); every series also has a label in the legend
COLOURS = {
    "hydro": "#0072B2",
    "pv": "#E69F00",
    "wind": "#56B4E9",
    "chp": "#009E73",
    "load": "#000000",
    "supply": "#D55E00",
    "soc": "#CC79A7",
}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE_IN)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _times(data: ReportData) -> np.ndarray:
    """Interval starts as matplotlib date numbers in Europe/Paris wall-clock time."""
    tz = data.period.tz
    return np.asarray(
        date2num(
            [datetime.fromtimestamp(int(ms) / 1000, tz=tz).replace(tzinfo=None) for ms in data.result.series.start_ms]
        )
    )


def _date_axis(ax: Axes) -> None:
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def daily_autonomy(data: ReportData, lang: Lang) -> bytes:
    fig, ax = _figure(label(lang, "chart.daily_autonomy"))
    days = np.asarray(date2num([datetime.combine(d.day, datetime.min.time()) for d in data.days]))
    values = [np.nan if d.metrics.self_sufficiency is None else 100 * d.metrics.self_sufficiency for d in data.days]
    if len(days):
        ax.bar(days, values, width=0.8, align="edge", color=COLOURS["hydro"], label=label(lang, "self_sufficiency"))
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        _date_axis(ax)
        ax.legend(fontsize=8, loc="lower right")
    else:
        _empty(ax, label(lang, "chart.no_data"))
    return _png(fig)


def energy_by_source(data: ReportData, lang: Lang) -> bytes:
    fig, ax = _figure(label(lang, "chart.energy_by_source"))
    items = sorted(data.result.metrics.generation_by_source_wh.items())
    if items and any(v > 0 for _, v in items):
        names = [label(lang, f"source.{s}") for s, _ in items]
        mwh = [v / 1e6 for _, v in items]
        bars = ax.barh(names, mwh, color=[COLOURS.get(s, "#999999") for s, _ in items])
        ax.bar_label(bars, labels=[f"{v:,.2f} MWh" for v in mwh], fontsize=8, padding=3)
        ax.set_xlabel("MWh")
        ax.margins(x=0.25)
    else:
        _empty(ax, label(lang, "chart.no_data"))
    return _png(fig)


def load_vs_supply(data: ReportData, lang: Lang) -> bytes:
    """Mean power per interval [kW]: load, local generation, and the load met locally. An interval
    without data is NaN in the series: the lines break and nothing is filled there (a gap, never 0)."""
    fig, ax = _figure(label(lang, "chart.load_vs_supply"))
    s = data.result.series
    if s.start_ms.shape[0]:
        to_kw = 3600 / data.interval_s / 1000
        ts = _times(data)
        ax.plot(ts, s.load_wh * to_kw, color=COLOURS["load"], lw=0.8, label=label(lang, "load_wh"))
        ax.plot(ts, s.generation_wh * to_kw, color=COLOURS["pv"], lw=0.8, ls=":", label=label(lang, "generation_wh"))
        ax.fill_between(
            ts,
            0,
            s.local_supply_wh * to_kw,
            where=np.isfinite(s.local_supply_wh),
            color=COLOURS["supply"],
            alpha=0.35,
            label=label(lang, "local_supply_wh"),
        )
        ax.set_ylabel("kW")
        _date_axis(ax)
        ax.legend(fontsize=8, loc="upper right")
    else:
        _empty(ax, label(lang, "chart.no_data"))
    return _png(fig)


def battery_soc(data: ReportData, lang: Lang) -> bytes:
    fig, ax = _figure(label(lang, "chart.soc"))
    soc = data.soc_pct
    if len(soc) and np.isfinite(soc).any():
        ax.plot(_times(data), soc, color=COLOURS["soc"], lw=0.8, label=label(lang, "soc_pct"))
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        _date_axis(ax)
        ax.legend(fontsize=8, loc="lower right")
    else:
        _empty(ax, label(lang, "chart.no_battery"))
    return _png(fig)


def all_charts(data: ReportData, lang: Lang) -> list[bytes]:
    return [
        daily_autonomy(data, lang),
        energy_by_source(data, lang),
        load_vs_supply(data, lang),
        battery_soc(data, lang),
    ]
