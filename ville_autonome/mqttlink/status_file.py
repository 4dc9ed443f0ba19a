"""A service's health as a small JSON file for the container health check (``va-healthcheck status
FILE``, deploy/healthcheck.py): ``healthy``, ``problems``, ``updated_ms`` and the service's own
details, written atomically, so that a reader never sees half a file. Used by the ingest workers
and the gateways, whose first problems are those of their MQTT link."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def link_problems(*, connected: bool, collision: str | None) -> list[str]:
    """What is wrong with a service's MQTT link: not connected to the broker, or another process
    using its client id (``mqttlink.client_id_collision``: the two throw each other off)."""
    problems = [] if connected else ["not connected to the MQTT broker"]
    if collision:
        problems.append(collision)
    return problems


def write_status_file(path: str | Path, problems: list[str], **details: object) -> None:
    """Write ``{"healthy", "problems", **details, "updated_ms"}`` to ``path`` atomically."""
    target = Path(path)
    doc = {"healthy": not problems, "problems": problems, **details, "updated_ms": int(time.time() * 1000)}
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, target)
