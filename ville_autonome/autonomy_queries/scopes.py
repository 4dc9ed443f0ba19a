"""Scopes: ``city``, ``district:<id>`` or ``site:<id>``, validated against the topology."""

from __future__ import annotations

from ville_autonome.configuration.topology import DistrictConfig, PlatformConfig, SiteConfig


class ScopeError(ValueError):
    """A scope that is malformed or names no district or site of the configuration."""


def parse_scope(scope: str) -> tuple[str, str | None]:
    """``"district:saint-leu"`` → ``("district", "saint-leu")``; ``"city"`` → ``("city", None)``."""
    if scope == "city":
        return "city", None
    kind, sep, ident = scope.partition(":")
    if not sep or kind not in ("district", "site") or not ident:
        raise ScopeError(f"scope {scope[:80]!r} must be 'city', 'district:<id>' or 'site:<id>'")
    return kind, ident


def scope_sites(config: PlatformConfig, scope: str) -> list[tuple[DistrictConfig, SiteConfig]]:
    """The (district, site) pairs of ``scope``; raises :class:`ScopeError` for an unknown id."""
    kind, ident = parse_scope(scope)
    pairs = config.sites()
    if kind == "city" or ident is None:
        return pairs
    if kind == "district":
        found = [(d, s) for d, s in pairs if d.id == ident]
        if not found and not any(d.id == ident for d in config.districts):
            known = ", ".join(d.id for d in config.districts)
            raise ScopeError(f"scope: unknown district {ident[:80]!r} (known: {known})")
        return found
    found = [(d, s) for d, s in pairs if s.id == ident]
    if not found:
        raise ScopeError(f"scope: unknown site {ident[:80]!r}")
    return found
