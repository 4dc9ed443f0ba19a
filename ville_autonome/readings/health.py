"""Device health as the gateway reports it (retained on ``{root}/v1/health/{gateway}``).

Payload (JSON)::

    {"schema": 1, "gateway": "gw-saint-leu", "ts": 1763762400000,
     "devices": [{"device": "sl-meter-1", "online": true, "last_seen": 1763762399000,
                  "last_quality": "good", "errors": {"timeout": 3, "exception": 0}}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

HEALTH_SCHEMA = 1


class HealthError(ValueError):
    """A health payload that cannot be used."""


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    device: str
    gateway: str
    online: bool
    last_seen_ms: int | None
    updated_ms: int
    last_quality: str = "good"
    errors: dict[str, int] = field(default_factory=dict)


def encode_health(gateway: str, ts_ms: int, devices: list[DeviceHealth]) -> bytes:
    doc = {
        "schema": HEALTH_SCHEMA,
        "gateway": gateway,
        "ts": ts_ms,
        "devices": [
            {
                "device": d.device,
                "online": d.online,
                "last_seen": d.last_seen_ms,
                "last_quality": d.last_quality,
                "errors": dict(d.errors),
            }
            for d in devices
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_health(payload: bytes) -> list[DeviceHealth]:
    try:
        doc: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HealthError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema") != HEALTH_SCHEMA:
        raise HealthError("not a health document of schema 1")
    gateway, ts = doc.get("gateway"), doc.get("ts")
    if not isinstance(gateway, str) or not isinstance(ts, int):
        raise HealthError("'gateway' must be a string and 'ts' integer milliseconds")
    out = []
    for i, d in enumerate(doc.get("devices") or []):
        if not isinstance(d, dict) or not isinstance(d.get("device"), str):
            raise HealthError(f"devices[{i}] has no device id")
        last_seen = d.get("last_seen")
        errors = d.get("errors") or {}
        out.append(
            DeviceHealth(
                device=d["device"],
                gateway=gateway,
                online=bool(d.get("online")),
                last_seen_ms=last_seen if isinstance(last_seen, int) else None,
                updated_ms=ts,
                last_quality=str(d.get("last_quality", "good")),
                errors={str(k): int(v) for k, v in errors.items() if isinstance(v, int)},
            )
        )
    return out
