"""The ``alerts:`` section (rules) and ``services.alerts`` (the evaluator's settings); docs/alerts.md.

A rule names a **kind** of condition, the **scope** of what it watches (device, gateway, site,
district or city), a **severity** (critical, warning, info), a ``for:`` duration (the condition
must hold that long before the alarm fires), **labels**, an optional ``match:`` narrowing the
subjects (devices, sites, districts, gateways, roles, sources) and the kind's own parameters::

    alerts:
      rules:
        - id: device-silent
          kind: device_silent
          severity: critical
          for: 30s
          after_s: 60
          labels: {team: operations}

The models accept every parameter on every rule; :func:`alert_problems` then reports, with the
rule's line, what no single field can say: a parameter the kind does not take or misses, a scope
the kind cannot watch, an unknown device, site, district or gateway in ``match``, a duplicate id,
an unknown quantity (``known_quantities``, passed in: this package knows no quantities).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Severity = Literal["critical", "warning", "info"]
AlertScope = Literal["device", "gateway", "site", "district", "city"]
RuleKind = Literal[
    "device_silent",
    "gateway_offline",
    "gateway_backlog",
    "value_out_of_range",
    "battery_soc",
    "hydro_stopped",
    "implausible_readings",
    "unbalanced_site",
    "low_coverage",
    "ingest_lag",
    "dead_letters",
    "self_sufficiency_below",
]
GroupLabel = Literal["rule", "severity", "scope", "district", "site", "gateway", "device"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
LABEL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")

# what each kind watches, and the parameters it takes (every other parameter is refused)
KIND_SCOPES: dict[str, tuple[str, ...]] = {
    "device_silent": ("device",),
    "gateway_offline": ("gateway",),
    "gateway_backlog": ("gateway",),
    "value_out_of_range": ("device",),
    "battery_soc": ("device",),
    "hydro_stopped": ("device",),
    "implausible_readings": ("device",),
    "unbalanced_site": ("site",),
    "low_coverage": ("city", "district", "site"),
    "ingest_lag": ("city",),
    "dead_letters": ("city",),
    "self_sufficiency_below": ("district", "city", "site"),
}
KIND_PARAMS: dict[str, frozenset[str]] = {
    "device_silent": frozenset({"after_s"}),
    "gateway_offline": frozenset({"after_s"}),
    "gateway_backlog": frozenset({"max_envelopes", "max_age_s"}),
    "value_out_of_range": frozenset({"quantity", "minimum", "maximum", "nominal", "tolerance_pct", "max_value_age_s"}),
    "battery_soc": frozenset({"below", "above", "max_value_age_s"}),
    "hydro_stopped": frozenset({"max_value_age_s"}),
    "implausible_readings": frozenset({"window_s"}),
    "unbalanced_site": frozenset({"window_s"}),
    "low_coverage": frozenset({"below", "window_s"}),
    "ingest_lag": frozenset({"after_s"}),
    "dead_letters": frozenset({"per_minute_above"}),
    "self_sufficiency_below": frozenset({"below"}),
}
PARAMS = frozenset().union(*KIND_PARAMS.values())
# a kind whose subjects are not devices takes no device filters
DEVICE_FILTERS = ("devices", "roles", "sources")
DEFAULT_AFTER_S = {"device_silent": 60.0, "gateway_offline": 60.0, "ingest_lag": 120.0}
DEFAULT_WINDOW_S = 3600.0
DEFAULT_VALUE_AGE_S = 120.0

_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)d)?\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$"
)


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"5m"``, ``"1h30m"``, ``"2d"``; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30s, 5m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)) and any(m.groups()):
        d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = d * 86_400 + h * 3600 + mi * 60 + s
    else:
        raise ValueError("not a duration (such as 30s, 5m, 1h30m, 2d or a number of seconds)")
    if not 0 <= seconds <= 30 * 86_400:
        raise ValueError("must be between 0 s and 30 days")
    return seconds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RuleMatch(_Model):
    """Subjects a rule watches; empty lists mean every one. A device matches when it is listed (or
    no device is listed), is in a listed site, district, behind a listed gateway, of a listed role
    and source."""

    devices: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    gateways: list[str] = Field(default_factory=list)
    roles: list[Literal["production", "consumption", "storage", "grid"]] = Field(default_factory=list)
    sources: list[Literal["hydro", "pv", "wind", "chp"]] = Field(default_factory=list)


class AlertRule(_Model):
    id: str = Field(pattern=SLUG)
    kind: RuleKind
    severity: Severity = "warning"
    for_s: float = Field(default=0.0, alias="for", description="the condition must hold this long before it fires")
    scope: AlertScope | None = None  # default: the kind's first scope
    labels: dict[str, str] = Field(default_factory=dict)
    description: str = Field(default="", max_length=500)
    match: RuleMatch = Field(default_factory=RuleMatch)
    # the kinds' parameters (KIND_PARAMS says which kind takes which)
    after_s: float | None = Field(default=None, gt=0, le=30 * 86_400)
    max_envelopes: int | None = Field(default=None, ge=1)
    max_age_s: float | None = Field(default=None, gt=0)
    quantity: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,64}$")
    minimum: float | None = None
    maximum: float | None = None
    nominal: float | None = None
    tolerance_pct: float | None = Field(default=None, gt=0, le=100)
    max_value_age_s: float | None = Field(default=None, gt=0, le=86_400)
    below: float | None = None
    above: float | None = None
    window_s: float | None = Field(default=None, ge=60, le=7 * 86_400)
    per_minute_above: float | None = Field(default=None, ge=0)

    @field_validator("for_s", mode="before")
    @classmethod
    def _duration(cls, v: object) -> float:
        return parse_duration(v)

    @field_validator("labels")
    @classmethod
    def _label_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not LABEL_NAME.match(name):
                raise ValueError(f"label name {name!r} must be lower-case letters, digits and '_'")
        return v

    @property
    def watches(self) -> str:
        """The scope of the rule's subjects."""
        return self.scope or KIND_SCOPES[self.kind][0]

    def param(self, name: str, default: float) -> float:
        value = getattr(self, name)
        return default if value is None else float(value)


class AlertRules(_Model):
    rules: list[AlertRule] = Field(default_factory=list)

    def rule(self, rule_id: str) -> AlertRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class AlertSettings(_Model):
    """``services.alerts``: the ``ville-autonome alerts`` evaluator and its notifications.
    Every field can be overridden by ``VA_ALERTS_<FIELD>`` (secrets: ``VA_ALERTS_WEBHOOK_SECRET``,
    ``VA_ALERTS_SMTP_PASSWORD``)."""

    evaluation_interval_s: float = Field(default=5.0, ge=0.2, le=60)
    quality_interval_s: float = Field(default=60.0, ge=1, le=3600, description="data-quality and autonomy rules")
    lease_ttl_s: float = Field(default=30.0, ge=2, le=600, description="a silent evaluator is replaced after this")
    status_file: str | None = None  # its health as JSON, for va-healthcheck status FILE
    base_url: str | None = Field(default=None, description="the dashboard's URL, for links in notifications")
    # grouping: one message per group per interval (like Alertmanager's group_by/group_wait/group_interval)
    group_by: list[GroupLabel] = Field(default_factory=lambda: list[GroupLabel](["district"]))
    group_wait_s: float = Field(default=5.0, ge=0, le=3600)
    group_interval_s: float = Field(default=60.0, ge=0, le=86_400)
    notify_resolved: bool = True
    # retries of every channel: backoff doubling from retry_backoff_s up to retry_max_backoff_s, then dead letter
    retry_max_attempts: int = Field(default=8, ge=1, le=100)
    retry_backoff_s: float = Field(default=2.0, gt=0, le=3600)
    retry_max_backoff_s: float = Field(default=300.0, gt=0, le=86_400)
    # webhook: POST of the JSON message, signed with HMAC-SHA256 (header X-VA-Signature)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    webhook_secret: SecretStr | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # e-mail over SMTP (STARTTLS unless smtp_starttls is false)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: str | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    email_from: str | None = None
    email_to: list[str] = Field(default_factory=list)
    # MQTT: the message on {root}/v1/alarms (QoS 1, not retained)
    mqtt: bool = True


SECRET_FIELDS = frozenset({"webhook_secret", "smtp_password"})

# ------------------------------------------------------------------ cross-checks of the raw document

Loc = tuple[str | int, ...]


def _items(node: Any, key: str) -> list[tuple[int, Any]]:
    value = node.get(key) if isinstance(node, dict) else None
    return list(enumerate(value)) if isinstance(value, list) else []


def _topology_ids(doc: dict[str, Any]) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {"devices": set(), "sites": set(), "districts": set(), "gateways": set()}
    for _, gw in _items(doc, "gateways"):
        if isinstance(gw, dict):
            ids["gateways"].add(str(gw.get("id")))
    for _, district in _items(doc, "districts"):
        if not isinstance(district, dict):
            continue
        ids["districts"].add(str(district.get("id")))
        for _, site in _items(district, "sites"):
            if not isinstance(site, dict):
                continue
            ids["sites"].add(str(site.get("id")))
            for _, dev in _items(site, "devices"):
                if isinstance(dev, dict):
                    ids["devices"].add(str(dev.get("id")))
    return ids


def _rule_problems(
    loc: Loc, raw: dict[str, Any], ids: dict[str, set[str]], quantities: Collection[str] | None
) -> Iterator[tuple[Loc, str]]:
    kind = raw.get("kind")
    if kind not in KIND_PARAMS:
        return  # the schema reports it
    for name in sorted(PARAMS & set(raw) - KIND_PARAMS[kind]):
        takes = ", ".join(sorted(KIND_PARAMS[kind])) or "none"
        yield (*loc, name), f"a {kind} rule does not take {name} (it takes: {takes})"
    scope = raw.get("scope")
    if isinstance(scope, str) and scope not in KIND_SCOPES[kind]:
        yield (*loc, "scope"), f"a {kind} rule watches {' or '.join(KIND_SCOPES[kind])}, not {scope}"
    if kind == "gateway_backlog" and raw.get("max_envelopes") is None and raw.get("max_age_s") is None:
        yield loc, "a gateway_backlog rule needs max_envelopes or max_age_s"
    if kind == "value_out_of_range":
        if raw.get("quantity") is None:
            yield loc, "a value_out_of_range rule needs a quantity"
        elif quantities is not None and raw["quantity"] not in quantities:
            yield (*loc, "quantity"), f"unknown quantity {raw['quantity']!r}"
        bounds = raw.get("minimum") is not None or raw.get("maximum") is not None
        relative = raw.get("nominal") is not None or raw.get("tolerance_pct") is not None
        if relative and (raw.get("nominal") is None or raw.get("tolerance_pct") is None):
            yield loc, "nominal and tolerance_pct go together"
        elif not bounds and not relative:
            yield loc, "a value_out_of_range rule needs minimum, maximum, or nominal with tolerance_pct"
        elif bounds and relative:
            yield loc, "give minimum/maximum or nominal with tolerance_pct, not both"
    if kind == "battery_soc" and raw.get("below") is None and raw.get("above") is None:
        yield loc, "a battery_soc rule needs below or above [%]"
    if kind in ("self_sufficiency_below",) and raw.get("below") is None:
        yield loc, f"a {kind} rule needs below (a ratio in [0, 1])"
    if kind in ("low_coverage", "self_sufficiency_below"):
        below = raw.get("below")
        if isinstance(below, int | float) and not 0 <= below <= 1:
            yield (*loc, "below"), f"{below} is not a ratio in [0, 1]"
    if kind == "dead_letters" and raw.get("per_minute_above") is None:
        yield loc, "a dead_letters rule needs per_minute_above"
    match = raw.get("match")
    if isinstance(match, dict):
        device_scoped = KIND_SCOPES[kind][0] == "device"
        for key in ("devices", "sites", "districts", "gateways"):
            for i, ref in _items(match, key):
                if isinstance(ref, str) and ref not in ids[key]:
                    yield (*loc, "match", key, i), f"unknown {key[:-1]} {ref!r}"
        for key in DEVICE_FILTERS:
            if match.get(key) and not device_scoped:
                yield (*loc, "match", key), f"a {kind} rule watches {KIND_SCOPES[kind][0]}s: {key} do not apply"


def alert_problems(doc: dict[str, Any], known_quantities: Collection[str] | None = None) -> list[tuple[Loc, str]]:
    """Every cross-reference problem of the raw document's ``alerts`` section (module docstring)."""
    section = doc.get("alerts")
    if not isinstance(section, dict):
        return []
    ids = _topology_ids(doc)
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for i, raw in _items(section, "rules"):
        if not isinstance(raw, dict):
            continue
        loc: Loc = ("alerts", "rules", i)
        rid = raw.get("id")
        if isinstance(rid, str):
            if rid in seen:
                problems.append(((*loc, "id"), f"duplicate rule id {rid!r}"))
            seen.add(rid)
        problems.extend(_rule_problems(loc, raw, ids, known_quantities))
    return problems


def alert_settings_problems(settings: AlertSettings, production: bool) -> list[tuple[Loc, str]]:
    """Settings that cannot work together: a webhook without its secret (production), SMTP without
    sender or recipients, a password without a user name."""
    loc: Loc = ("services", "alerts")
    problems: list[tuple[Loc, str]] = []
    if settings.webhook_url and settings.webhook_secret is None and production:
        problems.append(((*loc, "webhook_secret"), "production signs every webhook: set VA_ALERTS_WEBHOOK_SECRET"))
    if settings.smtp_host and (not settings.email_from or not settings.email_to):
        problems.append(((*loc, "smtp_host"), "e-mail needs email_from and email_to"))
    if settings.lease_ttl_s < 3 * settings.evaluation_interval_s:
        problems.append(
            ((*loc, "lease_ttl_s"), "at least 3 × evaluation_interval_s: a leader renews its lease at every tick")
        )
    if settings.smtp_host and settings.smtp_password is not None and not settings.smtp_username:
        problems.append(((*loc, "smtp_username"), "an SMTP password needs its user name"))
    return problems
