"""The road to 2050: autonomy targets per scope and year, as the city voted them.

::

    targets:
      - scope: city
        self_sufficiency: {2030: 0.30, 2040: 0.55, 2050: 0.80}
      - scope: district:saint-leu
        self_sufficiency: {2030: 0.60, 2050: 1.0}

Each ``scope`` is ``city``, ``district:<id>`` or ``site:<id>`` of the configuration, at most once;
each target a year (2000–2100) and a share of the load met locally in [0, 1]. Between two years
the path is a straight line (``planning.trajectory``). Validated with the rest of the file: a bad
value or an unknown scope is reported with its file and line.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MIN_YEAR, MAX_YEAR = 2000, 2100


class ScopeTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: str = Field(max_length=80)
    self_sufficiency: dict[int, float] = Field(min_length=1, description="year → share of the load met locally")

    @field_validator("self_sufficiency")
    @classmethod
    def _check_points(cls, v: dict[int, float]) -> dict[int, float]:
        for year, share in v.items():
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise ValueError(f"year {year} is not in {MIN_YEAR}..{MAX_YEAR}")
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{year}: self-sufficiency {share} is not a share in [0, 1]")
        return dict(sorted(v.items()))


def scope_problem(scope: str, districts: set[str], sites: set[str]) -> str | None:
    """Why ``scope`` names nothing in the topology (None: it does)."""
    kind, _, ident = scope.partition(":")
    if scope == "city" or (kind == "district" and ident in districts) or (kind == "site" and ident in sites):
        return None
    if kind in ("district", "site") and ident:
        return f"unknown {kind} {ident!r}"
    return f"scope {scope!r} must be 'city', 'district:<id>' or 'site:<id>'"


def target_problems(
    targets: list[ScopeTarget], districts: set[str], sites: set[str], scheduled: list[str] | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Target scopes that name nothing in the topology or appear twice, and scheduled report
    scopes (``services.reports.scopes``) that name nothing: ``(path, reason)`` each."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for i, t in enumerate(targets):
        loc: tuple[str | int, ...] = ("targets", i, "scope")
        if t.scope in seen:
            problems.append((loc, f"scope {t.scope!r} has targets already"))
        seen.add(t.scope)
        if (why := scope_problem(t.scope, districts, sites)) is not None:
            problems.append((loc, why))
    for i, scope in enumerate(scheduled or []):
        if (why := scope_problem(scope, districts, sites)) is not None:
            problems.append((("services", "reports", "scopes", i), why))
    return problems
