"""Load the YAML configuration, apply ``VA_*`` environment overrides, validate, and report
every problem as ``FILE:LINE: path.in[0].document: reason`` (``configuration.yaml_source``).

Passes, all reported together: YAML syntax (with its own line; nothing else can be said), then
structure and types (pydantic, mapped back to the YAML node's line) *and* cross-references
(``configuration.checks``: unique ids, known gateways, profiles and presets, ports, a source for
every production device), then production rules. Secret values never appear in a message.
Relative paths (``profiles_dirs``, a ``profile:`` given as a path) are relative to the file.
A ``VA_*`` variable that no setting reads is a warning naming the nearest known one (a typo
must not pass silently).
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ville_autonome.configuration.alerts import alert_problems, alert_settings_problems
from ville_autonome.configuration.checks import (
    PLACEHOLDER_SECRETS,
    ProfileCheck,
    production_problems,
    profile_reference,
    topology_problems,
)
from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.services import OVERRIDABLE_SECTIONS, SECRET_FIELDS
from ville_autonome.configuration.targets import target_problems
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.configuration.yaml_source import Loc, Problems, format_loc, parse_yaml

__all__ = ["ENV_PREFIX", "ProfileCheck", "format_loc", "load_config", "load_config_text"]

log = logging.getLogger(__name__)
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


def _absolute(cfg: PlatformConfig, base_dir: Path) -> None:
    """Relative profile folders and profile paths become relative to the configuration file."""
    cfg.profiles_dirs = [str(base_dir / d) for d in cfg.profiles_dirs]
    for _, _, dev in cfg.devices():
        if dev.profile:
            dev.profile = profile_reference(dev.profile, base_dir)


def load_config_text(
    text: str,
    *,
    source: str = "<config>",
    environ: Mapping[str, str] | None = None,
    profile_check: ProfileCheck | None = None,
    base_dir: Path | None = None,
    known_quantities: Collection[str] | None = None,
) -> PlatformConfig:
    """Parse and validate configuration text; ``source`` names it in error messages.

    ``profile_check`` tells the problems of a register profile (``configuration.checks``); without
    it, profiles are not checked (this package knows no profiles: ``commands.config_file`` passes
    the register catalogue's). ``base_dir`` anchors relative paths (default: the current folder).
    ``known_quantities``: the standard quantity names, checked in the alert rules (not checked without).
    """
    environ = os.environ if environ is None else environ
    base = base_dir if base_dir is not None else Path.cwd()
    doc = parse_yaml(text, source)
    if not isinstance(doc.data, dict):
        raise ConfigError([f"{source}:1: the document must be a mapping with 'city', 'districts', ..."])
    data: dict[str, Any] = doc.data
    applied = _env_overrides(data, environ)
    for warning in unknown_variables(environ):
        log.warning("%s", warning)

    def where(loc: Loc) -> str | None:
        if len(loc) >= 3 and loc[0] == "services" and (str(loc[1]), str(loc[2])) in applied:
            return f"environment variable {applied[(str(loc[1]), str(loc[2]))]}"
        if len(loc) >= 2 and loc[0] == "services" and (str(loc[1]), "") in applied:
            return f"environment variable {applied[(str(loc[1]), '')]}"
        return None

    problems = Problems(doc)
    cfg: PlatformConfig | None = None
    try:
        cfg = PlatformConfig.model_validate(data)
    except ValidationError as exc:
        problems.add_validation_error(exc, secret_fields=SECRET_FIELDS, where=where)
    cross = topology_problems(data, base, profile_check)
    cross += alert_problems(data, known_quantities)
    if cfg is not None:
        cross += production_problems(cfg) + _alert_settings_problems(cfg)
        cross += target_problems(
            cfg.targets, {d.id for d in cfg.districts}, {s.id for _, s in cfg.sites()}, cfg.services.reports.scopes
        )
    for loc, message in cross:
        if loc is None:
            problems.extend([message])
        else:
            problems.add(loc, message, where=where(loc))
    problems.raise_if_any()
    assert cfg is not None
    _absolute(cfg, base)
    return cfg


def _alert_settings_problems(cfg: PlatformConfig) -> list[tuple[Loc | None, str]]:
    """``services.alerts`` settings that cannot work, and placeholder secrets in production."""
    settings, production = cfg.services.alerts, cfg.services.environment == "production"
    problems: list[tuple[Loc | None, str]] = list(alert_settings_problems(settings, production))
    for name in ("webhook_secret", "smtp_password"):
        secret = getattr(settings, name)
        if production and secret is not None and secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            problems.append(
                (("services", "alerts", name), "a placeholder secret is refused in production: set a real one")
            )
    return problems


def load_config(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    profile_check: ProfileCheck | None = None,
    known_quantities: Collection[str] | None = None,
) -> PlatformConfig:
    """Load and validate the configuration file at ``path`` (``profile_check``, ``known_quantities``:
    see :func:`load_config_text`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such configuration file"]) from None
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read: {exc.strerror}"]) from None
    return load_config_text(
        text,
        source=str(p),
        environ=environ,
        profile_check=profile_check,
        base_dir=p.resolve().parent,
        known_quantities=known_quantities,
    )
