"""The configured rules as a Prometheus alerting-rule file, for those who run Alertmanager rather
than (or beside) the platform's notifications (``ville-autonome alerts --export-prometheus FILE``).

Prometheus scrapes the API's ``/metrics`` (operator key). Where ``/metrics`` carries what a rule
watches, the exported rule computes it natively, with the rule's ``for:``:

| kind | expression |
|---|---|
| ``device_silent`` | ``time() - va_device_last_seen_timestamp_seconds{device=~…} > after_s`` |
| ``gateway_offline`` | ``time() - va_gateway_last_report_timestamp_seconds{gateway=~…} > after_s`` |
| ``gateway_backlog`` | the ``gateway/<id>`` counters ``buffered_envelopes`` and ``oldest_envelope_ms`` |
| ``ingest_lag`` | ``time() - va_newest_reading_timestamp_seconds > after_s`` |
| ``dead_letters`` | ``sum(rate(va_service_counter{service=~"ingest/.*",counter="dead_letters"}[5m])) * 60 > N`` |

The others need the autonomy engine or the latest values (values out of range, battery state of
charge, the hydro plant, data quality, self-sufficiency): their rule mirrors the platform's own
evaluator, ``va_alarm_firing{rule="<id>"} == 1`` (its ``for:`` already applied, so ``for: 0s``).
"""

from __future__ import annotations

import re
from typing import Any

from ville_autonome.alerts.subjects import subjects
from ville_autonome.configuration.alerts import DEFAULT_AFTER_S, AlertRule
from ville_autonome.configuration.topology import PlatformConfig

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
NATIVE = frozenset({"device_silent", "gateway_offline", "gateway_backlog", "ingest_lag", "dead_letters"})


def _seconds(value: float) -> str:
    return f"{int(value)}s" if value == int(value) else f"{value}s"


def _any_of(ids: list[str]) -> str:
    """A regular expression matching exactly these ids (configuration slugs: nothing to escape)."""
    assert all(SLUG.match(i) for i in ids), ids
    return "|".join(ids)


def _summary(rule: AlertRule) -> str:
    who = {
        "device_silent": "{{ $labels.device }}",
        "gateway_offline": "{{ $labels.gateway }}",
        "gateway_backlog": "{{ $labels.service }}",
        "ingest_lag": "the city",
        "dead_letters": "the ingest",
    }.get(rule.kind, "{{ $labels.subject }}")
    return f"{rule.id}: {who}"


def _expr(rule: AlertRule, config: PlatformConfig) -> str:
    ids = [s.id for s in subjects(rule, config)]
    after = rule.param("after_s", DEFAULT_AFTER_S.get(rule.kind, 60.0))
    if rule.kind == "device_silent":
        return f'time() - va_device_last_seen_timestamp_seconds{{device=~"{_any_of(ids)}"}} > {after:g}'
    if rule.kind == "gateway_offline":
        return f'time() - va_gateway_last_report_timestamp_seconds{{gateway=~"{_any_of(ids)}"}} > {after:g}'
    if rule.kind == "gateway_backlog":
        sel = f'service=~"gateway/({_any_of(ids)})"'
        parts = []
        if rule.max_envelopes is not None:
            parts.append(f'va_service_counter{{{sel},counter="buffered_envelopes"}} > {rule.max_envelopes}')
        if rule.max_age_s is not None:
            parts.append(
                f'(time() - va_service_counter{{{sel},counter="oldest_envelope_ms"}} / 1000 > {rule.max_age_s:g})'
                f' and on(service) va_service_counter{{{sel},counter="buffered_envelopes"}} > 0'
            )
        return " or ".join(parts)
    if rule.kind == "ingest_lag":
        return f"time() - va_newest_reading_timestamp_seconds > {after:g}"
    if rule.kind == "dead_letters":
        limit = rule.param("per_minute_above", 0.0)
        return f'sum(rate(va_service_counter{{service=~"ingest/.*",counter="dead_letters"}}[5m])) * 60 > {limit:g}'
    return f'va_alarm_firing{{rule="{rule.id}"}} == 1'


def prometheus_rules(config: PlatformConfig) -> dict[str, Any]:
    """The rule file as a document (``yaml.safe_dump`` it)."""
    rules = []
    for rule in config.alerts.rules:
        native = rule.kind in NATIVE
        description = (
            rule.description or f"{rule.kind} ({'computed from /metrics' if native else 'from the evaluator'})"
        )
        rules.append(
            {
                "alert": rule.id,
                "expr": _expr(rule, config),
                "for": _seconds(rule.for_s if native else 0.0),
                "labels": {**rule.labels, "severity": rule.severity, "scope": rule.watches, "va_rule": rule.id},
                "annotations": {
                    "summary": _summary(rule),
                    "description": description,
                },
            }
        )
    return {"groups": [{"name": f"ville-autonome-{config.city.id}", "rules": rules}]}
