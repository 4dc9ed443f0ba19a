"""What a rule watches: its subjects in the topology, and the labels each alarm carries (pure).

Every alarm is labelled with the ids of where it is — ``device``, ``site``, ``district``,
``gateway`` as far as they apply — plus ``rule``, ``severity``, ``scope`` and the rule's own
labels. Notifications are grouped by labels; silences match them; the page links by them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ville_autonome.configuration.alerts import AlertRule
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig


@dataclass(frozen=True, slots=True)
class Subject:
    id: str  # a device, gateway, site or district id, or "city"
    scope: str
    labels: dict[str, str]
    device: DeviceConfig | None = None


# kinds that watch one kind of device whatever ``match`` says: a PV inverter's SunSpec state 2 is
# "sleeping" at night, not a hydro plant's trip; only a battery has a state of charge
KIND_DEVICES = {"hydro_stopped": ("source", "hydro"), "battery_soc": ("role", "storage")}


def _device_matches(rule: AlertRule, district: str, site: str, gateway: str, dev: DeviceConfig) -> bool:
    m = rule.match
    if rule.kind in KIND_DEVICES:
        attribute, wanted = KIND_DEVICES[rule.kind]
        if getattr(dev, attribute) != wanted:
            return False
    return (
        (not m.devices or dev.id in m.devices)
        and (not m.sites or site in m.sites)
        and (not m.districts or district in m.districts)
        and (not m.gateways or gateway in m.gateways)
        and (not m.roles or dev.role in m.roles)
        and (not m.sources or dev.source in m.sources)
    )


def subjects(rule: AlertRule, config: PlatformConfig) -> list[Subject]:
    """The subjects of ``rule`` in ``config``, each with its location labels."""
    m = rule.match
    scope = rule.watches
    out: list[Subject] = []
    if scope == "device":
        for d, s, dev in config.devices():
            if _device_matches(rule, d.id, s.id, s.gateway, dev):
                labels = {"device": dev.id, "site": s.id, "district": d.id, "gateway": s.gateway, "role": dev.role}
                if dev.source:
                    labels["source"] = dev.source
                out.append(Subject(dev.id, scope, labels, dev))
    elif scope == "site":
        for d, s in config.sites():
            wanted = (not m.sites or s.id in m.sites) and (not m.districts or d.id in m.districts)
            if wanted and (not m.gateways or s.gateway in m.gateways):
                out.append(Subject(s.id, scope, {"site": s.id, "district": d.id, "gateway": s.gateway}))
    elif scope == "district":
        for d in config.districts:
            if not m.districts or d.id in m.districts:
                out.append(Subject(d.id, scope, {"district": d.id}))
    elif scope == "gateway":
        for g in config.gateways:
            districts = sorted({d.id for d, s in config.sites() if s.gateway == g.id})
            if (not m.gateways or g.id in m.gateways) and (not m.districts or set(m.districts) & set(districts)):
                labels = {"gateway": g.id}
                if len(districts) == 1:
                    labels["district"] = districts[0]
                out.append(Subject(g.id, scope, labels))
    else:
        out.append(Subject("city", "city", {}))
    return out


def scope_name(subject: Subject) -> str:
    """The autonomy scope of a site, district or city subject (``site:<id>``, ``district:<id>``, ``city``)."""
    return "city" if subject.scope == "city" else f"{subject.scope}:{subject.id}"
