"""The `alerts:` section and `services.alerts`: validated like the rest of the configuration, every
problem as `FILE:LINE: path: reason`; the defaults shipped for Amiens load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config_text import load_text, problems_of
from ville_autonome.configuration import load_config
from ville_autonome.configuration.alerts import KIND_SCOPES, parse_duration
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.quantities import QUANTITIES

REPO = Path(__file__).resolve().parents[2]

TOPOLOGY = """\
city:
  id: testville
gateways:
  - id: gw-a
districts:
  - id: north
    sites:
      - id: site-a
        gateway: gw-a
        devices:
          - id: meter-a
            role: grid
            protocol: mqtt
            topic: shellies/meter-a
            preset: shelly-pro-3em
"""


def _text(rules: str, services: str) -> str:
    return TOPOLOGY + (f"services:\n{services}" if services else "") + "alerts:\n  rules:\n" + rules


def load(rules: str, services: str = "", **env: str) -> PlatformConfig:
    return load_text(_text(rules, services), env, known_quantities=frozenset(QUANTITIES))


def problems(rules: str, services: str = "", **env: str) -> list[str]:
    return problems_of(_text(rules, services), env, known_quantities=frozenset(QUANTITIES))


@pytest.mark.parametrize("path", ["config/amiens.yaml", "deploy/config/amiens.yaml"])
def test_the_shipped_rules_load_and_cover_every_kind(path: str) -> None:
    cfg = load_config(REPO / path, environ={}, known_quantities=frozenset(QUANTITIES))
    kinds = {r.kind for r in cfg.alerts.rules}
    assert kinds == set(KIND_SCOPES), f"a kind without a shipped rule: {set(KIND_SCOPES) - kinds}"
    assert {r.severity for r in cfg.alerts.rules} == {"critical", "warning", "info"}
    staff = [r for r in cfg.alerts.rules if r.kind == "self_sufficiency_below"]
    assert staff[0].severity == "info", "the staff-facing rule is of lower severity"


def test_a_rule_with_its_defaults() -> None:
    cfg = load("    - {id: silent, kind: device_silent, for: 1m30s, labels: {team: ops}}\n")
    (rule,) = cfg.alerts.rules
    assert (rule.for_s, rule.severity, rule.watches, rule.labels) == (90.0, "warning", "device", {"team": "ops"})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(0, 0.0), (45, 45.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("2d", 172800.0), ("1.5m", 90.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{id: a, kind: device_silent, for: soon}", "test.yaml:18: alerts.rules[0].for: not a duration (such as 30s, 5m, 1h30m, 2d or a number of seconds) (got 'soon')"),
        ("{id: a, kind: device_silent, for: 40d}", "alerts.rules[0].for: must be between 0 s and 30 days"),
        ("{id: a, kind: device_silent, max_envelopes: 3}", "alerts.rules[0].max_envelopes: a device_silent rule does not take max_envelopes"),
        ("{id: a, kind: gateway_backlog}", "alerts.rules[0]: a gateway_backlog rule needs max_envelopes or max_age_s"),
        ("{id: a, kind: value_out_of_range, minimum: 1}", "alerts.rules[0]: a value_out_of_range rule needs a quantity"),
        ("{id: a, kind: value_out_of_range, quantity: volts, minimum: 1}", "alerts.rules[0].quantity: unknown quantity 'volts'"),
        ("{id: a, kind: value_out_of_range, quantity: voltage_l1_v, nominal: 230}", "nominal and tolerance_pct go together"),
        ("{id: a, kind: value_out_of_range, quantity: voltage_l1_v}", "needs minimum, maximum, or nominal with tolerance_pct"),
        ("{id: a, kind: battery_soc}", "alerts.rules[0]: a battery_soc rule needs below or above [%]"),
        ("{id: a, kind: low_coverage, below: 90}", "alerts.rules[0].below: 90 is not a ratio in [0, 1]"),
        ("{id: a, kind: dead_letters}", "a dead_letters rule needs per_minute_above"),
        ("{id: a, kind: self_sufficiency_below}", "a self_sufficiency_below rule needs below"),
        ("{id: a, kind: device_silent, scope: city}", "alerts.rules[0].scope: a device_silent rule watches device, not city"),
        ("{id: a, kind: device_silent, match: {devices: [nope]}}", "alerts.rules[0].match.devices[0]: unknown device 'nope'"),
        ("{id: a, kind: gateway_offline, match: {roles: [grid]}}", "a gateway_offline rule watches gateways: roles do not apply"),
        ("{id: a, kind: device_silent, severity: urgent}", "alerts.rules[0].severity: 'urgent' is not one of critical, warning, info"),
        ("{id: a, kind: noisy}", "alerts.rules[0].kind: 'noisy' is not one of device_silent"),
        ("{id: a, kind: [device_silent]}", "alerts.rules[0].kind: "),
        ("{id: a, kind: {x: 1}}", "alerts.rules[0].kind: "),
        ("{id: a, kind: device_silent, labels: {Team: x}}", "label name 'Team' must be lower-case"),
        ("{id: a, kind: device_silent, after: 3}", "alerts.rules[0].after: unknown field"),
    ],
)  # fmt: skip
def test_a_wrong_rule_is_named_with_its_line(rule: str, expected: str) -> None:
    found = problems(f"    - {rule}\n")
    assert any(expected in p for p in found), found
    assert all(p.startswith("test.yaml:") for p in found), found


def test_duplicate_rule_ids_are_refused() -> None:
    found = problems("    - {id: a, kind: device_silent}\n    - {id: a, kind: gateway_offline}\n")
    assert found == ["test.yaml:19: alerts.rules[1].id: duplicate rule id 'a'"]


def test_notification_settings_and_their_secrets() -> None:
    services = "  environment: production\n  alerts:\n    webhook_url: https://hooks.example.org/x\n    smtp_host: smtp.example.org\n"
    found = problems("    - {id: a, kind: device_silent}\n", services)
    assert any("services.alerts.webhook_secret: production signs every webhook" in p for p in found), found
    assert any("services.alerts.smtp_host: e-mail needs email_from and email_to" in p for p in found), found
    found = problems(
        "    - {id: a, kind: device_silent}\n", "  alerts:\n    evaluation_interval_s: 5\n    lease_ttl_s: 10\n"
    )
    assert any("services.alerts.lease_ttl_s: at least 3 × evaluation_interval_s" in p for p in found), found
    found = problems("    - {id: a, kind: device_silent}\n", services, VA_ALERTS_WEBHOOK_SECRET="changeme")
    assert any("a placeholder secret is refused in production" in p for p in found), found
    assert not any("changeme" in p for p in found), "a secret is never echoed"
    cfg = load(
        "    - {id: a, kind: device_silent}\n",
        "  alerts:\n    smtp_host: smtp.example.org\n    email_from: va@example.org\n    email_to: [ops@example.org]\n",
        VA_ALERTS_SMTP_USERNAME="va",
        VA_ALERTS_SMTP_PASSWORD="s3cr3t-from-the-environment",
    )
    assert cfg.services.alerts.smtp_password is not None
    assert cfg.services.alerts.smtp_password.get_secret_value() == "s3cr3t-from-the-environment"
