"""A one-site configuration for end-to-end tests: one simulated three-phase meter on a free port."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.support.ports import free_port

API_KEY = "e2e-test-key-0123456789"

# the physics of the two simulated devices: the grid meter follows the site's balance
SCENARIO = """\
seed: 7
devices:
  meter-a: {model: meter, rated_power_w: 100000}
  load-a: {model: load, profile: office, peak_w: 80000, base_fraction: 0.4}
"""


def write_config(
    path: Path,
    *,
    mqtt_url: str,
    topic_root: str,
    store: dict[str, str],
    api_port: int | None = None,
    meter_port: int | None = None,
) -> Path:
    meter_port = meter_port or free_port()
    load_port = free_port()
    api_port = api_port or free_port()
    scenario = path.parent / "scenario.yaml"
    scenario.write_text(SCENARIO)
    store_lines = "\n".join(f"    {k}: {v}" for k, v in store.items())
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    path.write_text(
        f"""\
city:
  id: testville
  name: Test Ville
services:
  mqtt:
    url: {mqtt_url}
    topic_root: {topic_root}
  store:
{store_lines}
  simulator:
    scenario: {scenario}
  ingest:
    client_id: {topic_root}-ingest
    batch_interval_s: 0.2
  api:
    host: 127.0.0.1
    port: {api_port}
    keys:
      - name: e2e
        role: admin
        sha256: {digest}
gateways:
  - id: gw-a
    buffer_path: {path.parent / "gw-a.buffer.sqlite"}
    publish_interval_s: 0.2
districts:
  - id: north
    name: North
    sites:
      - id: site-a
        name: Site A
        gateway: gw-a
        devices:
          - id: meter-a
            name: Grid meter A
            role: grid
            protocol: modbus-tcp
            address: 127.0.0.1:{meter_port}
            unit_id: 1
            profile: sunspec-meter-203
            poll_interval_s: 0.5
          - id: load-a
            name: Offices A
            role: consumption
            protocol: modbus-tcp
            address: 127.0.0.1:{load_port}
            unit_id: 1
            profile: sunspec-meter-203
            poll_interval_s: 0.5
"""
    )
    return path
