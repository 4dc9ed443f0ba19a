"""A small living lab on the real path for the data-truth tests: simulators → gateway → Mosquitto
→ ingest → SQLite store → API, each a ``ville-autonome`` process, as in production.

One district of small sites, each a grid meter and a load meter (one also a PV inverter), every
device on its own Modbus TCP port, polled every 0.5 s. Sites without PV import everything they
use: their true self-sufficiency is 0, so a fault that makes it look otherwise is plain to see.
The lab's clock rate (``services.simulator.speed``) is set in the configuration, so that the
simulators and the API agree on it (docs/metrics.md, "The lab's clock rate").
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port, port_open
from tests.support.processes import CommandProcess
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.storage.sqlite_store import SqliteStore

API_KEY = "truth-test-key-0123456789"
GATEWAY = "gw-truth"
SITES: dict[str, dict[str, str]] = {  # site → {device: scenario}
    "s-ok": {
        "s-ok-grid": "{model: meter, rated_power_w: 200000}",
        "s-ok-load": "{model: load, profile: office, peak_w: 60000, base_fraction: 0.5}",
        "s-ok-pv": "{model: pv, peak_w: 40000, rated_power_w: 35000}",
    },
    "s-byteswap": {
        "s-byteswap-grid": "{model: meter, rated_power_w: 200000}",
        "s-byteswap-load": "{model: load, profile: office, peak_w: 60000, base_fraction: 0.5}",
    },
    "s-reset": {
        "s-reset-grid": "{model: meter, rated_power_w: 200000}",
        "s-reset-load": "{model: load, profile: housing, peak_w: 60000, base_fraction: 0.5}",
    },
    "s-stuck": {
        "s-stuck-grid": "{model: meter, rated_power_w: 200000}",
        "s-stuck-load": "{model: load, profile: housing, peak_w: 60000, base_fraction: 0.5}",
    },
    "s-spike": {
        "s-spike-grid": "{model: meter, rated_power_w: 200000}",
        "s-spike-load": "{model: load, profile: office, peak_w: 60000, base_fraction: 0.5}",
    },
    "s-silent": {
        "s-silent-grid": "{model: meter, rated_power_w: 200000}",
        "s-silent-load": "{model: load, profile: housing, peak_w: 60000, base_fraction: 0.5}",
    },
    "s-quiet": {  # the whole site goes silent; it carries the largest load of the city
        "s-quiet-grid": "{model: meter, rated_power_w: 600000}",
        "s-quiet-load": "{model: load, profile: hospital, peak_w: 300000, base_fraction: 0.7}",
    },
}
RATED_W = {"grid": 200_000, "load": 90_000, "pv": 40_000}  # rated_power_w in the configuration
ROLES = {"grid": "grid", "load": "consumption", "pv": "production"}
# at speed 60 energies are 60× a real interval's: a 5 kWh floor keeps the misalignment of two meters
# read a moment apart (a tick, 0.1 s, plus the polls' delays on a loaded machine) and the spread of a
# counter over a fault's gap out of the balance check, a stuck meter's catch-up (tens of kWh) in it
BALANCE_FLOOR_WH = 5000


def devices() -> list[tuple[str, str]]:
    """(site, device) of every device of the lab."""
    return [(site, dev) for site, devs in SITES.items() for dev in devs]


def _device_yaml(dev: str, port: int) -> str:
    kind = dev.rsplit("-", 1)[1]
    profile = "sunspec-inverter-103" if kind == "pv" else "sunspec-meter-203"
    rated = RATED_W[kind] * (3 if dev.startswith("s-quiet") else 1)
    source = "\n            source: pv" if kind == "pv" else ""
    return f"""\
          - id: {dev}
            role: {ROLES[kind]}{source}
            rated_power_w: {rated}
            protocol: modbus-tcp
            address: 127.0.0.1:{port}
            unit_id: 1
            profile: {profile}
            poll_interval_s: 0.5
            timeout_s: 0.5
            max_backoff_s: 1.0
"""


def write_config(
    workdir: Path, *, mosquitto: Mosquitto, topic_root: str, speed: float, stale_after_s: float | None = None
) -> tuple[Path, int]:
    """The lab's configuration and scenario; returns (configuration file, API port).
    ``stale_after_s``: ``services.metrics.stale_after_s`` (the default, 60 s, when None)."""
    scenario = workdir / "scenario.yaml"
    scenario.write_text(
        "seed: 12\ndevices:\n" + "".join(f"  {d}: {spec}\n" for devs in SITES.values() for d, spec in devs.items())
    )
    api_port = free_port()
    sites = []
    for site, devs in SITES.items():
        body = "".join(_device_yaml(d, free_port()) for d in devs)
        sites.append(f"      - id: {site}\n        gateway: {GATEWAY}\n        devices:\n{body}")
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    stale = f"\n    stale_after_s: {stale_after_s}" if stale_after_s is not None else ""
    path = workdir / "truth.yaml"
    path.write_text(
        f"""\
city:
  id: truthville
services:
  mqtt:
    url: {mosquitto.url}
    topic_root: {topic_root}
  store:
    backend: sqlite
    path: {workdir / "store.sqlite"}
  simulator:
    scenario: {scenario}
    speed: {speed}
  ingest:
    client_id: {topic_root}-ingest
    batch_interval_s: 0.2
  metrics:
    balance_floor_wh: {BALANCE_FLOOR_WH}{stale}
  api:
    host: 127.0.0.1
    port: {api_port}
    keys:
      - name: truth
        role: admin
        sha256: {digest}
gateways:
  - id: {GATEWAY}
    buffer_path: {workdir / "gw.buffer.sqlite"}
    publish_interval_s: 0.2
districts:
  - id: lab
    sites:
{"".join(sites)}"""
    )
    return path, api_port


class Lab:
    """The lab's processes, its fault switch and an API client."""

    def __init__(
        self, workdir: Path, mosquitto: Mosquitto, topic_root: str, speed: float, stale_after_s: float | None = None
    ) -> None:
        self.workdir = workdir
        self.config, self.api_port = write_config(
            workdir, mosquitto=mosquitto, topic_root=topic_root, speed=speed, stale_after_s=stale_after_s
        )
        self.control_port = free_port()
        c = ["-c", str(self.config)]
        self.simulator = CommandProcess(
            "simulate", ["simulate", *c, "--control-port", str(self.control_port)], workdir=workdir
        )
        self.others = [
            CommandProcess("ingest", ["ingest", *c], workdir=workdir),
            CommandProcess("gateway", ["gateway", *c, "--id", GATEWAY], workdir=workdir),
            CommandProcess("api", ["api", *c], workdir=workdir),
        ]
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.api_port}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
        )

    def start(self) -> None:
        self.simulator.start()
        ports = [int(chunk.split("\n")[0]) for chunk in self.config.read_text().split("address: 127.0.0.1:")[1:]]
        for port in ports:  # devices first, as in production: a gateway started before them backs off
            wait_for(lambda port=port: port_open("127.0.0.1", port), timeout=60, what=f"simulated device on {port}")
        for p in self.others:
            p.start()
        wait_for(
            lambda: self.http.get("/api/v1/health").status_code == 200,
            timeout=60,
            what="API up",
            retry_on=(httpx.TransportError,),
        )

    def close(self) -> None:
        self.http.close()
        self.simulator.resume()
        for p in reversed([self.simulator, *self.others]):
            p.stop()

    def quiesce(self) -> None:
        """Freeze the simulated devices (SIGSTOP) and wait until the store holds every reading the
        gateway took: then the API and the raw series see the same readings. The newest stored
        reading of every device must stay the same over two looks a second apart."""
        self.simulator.pause()
        seen: dict[str, Any] = {}

        def settled() -> bool:
            newest: dict[str, int] = {}
            for v in self.http.get("/api/v1/live").json()["values"]:
                if v["quality"] == "good" and v["quantity"].startswith("energy_"):  # not the timeouts
                    newest[v["device"]] = max(newest.get(v["device"], 0), v["ts"])
            t = time.monotonic()
            if seen.get("newest") == newest and t - seen["at"] >= 1.0:
                return True
            if seen.get("newest") != newest:
                seen.update(newest=newest, at=t)
            return False

        wait_for(settled, timeout=60, interval=0.25, what="every reading taken is stored")

    def compile_rollups(self) -> None:
        """The rollup compiler's pass over everything stored so far, run here rather than by a
        ``rollups`` process on its own cadence, so that the API's autonomy reads rollups that hold
        every stored reading (a pass is idempotent: docs/storage.md)."""
        store = SqliteStore(self.workdir / "store.sqlite")
        try:
            store.refresh_rollups()
        finally:
            store.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log()[-2000:]}" for p in [self.simulator, *self.others])

    # ------------------------------------------------------------------ faults

    def _control(self, method: str, path: str) -> None:
        data = b"{}" if method == "POST" else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 (loopback)
            assert r.status == 200

    def fault(self, device: str, fault: str) -> None:
        self._control("POST", f"/faults/{device}/{fault}")

    def clear(self, device: str) -> None:
        self._control("DELETE", f"/faults/{device}")

    # ------------------------------------------------------------------ observation

    def wait_stored_after(self, t_ms: int, devices: list[str], timeout: float = 60) -> None:
        """Until every one of ``devices`` has a counter reading stamped after ``t_ms`` in the store."""

        def fresh() -> bool:
            r = self.http.get("/api/v1/live")
            newest: dict[str, int] = {}
            for v in r.json()["values"]:
                if v["quantity"].startswith("energy_") and v["quality"] == "good":
                    newest[v["device"]] = max(newest.get(v["device"], 0), v["ts"])
            return all(newest.get(d, 0) > t_ms for d in devices)

        wait_for(fresh, timeout=timeout, interval=0.2, what=f"readings after {t_ms} from {devices}")

    def autonomy(self, scope: str, start_ms: int) -> dict[str, Any]:
        """The API's autonomy of ``scope`` since ``start_ms``; ``asked_ms`` is when it was asked (the
        readings stored by then are in it)."""
        self.compile_rollups()
        asked = now_ms()
        r = self.http.get("/api/v1/autonomy", params={"scope": scope, "start": str(start_ms), "end": str(asked)})
        assert r.status_code == 200, r.text
        return {**r.json(), "asked_ms": asked}

    def flows(self) -> dict[str, dict[str, Any]]:
        r = self.http.get("/api/v1/live")
        r.raise_for_status()
        return {f["scope"]: f for f in r.json()["flows"]}

    def raw(self, device: str, quantity: str, start_ms: int, end_ms: int) -> list[tuple[int, float]]:
        """Every stored good reading of ``device``'s ``quantity`` in [start_ms, end_ms) (the API's raw series)."""
        r = self.http.get(
            "/api/v1/series",
            params={"device": device, "quantity": quantity, "start": str(start_ms), "end": str(end_ms)},
        )
        r.raise_for_status()
        return [(p["ts"], p["value"]) for p in r.json()["points"] if p["quality"] == "good" and p["value"] is not None]


def now_ms() -> int:
    return int(time.time() * 1000)


def dump(doc: Any) -> str:
    return json.dumps(doc, indent=1, sort_keys=True)[:4000]
