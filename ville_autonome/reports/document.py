"""The whole report as one document for the PDF template: the cover, then the sections.

:func:`build_document` returns the JSON the Typst template (``templates/report.typ``) lays out and
the SVG charts it places; nothing is computed in the template. The cover gives the scope by its
name, the period in words, four headline figures with their change against the previous period
and a year earlier, and a summary of two or three sentences written from the figures.
"""

from __future__ import annotations

from typing import Any

from ville_autonome.autonomy import Metrics
from ville_autonome.reports import charts, sections
from ville_autonome.reports import typography as ty
from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.model import Comparison, ReportData


def _incomplete(c: Comparison, lang: Lang) -> str:
    """A mark for a comparison with a period whose data is below the coverage threshold ("" if not)."""
    cov = c.result.coverage if c.result is not None else None
    if cov is None or cov.ratio >= cov.threshold:
        return ""
    return label(lang, "cover.incomplete_then", coverage=ty.ratio(cov.ratio, lang, 0))


def _change(attr: str, now: Metrics, then: Metrics | None, lang: Lang) -> str:
    if then is None:
        return ty.na(lang)
    a, b = getattr(then, attr), getattr(now, attr)
    if attr in sections.RATIOS:
        return ty.points(None if a is None or b is None else b - a, lang)
    return ty.relative(a, b, lang)


def _tiles(data: ReportData, lang: Lang) -> list[dict[str, Any]]:
    m = data.result.metrics
    colon = "\u00a0:" if lang == "fr" else ":"
    comparisons = [c for c in (data.previous, data.last_year) if c is not None]
    tiles = []
    for attr, key in (("self_sufficiency", "self_sufficiency"), ("self_consumption", "self_consumption"),
                      ("generation_wh", "cover.local_production"), ("avoided_co2_kg", "avoided_co2_kg")):  # fmt: skip
        changes = [
            {
                "label": label(lang, "cover.vs_previous", period=ty.period_words(c.period, lang)) + colon,
                # a period measured below the threshold is no ground for a change: n/a, and why
                "value": (ty.na(lang) + mark)
                if (mark := _incomplete(c, lang))
                else _change(attr, m, c.result.metrics if c.result else None, lang),
            }
            for c in comparisons
        ]
        name = label(lang, key).split(" (")[0]
        tiles.append({"label": name, "value": sections.value(m, attr, lang), "changes": changes})
    return tiles


def _summary(data: ReportData, lang: Lang) -> list[str]:
    m = data.result.metrics
    prev: Comparison | None = data.previous
    change = ""
    if prev is not None and prev.result is not None and m.self_sufficiency is not None and not _incomplete(prev, lang):
        before = prev.result.metrics.self_sufficiency
        if before is not None:
            change = label(
                lang,
                "summary.ss_change",
                delta=ty.points(m.self_sufficiency - before, lang),
                period=ty.period_words(prev.period, lang),
            )
    out = [
        label(
            lang,
            "summary.ss",
            scope=data.scope_name,
            ss=ty.ratio(m.self_sufficiency, lang),
            load=ty.energy(m.load_wh, lang),
            change=change,
        )
    ]
    by_source = {s: v for s, v in m.generation_by_source_wh.items() if v > 0}
    if m.generation_wh > 0 and by_source:
        main = max(by_source, key=lambda s: by_source[s])
        out.append(
            label(
                lang,
                "summary.production",
                gen=ty.energy(m.generation_wh, lang),
                share=ty.ratio(by_source[main] / m.generation_wh, lang, 0),
                source=label(lang, f"source_of.{main}" if f"source.{main}" else "source_of.other"),
                co2=ty.co2(m.avoided_co2_kg, lang),
            )
        )
    else:
        out.append(label(lang, "summary.no_production"))
    if not data.result.coverage.complete:
        out.append(label(lang, "summary.incomplete"))
    return out


def build_document(data: ReportData, lang: Lang) -> tuple[dict[str, Any], dict[str, str]]:
    """(the document as JSON-ready data, the charts' SVG by input name)."""
    p = data.period
    local = data.generated_at.astimezone(p.tz)
    c = data.result.coverage
    svgs: dict[str, str] = {}

    def chart(svg: str | None, title_key: str, blocks: list[dict[str, Any]]) -> str | None:
        if svg is None:
            return None
        key = f"chart-{len(svgs)}"
        svgs[key] = svg
        blocks.append({"type": "chart", "key": key, "title": label(lang, title_key)})
        return key

    monthly = len(p.days) > charts.MAX_DAYS_PER_DAY_BARS
    target = next(
        (pt.target for pt in (data.trajectory.years if data.trajectory else []) if pt.label == str(p.last_day.year)),
        None,
    )
    chart_blocks: list[dict[str, Any]] = []
    chart(charts.energy_chart(data, lang), "chart.monthly_energy" if monthly else "chart.daily_energy", chart_blocks)
    chart(
        charts.self_sufficiency_chart(data, lang, target),
        "chart.monthly_ss" if monthly else "chart.daily_ss",
        chart_blocks,
    )
    chart(charts.power_chart(data, lang), "chart.power", chart_blocks)
    chart(charts.soc_chart(data, lang), "chart.soc", chart_blocks)
    traj_key = None
    if (svg := charts.trajectory_chart(data, lang)) is not None:
        traj_key = f"chart-{len(svgs)}"
        svgs[traj_key] = svg
    section_list = [
        {"title": label(lang, "section.headline"), "new_page": True, "blocks": sections.headline(data, lang)},
    ]
    if chart_blocks:
        section_list.append({"title": label(lang, "section.charts"), "new_page": True, "blocks": chart_blocks})
    if data.trajectory is not None:
        section_list.append(
            {
                "title": label(lang, "section.trajectory"),
                "new_page": True,
                "blocks": sections.trajectory(data, lang, traj_key),
            }
        )
    if data.what_if is not None:
        section_list.append(
            {"title": label(lang, "section.what_if"), "new_page": False, "blocks": sections.what_if(data, lang)}
        )
    section_list += [
        {"title": label(lang, "section.quality"), "new_page": True, "blocks": sections.quality(data, lang)},
        {"title": label(lang, "annex"), "new_page": True, "blocks": sections.annex(data, lang)},
    ]
    warning = None if c.complete else label(lang, "coverage.incomplete")
    doc = {
        "lang": lang,
        "title": label(lang, "title"),
        "programme": label(lang, "programme"),
        "city": data.name("__city__") if "__city__" in data.names else "",
        "scope_name": data.scope_name,
        "scope_kind": label(lang, f"kind.{data.scope_kind}"),
        "period_words": ty.period_words(p, lang, capital=True),
        "period_range": f"{ty.day(p.first_day, lang)} – {ty.day(p.last_day, lang)}" if p.kind != "day" else "",
        "footer": f"{label(lang, 'title')} — {data.scope_name} — {ty.period_words(p, lang)}",
        "page_word": label(lang, "page"),
        "cover": {
            "tiles": _tiles(data, lang),
            "summary": _summary(data, lang),
            "warning": warning,
            "meta": [
                label(lang, "cover.generated", when=ty.moment(local, lang)),
                label(lang, "cover.method", version=data.method_version, minutes=str(data.interval_s // 60)),
                label(lang, "cover.coverage", share=ty.ratio(c.ratio, lang)),
                label(lang, "timezone_note"),
            ],
        },
        "sections": section_list,
    }
    return doc, svgs
