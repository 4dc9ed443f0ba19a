"""The exported Prometheus rule file, checked and unit-tested by Prometheus's own promtool: the
native rules fire from what /metrics carries, the others mirror the evaluator's gauge."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.alerts.lab import config
from tests.support.services import find_binary
from ville_autonome.alerts.prometheus_rules import prometheus_rules

CFG = config(
    "    - {id: silent, kind: device_silent, severity: critical, after_s: 60, for: 30s, labels: {team: ops},"
    " match: {devices: [turbine]}}\n"
    "    - {id: dead, kind: dead_letters, severity: warning, per_minute_above: 10, for: 1m}\n"
    "    - {id: soc, kind: battery_soc, severity: info, below: 10, for: 5m}\n"
)

TESTS = {
    "rule_files": ["rules.yml"],
    "evaluation_interval": "10s",
    "tests": [
        {
            "interval": "10s",
            "input_series": [
                # the turbine last answered at t = 60 s and never since
                {"series": 'va_device_last_seen_timestamp_seconds{device="turbine",gateway="gw-a"}',
                 "values": "0+10x6 60x30"},
                # an ingest worker dead-letters 30 messages a minute from t = 60 s
                {"series": 'va_service_counter{service="ingest/w1",counter="dead_letters"}', "values": "0x6 5+5x30"},
                {"series": 'va_alarm_firing{rule="soc",subject="battery",scope="device",severity="info"}',
                 "values": "1x30"},
            ],
            "alert_rule_test": [
                {"eval_time": "140s", "alertname": "silent", "exp_alerts": []},  # silent 80 s, for 30 s not yet
                {"eval_time": "160s", "alertname": "silent", "exp_alerts": [{"exp_labels": {
                    "device": "turbine", "gateway": "gw-a", "severity": "critical", "scope": "device",
                    "va_rule": "silent", "team": "ops"},
                    "exp_annotations": {"summary": "silent: turbine", "description": "device_silent (computed from /metrics)"}}]},
                {"eval_time": "5m", "alertname": "dead", "exp_alerts": [{"exp_labels": {
                    "severity": "warning", "scope": "city", "va_rule": "dead"},
                    "exp_annotations": {"summary": "dead: the ingest", "description": "dead_letters (computed from /metrics)"}}]},
                {"eval_time": "1m", "alertname": "soc", "exp_alerts": [{"exp_labels": {
                    "rule": "soc", "subject": "battery", "scope": "device", "severity": "info", "va_rule": "soc"},
                    "exp_annotations": {"summary": "soc: battery", "description": "battery_soc (from the evaluator)"}}]},
            ],
        }
    ],
}  # fmt: skip


def test_promtool_checks_and_runs_the_exported_rules(tmp_path: Path) -> None:
    promtool = find_binary("promtool")
    rules = prometheus_rules(CFG)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(TESTS, sort_keys=False))
    check = subprocess.run(
        [promtool, "check", "rules", "rules.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    run = subprocess.run(
        [promtool, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    kinds = {r["alert"]: r for r in rules["groups"][0]["rules"]}
    assert kinds["silent"]["for"] == "30s"
    assert kinds["soc"]["for"] == "0s", "the evaluator already applied the rule's for:"
