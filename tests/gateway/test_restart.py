"""The gateway as a real process (`ville-autonome gateway`): kill -9 with a full buffer loses
nothing; configuration errors are one line and exit code 2."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.gateway.acker import Acker
from tests.gateway.modbus_devices import ModbusTestDevice, meter_image
from tests.gateway.rig import GATEWAY
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
from ville_autonome.commands.main import main
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.readings.envelope import decode

CONFIG = """\
city: {{id: test}}
services:
  mqtt: {{url: "{url}", topic_root: {root}}}
gateways:
  - {{id: {gw}, buffer_path: "{buffer}", publish_interval_s: 0.1, ack_timeout_s: 2, health_interval_s: 1}}
districts:
  - id: d
    sites:
      - id: s
        gateway: {gw}
        devices:
          - {{id: m0, role: grid, protocol: modbus-tcp, address: "{address}", profile: sunspec-meter-203,
              poll_interval_s: 0.1, timeout_s: 0.5}}
"""


def gateway_process(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "ville_autonome.commands.main", "gateway", "--config", str(config), *extra]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stored(buffer: Path) -> dict[int, bytes]:
    db = sqlite3.connect(f"file:{buffer}?mode=ro", uri=True)
    try:
        return {int(s): bytes(b) for s, b in db.execute("SELECT seq, body FROM envelopes")}
    finally:
        db.close()


def stored_count(buffer: Path) -> int:
    try:
        return len(stored(buffer))
    except sqlite3.Error:
        return 0


@pytest.fixture
async def meter() -> AsyncIterator[ModbusTestDevice]:
    device = ModbusTestDevice(meter_image())
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)
        if p.stderr is not None:
            p.stderr.close()


async def test_kill_9_with_a_full_buffer_loses_nothing(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    meter: ModbusTestDevice,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    buffer = tmp_path / "gw.sqlite"
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG.format(url=mosquitto.url, root=unique_name, gw=GATEWAY, buffer=buffer, address=meter.address)
    )
    first = gateway_process(config, "--id", GATEWAY)
    processes.append(first)
    # nobody acknowledges yet: the buffer only grows
    await async_wait_for(lambda: stored_count(buffer) >= 20, timeout=60, what="20 unacknowledged envelopes")
    first.kill()  # SIGKILL: no chance to flush anything
    first.wait(timeout=10)
    before = stored(buffer)
    assert len(before) >= 20
    assert sorted(before) == list(range(1, max(before) + 1))

    acker = Acker(MqttSettings(url=mosquitto.url, topic_root=unique_name), GATEWAY).start()
    try:
        # the broker saw the connection drop: the last will marks the gateway offline (retained)
        await async_wait_for(lambda: acker.status() == b"offline", timeout=30, what="the last will")
        second = gateway_process(config, "--id", GATEWAY)
        processes.append(second)
        await async_wait_for(
            lambda: (
                set(before) <= acker.seqs()
                and max(acker.seqs()) > max(before) + 3
                and set(before).isdisjoint(stored(buffer))
            ),
            timeout=60,
            what="the buffered envelopes and new ones",
        )
        assert acker.status() == b"online"
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    finally:
        acker.stop()
    for seq, body in before.items():
        assert acker.envelopes[seq] == decode(body), f"envelope {seq} changed across the restart"
    new = sorted(s for s in acker.seqs() if s > max(before))
    assert new[0] == max(before) + 1, "sequence numbers continue after the restart, none reused"
    for body in before.values():
        env = decode(body)
        assert max(r.ts_ms for r in env.readings) <= env.sent_ms, "readings are older than their envelope"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "gw-nope"], "unknown gateway 'gw-nope'"),
        (["--id", GATEWAY, "--config", "/nonexistent/config.yaml"], "no such configuration file"),
        (["--all", "--buffer", "x.sqlite"], "--buffer applies to one gateway"),
    ],
)
def test_configuration_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG.format(url="mqtt://127.0.0.1:1", root="t", gw=GATEWAY, buffer=tmp_path / "b", address="127.0.0.1:1")
    )
    # the console script's own entry point, in-process (the kill -9 test above runs it as a process)
    code = main(["gateway", "--config", str(config), *args])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert message in lines[0]


ALL_CONFIG = """\
city: {{id: test}}
services:
  mqtt: {{url: "{url}", topic_root: {root}}}
gateways:
  - {{id: gw-a, buffer_path: "{tmp}/a.sqlite", publish_interval_s: 0.2}}
  - {{id: gw-b, buffer_path: "{tmp}/b.sqlite", publish_interval_s: 0.2}}
districts:
  - id: d
    sites:
      - id: sa
        gateway: gw-a
        devices:
          - {{id: ma, role: grid, address: "{address}", profile: sunspec-meter-203, poll_interval_s: 0.2}}
      - id: sb
        gateway: gw-b
        devices:
          - {{id: mb, role: grid, address: "{address_b}", profile: sunspec-meter-203, poll_interval_s: 0.2}}
"""


async def test_all_gateways_in_one_process_stop_cleanly_on_sigterm(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    meter: ModbusTestDevice,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    other = ModbusTestDevice(meter_image())
    await other.start()
    try:
        config = tmp_path / "config.yaml"
        text = ALL_CONFIG.format(
            url=mosquitto.url, root=unique_name, tmp=tmp_path, address=meter.address, address_b=other.address
        )
        config.write_text(text)
        await _run_all_and_stop(config, tmp_path, processes)
    finally:
        await other.stop()


async def _run_all_and_stop(config: Path, tmp_path: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    proc = gateway_process(config, "--all")
    processes.append(proc)
    await async_wait_for(
        lambda: stored_count(tmp_path / "a.sqlite") >= 3 and stored_count(tmp_path / "b.sqlite") >= 3,
        timeout=60,
        what="both gateways buffering",
    )
    proc.send_signal(signal.SIGTERM)
    await async_wait_for(lambda: proc.poll() is not None, timeout=30, what="a clean exit")
    assert proc.returncode == 0
    a, b = stored(tmp_path / "a.sqlite"), stored(tmp_path / "b.sqlite")
    assert {r.device for body in a.values() for r in decode(body).readings} == {"ma"}
    assert {r.device for body in b.values() for r in decode(body).readings} == {"mb"}
