"""The report as a PDF: cover, headline metrics, charts, gain from sharing, coverage, method annex.

Laid out with fpdf2 in a Unicode font shipped with matplotlib (DejaVu Sans, so that ``−``,
``Σ`` and ``CO₂`` print), charts drawn by :mod:`reports.charts`. French by default.
"""

from __future__ import annotations

import io
import math
from datetime import UTC
from pathlib import Path

import matplotlib
from fpdf import FPDF

from reports.charts import all_charts
from reports.labels import FORMULAS, Lang, label
from reports.model import Headline, ReportData

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


def headline_value(h: Headline, key: str, lang: Lang) -> str:
    if key in RATIOS:
        return fmt_ratio(getattr(h, key), lang)
    if key == "balance_ratio":
        return fmt_number(h.balance_ratio, "", lang, 2).strip()
    if key == "peak_import_w":
        return fmt_number(h.peak_import_w / 1000, "kW", lang)
    if key == "avoided_co2_kg":
        return fmt_number(h.avoided_co2_kg / 1000, "t", lang, 2)
    return fmt_energy(getattr(h, key), lang)


HEADLINE_ROWS = (
    *RATIOS,
    "load_wh",
    "generation_wh",
    "grid_import_wh",
    "grid_export_wh",
    "net_balance_wh",
    "balance_ratio",
    "peak_import_w",
    "avoided_co2_kg",
)


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


def _scope_kind(scope: str) -> str:
    return scope.split(":", 1)[0]


def render_pdf(data: ReportData, lang: Lang = "fr") -> bytes:
    """The whole report as PDF bytes."""
    title = label(lang, "title")
    scope_text = f"{label(lang, 'kind.' + _scope_kind(data.scope))} : {data.scope_name}"
    if lang == "en":
        scope_text = scope_text.replace(" :", ":")
    local_gen = data.generated_at.astimezone(data.period.tz)
    doc = _Doc(lang, f"{title} — {data.scope_name} — {data.period.label}")

    # cover
    doc.add_page()
    doc.set_font(FONT, "", 11)
    doc.cell(0, 8, label(lang, "programme"), new_x="LMARGIN", new_y="NEXT")
    doc.ln(30)
    doc.set_font(FONT, "B", 22)
    doc.multi_cell(0, 11, title, new_x="LMARGIN", new_y="NEXT")
    doc.ln(6)
    doc.set_font(FONT, "B", 16)
    doc.multi_cell(0, 9, scope_text, new_x="LMARGIN", new_y="NEXT")
    doc.ln(8)
    last = data.period.last_day.isoformat()
    cover = [
        [label(lang, "scope"), data.scope],
        [label(lang, "period"), f"{data.period.label}  ({data.period.first_day.isoformat()} → {last})"],
        [label(lang, "generated"), local_gen.strftime("%Y-%m-%d %H:%M %Z")],
        [label(lang, "interval"), f"{data.interval_s // 60} min"],
        [label(lang, "method_version"), data.method_version],
        [label(lang, "coverage.measured"), fmt_ratio(data.coverage.measured, lang)],
    ]
    doc.rows([label(lang, "metric"), label(lang, "value")], cover, [45, 125])
    doc.para(label(lang, "timezone_note"), 9)
    if not data.coverage.complete:
        doc.set_font(FONT, "B", 11)
        doc.multi_cell(0, 6, label(lang, "coverage.incomplete"), new_x="LMARGIN", new_y="NEXT")

    # headline metrics
    doc.add_page()
    doc.h1(label(lang, "headline"))
    rows = [[label(lang, k), headline_value(data.headline, k, lang)] for k in HEADLINE_ROWS]
    for src, wh in sorted(data.headline.energy_by_source_wh.items()):
        rows.append([f"  {label(lang, 'generation_wh')} — {label(lang, 'source.' + src)}", fmt_energy(wh, lang)])
    if data.battery_hours is not None:
        rows.append([label(lang, "battery_hours"), fmt_number(data.battery_hours, label(lang, "hours"), lang)])
    doc.rows([label(lang, "metric"), label(lang, "value")], rows, [110, 60])

    # charts
    doc.add_page()
    doc.h1(label(lang, "charts"))
    for png in all_charts(data, lang):
        doc.image(io.BytesIO(png), w=doc.epw)
        doc.ln(2)

    # sharing gain
    doc.add_page()
    doc.h1(label(lang, "sharing"))
    if data.sum_of_sites is None:
        doc.para(label(lang, "sharing.single_site"))
    else:
        doc.para(label(lang, "sharing.intro"))
        share_rows = []
        for key in ("self_sufficiency", "self_consumption", "grid_import_wh", "grid_export_wh"):
            a, b = getattr(data.headline, key), getattr(data.sum_of_sites, key)
            if key in RATIOS:
                gain = None if a is None or b is None else a - b
                gain_text = label(lang, "na") if gain is None else f"{100 * gain:+.1f} pt"
                share_rows.append([label(lang, key), fmt_ratio(a, lang), fmt_ratio(b, lang), gain_text])
            else:
                share_rows.append([label(lang, key), fmt_energy(a, lang), fmt_energy(b, lang), fmt_energy(a - b, lang)])
        header = [
            label(lang, "metric"),
            label(lang, "sharing.netted"),
            label(lang, "sharing.sum"),
            label(lang, "sharing.gain"),
        ]
        doc.rows(header, share_rows, [55, 40, 40, 35])

    # coverage
    doc.h1(label(lang, "coverage"))
    c = data.coverage
    doc.rows(
        [
            label(lang, "coverage.measured"),
            label(lang, "coverage.imputed"),
            label(lang, "coverage.missing"),
            label(lang, "coverage.threshold"),
        ],
        [
            [
                fmt_ratio(c.measured, lang),
                fmt_ratio(c.imputed, lang),
                fmt_ratio(c.missing, lang),
                fmt_ratio(c.threshold, lang),
            ]
        ],
        [42, 42, 42, 44],
    )
    doc.para(label(lang, "coverage.complete" if c.complete else "coverage.incomplete"))
    doc.h2(label(lang, "coverage.missing_devices"))
    missing = c.missing_devices
    if missing:
        doc.rows(
            [
                label(lang, "device"),
                label(lang, "coverage.measured"),
                label(lang, "coverage.imputed"),
                label(lang, "coverage.missing"),
            ],
            [
                [d.device, fmt_ratio(d.measured, lang), fmt_ratio(d.imputed, lang), fmt_ratio(d.missing, lang)]
                for d in missing
            ],
            [70, 33, 33, 34],
        )
    else:
        doc.para(label(lang, "coverage.none_missing"))

    # method annex
    doc.add_page()
    doc.h1(label(lang, "annex"))
    doc.para(f"{label(lang, 'method_version')} : {data.method_version}".replace(" :", ":" if lang == "en" else " :"))
    doc.para(label(lang, "annex.intro"))
    doc.rows(
        [label(lang, "metric"), "Formule" if lang == "fr" else "Formula", label(lang, "ref")],
        [[label(lang, key), formula, ref] for key, formula, ref in FORMULAS],
        [50, 60, 60],
    )
    doc.para(label(lang, "annex.energy"), 9)
    doc.para(label(lang, "annex.sharing"), 9)
    doc.para(label(lang, "annex.times"), 9)
    doc.para(f"{label(lang, 'annex.co2')} : {fmt_number(data.emission_factor_g_per_kwh, 'gCO₂/kWh', lang)}", 9)
    doc.set_creation_date(data.generated_at.astimezone(UTC))
    doc.set_title(f"{title} — {data.scope_name} — {data.period.label}")
    return bytes(doc.output())
