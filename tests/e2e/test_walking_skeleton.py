"""The whole path on real services: a simulated meter (Modbus TCP) → gateway → Mosquitto →
ingest → store (real influxd, and the embedded SQLite store) → API.

Each part runs as its own `ville-autonome` process, as in production. A test observer subscribes
to the uplink and records every envelope the gateway published; every good reading in them must
arrive in the store with its tags, value and timestamp, and come back through the API.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from pymodbus.client import ModbusTcpClient

from tests.e2e.skeleton import API_KEY, write_config
from tests.support.ports import port_open
from tests.support.processes import CommandProcess
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.readings.envelope import decode
from ville_autonome.readings.model import Reading

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


class UplinkObserver:
    """Records every reading published on one gateway's uplink topic."""

    def __init__(self, broker: Mosquitto, topic: str, client_id: str) -> None:
        self.readings: list[Reading] = []
        self.seqs: list[int] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe(topic, qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        wait_for(self.client.is_connected, what="observer connected")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        env = decode(msg.payload)
        with self._lock:
            self.seqs.append(env.seq)
            self.readings.extend(env.readings)

    def snapshot(self) -> list[Reading]:
        with self._lock:
            return list(self.readings)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(params=["influxdb", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def platform(
    tmp_path: Path, mosquitto: Mosquitto, influxd: Influxd, unique_name: str, backend: str
) -> Iterator[tuple[Path, dict[str, str], UplinkObserver]]:
    if backend == "influxdb":
        store = {"backend": "influxdb", "url": influxd.url, "database": unique_name}
    else:
        store = {"backend": "sqlite", "path": str(tmp_path / "store.sqlite")}
    cfg = write_config(tmp_path / "platform.yaml", mqtt_url=mosquitto.url, topic_root=unique_name, store=store)
    observer = UplinkObserver(mosquitto, f"{unique_name}/v1/uplink/gw-a", f"{unique_name}-observer")
    c = ["-c", str(cfg)]
    parts = [
        CommandProcess("simulate", ["simulate", *c], workdir=tmp_path),
        CommandProcess("ingest", ["ingest", *c], workdir=tmp_path),
        CommandProcess("gateway", ["gateway", *c, "--id", "gw-a"], workdir=tmp_path),
        CommandProcess("api", ["api", *c], workdir=tmp_path),
    ]
    try:
        parts[0].start()
        # devices first, as in production: a gateway started before them backs off (up to a minute)
        for port in device_ports(cfg):
            wait_for(lambda port=port: port_open("127.0.0.1", port), timeout=60, what=f"simulated device on {port}")
        for p in parts[1:]:
            p.start()
        yield cfg, store, observer
    finally:
        observer.close()
        for p in reversed(parts):
            p.stop()
        for p in parts:
            print(f"--- {p.name} log ---\n{p.log()[-3000:]}")


def api_port(cfg: Path) -> int:
    text = cfg.read_text()
    return int(text.split("  api:\n    host: 127.0.0.1\n    port: ")[1].split("\n")[0])


def device_ports(cfg: Path) -> list[int]:
    return [int(chunk.split("\n")[0]) for chunk in cfg.read_text().split("address: 127.0.0.1:")[1:]]


def meter_port(cfg: Path) -> int:
    return int(cfg.read_text().split("address: 127.0.0.1:")[1].split("\n")[0])


def stored_points(store: dict[str, str], influxd: Influxd, api: httpx.Client) -> dict[tuple[str, int], float]:
    """(quantity, ts_ms) → value of meter-a as the store holds it, read independently of the API
    for InfluxDB (InfluxQL over HTTP) and through the API's raw series for SQLite."""
    out: dict[tuple[str, int], float] = {}
    if store["backend"] == "influxdb":
        res = influxd.query(
            "SELECT value, quality, site, district, role FROM readings WHERE device = 'meter-a' GROUP BY quantity",
            db=store["database"],
        )
        for series in res["results"][0].get("series", []):
            quantity = series["tags"]["quantity"]
            cols = series["columns"]
            for row in series["values"]:
                rec = dict(zip(cols, row, strict=True))
                assert (rec["site"], rec["district"], rec["role"]) == ("site-a", "north", "grid")
                if rec["quality"] == "good":
                    out[(quantity, rec["time"])] = rec["value"]
        return out
    now_ms = int(time.time() * 1000)
    for quantity in ("active_power_w", "energy_import_wh"):
        r = api.get(
            "/api/v1/series",
            params={
                "device": "meter-a",
                "quantity": quantity,
                "start": str(now_ms - 86_400_000),
                "end": str(now_ms + 86_400_000),
            },
        )
        r.raise_for_status()
        for point in r.json()["points"]:
            out[(quantity, point["ts"])] = point["value"]
    return out


def test_meter_readings_travel_from_modbus_to_the_api(
    platform: tuple[Path, dict[str, str], UplinkObserver], influxd: Influxd
) -> None:
    cfg, store, observer = platform
    base = f"http://127.0.0.1:{api_port(cfg)}"
    with httpx.Client(base_url=base, headers=HEADERS, timeout=5) as api:
        wait_for(
            lambda: api.get("/api/v1/health").status_code == 200,
            timeout=30,
            what="API healthy",
            retry_on=(httpx.TransportError,),
        )

        # the meter's values change every second: wait for several distinct power readings
        def enough() -> bool:
            powers = {r.value for r in observer.snapshot() if r.quantity == "active_power_w" and r.is_good}
            return len(powers) >= 3

        wait_for(enough, timeout=40, what="three distinct meter power readings on the uplink")
        published = [r for r in observer.snapshot() if r.is_good and r.device == "meter-a"]
        wanted = {
            (r.quantity, r.ts_ms): r.value for r in published if r.quantity in ("active_power_w", "energy_import_wh")
        }

        # every published good reading arrives in the store, same timestamp (ms) and value
        def all_stored() -> bool:
            have = stored_points(store, influxd, api)
            return all(k in have and have[k] == pytest.approx(v) for k, v in wanted.items())

        wait_for(all_stored, timeout=30, what="published readings stored")

        # the cumulative energy counter never decreases
        counter = sorted((ts, v) for (q, ts), v in wanted.items() if q == "energy_import_wh")
        assert counter, "the meter published an energy counter"
        assert all(b[1] >= a[1] for a, b in itertools.pairwise(counter))

        # the live endpoint returns the latest stored value per quantity
        live = api.get("/api/v1/live").json()
        rows = live["values"] if isinstance(live, dict) else live
        latest_power = [row for row in rows if row["device"] == "meter-a" and row["quantity"] == "active_power_w"]
        assert latest_power, f"meter-a active_power_w missing from /live: {live}"
        have = stored_points(store, influxd, api)
        newest_ts = max(ts for (q, ts) in have if q == "active_power_w")
        assert latest_power[0]["ts"] >= newest_ts - 5_000
        assert latest_power[0]["district"] == "north"
        assert latest_power[0]["site"] == "site-a"

        # energy per interval from the stored counters
        first_ts = min(ts for (_, ts) in wanted)
        r = api.get(
            "/api/v1/sites/site-a/energy",
            params={"start": str(first_ts - 3_600_000), "end": str(newest_ts + 3_600_000)},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert json.dumps(body)  # serialisable
        assert body["site"] == "site-a"

        # the meter itself still serves a counter at least as large as the last stored one
        client = ModbusTcpClient("127.0.0.1", port=meter_port(cfg))
        assert client.connect()
        try:
            rr = client.read_holding_registers(40000, count=2, device_id=1)
            assert not rr.isError()
            assert rr.registers == [0x5375, 0x6E53]  # "SunS": a SunSpec device
        finally:
            client.close()
