"""Backfill into the uplink: envelopes on va/v1/uplink/<gateway>, sequence-numbered, every reading
once, each kept until the ingest's end-to-end acknowledgement (played here by a real MQTT peer)."""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from tests.simulators.conftest import ConfigFactory, amiens_document
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.readings.ack import Ack, encode_ack
from ville_autonome.readings.envelope import decode
from ville_autonome.simulators.backfill import count_readings, generate
from ville_autonome.simulators.backfill_publish import (
    BackfillIncompleteError,
    BackfillInterruptedError,
    publish_backfill,
)

START = int(dt.datetime(2025, 6, 1, tzinfo=dt.UTC).timestamp() * 1000)
DAY_MS = 86_400_000


def _subscribe(
    mosquitto: Mosquitto, topic: str, name: str, *, ack: Callable[[int], bool] | None = lambda _seq: True
) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    """A peer on the uplink topic; it acknowledges end to end, as the ingest does, each envelope
    for which ``ack(seq)`` is true (``ack=None``: never)."""
    got: queue.Queue[bytes] = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
        got.put(m.payload)
        env = decode(m.payload)
        if ack is not None and ack(env.seq):
            client.publish(
                topic.replace("/uplink/", "/ack/"), encode_ack(Ack(env.gateway, (env.seq,), env.epoch)), qos=1
            )

    sub.on_message = on_message
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.connect(mosquitto.host, mosquitto.port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    wait_for(subscribed.is_set, what="the peer's subscription")
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
        assert env.epoch > 0
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_bad_periods_are_refused(make_config: ConfigFactory) -> None:
    config = make_config(sites={"iko-hydro"})
    with pytest.raises(ValueError, match="empty"):
        next(generate(config, START, START))
    with pytest.raises(ValueError, match="step_s must be positive"):
        next(generate(config, START, START + DAY_MS, 0))


def test_an_envelope_acknowledged_late_is_sent_again_until_it_is(
    make_config: ConfigFactory, mosquitto: Mosquitto, unique_name: str
) -> None:
    """The broker's PUBACK is not enough: the first delivery of envelope 11 is lost (not
    acknowledged, as when an ingest worker dies holding it); the backfill re-sends it."""
    config = make_config(sites={"iko-hydro"}, mqtt_url=mosquitto.url)
    deliveries: dict[int, int] = {}
    lock = threading.Lock()

    def second_time_only_for_11(seq: int) -> bool:
        with lock:
            deliveries[seq] = deliveries.get(seq, 0) + 1
            return seq != 11 or deliveries[seq] > 1

    sub, _got = _subscribe(mosquitto, f"va/v1/uplink/{unique_name}", unique_name + "-sub", ack=second_time_only_for_11)
    try:
        n = publish_backfill(
            config, START, START + DAY_MS, gateway_id=unique_name, batch=200, seq_start=10, ack_timeout_s=0.5
        )
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert n == -(-count_readings(config, START, START + DAY_MS) // 200)
    assert deliveries[11] >= 2
    assert all(deliveries[s] >= 1 for s in range(10, 10 + n))


def test_never_acknowledged_envelopes_are_named_and_the_run_fails(
    make_config: ConfigFactory, mosquitto: Mosquitto, unique_name: str
) -> None:
    config = make_config(sites={"iko-hydro"}, mqtt_url=mosquitto.url)
    sub, _got = _subscribe(mosquitto, f"va/v1/uplink/{unique_name}", unique_name + "-sub", ack=lambda seq: seq != 12)
    try:
        with pytest.raises(BackfillIncompleteError, match=r"1 envelopes .* seq 12 \(2025-06-01T") as info:
            publish_backfill(
                config,
                START,
                START + DAY_MS,
                gateway_id=unique_name,
                batch=200,
                seq_start=10,
                ack_timeout_s=0.3,
                max_sends=2,
            )
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert info.value.missing == [12]


def test_stop_ends_a_backfill_at_once_saying_how_far_it_got(
    make_config: ConfigFactory, mosquitto: Mosquitto, unique_name: str
) -> None:
    config = make_config(sites={"iko-hydro"}, mqtt_url=mosquitto.url)
    stop = threading.Event()
    sub, _got = _subscribe(mosquitto, f"va/v1/uplink/{unique_name}", unique_name + "-sub", ack=None)

    def progress(acked: int, total: int) -> None:
        pass

    stop.set()  # already asked: the run stops before it publishes more than its first window
    try:
        with pytest.raises(BackfillInterruptedError, match=r"interrupted: 0 of \d+ readings acknowledged"):
            publish_backfill(config, START, START + 30 * DAY_MS, gateway_id=unique_name, progress=progress, stop=stop)
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_cli_backfill_stops_on_sigint_and_says_how_far_it_got(
    tmp_path: Path, mosquitto: Mosquitto, unique_name: str
) -> None:
    """Nothing acknowledges this backfill, so it would wait for acknowledgements for minutes:
    SIGINT stops it at once, exit status 130, with a line saying how far it got."""
    doc = amiens_document(sites={"saint-leu-housing", "iko-hydro"}, mqtt_url=mosquitto.url)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    sub, got = _subscribe(mosquitto, f"va/v1/uplink/{unique_name}", unique_name + "-sub", ack=None)
    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-m", "ville_autonome.commands.main", "simulate", "-c", str(path)]
    argv += ["--backfill-days", "30", "--step-s", "60", "--gateway-id", unique_name]
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}
    )
    try:
        wait_for(lambda: not got.empty(), timeout=60, what="the first envelope published")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sub.loop_stop()
        sub.disconnect()
    assert proc.returncode == 130, err
    assert re.search(
        r"backfill interrupted: 0 of \d+ readings acknowledged \(0 envelopes\); \d+ envelopes sent", err
    ), err
