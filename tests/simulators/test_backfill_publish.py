"""Backfill into the uplink: envelopes on va/v1/uplink/<gateway>, sequence-numbered, every reading once."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from tests.simulators.conftest import ConfigFactory, amiens_document
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.readings.envelope import decode
from ville_autonome.simulators.backfill import count_readings, generate, publish_backfill

START = int(dt.datetime(2025, 6, 1, tzinfo=dt.UTC).timestamp() * 1000)
DAY_MS = 86_400_000


def _subscribe(mosquitto: Mosquitto, topic: str, name: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    got: queue.Queue[bytes] = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    sub.on_message = lambda _c, _u, m: got.put(m.payload)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    return sub, got


def test_publish_backfill_sends_every_reading_in_sequenced_envelopes(
    make_config: ConfigFactory, mosquitto: Mosquitto, unique_name: str
) -> None:
    config = make_config(sites={"quai-innovation", "iko-hydro"}, mqtt_url=mosquitto.url)
    sub, got = _subscribe(mosquitto, f"va/v1/uplink/{unique_name}", unique_name + "-sub")
    progress: list[tuple[int, int]] = []
    try:
        n = publish_backfill(
            config,
            START,
            START + 2 * DAY_MS,
            gateway_id=unique_name,
            batch=500,
            progress=lambda s, t: progress.append((s, t)),
            seq_start=10,
        )
        expected = list(generate(config, START, START + 2 * DAY_MS))
        assert len(expected) == count_readings(config, START, START + 2 * DAY_MS)
        assert n == -(-len(expected) // 500)
        envelopes = []

        def all_received() -> bool:
            while not got.empty():
                envelopes.append(decode(got.get()))
            return len(envelopes) == n

        wait_for(all_received, timeout=30, what=f"{n} envelopes")
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert [e.seq for e in envelopes] == list(range(10, 10 + n))
    assert {e.gateway for e in envelopes} == {unique_name}
    readings = [r for e in envelopes for r in e.readings]
    assert readings == expected
    assert progress[-1] == (len(expected), len(expected))


def test_cli_backfill_days_publishes_then_exits(tmp_path: Path, mosquitto: Mosquitto, unique_name: str) -> None:
    doc = amiens_document(sites={"saint-leu-housing"}, mqtt_url=mosquitto.url)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    sub, got = _subscribe(mosquitto, f"va/v1/uplink/{unique_name}", unique_name + "-sub")
    root = Path(__file__).resolve().parents[2]
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ville_autonome.commands.main",
                "simulate",
                "-c",
                str(path),
                "--backfill-days",
                "1",
                "--gateway-id",
                unique_name,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        assert proc.returncode == 0, proc.stderr
        match = re.search(r"backfill: (\d+)/(\d+) readings \(100\.0 %\)", proc.stderr)
        assert match is not None, proc.stderr
        assert match[1] == match[2]
        assert int(match[1]) in (480, 485)  # 96 or 97 intervals × (3 meter + 2 load quantities)
        wait_for(lambda: not got.empty(), timeout=10, what="the envelope")
        env = decode(got.get())
        assert len(env.readings) == int(match[1])
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_bad_periods_are_refused(make_config: ConfigFactory) -> None:
    config = make_config(sites={"iko-hydro"})
    with pytest.raises(ValueError, match="empty"):
        next(generate(config, START, START))
    with pytest.raises(ValueError, match="step_s must be positive"):
        next(generate(config, START, START + DAY_MS, 0))
