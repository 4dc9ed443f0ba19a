"""`ville-autonome alerts` as a command: a bad rule, an unreachable store are one line and exit 2;
`--export-prometheus -` writes the rule file; SIGTERM stops it cleanly, releasing its lease."""

from __future__ import annotations

import signal
from pathlib import Path

import yaml

from tests.commands.test_cli_errors import assert_one_line_error, config
from tests.support.ports import free_port
from tests.support.processes import CommandProcess, run_command
from tests.support.waiting import wait_for

RULES = "alerts:\n  rules:\n    - {id: silent, kind: device_silent, severity: critical, after_s: 30, for: 10s}\n"


def with_rules(tmp_path: Path, rules: str = RULES, **kw: object) -> Path:
    path = config(tmp_path, **kw)
    path.write_text(path.read_text() + rules)
    return path


def test_a_bad_rule_is_one_line(tmp_path: Path) -> None:
    bad = with_rules(tmp_path, RULES.replace("after_s: 30", "max_envelopes: 3"))
    result = run_command(["alerts", "-c", str(bad)], cwd=tmp_path)
    assert_one_line_error(result, f"{bad}:", "alerts.rules[0].max_envelopes: a device_silent rule does not take")


def test_no_database_says_so(tmp_path: Path) -> None:
    port = free_port()
    store = {"backend": "influxdb", "url": f"http://127.0.0.1:{port}", "database": "x", "timeout_s": "2"}
    result = run_command(["alerts", "-c", str(with_rules(tmp_path, store=store))], cwd=tmp_path)
    assert_one_line_error(result, f"127.0.0.1:{port}")


def test_export_prometheus_to_stdout(tmp_path: Path) -> None:
    result = run_command(["alerts", "-c", str(with_rules(tmp_path)), "--export-prometheus", "-"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (rule,) = yaml.safe_load(result.stdout)["groups"][0]["rules"]
    assert (rule["alert"], rule["for"], rule["labels"]["severity"]) == ("silent", "10s", "critical")


def test_sigterm_stops_it_and_releases_the_lease(tmp_path: Path) -> None:
    path = with_rules(tmp_path)
    status = tmp_path / "status.json"
    env = {"VA_ALERTS_STATUS_FILE": str(status), "VA_ALERTS_EVALUATION_INTERVAL_S": "0.5", "VA_ALERTS_MQTT": "false"}
    p = CommandProcess("alerts", ["alerts", "-c", str(path), "--holder", "cli-test"], workdir=tmp_path, env=env).start()
    try:
        wait_for(lambda: status.exists() and '"role": "leader"' in status.read_text(), timeout=60, what="it leads")
        assert p.proc is not None
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(timeout=60) == 0
        assert "Traceback" not in p.log()
        assert "alerts evaluator cli-test stopped" in p.log()
        assert '"healthy": false' in status.read_text(), "a stopped evaluator's status says so"
    finally:
        p.stop()
