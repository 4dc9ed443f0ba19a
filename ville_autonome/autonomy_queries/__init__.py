"""Read a :class:`storage.base.Store` and the topology into the autonomy engine's inputs.

Shared by the API (``GET /api/v1/autonomy``) and the ``report`` command::

    from ville_autonome.autonomy_queries import compute_autonomy
    result = compute_autonomy(store, config, "district:saint-leu", start_ms, end_ms, 900)

I/O lives here; the formulas live in :mod:`autonomy` (pure numpy).
"""

from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.autonomy_queries.live import live_flows
from ville_autonome.autonomy_queries.reading import (
    QUANTITIES_BY_ROLE,
    EnergyCache,
    compute_autonomy,
    device_energy,
    scope_inputs,
)
from ville_autonome.autonomy_queries.scopes import ScopeError, parse_scope, scope_sites

__all__ = [
    "QUANTITIES_BY_ROLE",
    "EnergyCache",
    "ScopeError",
    "TtlCache",
    "compute_autonomy",
    "device_energy",
    "live_flows",
    "parse_scope",
    "scope_inputs",
    "scope_sites",
]
