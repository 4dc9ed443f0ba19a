"""Numbers, dates and periods written the way a reader of each language expects.

French (Imprimerie nationale, *Lexique des règles typographiques*): a narrow no-break space
(U+202F) between thousands and before ``%``, a decimal comma, the true minus sign (U+2212),
"points" for a difference of percentages, month names in French without a capital. English: a
comma between thousands, a decimal point, ``%`` glued to the number, "points" too.
A value that does not exist is "n. d." / "n/a", never 0.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.periods import Period

NNBSP = "\u202f"  # narrow no-break space
MINUS = "\u2212"

MONTHS: dict[Lang, tuple[str, ...]] = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
MONTHS_SHORT: dict[Lang, tuple[str, ...]] = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def number(v: float, lang: Lang, digits: int = 1, *, signed: bool = False) -> str:
    """``12345.6`` → ``12 345,6`` (fr) / ``12,345.6`` (en); ``signed`` writes ``+`` before a positive."""
    text = f"{v:{'+' if signed else ''},.{digits}f}"
    if text.lstrip("+-") == f"{0:.{digits}f}":
        text = text.lstrip("+-")  # no "−0,0"
        if signed:
            text = "±" + text
    if lang == "fr":
        text = text.replace(",", NNBSP).replace(".", ",")
    return text.replace("-", MINUS)


def na(lang: Lang) -> str:
    return label(lang, "na")


def ratio(v: float | None, lang: Lang, digits: int = 1) -> str:
    """A share as a percentage: ``62,3 %`` / ``62.3%``."""
    if v is None or not math.isfinite(v):
        return na(lang)
    return number(100 * v, lang, digits) + (f"{NNBSP}%" if lang == "fr" else "%")


def points(delta: float | None, lang: Lang) -> str:
    """A change of a share, in percentage points: ``+4,1 points`` / ``+4.1 points``."""
    if delta is None or not math.isfinite(delta):
        return na(lang)
    return number(100 * delta, lang, 1, signed=True) + " " + label(lang, "points")


def energy(wh: float | None, lang: Lang, *, signed: bool = False) -> str:
    """An energy with the unit that keeps 3–4 significant digits: ``45,2 MWh``."""
    if wh is None or not math.isfinite(wh):
        return na(lang)
    unit, scale = next(((u, k) for u, k in (("GWh", 1e9), ("MWh", 1e6), ("kWh", 1e3)) if abs(wh) >= k), ("Wh", 1.0))
    v = wh / scale
    digits = 0 if abs(v) >= 100 or v == 0 else (1 if abs(v) >= 10 else 2)
    return f"{number(v, lang, digits, signed=signed)}{NNBSP if lang == 'fr' else ' '}{unit}"


def quantity(v: float | None, unit: str, lang: Lang, digits: int = 1, *, signed: bool = False) -> str:
    if v is None or not math.isfinite(v):
        return na(lang)
    return f"{number(v, lang, digits, signed=signed)}{NNBSP if lang == 'fr' else ' '}{unit}"


def co2(kg: float | None, lang: Lang, *, signed: bool = False) -> str:
    """Avoided CO₂ in tonnes (kilograms below one tonne)."""
    if kg is None or not math.isfinite(kg):
        return na(lang)
    if abs(kg) >= 1000:
        return quantity(kg / 1000, "t CO₂", lang, 1 if abs(kg) >= 10_000 else 2, signed=signed)
    return quantity(kg, "kg CO₂", lang, 0, signed=signed)


def relative(before: float | None, after: float | None, lang: Lang) -> str:
    """A relative change: ``+12 %``; n. d. without a base."""
    if before is None or after is None or before == 0 or not math.isfinite(before) or not math.isfinite(after):
        return na(lang)
    return number(100 * (after - before) / abs(before), lang, 0, signed=True) + (f"{NNBSP}%" if lang == "fr" else "%")


def day(d: date, lang: Lang, *, year: bool = True) -> str:
    """``3 novembre 2026`` / ``3 November 2026`` (``1er`` in French)."""
    n = "1er" if lang == "fr" and d.day == 1 else str(d.day)
    text = f"{n} {MONTHS[lang][d.month - 1]}"
    return f"{text} {d.year}" if year else text


def moment(t: datetime, lang: Lang) -> str:
    """``3 novembre 2026 à 14 h 30`` / ``3 November 2026, 14:30`` (local time of ``t``)."""
    if lang == "fr":
        return f"{day(t.date(), lang)} à {t.hour} h {t.minute:02d}"
    return f"{day(t.date(), lang)}, {t.hour:02d}:{t.minute:02d}"


def month_name(year: int, month: int, lang: Lang, *, capital: bool = False) -> str:
    text = f"{MONTHS[lang][month - 1]} {year}"
    return text[0].upper() + text[1:] if capital else text


def period_words(p: Period, lang: Lang, *, capital: bool = False) -> str:
    """``novembre 2026``, ``4e trimestre 2026``, ``année 2026``, ``du 24 au 26 octobre 2026``."""
    first, last = p.first_day, p.last_day
    if p.kind == "month":
        text = month_name(first.year, first.month, lang)
    elif p.kind == "year":
        text = f"année {first.year}" if lang == "fr" else f"year {first.year}"
    elif p.kind == "quarter":
        q = (first.month - 1) // 3 + 1
        text = f"{q}{'er' if q == 1 else 'e'} trimestre {first.year}" if lang == "fr" else f"Q{q} {first.year}"
    elif p.kind == "day":
        text = day(first, lang)
    else:
        same_month = (first.year, first.month) == (last.year, last.month)
        if lang == "fr":
            start = (
                ("1er" if first.day == 1 else str(first.day))
                if same_month
                else day(first, lang, year=first.year != last.year)
            )
            text = f"du {start} au {day(last, lang)}"
        else:
            start = str(first.day) if same_month else day(first, lang, year=first.year != last.year)
            text = f"{start} to {day(last, lang)}"
    return text[0].upper() + text[1:] if capital else text
