"""The alarms' acceptance lab on the real path, each part a ``ville-autonome`` process: simulators
(with their fault control) → gateway → Mosquitto → ingest → SQLite store ← API, and the alarm
evaluator, notifying a real webhook receiver, a real SMTP server process and an MQTT topic."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.alerts.receivers import Pki, SmtpServer, WebhookReceiver
from tests.support.ports import free_port, port_open
from tests.support.processes import CommandProcess
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for

KEYS = {"viewer": "lab-viewer-key-0123456789", "operator": "lab-operator-key-0123456789", "admin": "lab-admin-key-0123"}
WEBHOOK_SECRET = "lab-webhook-secret-0123456789"
SMTP_PASSWORD = "lab-smtp-password-0123"
AFTER_S, FOR_S = 3, 3  # the silent-device rule of the lab
DEVICES = {"s1-grid": "{model: meter, rated_power_w: 200000}",
           "s1-load": "{model: load, profile: office, peak_w: 60000, base_fraction: 0.5}"}  # fmt: skip
ROLES = {"s1-grid": "grid", "s1-load": "consumption"}


def _keys() -> str:
    return "".join(
        f"      - {{name: {role}-1, role: {role}, sha256: {hashlib.sha256(key.encode()).hexdigest()}}}\n"
        for role, key in KEYS.items()
    )


def write_config(
    workdir: Path, *, mosquitto: Mosquitto, root: str, api_port: int, webhook: str, smtp_port: int, pki: Pki
) -> Path:
    (workdir / "scenario.yaml").write_text(
        "seed: 7\ndevices:\n" + "".join(f"  {d}: {spec}\n" for d, spec in DEVICES.items())
    )
    devices = "".join(
        f"""\
          - id: {d}
            role: {ROLES[d]}
            rated_power_w: 200000
            protocol: modbus-tcp
            address: 127.0.0.1:{free_port()}
            profile: sunspec-meter-203
            poll_interval_s: 0.5
            timeout_s: 0.5
            max_backoff_s: 1.0
"""
        for d in DEVICES
    )
    path = workdir / "alarms.yaml"
    path.write_text(
        f"""\
city:
  id: alarmville
services:
  mqtt:
    url: {mosquitto.url}
    topic_root: {root}
  store:
    backend: sqlite
    path: {workdir / "store.sqlite"}
  simulator:
    scenario: {workdir / "scenario.yaml"}
  ingest:
    client_id: {root}-ingest
    batch_interval_s: 0.2
  api:
    host: 127.0.0.1
    port: {api_port}
    keys:
{_keys()}  alerts:
    evaluation_interval_s: 0.25
    lease_ttl_s: 3
    group_wait_s: 0
    group_interval_s: 1
    retry_backoff_s: 0.5
    status_file: {workdir / "alerts.status.json"}
    webhook_url: {webhook}
    smtp_host: 127.0.0.1
    smtp_port: {smtp_port}
    smtp_ca_file: {pki.ca}
    smtp_username: va-alerts
    email_from: alarms@alarmville.example
    email_to: [astreinte@alarmville.example]
gateways:
  - id: gw-lab
    buffer_path: {workdir / "gw.buffer.sqlite"}
    publish_interval_s: 0.2
    health_interval_s: 1
districts:
  - id: lab
    sites:
      - id: s1
        gateway: gw-lab
        devices:
{devices}alerts:
  rules:
    - {{id: device-silent, kind: device_silent, severity: critical, after_s: {AFTER_S}, for: {FOR_S}s}}
"""
    )
    return path


class MqttWatcher:
    """A subscriber to the alarms topic: every payload received, in order."""

    def __init__(self, broker: Mosquitto, topic: str, client_id: str) -> None:
        self.payloads: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._lock:
            self.payloads.append(json.loads(message.payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class AlarmLab:
    def __init__(self, workdir: Path, mosquitto: Mosquitto, root: str, pki: Pki) -> None:
        self.workdir = workdir
        self.webhook = WebhookReceiver()
        self.smtp = SmtpServer(workdir, pki, user="va-alerts", password=SMTP_PASSWORD)
        self.api_port = free_port()
        self.control_port = free_port()
        self.config = write_config(
            workdir, mosquitto=mosquitto, root=root, api_port=self.api_port, webhook=self.webhook.url,
            smtp_port=self.smtp.port, pki=pki,
        )  # fmt: skip
        self.mqtt = MqttWatcher(mosquitto, f"{root}/v1/alarms", f"{root}-watcher")
        c = ["-c", str(self.config)]
        self.simulator = CommandProcess(
            "simulate", ["simulate", *c, "--control-port", str(self.control_port)], workdir=workdir
        )
        self.others = [
            CommandProcess("ingest", ["ingest", *c], workdir=workdir),
            CommandProcess("gateway", ["gateway", *c, "--id", "gw-lab"], workdir=workdir),
            CommandProcess("api", ["api", *c], workdir=workdir),
        ]
        self.secrets = {"VA_ALERTS_WEBHOOK_SECRET": WEBHOOK_SECRET, "VA_ALERTS_SMTP_PASSWORD": SMTP_PASSWORD}
        self.evaluators: list[CommandProcess] = []
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.api_port}", timeout=30)

    def start_evaluator(self) -> CommandProcess:
        n = len(self.evaluators)
        p = CommandProcess(f"alerts-{n}", ["alerts", "-c", str(self.config), "--holder", f"evaluator-{n}"],
                           workdir=self.workdir, env=self.secrets)  # fmt: skip
        self.evaluators.append(p.start())
        return p

    def start(self) -> None:
        self.simulator.start()
        wait_for(lambda: port_open("127.0.0.1", self.control_port), timeout=60, what="the simulators' control")
        for p in self.others:
            p.start()
        wait_for(lambda: self.get("/api/v1/health", "viewer").status_code == 200, timeout=60, what="API up",
                 retry_on=(httpx.TransportError,))  # fmt: skip
        self.start_evaluator()

    def get(self, path: str, role: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers={"Authorization": f"Bearer {KEYS[role]}"})

    def post(self, path: str, role: str, body: Any = None) -> httpx.Response:
        return self.http.post(path, json=body, headers={"Authorization": f"Bearer {KEYS[role]}"})

    def status(self) -> dict[str, Any]:
        path = self.workdir / "alerts.status.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def fault(self, method: str, path: str) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", method=method, data=b"{}")
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback)
            assert r.status == 200

    def close(self) -> None:
        self.http.close()
        self.mqtt.close()
        for p in reversed([self.simulator, *self.others, *self.evaluators]):
            p.stop()
        self.webhook.close()
        self.smtp.stop()

    def logs(self) -> str:
        parts = [self.simulator, *self.others, *self.evaluators]
        return "\n".join(f"--- {p.name} ---\n{p.log()[-3000:]}" for p in parts)
