"""The report's sections after the cover, as blocks for the PDF template (:mod:`reports.document`).

A block is a dict the Typst template knows: ``para``, ``note``, ``warning``, ``h2``, ``chart``
(``key`` names an SVG input) and ``table`` (``header``, ``rows``, ``widths`` in fractions or
``"auto"``, ``align`` per column). Every string is final: formatted by :mod:`reports.typography`,
worded by :mod:`reports.labels`, devices and sites by their names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from ville_autonome.autonomy import Anomaly, Metrics, Status
from ville_autonome.reports import typography as ty
from ville_autonome.reports.flag_text import note
from ville_autonome.reports.labels import FORMULAS, Lang, label
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.tables import HEADLINE_FIELDS

Block = dict[str, Any]
RATIOS = (
    "self_sufficiency",
    "self_consumption",
    "load_cover_factor",
    "supply_cover_factor",
    "time_autonomy",
    "grid_interaction_index",
)
MAX_RANGES = 4


def value(m: Metrics | None, attr: str, lang: Lang) -> str:
    """One headline metric, formatted for people (the tables keep raw SI values)."""
    if m is None:
        return ty.na(lang)
    v = getattr(m, attr)
    if attr in RATIOS:
        return ty.ratio(v, lang)
    if attr == "net_balance_ratio":
        return ty.number(v, lang, 2) if v is not None else ty.na(lang)
    if attr == "peak_import_w":
        return ty.quantity(v / 1000, "kW", lang)
    if attr == "avoided_co2_kg":
        return ty.co2(v, lang)
    return ty.energy(v, lang)


def table(header: list[str], rows: list[list[str]], widths: list[Any], align: list[str]) -> Block:
    return {"type": "table", "header": header, "rows": rows, "widths": widths, "align": align}


def para(text: str) -> Block:
    return {"type": "para", "text": text}


def headline(data: ReportData, lang: Lang) -> list[Block]:
    r = data.result
    others = [c for c in (data.previous, data.last_year) if c is not None]
    header = [label(lang, "metric"), ty.period_words(data.period, lang, capital=True)]
    thin = [c for c in others if c.result is not None and c.result.coverage.ratio < c.result.coverage.threshold]
    header += [ty.period_words(c.period, lang, capital=True) + (" *" if c in thin else "") for c in others]
    metrics = [r.metrics, *(c.result.metrics if c.result else None for c in others)]
    rows = [[label(lang, key), *(value(m, attr, lang) for m in metrics)] for attr, key, _ in HEADLINE_FIELDS]
    rows += _source_rows(metrics, lang)
    if r.battery is not None and r.battery.soc_pct is not None:
        rows.append([label(lang, "soc_pct"), ty.quantity(r.battery.soc_pct, "%", lang, 0), *([""] * len(others))])
    n = len(metrics)
    blocks = [table(header, rows, [2.2, *([1] * n)], ["left", *(["right"] * n)])]
    blocks += [{"type": "note", "text": label(lang, "table.incomplete_then", period=ty.period_words(c.period, lang),
                coverage=ty.ratio(c.result.coverage.ratio if c.result else 0.0, lang, 0))} for c in thin]  # fmt: skip
    blocks += sharing(data, lang)
    return blocks


def _source_rows(metrics: list[Any], lang: Lang) -> list[list[str]]:
    """One row per source of generation in any of the compared periods."""
    sources = sorted({s for m in metrics if m for s in m.generation_by_source_wh})
    return [
        [f"{label(lang, 'generation_wh')}\u00a0: {label(lang, 'source.' + s).lower()}" if lang == "fr"
         else f"{label(lang, 'generation_wh')}: {label(lang, 'source.' + s)}",
         *(ty.energy(m.generation_by_source_wh.get(s), lang) if m else ty.na(lang) for m in metrics)]
        for s in sources
    ]  # fmt: skip


def sharing(data: ReportData, lang: Lang) -> list[Block]:
    r = data.result
    blocks: list[Block] = [{"type": "h2", "text": label(lang, "sharing")}]
    if r.sum_of_sites is None:
        return [*blocks, para(label(lang, "sharing.single_site"))]
    rows = []
    for attr, key in (("self_sufficiency", "self_sufficiency"), ("self_consumption", "self_consumption"),
                      ("import_wh", "grid_import_wh"), ("export_wh", "grid_export_wh")):  # fmt: skip
        a, b = getattr(r.metrics, attr), getattr(r.sum_of_sites, attr)
        if attr in RATIOS:
            gain = ty.points(None if a is None or b is None else a - b, lang)
            rows.append([label(lang, key), ty.ratio(a, lang), ty.ratio(b, lang), gain])
        else:
            rows.append([label(lang, key), ty.energy(a, lang), ty.energy(b, lang), ty.energy(a - b, lang, signed=True)])
    header = [
        label(lang, "metric"),
        label(lang, "sharing.netted"),
        label(lang, "sharing.sum"),
        label(lang, "sharing.gain"),
    ]
    return [
        *blocks,
        para(label(lang, "sharing.intro")),
        table(header, rows, [2, 1.2, 1.2, 1], ["left", "right", "right", "right"]),
    ]


def _days_text(mask: np.ndarray, start_ms: int, interval_s: int, data: ReportData, lang: Lang) -> str:
    """The local days where ``mask`` holds, as ranges: ``3–5 nov., 12 nov.``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return ""
    tz = data.period.tz
    days = sorted({datetime.fromtimestamp((start_ms + int(i) * interval_s * 1000) / 1000, tz=tz).date() for i in idx})
    if len(days) == len(data.period.days):
        return label(lang, "when.every_day")
    runs: list[tuple[Any, Any]] = []
    for d in days:
        if runs and (d - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    short = ty.MONTHS_SHORT[lang]
    parts = [f"{a.day} {short[a.month - 1]}" if a == b else f"{a.day}–{b.day} {short[b.month - 1]}" if a.month == b.month
             else f"{a.day} {short[a.month - 1]} – {b.day} {short[b.month - 1]}" for a, b in runs[:MAX_RANGES]]  # fmt: skip
    return ", ".join(parts) + (" …" if len(runs) > MAX_RANGES else "")


def _flag_when(flag: str, data: ReportData, lang: Lang) -> str:
    kind, _, ident = flag.partition(":")
    inputs = data.inputs
    r = data.result
    if kind == "unbalanced":
        return _days_text(np.asarray(r.series.unbalanced), r.start_ms, r.interval_s, data, lang)
    if inputs is None:
        return ""
    dev = next((d for s in inputs.sites for d in s.devices if d.device == ident), None)
    if dev is None:
        return ""
    w0 = inputs.warmup
    status, anomaly = dev.status[w0:], dev.anomalies[w0:]
    masks = {
        "missing_data": (status == Status.MISSING) | ((anomaly & Anomaly.STALE) != 0),
        "implausible_jump": (anomaly & Anomaly.JUMP) != 0,
        "counter_glitch": (anomaly & Anomaly.GLITCH) != 0,
        "implausible_power": (anomaly & Anomaly.REJECTED) != 0,
        "counter_reset": (anomaly & Anomaly.RESET) != 0,
        "power_integrated": status == Status.INTEGRATED,
    }
    return _days_text(masks[kind], r.start_ms, r.interval_s, data, lang) if kind in masks else ""


def quality(data: ReportData, lang: Lang) -> list[Block]:
    c = data.result.coverage
    blocks = [para(label(lang, "quality.intro"))]
    rows = [[label(lang, "quality.ratio"), ty.ratio(c.ratio, lang)]]
    rows += [[label(lang, f"quality.role.{role}"), ty.ratio(share, lang)] for role, share in sorted(c.by_role.items())]
    blocks.append(table([label(lang, "metric"), label(lang, "col.share")], rows, [3, 1], ["left", "right"]))
    blocks.append(para(label(lang, "quality.threshold", share=ty.ratio(c.threshold, lang, 0))))
    blocks.append(
        {
            "type": "note" if c.complete else "warning",
            "text": label(lang, "quality.complete" if c.complete else "quality.incomplete"),
        }
    )
    blocks.append({"type": "h2", "text": label(lang, "quality.flags")})
    notes = [note(f, lang, data.names, _flag_when(f, data, lang)) for f in data.result.flags]
    if notes:
        header = [
            label(lang, "col.concerns"),
            label(lang, "col.when"),
            label(lang, "col.what"),
            label(lang, "col.meaning"),
        ]
        rows = [[n.concerns or data.scope_name, n.when or label(lang, "when.period"), n.what, n.meaning] for n in notes]
        blocks.append(table(header, rows, [1.3, 1, 2, 2], ["left"] * 4))
    else:
        blocks.append(para(label(lang, "quality.no_flags")))
    blocks.append({"type": "h2", "text": label(lang, "quality.devices")})
    lacking = [d for d in c.devices if d.imputed or d.missing or d.stale]
    if not lacking:
        return [*blocks, para(label(lang, "quality.none"))]
    rows = []
    for d in lacking:
        n = d.measured + d.integrated + d.imputed + d.missing
        shares = [(d.measured + d.integrated) / n, d.imputed / n, d.missing / n] if n else [0.0, 0.0, 0.0]
        rows.append([data.name(d.device), data.name(d.site), *(ty.ratio(x, lang) for x in shares)])
    header = [label(lang, "device"), label(lang, "kind.site"), label(lang, "quality.measured"),
              label(lang, "quality.estimated"), label(lang, "quality.missing")]  # fmt: skip
    return [*blocks, table(header, rows, [2, 2, 1, 1, 1], ["left", "left", "right", "right", "right"])]


def annex(data: ReportData, lang: Lang) -> list[Block]:
    colon = "\u00a0:" if lang == "fr" else ":"
    blocks = [para(f"{label(lang, 'method_version')}{colon} {data.method_version}"), para(label(lang, "annex.intro"))]
    rows = [[label(lang, key), formula, ref] for key, formula, ref in FORMULAS]
    blocks.append(
        table([label(lang, "metric"), label(lang, "formula"), label(lang, "ref")], rows, [1.6, 1.6, 1.6], ["left"] * 3)
    )
    blocks += [para(label(lang, key)) for key in ("annex.attribution", "annex.energy", "annex.sharing", "annex.times")]
    factor = ty.quantity(data.emission_factor_g_per_kwh, "gCO₂/kWh", lang)
    blocks.append(para(f"{label(lang, 'annex.co2')}{colon} {factor}"))
    return blocks


def trajectory(data: ReportData, lang: Lang, chart_key: str | None) -> list[Block]:
    t = data.trajectory
    if t is None:
        return []
    targets = ", ".join(
        label(lang, "trajectory.target_year", share=ty.ratio(v, lang, 0), year=str(y))
        for y, v in sorted(t.targets.items())
    )
    pace = ty.points(t.measured_pace, lang)
    reached = t.next_target is not None and t.latest is not None and t.latest >= t.next_target[1]
    needed = label(lang, "trajectory.reached") if reached else ty.points(t.required_pace, lang)
    year = str(t.next_target[0]) if t.next_target else "2050"
    blocks = [
        para(
            label(lang, "trajectory.intro", scope=data.scope_name, targets=targets, pace=pace, needed=needed, year=year)
        )
    ]
    if chart_key is not None:
        blocks.append({"type": "chart", "key": chart_key, "title": label(lang, "chart.trajectory")})
    header = [label(lang, "trajectory.year"), label(lang, "self_sufficiency"), label(lang, "chart.target"),
              label(lang, "cover.local_production"), label(lang, "avoided_co2_kg"), label(lang, "coverage")]  # fmt: skip
    rows = [[p.label, value(p.metrics, "self_sufficiency", lang), ty.ratio(p.target, lang),
             value(p.metrics, "generation_wh", lang), value(p.metrics, "avoided_co2_kg", lang), ty.ratio(p.coverage, lang)]
            for p in t.years]  # fmt: skip
    blocks.append(table(header, rows, ["auto", 1, 1, 1, 1, 1], ["left", *(["right"] * 5)]))
    blocks += [{"type": "note", "text": year_flags(p.label, p.flags, data.names, lang)} for p in t.years if p.flags]
    return blocks


def year_flags(year: str, flags: tuple[str, ...], names: dict[str, str], lang: Lang) -> str:
    """One line for a trajectory year's flags: each kind in words, with the names it concerns."""
    by_kind: dict[str, list[str]] = {}
    for f in flags:
        n = note(f, lang, names)
        by_kind.setdefault(n.what, []).append(n.concerns)
    parts = [f"{what.rstrip('.')} ({', '.join(c for c in who if c)})" if any(who) else what.rstrip(".")
             for what, who in by_kind.items()]  # fmt: skip
    colon, semicolon = ("\u00a0:", "\u202f; ") if lang == "fr" else (":", "; ")
    return f"{year}{colon} " + semicolon.join(parts) + "."


def what_if(data: ReportData, lang: Lang) -> list[Block]:
    w = data.what_if
    if w is None:
        return []
    s = w.sizing
    target = ty.ratio(w.target, lang, 0) + f" ({w.target_year})"
    blocks = [para(label(lang, "what_if.intro", site=data.name(w.site), eta=ty.ratio(0.9, lang, 0)))]
    if s.reachable and s.capacity_kwh == 0:
        blocks.append(para(label(lang, "what_if.met", target=target)))
    elif s.reachable and s.capacity_kwh is not None and s.power_kw is not None:
        text = label(
            lang,
            "what_if.battery",
            target=target,
            capacity=ty.energy(s.capacity_kwh * 1000, lang),
            power=ty.quantity(s.power_kw, "kW", lang, 0),
            before=ty.ratio(w.before, lang),
            after=ty.ratio(s.self_sufficiency, lang),
        )
        blocks.append(para(text))
    else:
        blocks.append(para(label(lang, "what_if.out_of_reach", best=ty.ratio(s.best_possible, lang))))
    blocks.append({"type": "note", "text": label(lang, "what_if.more")})
    return blocks
