"""Who fed whom: the links of the energy-flow diagram, from a scope's six flows. Pure.

The dashboard draws the flows of a scope (now, in W; over a period, in Wh) as a diagram whose
links go from a supply — each generation source, the grid (import), the battery (discharge) — to
a use — the load, the battery (charge), the grid (export). The engine gives the six flows and the
battery's charge from the grid (``charge_from_grid_wh`` of a period's metrics, the attribution of
docs/metrics.md); the links follow the engine's order of attribution:

- the battery's charge from the grid is the engine's ``Cg``; without it (flows now) the engine's
  rule ``Cg = clip(C − max(G − L, 0), 0, I)``: generation serves the load first, then the battery;
- the battery's discharge serves the load first, the rest is exported;
- the import not charging the battery serves the load;
- generation covers the rest of the load, then the battery's local charge, then the export.

Each generation link is split across the sources in proportion to their generation. A link is
only drawn above ``MIN_SHARE`` of the largest flow (a 3 W trickle beside 2 MW is noise).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SHARE = 0.001


@dataclass(frozen=True)
class Link:
    source: str  # a generation source (hydro, pv, wind, chp…), "grid" (import) or "battery" (discharge)
    target: str  # "load", "battery" (charge) or "grid" (export)
    value: float  # [W] now, [Wh] over a period


def _clip(x: float, low: float, high: float) -> float:
    return max(low, min(x, high))


def flow_links(
    generation_by_source: dict[str, float],
    load: float,
    charge: float,
    discharge: float,
    imported: float,
    exported: float,
    charge_from_grid: float | None = None,
) -> list[Link]:
    """The links of the diagram (module docstring); every argument ≥ 0, in one unit (W or Wh)."""
    gen = {k: max(v, 0.0) for k, v in generation_by_source.items() if v > 0}
    g = sum(gen.values())
    load, charge, discharge = max(load, 0.0), max(charge, 0.0), max(discharge, 0.0)
    imported, exported = max(imported, 0.0), max(exported, 0.0)
    if charge_from_grid is None:
        charge_from_grid = _clip(charge - max(g - load, 0.0), 0.0, imported)
    cg = _clip(charge_from_grid, 0.0, min(charge, imported))
    battery_to_load = min(discharge, load)
    battery_to_grid = min(discharge - battery_to_load, exported)
    grid_to_load = _clip(imported - cg, 0.0, load - battery_to_load)
    gen_to_load = _clip(load - battery_to_load - grid_to_load, 0.0, g)
    gen_to_battery = _clip(charge - cg, 0.0, g - gen_to_load)
    gen_to_grid = _clip(exported - battery_to_grid, 0.0, g - gen_to_load - gen_to_battery)
    links = [
        Link("grid", "load", grid_to_load),
        Link("grid", "battery", cg),
        Link("battery", "load", battery_to_load),
        Link("battery", "grid", battery_to_grid),
    ]
    for src, v in sorted(gen.items()):
        share = v / g
        links += [
            Link(src, "load", gen_to_load * share),
            Link(src, "battery", gen_to_battery * share),
            Link(src, "grid", gen_to_grid * share),
        ]
    largest = max(g, load, charge, discharge, imported, exported)
    return [link for link in links if link.value > MIN_SHARE * largest]
