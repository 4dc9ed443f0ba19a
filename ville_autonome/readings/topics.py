"""The MQTT topic scheme of the uplink (docs/uplink.md).

All topics live under a configurable root (default ``va``) and a protocol version ``v1``:

- ``{root}/v1/uplink/{gateway}``      readings envelopes, gateway → ingest, QoS 1
- ``{root}/v1/ack/{gateway}``         end-to-end acknowledgements, ingest → gateway, QoS 1
- ``{root}/v1/health/{gateway}``      device health snapshot, gateway → central, retained
- ``{root}/v1/status/{gateway}``      "online"/"offline" (last will), retained
- ``{root}/v1/deadletter/{gateway}``  rejected readings with their reason, ingest → anyone
- ``{root}/v1/command/{gateway}``     commands to the gateway's devices, centre → gateway, QoS 1
- ``{root}/v1/command-result/{gateway}``  what became of each command, gateway → centre, QoS 1
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ROOT = "va"
VERSION = "v1"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def is_valid_id(identifier: str) -> bool:
    """Identifiers (gateway, district, site, device) are lower-case slugs: safe in topics and tags."""
    return bool(_ID.match(identifier))


@dataclass(frozen=True, slots=True)
class Topics:
    root: str = DEFAULT_ROOT

    def _t(self, kind: str, gateway: str) -> str:
        return f"{self.root}/{VERSION}/{kind}/{gateway}"

    def uplink(self, gateway: str) -> str:
        return self._t("uplink", gateway)

    def ack(self, gateway: str) -> str:
        return self._t("ack", gateway)

    def health(self, gateway: str) -> str:
        return self._t("health", gateway)

    def status(self, gateway: str) -> str:
        return self._t("status", gateway)

    def deadletter(self, gateway: str) -> str:
        return self._t("deadletter", gateway)

    def command(self, gateway: str) -> str:
        return self._t("command", gateway)

    def command_result(self, gateway: str) -> str:
        return self._t("command-result", gateway)

    def command_result_filter(self) -> str:
        return self._t("command-result", "+")

    def uplink_filter(self) -> str:
        return self._t("uplink", "+")

    def shared_uplink_filter(self, group: str) -> str:
        return f"$share/{group}/{self.uplink_filter()}"

    def gateway_of(self, topic: str) -> str | None:
        """The gateway id at the end of any of these topics, or ``None`` if it is not one of ours."""
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != self.root or parts[1] != VERSION:
            return None
        return parts[3] or None
