"""The notification message (pure): one JSON document per group and interval, the same on every
channel (webhook body, MQTT payload, e-mail attachment), and its HMAC-SHA256 signature.

::

    {"schema": 1, "id": "<message id>", "created_ms": 1767225600000, "group": {"district": "saint-leu"},
     "status": "firing", "counts": {"firing": 1, "resolved": 0},
     "alarms": [{"id": "<episode>", "key": "device-silent:iko-turbine", "rule": "device-silent",
                 "transition": "firing", "state": "firing", "severity": "critical", "scope": "device",
                 "subject": "iko-turbine", "labels": {...}, "summary": "iko-turbine: silent for 95 s",
                 "value": 95.0, "active_since_ms": …, "fired_ms": …, "resolved_ms": null, "url": …}]}

Signature: ``X-VA-Signature: sha256=<hex>`` = HMAC-SHA256(secret, ``<X-VA-Timestamp>.<body>``), the
timestamp (epoch ms) sent beside it, so that a receiver can refuse an old message replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from ville_autonome.alerts.grouping import Owed

SCHEMA = 1
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _alarm(o: Owed, base_url: str | None) -> dict[str, Any]:
    a = o.alarm
    return {
        "id": a.id,
        "key": a.key,
        "rule": a.rule,
        "transition": o.transition,
        "state": a.state,
        "severity": a.severity,
        "scope": a.scope,
        "subject": a.subject,
        "labels": dict(a.labels),
        "summary": a.summary,
        "value": a.value,
        "active_since_ms": a.active_since_ms,
        "fired_ms": a.fired_ms,
        "resolved_ms": a.resolved_ms,
        "url": f"{base_url.rstrip('/')}/api/v1/alarms/{a.id}" if base_url else None,
    }


def build_message(
    message_id: str, group_key: str, owed: Sequence[Owed], now_ms: int, base_url: str | None = None
) -> dict[str, Any]:
    group = dict(part.split("=", 1) for part in group_key.split(",") if "=" in part)
    items = sorted(owed, key=lambda o: (o.transition != "firing", SEVERITY_ORDER.get(o.alarm.severity, 3), o.alarm.key))
    firing = sum(o.transition == "firing" for o in items)
    return {
        "schema": SCHEMA,
        "id": message_id,
        "created_ms": now_ms,
        "group": group,
        "status": "firing" if firing else "resolved",
        "counts": {"firing": firing, "resolved": len(items) - firing},
        "alarms": [_alarm(o, base_url) for o in items],
    }


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: bytes, timestamp_ms: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp_ms>.<body>``."""
    return "sha256=" + hmac.new(secret, str(timestamp_ms).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp_ms: str, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time); the receiver also refuses an old ``timestamp_ms``."""
    if not timestamp_ms.isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(timestamp_ms), body), header)


def subject_line(message: dict[str, Any], prefix: str = "[Ville Autonome]") -> str:
    alarms = message["alarms"]
    where = ", ".join(f"{k} {v}" for k, v in message["group"].items() if v) or "city"
    counts = message["counts"]
    if counts["firing"]:
        worst = min((a["severity"] for a in alarms if a["transition"] == "firing"), key=lambda s: SEVERITY_ORDER[s])
        head = f"FIRING {worst.upper()}: {counts['firing']} alarm{'s' * (counts['firing'] > 1)}"
        if counts["resolved"]:
            head += f", {counts['resolved']} resolved"
    else:
        head = f"RESOLVED: {counts['resolved']} alarm{'s' * (counts['resolved'] > 1)}"
    first = alarms[0]["summary"] if alarms else ""
    return f"{prefix} {head} ({where}) - {first}"[:200]


def text_body(message: dict[str, Any]) -> str:
    """The e-mail's plain text: one line per alarm, then the JSON message for machines."""
    lines = [subject_line(message, prefix=""), ""]
    for a in message["alarms"]:
        line = f"- {a['transition'].upper():8} {a['severity']:8} {a['summary']}"
        if a["url"]:
            line += f"\n  {a['url']}"
        lines.append(line)
    lines += ["", "Message id: " + message["id"], "", json.dumps(message, indent=2, ensure_ascii=False)]
    return "\n".join(lines) + "\n"
