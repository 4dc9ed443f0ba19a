"""Counting readings in the fault suite: the ledger of what the gateway produced, and what the
store holds (read with InfluxQL, independently of the platform's code). See tests/system/pipeline.py
for the method."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.readings.envelope import decode
from ville_autonome.readings.model import Reading

GATEWAY = "gw-sys"
Key = tuple[str, str, int]  # (device, quantity, ts_ms)


class Ledger:
    """Every envelope published on the gateway's uplink, by sequence number (QoS 1, persistent session)."""

    def __init__(self, broker: Mosquitto, topic_root: str, credentials: tuple[str, str] | None = None) -> None:
        self.topic = f"{topic_root}/v1/uplink/{GATEWAY}"
        # by (epoch, seq): a buffer rolled back by a power cut seals sequence numbers again, in a new epoch
        self.envelopes: dict[tuple[int, int], tuple[Reading, ...]] = {}
        self.deliveries = 0
        self.conflicts = 0  # a sequence number seen twice with different readings (reused: never expected)
        self.subscriptions = 0  # SUBACKs received: one per (re)connection
        self.undecodable = 0  # payloads on the topic that are no envelope of the gateway
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{topic_root}-ledger", protocol=mqtt.MQTTv5
        )
        if credentials is not None:
            self.client.username_pw_set(*credentials)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect(broker.host, broker.port, clean_start=False, properties=props)
        self.client.loop_start()
        wait_for(self.client.is_connected, what="ledger connected")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(self.topic, qos=1)  # again after a broker that lost its sessions (kill -9)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        with self._lock:
            self.subscriptions += 1

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            env = decode(bytes(msg.payload))
        except ValueError:  # a poison message a test published on the gateway's topic: not produced
            with self._lock:
                self.undecodable += 1
            return
        key = (env.epoch, env.seq)
        with self._lock:
            self.deliveries += 1
            if key in self.envelopes and self.envelopes[key] != env.readings:
                self.conflicts += 1
            self.envelopes[key] = env.readings

    def seqs(self) -> set[int]:
        with self._lock:
            return {seq for _, seq in self.envelopes}

    def readings(self) -> list[Reading]:
        with self._lock:
            return [r for rs in self.envelopes.values() for r in rs]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Produced:
    """The produced set: every reading sealed by the gateway, keyed by (device, quantity, ts)."""

    readings: dict[Key, Reading] = field(default_factory=dict)
    duplicates: int = 0  # the same key in two envelopes (never expected)

    @classmethod
    def of(cls, readings: Iterable[Reading]) -> Produced:
        out = cls()
        for r in readings:
            key = (r.device, r.quantity, r.ts_ms)
            if key in out.readings:
                out.duplicates += 1
            out.readings[key] = r

        return out

    def counts(self, *, with_value: bool) -> Counter[tuple[str, str]]:
        return Counter((d, q) for (d, q, _), r in self.readings.items() if not with_value or r.value is not None)


def stored_counts(influxd: Influxd, database: str, field_name: str, where: str = "") -> Counter[tuple[str, str]]:
    """InfluxQL ``count(<field>) … GROUP BY device, quantity``: distinct points per series."""
    query = f'SELECT count("{field_name}") FROM readings {where} GROUP BY device, quantity'  # noqa: S608 (test's own)
    doc = influxd.query(query, database)
    out: Counter[tuple[str, str]] = Counter()
    for series in doc["results"][0].get("series", []):
        out[(series["tags"]["device"], series["tags"]["quantity"])] = int(series["values"][0][1])
    return out


def stored_points(influxd: Influxd, database: str, where: str = "") -> dict[Key, tuple[float | None, str]]:
    """Every stored reading point: (device, quantity, ts) → (value, quality)."""
    query = f"SELECT value, quality FROM readings {where} GROUP BY device, quantity"  # noqa: S608 (test's own)
    doc = influxd.query(query, database)
    out: dict[Key, tuple[float | None, str]] = {}
    for series in doc["results"][0].get("series", []):
        device, quantity = series["tags"]["device"], series["tags"]["quantity"]
        for ts, value, quality in series["values"]:
            out[(device, quantity, int(ts))] = (value, quality)
    return out


def newest_stored_ms(influxd: Influxd, database: str) -> int:
    doc = influxd.query("SELECT last(quality) FROM readings", database)
    series = doc["results"][0].get("series")
    return int(series[0]["values"][0][0]) if series else 0


def buffer_state(buffer_path: Path) -> tuple[int, int]:
    """(next_seq, envelopes held) from the gateway's buffer file, read by another process (WAL)."""
    db = sqlite3.connect(buffer_path, timeout=5)
    try:
        row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
        held = db.execute("SELECT count(*) FROM envelopes").fetchone()[0]
        return (int(row[0]) if row else 1), int(held)
    finally:
        db.close()


def oldest_held(buffer_path: Path) -> float:
    """The oldest sequence number still held (unacknowledged) in the gateway's buffer; inf if none."""
    db = sqlite3.connect(buffer_path, timeout=5)
    try:
        row = db.execute("SELECT min(seq) FROM envelopes").fetchone()
        return float(row[0]) if row and row[0] is not None else float("inf")
    finally:
        db.close()
