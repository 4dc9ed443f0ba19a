"""The report as a PDF: cover, headline metrics, charts, gain from sharing, coverage, method annex.

Laid out with fpdf2 in a Unicode font shipped with matplotlib (DejaVu Sans, so that ``−``,
``Σ`` and ``CO₂`` print), charts drawn by :mod:`reports.charts`. French by default, English on
request; every word comes from :mod:`reports.labels`.
"""

from __future__ import annotations

import io
import math
from datetime import UTC
from pathlib import Path

import matplotlib
from fpdf import FPDF

from ville_autonome.autonomy import Metrics
from ville_autonome.reports.charts import all_charts
from ville_autonome.reports.labels import FORMULAS, Lang, label
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.tables import HEADLINE_FIELDS

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "dejavu"
RATIOS = (
    "self_sufficiency",
    "self_consumption",
    "load_cover_factor",
    "supply_cover_factor",
    "time_autonomy",
    "grid_interaction_index",
)


def fmt_ratio(v: float | None, lang: Lang) -> str:
    if v is None or not math.isfinite(v):
        return label(lang, "na")
    text = f"{100 * v:.1f} %"
    return text.replace(".", ",") if lang == "fr" else text.replace(" %", "%")


def fmt_energy(wh: float | None, lang: Lang) -> str:
    if wh is None or not math.isfinite(wh):
        return label(lang, "na")
    for unit, scale in (("GWh", 1e9), ("MWh", 1e6), ("kWh", 1e3)):
        if abs(wh) >= scale:
            text = f"{wh / scale:,.2f} {unit}"
            break
    else:
        text = f"{wh:,.0f} Wh"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def fmt_number(v: float | None, unit: str, lang: Lang, digits: int = 1) -> str:
    if v is None or not math.isfinite(v):
        return label(lang, "na")
    text = f"{v:,.{digits}f} {unit}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def metric_value(m: Metrics, attr: str, lang: Lang) -> str:
    """One headline metric, formatted for people (the tables keep raw SI values)."""
    v = getattr(m, attr)
    if attr in RATIOS:
        return fmt_ratio(v, lang)
    if attr == "net_balance_ratio":
        return fmt_number(v, "", lang, 2).strip()
    if attr == "peak_import_w":
        return fmt_number(v / 1000, "kW", lang)
    if attr == "avoided_co2_kg":
        return fmt_number(v / 1000, "t CO₂", lang, 2)
    return fmt_energy(v, lang)


class _Doc(FPDF):
    def __init__(self, lang: Lang, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_lang = lang
        self.footer_text = footer_text
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"{self.footer_text} — {label(self.report_lang, 'page')} {self.page_no()}", align="C")

    def h1(self, text: str) -> None:
        self.set_font(FONT, "B", 15)
        self.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def h2(self, text: str) -> None:
        self.set_font(FONT, "B", 12)
        self.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, size: float = 10) -> None:
        self.set_font(FONT, "", size)
        self.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def rows(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        with self.table(col_widths=widths, text_align="LEFT", line_height=6, first_row_as_headings=True) as t:
            t.row(header)
            for r in rows:
                t.row(r)
        self.ln(3)


def _cover(doc: _Doc, data: ReportData, lang: Lang) -> None:
    colon = " :" if lang == "fr" else ":"
    doc.add_page()
    doc.set_font(FONT, "", 11)
    doc.cell(0, 8, label(lang, "programme"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(30)
    doc.set_font(FONT, "B", 22)
    doc.multi_cell(0, 11, label(lang, "title"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(6)
    doc.set_font(FONT, "B", 16)
    scope_line = f"{label(lang, 'kind.' + data.scope_kind)}{colon} {data.scope_name}"
    doc.multi_cell(0, 9, scope_line, new_x="LMARGIN", new_y="NEXT")
    doc.ln(8)
    p = data.period
    local_gen = data.generated_at.astimezone(p.tz)
    cover = [
        [label(lang, "scope"), data.scope],
        [label(lang, "period"), f"{p.label}  ({p.first_day.isoformat()} → {p.last_day.isoformat()})"],
        [label(lang, "generated"), local_gen.strftime("%Y-%m-%d %H:%M %Z")],
        [label(lang, "interval"), f"{data.interval_s // 60} min"],
        [label(lang, "method_version"), data.method_version],
        [label(lang, "coverage"), fmt_ratio(data.result.coverage.ratio, lang)],
    ]
    doc.rows([label(lang, "metric"), label(lang, "value")], cover, [45, 125])
    doc.para(label(lang, "timezone_note"), 9)
    if not data.result.coverage.complete:
        doc.set_font(FONT, "B", 11)
        doc.multi_cell(0, 6, label(lang, "coverage.incomplete"), new_x="LMARGIN", new_y="NEXT")


def _headline(doc: _Doc, data: ReportData, lang: Lang) -> None:
    r = data.result
    doc.add_page()
    doc.h1(label(lang, "headline"))
    rows = [[label(lang, key), metric_value(r.metrics, attr, lang)] for attr, key, _ in HEADLINE_FIELDS]
    for src, wh in r.metrics.generation_by_source_wh.items():
        rows.append([f"  {label(lang, 'generation_wh')} — {label(lang, 'source.' + src)}", fmt_energy(wh, lang)])
    if r.battery is not None:
        rows.append([label(lang, "soc_pct"), fmt_number(r.battery.soc_pct, "%", lang)])
        hours = r.battery.hours_at_current_deficit
        rows.append([label(lang, "battery_hours"), fmt_number(hours, label(lang, "hours"), lang)])
    doc.rows([label(lang, "metric"), label(lang, "value")], rows, [110, 60])


def _sharing(doc: _Doc, data: ReportData, lang: Lang) -> None:
    r = data.result
    doc.add_page()
    doc.h1(label(lang, "sharing"))
    if r.sum_of_sites is None:
        doc.para(label(lang, "sharing.single_site"))
        return
    doc.para(label(lang, "sharing.intro"))
    rows = []
    for attr, key in [
        ("self_sufficiency", "self_sufficiency"),
        ("self_consumption", "self_consumption"),
        ("import_wh", "grid_import_wh"),
        ("export_wh", "grid_export_wh"),
    ]:
        a, b = getattr(r.metrics, attr), getattr(r.sum_of_sites, attr)
        if attr in RATIOS:
            gain = label(lang, "na") if a is None or b is None else f"{100 * (a - b):+.1f} pt"
            rows.append([label(lang, key), fmt_ratio(a, lang), fmt_ratio(b, lang), gain])
        else:
            rows.append([label(lang, key), fmt_energy(a, lang), fmt_energy(b, lang), fmt_energy(a - b, lang)])
    header = [
        label(lang, "metric"),
        label(lang, "sharing.netted"),
        label(lang, "sharing.sum"),
        label(lang, "sharing.gain"),
    ]
    doc.rows(header, rows, [55, 40, 40, 35])


def _coverage(doc: _Doc, data: ReportData, lang: Lang) -> None:
    c = data.result.coverage
    doc.h1(label(lang, "coverage"))
    keys = ["coverage.measured", "coverage.integrated", "coverage.imputed", "coverage.missing", "coverage.threshold"]
    values = [c.measured_share, c.integrated_share, c.imputed_share, c.missing_share, c.threshold]
    doc.rows([label(lang, k) for k in keys], [[fmt_ratio(v, lang) for v in values]], [34, 34, 34, 34, 34])
    doc.para(label(lang, "coverage.complete" if c.complete else "coverage.incomplete"))
    doc.h2(label(lang, "coverage.missing_devices"))
    lacking = [d for d in c.devices if d.imputed or d.missing]
    if not lacking:
        doc.para(label(lang, "coverage.none_missing"))
        return
    rows = []
    for d in lacking:
        n = d.measured + d.integrated + d.imputed + d.missing
        shares = [(d.measured + d.integrated) / n, d.imputed / n, d.missing / n] if n else [0.0, 0.0, 0.0]
        rows.append([d.device, d.site, *(fmt_ratio(x, lang) for x in shares)])
    header = [
        label(lang, "device"),
        label(lang, "kind.site"),
        label(lang, "coverage.measured"),
        label(lang, "coverage.imputed"),
        label(lang, "coverage.missing"),
    ]
    doc.rows(header, rows, [45, 44, 27, 27, 27])


def _annex(doc: _Doc, data: ReportData, lang: Lang) -> None:
    colon = " :" if lang == "fr" else ":"
    doc.add_page()
    doc.h1(label(lang, "annex"))
    doc.para(f"{label(lang, 'method_version')}{colon} {data.method_version}")
    doc.para(label(lang, "annex.intro"))
    doc.rows(
        [label(lang, "metric"), label(lang, "formula"), label(lang, "ref")],
        [[label(lang, key), formula, ref] for key, formula, ref in FORMULAS],
        [50, 60, 60],
    )
    for key in ("annex.attribution", "annex.energy", "annex.sharing", "annex.times"):
        doc.para(label(lang, key), 9)
    factor = fmt_number(data.emission_factor_g_per_kwh, "gCO₂/kWh", lang)
    doc.para(f"{label(lang, 'annex.co2')}{colon} {factor}", 9)
    if data.result.flags:
        doc.para(f"{label(lang, 'flags')}{colon} {', '.join(data.result.flags)}", 9)


def render_pdf(data: ReportData, lang: Lang = "fr") -> bytes:
    """The whole report as PDF bytes: cover, headline, charts, sharing gain and coverage, annex."""
    title = f"{label(lang, 'title')} — {data.scope_name} — {data.period.label}"
    doc = _Doc(lang, title)
    _cover(doc, data, lang)
    _headline(doc, data, lang)
    doc.add_page()
    doc.h1(label(lang, "charts"))
    for png in all_charts(data, lang):
        doc.image(io.BytesIO(png), w=doc.epw)
        doc.ln(2)
    _sharing(doc, data, lang)
    _coverage(doc, data, lang)
    _annex(doc, data, lang)
    doc.set_creation_date(data.generated_at.astimezone(UTC))
    doc.set_title(title)
    return bytes(doc.output())
