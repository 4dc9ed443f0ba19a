"""A startup's view: run `ville-autonome simulate` as an outside program, read it with plain pymodbus and paho.

No project imports here besides the fixtures: only what docs/registers/ and docs/simulators.md say.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from pymodbus.client import ModbusTcpClient

from tests.simulators.conftest import amiens_document
from tests.support.ports import free_port, port_open
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for

SITES = {"saint-leu-housing", "iko-hydro", "maison-du-projet"}


def _write_config(tmp_path: Path, mqtt_url: str) -> tuple[Path, dict[str, Any]]:
    doc = amiens_document(sites=SITES, mqtt_url=mqtt_url)
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    devices = {d["id"]: d for di in doc["districts"] for s in di["sites"] for d in s["devices"]}
    return path, devices


def _start(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ville_autonome.commands.main",
            "simulate",
            "--config",
            str(config),
            "--speed",
            "30",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def _scaled(raw: int, sf: int, signed: bool = True) -> float:
    if signed and raw & 0x8000:
        raw -= 0x10000
    if sf & 0x8000:
        sf -= 0x10000
    return raw * 10.0**sf


def test_an_outside_program_reads_documented_values(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config, devices = _write_config(tmp_path, mosquitto.url)
    control = free_port()
    proc = _start(config, "--control-port", str(control))
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="startup-view")
    sub.on_message = lambda _c, _u, m: received.put((m.topic, m.payload))
    try:
        host, port = devices["slh-grid-meter"]["address"].split(":")
        wait_for(lambda: port_open(host, int(port)), timeout=30, what="the simulator's Modbus port")

        meter = ModbusTcpClient(host, port=int(port), timeout=2)
        assert meter.connect()
        try:
            rr = meter.read_holding_registers(40000, count=125, device_id=1)
            assert not rr.isError()
            r = rr.registers
            assert r[0:2] == [0x5375, 0x6E53]  # "SunS"
            assert r[2:4] == [1, 66]  # common model
            assert r[70:72] == [203, 105]  # meter model 203
            assert 49.0 < _scaled(r[86], r[87]) < 51.0  # Hz, Hz_SF
            assert 200.0 < _scaled(r[78], r[85]) < 260.0  # PhVphA, V_SF
            watts = _scaled(r[88], r[92])  # W, W_SF: housing draws from the grid
            assert 0 < watts < 600_000
            imported = meter.convert_from_registers(r[116:118], meter.DATATYPE.UINT32) * 10.0 ** _scaled(1, r[124])
            assert imported > 100_000  # Wh
        finally:
            meter.close()

        host, port = devices["iko-turbine"]["address"].split(":")
        plant = ModbusTcpClient(host, port=int(port), timeout=2)
        assert plant.connect()
        try:
            r = plant.read_holding_registers(0, count=16, device_id=1).registers
            power = plant.convert_from_registers(r[6:8], plant.DATATYPE.UINT32)
            flow, head = r[3] * 0.01, r[4] * 0.001
            assert r[0] in (0, 1, 2)
            assert r[15] == 150
            assert power <= 1000 * 9.81 * flow * head + 1
            assert plant.read_holding_registers(16, count=1, device_id=1).isError()
        finally:
            plant.close()

        with urllib.request.urlopen(f"http://127.0.0.1:{control}/devices", timeout=5) as resp:
            assert json.load(resp)["mdp-pv"]["topics"] == ["tele/mdp-pv/SENSOR"]

        sub.connect(mosquitto.host, mosquitto.port)
        sub.subscribe("shellies/#")
        sub.subscribe("tele/#")
        sub.loop_start()
        topics: dict[str, Any] = {}

        def all_topics() -> bool:
            while not received.empty():
                topic, payload = received.get()
                topics[topic] = json.loads(payload)  # JSON, or a plain number (Shelly Gen1)
            return len(topics) >= 6

        wait_for(all_topics, timeout=20, what="the three MQTT devices to publish every topic")
        assert isinstance(topics["shellies/mdp-grid-meter/status/em:0"]["total_act_power"], float | int)
        assert topics["shellies/mdp-grid-meter/status/emdata:0"]["total_act"] > 0
        assert topics["shellies/mdp-load/emeter/0/power"] > 0  # a plain number per topic
        assert topics["tele/mdp-pv/SENSOR"]["ENERGY"]["Total"] > 0  # kWh, Tasmota style
    finally:
        sub.loop_stop()
        sub.disconnect()
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0, err


def test_a_taken_port_gives_one_line_and_a_non_zero_exit(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config, devices = _write_config(tmp_path, mosquitto.url)
    host, port = devices["slh-load"]["address"].split(":")
    import socket

    with socket.socket() as taken:
        taken.bind((host, int(port)))
        taken.listen()
        proc = _start(config)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: Modbus port {host}:{port} is already in use"], err
