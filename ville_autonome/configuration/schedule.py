"""Scheduled monthly reports: which reports, where they are stored, and when they are due.

``services.reports`` (environment: ``VA_REPORTS_<FIELD>``)::

    services:
      reports:
        dir: var/reports              # where they are stored (one folder per month)
        scopes: [city, district:saint-leu]   # default: the city and every district
        languages: [fr, en]
        formats: [pdf, xlsx]
        day_of_month: 2               # month M is due from day 2 of M+1 …
        hour: 6                       # … at 06:00 Europe/Paris (late data has arrived)
        catch_up_months: 12           # a month of the last 12 without its report is made too

``ville-autonome report --scheduled`` makes what is due (docs/reports.md, "Scheduled reports").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["fr", "en"]
Format = Literal["pdf", "xlsx", "csv"]


def _langs() -> list[Lang]:
    return ["fr", "en"]


def _formats() -> list[Format]:
    return ["pdf", "xlsx"]


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dir: str = "var/reports"
    scopes: list[str] | None = None  # None: the city and every district
    languages: list[Lang] = Field(default_factory=_langs, min_length=1)
    formats: list[Format] = Field(default_factory=_formats, min_length=1)
    day_of_month: int = Field(default=2, ge=1, le=28)
    hour: int = Field(default=6, ge=0, le=23)
    catch_up_months: int = Field(default=12, ge=1, le=120)
    check_every_s: float = Field(default=3600.0, ge=10, le=86_400)  # report --scheduled --watch
