"""Load the YAML configuration, apply ``VA_*`` environment overrides, validate, and report
every problem as ``FILE:LINE: path.in[0].document: reason``.

Three passes: YAML syntax (with its own line), structure and types (pydantic, mapped back to the
YAML node's line), then cross-references (unique ids, known gateways and profiles, a source for
every production device). Secret values never appear in a message. A ``VA_*`` variable that no
setting reads is a warning naming the nearest known one (a typo must not pass silently).
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.services import OVERRIDABLE_SECTIONS, SECRET_FIELDS
from ville_autonome.configuration.topology import PlatformConfig

log = logging.getLogger(__name__)

Loc = tuple[str | int, ...]
ENV_PREFIX = "VA_"
# VA_* variables read elsewhere than services.<section>.<field>: the configuration file, the log
# level (commands.main), and the deployment's own (docker-compose.yml's image, Grafana's datasource)
OTHER_VARIABLES = frozenset(
    {"VA_CONFIG", "VA_ENVIRONMENT", "VA_LOG_LEVEL", "VA_IMAGE", "VA_INFLUXDB_BUCKET", "VA_INFLUXDB_TOKEN"}
)


def known_variables() -> frozenset[str]:
    """Every ``VA_*`` environment variable the platform reads."""
    fields = {
        f"{ENV_PREFIX}{section}_{name}".upper()
        for section, model in OVERRIDABLE_SECTIONS.items()
        for name in model.model_fields
    }
    return frozenset(fields) | OTHER_VARIABLES


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One warning per ``VA_*`` variable nothing reads, naming the nearest known one."""
    known = known_variables()
    out = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]}?" if near else ""
            out.append(f"environment variable {name} is not a setting of the platform and is ignored{hint}")
    return out


# Knowledge from outside this package that validation uses, passed in by the caller.
ProfileCheck = Callable[[str], bool]


def format_loc(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


class _Lines:
    """Line numbers of every node of a YAML document, addressed by path."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, loc: Loc) -> int | None:
        node = self.root
        best = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            if node is None:
                break
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == part:
                        nxt = value
                        best = key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                nxt = node.value[part]
                best = nxt.start_mark.line + 1
            if nxt is None:
                break
            node = nxt
        return best


def _describe(err: ErrorDetails) -> str:
    loc = err["loc"]
    field = str(loc[-1]) if loc else ""
    secret = field in SECRET_FIELDS
    kind = err["type"]
    given = err.get("input")
    if kind == "literal_error" and not secret:
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = ", ".join(o.strip().strip("'") for o in expected.replace(" or ", ", ").split(","))
        return f"{given!r} is not one of {options}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (not part of the configuration schema)"
    if kind == "string_pattern_mismatch" and not secret:
        return f"{given!r} is not a valid identifier (lower-case letters, digits, '-' and '_', at most 64)"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if secret or isinstance(given, dict | list):
        return msg
    return f"{msg} (got {given!r})"


def _scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _env_overrides(doc: dict[str, Any], environ: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """Apply ``VA_<SECTION>_<FIELD>`` variables to ``doc['services']``; return what was applied."""
    applied: dict[tuple[str, str], str] = {}
    services = doc.setdefault("services", {})
    if not isinstance(services, dict):
        return applied
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        if rest == "environment":
            services["environment"] = value
            applied[("environment", "")] = name
            continue
        for section, model in OVERRIDABLE_SECTIONS.items():
            if rest.startswith(section + "_"):
                field = rest[len(section) + 1 :]
                if field in model.model_fields:
                    target = services.setdefault(section, {})
                    if isinstance(target, dict):
                        # secrets stay verbatim; other values are YAML scalars (numbers, booleans, lists)
                        target[field] = value if field in SECRET_FIELDS else _scalar(value)
                        applied[(section, field)] = name
                break
    return applied


def _cross_checks(cfg: PlatformConfig, profile_exists: ProfileCheck | None) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    gateway_ids: set[str] = set()
    for gi, gw in enumerate(cfg.gateways):
        if gw.id in gateway_ids:
            problems.append((("gateways", gi, "id"), f"duplicate gateway id {gw.id!r}"))
        gateway_ids.add(gw.id)
    seen: dict[str, str] = {}
    endpoints: dict[tuple[str, int], str] = {}
    for di, district in enumerate(cfg.districts):
        if district.id in seen:
            problems.append((("districts", di, "id"), f"duplicate id {district.id!r}"))
        seen.setdefault(district.id, "district")
        for si, site in enumerate(district.sites):
            sloc: Loc = ("districts", di, "sites", si)
            if site.id in seen:
                problems.append(((*sloc, "id"), f"duplicate id {site.id!r} (already a {seen[site.id]})"))
            seen.setdefault(site.id, "site")
            if site.gateway not in gateway_ids:
                known = ", ".join(sorted(gateway_ids)) or "none declared"
                problems.append(((*sloc, "gateway"), f"unknown gateway {site.gateway!r} (known: {known})"))
            grid_meters = 0
            for vi, dev in enumerate(site.devices):
                dloc: Loc = (*sloc, "devices", vi)
                if dev.id in seen:
                    problems.append(((*dloc, "id"), f"duplicate id {dev.id!r} (already a {seen[dev.id]})"))
                seen.setdefault(dev.id, "device")
                if dev.role == "production" and dev.source is None:
                    problems.append(((*dloc, "source"), "a production device needs a source (hydro, pv, wind, chp)"))
                if dev.role != "production" and dev.source is not None:
                    problems.append(((*dloc, "source"), f"only production devices have a source, not {dev.role}"))
                if dev.role == "grid":
                    grid_meters += 1
                    if grid_meters > 1:
                        problems.append(((*dloc, "role"), f"site {site.id!r} has more than one grid connection point"))
                if dev.protocol in ("modbus-tcp", "modbus-rtu"):
                    if not dev.profile:
                        problems.append(((*dloc, "profile"), f"a {dev.protocol} device needs a register profile"))
                    elif profile_exists is not None and not profile_exists(dev.profile):
                        problems.append(((*dloc, "profile"), f"unknown register profile {dev.profile!r}"))
                    if not dev.address:
                        problems.append(((*dloc, "address"), f"a {dev.protocol} device needs an address"))
                if dev.protocol == "modbus-tcp" and dev.address:
                    host, _, port = dev.address.rpartition(":")
                    if not host or not port.isdigit() or not 0 < int(port) < 65536:
                        problems.append(((*dloc, "address"), f"{dev.address!r} is not HOST:PORT"))
                    else:
                        key = (dev.address, dev.unit_id)
                        if key in endpoints:
                            problems.append(
                                (
                                    (*dloc, "unit_id"),
                                    f"{dev.address} unit {dev.unit_id} is already {endpoints[key]!r}",
                                )
                            )
                        endpoints[key] = dev.id
                if dev.protocol == "mqtt" and not dev.topic:
                    problems.append(((*dloc, "topic"), "an mqtt device needs a topic"))
    return problems


PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "password", "secret", "admin", "token", "xxx"}
)


def _production_checks(cfg: PlatformConfig) -> list[tuple[Loc, str]]:
    """In production, placeholder secrets are refused (never echoing their values)."""
    if cfg.services.environment != "production":
        return []
    problems: list[tuple[Loc, str]] = []
    svc = cfg.services
    secrets = {
        ("services", "mqtt", "password"): svc.mqtt.password,
        ("services", "store", "token"): svc.store.token,
        ("services", "store", "password"): svc.store.password,
    }
    for loc, secret in secrets.items():
        if secret is not None and secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            problems.append((loc, "a placeholder secret is refused in production: set a real one"))
    return problems


def load_config_text(
    text: str,
    *,
    source: str = "<config>",
    environ: Mapping[str, str] | None = None,
    profile_exists: ProfileCheck | None = None,
) -> PlatformConfig:
    """Parse and validate configuration text; ``source`` names it in error messages.

    ``profile_exists`` answers whether a register profile name is known; without it, profile
    names are not checked (this package knows no profiles: ``commands.config_file`` passes the
    register catalogue's check).
    """
    environ = os.environ if environ is None else environ
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError([f"{at}: YAML syntax error: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: YAML error: {exc}"]) from None
    if not isinstance(doc, dict):
        raise ConfigError([f"{source}:1: the document must be a mapping with 'city', 'districts', ..."])
    lines = _Lines(root)
    applied = _env_overrides(doc, environ)
    for warning in unknown_variables(environ):
        log.warning("%s", warning)

    def where(loc: Loc) -> str:
        if len(loc) >= 3 and loc[0] == "services" and (str(loc[1]), str(loc[2])) in applied:
            return f"environment variable {applied[(str(loc[1]), str(loc[2]))]}"
        if len(loc) >= 2 and loc[0] == "services" and (str(loc[1]), "") in applied:
            return f"environment variable {applied[(str(loc[1]), '')]}"
        line = lines.line(loc)
        return f"{source}:{line}" if line else source

    try:
        cfg = PlatformConfig.model_validate(doc)
    except ValidationError as exc:
        problems = [f"{where(e['loc'])}: {format_loc(e['loc'])}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(problems) from None
    cross = _cross_checks(cfg, profile_exists) + _production_checks(cfg)
    if cross:
        raise ConfigError([f"{where(loc)}: {format_loc(loc)}: {msg}" for loc, msg in cross])
    return cfg


def load_config(
    path: str | Path, *, environ: Mapping[str, str] | None = None, profile_exists: ProfileCheck | None = None
) -> PlatformConfig:
    """Load and validate the configuration file at ``path`` (``profile_exists``: see :func:`load_config_text`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such configuration file"]) from None
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read: {exc.strerror}"]) from None
    return load_config_text(text, source=str(p), environ=environ, profile_exists=profile_exists)
