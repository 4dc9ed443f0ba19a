"""Cross-reference checks of a configuration: what no single field can say alone.

They read the document as it is (after the environment overrides), not the validated model, so
that they also run when other parts of the file have schema errors: every problem of a file is
reported at once. A device that does not validate on its own is skipped here (its schema errors
are reported already). Each check yields ``(path, reason)``.

Knowledge from outside this package arrives as a :data:`ProfileCheck` (``commands.config_file``
passes the register catalogue's): the configuration knows no register profiles itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ville_autonome.configuration import mqtt_presets
from ville_autonome.configuration.services import ServiceSettings
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.configuration.yaml_source import Loc

# The problems of the register profile a device names (a catalogue name or a path), searched in
# the given folders first: [] if it is usable. The first line completes the device's own line
# (``FILE:LINE: districts[0]…profile: <line>``); the others are the profile file's own
# ``FILE:LINE: path: reason`` lines, reported as they are.
ProfileCheck = Callable[[str, Sequence[str]], list[str]]

Problem = tuple[Loc | None, str]  # None: a line already formatted (another file's problem)
MODBUS_PROTOCOLS = ("modbus-tcp", "modbus-rtu")


@dataclass(frozen=True, slots=True)
class _Device:
    loc: Loc
    site_id: str
    device: DeviceConfig


def _items(node: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    value = node.get(key) if isinstance(node, dict) else None
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _lenient(raw: dict[str, Any]) -> DeviceConfig | None:
    """The device, its fields with schema errors left at their defaults (``None`` if one is required)."""
    try:
        return DeviceConfig.model_validate(raw)
    except ValidationError as exc:
        bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
    try:
        return DeviceConfig.model_validate({k: v for k, v in raw.items() if k not in bad})
    except ValidationError:
        return None


def _devices(doc: dict[str, Any]) -> Iterator[_Device]:
    for di, district in _items(doc, "districts"):
        for si, site in _items(district, "sites"):
            for vi, raw in _items(site, "devices"):
                dev = _lenient(raw)
                if dev is not None:
                    yield _Device(("districts", di, "sites", si, "devices", vi), str(site.get("id")), dev)


def is_profile_path(name: str) -> bool:
    """A ``profile:`` given as a path to a YAML file rather than a catalogue name."""
    return "/" in name or name.endswith((".yaml", ".yml"))


def profile_reference(name: str, base_dir: Path) -> str:
    """A profile name as it is, a relative profile path made relative to the configuration's folder."""
    return str(base_dir / name) if is_profile_path(name) else name


def _ids(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    gateways: set[str] = set()
    for gi, gw in _items(doc, "gateways"):
        if gw.get("id") in gateways:
            problems.append((("gateways", gi, "id"), f"duplicate gateway id {gw.get('id')!r}"))
        gateways.add(str(gw.get("id")))
    seen: dict[str, str] = {}
    for di, district in _items(doc, "districts"):
        if district.get("id") in seen:
            problems.append((("districts", di, "id"), f"duplicate id {district.get('id')!r}"))
        seen.setdefault(str(district.get("id")), "district")
        for si, site in _items(district, "sites"):
            sloc: Loc = ("districts", di, "sites", si)
            if site.get("id") in seen:
                problems.append(((*sloc, "id"), f"duplicate id {site.get('id')!r} (already a {seen[site['id']]})"))
            seen.setdefault(str(site.get("id")), "site")
            gateway = site.get("gateway")
            if isinstance(gateway, str) and gateway not in gateways:
                known = ", ".join(sorted(gateways)) or "none declared"
                problems.append(((*sloc, "gateway"), f"unknown gateway {gateway!r} (known: {known})"))
            for vi, dev in _items(site, "devices"):
                if dev.get("id") in seen:
                    msg = f"duplicate id {dev.get('id')!r} (already a {seen[dev['id']]})"
                    problems.append(((*sloc, "devices", vi, "id"), msg))
                seen.setdefault(str(dev.get("id")), "device")
    return problems


def _roles(devices: list[_Device]) -> list[Problem]:
    problems: list[Problem] = []
    grid_points: dict[str, int] = {}
    for d in devices:
        dev = d.device
        if dev.role == "production" and dev.source is None:
            problems.append(((*d.loc, "source"), "a production device needs a source (hydro, pv, wind, chp)"))
        if dev.role != "production" and dev.source is not None:
            problems.append(((*d.loc, "source"), f"only production devices have a source, not {dev.role}"))
        if dev.role == "grid":
            grid_points[d.site_id] = grid_points.get(d.site_id, 0) + 1
            if grid_points[d.site_id] > 1:
                problems.append(((*d.loc, "role"), f"site {d.site_id!r} has more than one grid connection point"))
    return problems


def _modbus(
    devices: list[_Device], profile_check: ProfileCheck | None, dirs: Sequence[str], base_dir: Path
) -> list[Problem]:
    problems: list[Problem] = []
    endpoints: dict[tuple[str, int], str] = {}
    checked: dict[str, list[str]] = {}
    for d in devices:
        dev = d.device
        if dev.protocol not in MODBUS_PROTOCOLS:
            continue
        if not dev.profile:
            problems.append(((*d.loc, "profile"), f"a {dev.protocol} device needs a register profile"))
        elif profile_check is not None:
            first = dev.profile not in checked
            reference = profile_reference(dev.profile, base_dir)
            found = checked.setdefault(dev.profile, profile_check(reference, dirs) if first else [])
            if found:
                problems.append(((*d.loc, "profile"), found[0]))
                if first:
                    problems.extend((None, line) for line in found[1:])
        if not dev.address:
            problems.append(((*d.loc, "address"), f"a {dev.protocol} device needs an address"))
        if dev.protocol == "modbus-rtu" and not 1 <= dev.unit_id <= 247:
            problems.append(((*d.loc, "unit_id"), f"a serial line addresses units 1…247, not {dev.unit_id}"))
        if dev.protocol == "modbus-tcp" and dev.address:
            host, _, port = dev.address.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                problems.append(((*d.loc, "address"), f"{dev.address!r} is not HOST:PORT"))
                continue
            key = (dev.address, dev.unit_id)
            if key in endpoints:
                msg = f"{dev.address} unit {dev.unit_id} is already {endpoints[key]!r}"
                problems.append(((*d.loc, "unit_id"), msg))
            endpoints[key] = dev.id
    return problems


def _mqtt(devices: list[_Device]) -> list[Problem]:
    problems: list[Problem] = []
    owners: dict[str, str] = {}
    for d in devices:
        dev = d.device
        if dev.protocol != "mqtt":
            continue
        ways = sum((dev.preset is not None, bool(dev.topics), bool(dev.fields)))
        if dev.preset is not None and dev.preset not in mqtt_presets.PRESETS:
            known = ", ".join(mqtt_presets.preset_names())
            problems.append(((*d.loc, "preset"), f"unknown MQTT preset {dev.preset!r} (known: {known})"))
            continue
        if ways > 1:
            problems.append(((*d.loc,), "an mqtt device has one mapping: 'preset', 'topics' or 'fields'"))
            continue
        if not dev.topic:
            problems.append(((*d.loc, "topic"), "an mqtt device needs a topic"))
        # a topic without a mapping is a device the gateway cannot read (it says so at start);
        # the ingest and the API know such a device by its id alone
        for t in dev.mqtt_topics():
            if t.topic in owners:
                problems.append(((*d.loc, "topic"), f"topic {t.topic!r} is already read for {owners[t.topic]!r}"))
            owners.setdefault(t.topic, dev.id)
            if any(c in t.topic for c in "+#"):
                problems.append(((*d.loc, "topic"), f"{t.topic!r}: a device topic has no wildcards"))
    return problems


def _folders(doc: dict[str, Any], base_dir: Path) -> list[Problem]:
    dirs = doc.get("profiles_dirs")
    if not isinstance(dirs, list):
        return []
    return [
        (("profiles_dirs", i), f"{d!r} is not a folder ({base_dir / d})")
        for i, d in enumerate(dirs)
        if isinstance(d, str) and not (base_dir / d).is_dir()
    ]


def topology_problems(doc: dict[str, Any], base_dir: Path, profile_check: ProfileCheck | None = None) -> list[Problem]:
    """Every cross-reference problem of the raw document ``doc`` (see the module docstring)."""
    dirs = doc.get("profiles_dirs")
    folders = [str(base_dir / d) for d in dirs if isinstance(d, str)] if isinstance(dirs, list) else []
    devices = list(_devices(doc))
    return (
        _folders(doc, base_dir)
        + _ids(doc)
        + _roles(devices)
        + _modbus(devices, profile_check, folders, base_dir)
        + _mqtt(devices)
    )


PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "password", "secret", "admin", "token", "xxx"}
)


def production_problems(cfg: PlatformConfig) -> list[Problem]:
    """In production, placeholder secrets are refused (never echoing their values)."""
    svc: ServiceSettings = cfg.services
    if svc.environment != "production":
        return []
    secrets = {
        ("services", "mqtt", "password"): svc.mqtt.password,
        ("services", "store", "token"): svc.store.token,
        ("services", "store", "password"): svc.store.password,
    }
    return [
        (loc, "a placeholder secret is refused in production: set a real one")
        for loc, secret in secrets.items()
        if secret is not None and secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
    ]
