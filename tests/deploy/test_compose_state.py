"""docker-compose.yml, statically: every piece of state on a named volume, the gateways' buffers
included.
"""

from __future__ import annotations

from typing import Any

from ville_autonome.configuration.topology import PlatformConfig

STATE_PATHS = {
    "mosquitto": ["/mosquitto/data"],
    "influxdb": ["/var/lib/influxdb"],
    "grafana": ["/var/lib/grafana"],
}
GATEWAY_STATE = "/var/lib/ville-autonome/var"  # WORKDIR of the image + the buffer_path directory


# ------------------------------------------------------------------ state


def test_every_piece_of_state_is_on_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose["volumes"])
    used: list[str] = []
    for name, s in services.items():
        mounts = {}
        for v in s.get("volumes", []):
            source, target = str(v).split(":")[:2]
            mounts[target] = source
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
                used.append(source)
        for path in STATE_PATHS.get(name, []):
            assert path in mounts, f"{name}: {path} holds state and needs a volume"
            assert not mounts[path].startswith((".", "/")), f"{name}: {path} on a named volume"
        if s.get("command", [None])[0] == "gateway":
            assert GATEWAY_STATE in mounts, f"{name}: the gateway's disk buffer needs a volume"
    assert sorted(used) == sorted(declared), "each declared volume is used by exactly one service"


def test_gateway_buffers_land_on_their_volume(deployed: PlatformConfig) -> None:
    for g in deployed.gateways:
        assert g.buffer_path is not None
        assert g.buffer_path.startswith("var/"), f"{g.id}: buffer_path must sit under var/ (the volume)"
