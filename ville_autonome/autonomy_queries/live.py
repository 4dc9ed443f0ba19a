"""Flows now of every scope, from the store's latest values (the engine's rules: ``autonomy.live``).

A device's power counts as *now* when it is good, not older than ``max(FRESH_S, 3 × its poll
interval)``, and its gateway does not report it offline; otherwise the device is missing and the
scopes holding it are ``partial`` (docs/api.md, "Flows now").
"""

from __future__ import annotations

from collections.abc import Iterable

from ville_autonome.autonomy import BatteryState
from ville_autonome.autonomy.live import DevicePower, FlowsNow, SitePowers, flows_now
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.series.values import LatestValue
from ville_autonome.storage.base import Store

FRESH_S = 120.0  # a power reading older than this (or 3 poll intervals) is not "now"
POWER = "active_power_w"


def fresh_for_s(device: DeviceConfig) -> float:
    return max(FRESH_S, 3.0 * device.poll_interval_s)


def oldest_fresh_s(config: PlatformConfig) -> float:
    """How far back a power reading may still count as now, for the slowest device [s]."""
    return max(fresh_for_s(dev) for _, _, dev in config.devices()) if config.sites() else FRESH_S


def live_flows(store: Store, config: PlatformConfig, now_ms: int) -> list[FlowsNow]:
    """Flows now of the city, then of every district, then of every site."""
    latest = store.latest(since_ms=now_ms - int(oldest_fresh_s(config) * 1000))
    offline = {h.device for h in store.health() if not h.online}
    return flows_from_latest(latest, offline, config, now_ms)


def flows_from_latest(
    latest: Iterable[LatestValue], offline: set[str], config: PlatformConfig, now_ms: int
) -> list[FlowsNow]:
    """:func:`live_flows` from latest values already read (the API's live feed keeps them in
    memory) and the devices their gateways report ``offline``."""
    power: dict[str, tuple[float, int]] = {}
    soc: dict[str, float] = {}
    for v in latest:
        if v.value is None or str(v.quality) != "good":
            continue
        if v.quantity == POWER:
            power[v.context.device] = (v.value, v.ts_ms)
        elif v.quantity == "soc_pct":
            soc[v.context.device] = v.value

    def now_w(dev: DeviceConfig) -> float | None:
        got = power.get(dev.id)
        if got is None or dev.id in offline or now_ms - got[1] > fresh_for_s(dev) * 1000:
            return None
        return got[0]

    sites: dict[str, SitePowers] = {}
    for district, site in config.sites():
        sites[site.id] = SitePowers(
            site.id,
            district.id,
            [DevicePower(d.id, d.role, now_w(d), d.source, d.rated_power_w) for d in site.devices],
            [
                BatteryState(d.id, d.capacity_wh, soc.get(d.id))
                for d in site.devices
                if d.role == "storage" and d.capacity_wh
            ],
        )
    scopes = [("city", list(sites.values()))]
    scopes += [(f"district:{d.id}", [sites[s.id] for s in d.sites]) for d in config.districts]
    scopes += [(f"site:{site_id}", [p]) for site_id, p in sites.items()]
    return [flows_now(scope, members, now_ms) for scope, members in scopes]
