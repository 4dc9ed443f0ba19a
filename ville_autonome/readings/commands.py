"""Commands from the platform to a device, and their results: the downlink's JSON (docs/commands.md).

A command travels centre → gateway on ``{root}/v1/command/{gateway}`` (QoS 1); its result
gateway → centre on ``{root}/v1/command-result/{gateway}`` (QoS 1)::

    {"schema": 1, "id": "4f0c…", "gateway": "gw-gare-la-vallee", "device": "hub-energie-battery",
     "writes": [{"point": "InWRte", "value": 40}, {"point": "StorCtl_Mod", "value": 3}],
     "issued_ms": 1767225600000, "expires_ms": 1767225660000, "issued_by": "operator-1"}

    {"schema": 1, "id": "4f0c…", "gateway": "gw-gare-la-vallee", "device": "hub-energie-battery",
     "status": "applied", "detail": "", "exception_code": null,
     "readback": {"InWRte": 40.0, "StorCtl_Mod": 3.0}, "done_ms": 1767225600840}

A command is never applied after ``expires_ms`` (the gateway's clock): a gateway that comes back
late answers ``expired``. Pure encoding and decoding; :class:`CommandFormatError` names what is
wrong with a payload.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ville_autonome.readings.topics import is_valid_id

COMMAND_SCHEMA = 1
MAX_WRITES = 16
MAX_COMMAND_BYTES = 16_384


class CommandFormatError(ValueError):
    """A command or result payload that is not usable (not JSON, wrong schema, bad field)."""


class CommandStatus(StrEnum):
    SENT = "sent"  # published by the centre, no result yet
    APPLIED = "applied"  # written and read back equal
    REFUSED = "refused"  # refused by the gateway's check or by the device (Modbus exception)
    TIMED_OUT = "timed_out"  # the device did not answer the write or the read-back
    EXPIRED = "expired"  # received after its expiry: not applied
    NO_RESULT = "no_result"  # the centre heard nothing back before expiry (gateway offline?)


FINAL = frozenset({CommandStatus.APPLIED, CommandStatus.REFUSED, CommandStatus.TIMED_OUT, CommandStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class PointWrite:
    point: str
    value: float


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    gateway: str
    device: str
    writes: tuple[PointWrite, ...]
    issued_ms: int
    expires_ms: int
    issued_by: str

    def expired(self, now_ms: int) -> bool:
        return now_ms >= self.expires_ms


@dataclass(frozen=True, slots=True)
class CommandResult:
    id: str
    gateway: str
    device: str
    status: CommandStatus
    done_ms: int
    detail: str = ""
    exception_code: int | None = None
    readback: dict[str, float] = field(default_factory=dict)


def encode_command(cmd: Command) -> bytes:
    doc = {
        "schema": COMMAND_SCHEMA,
        "id": cmd.id,
        "gateway": cmd.gateway,
        "device": cmd.device,
        "writes": [{"point": w.point, "value": w.value} for w in cmd.writes],
        "issued_ms": cmd.issued_ms,
        "expires_ms": cmd.expires_ms,
        "issued_by": cmd.issued_by,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def encode_result(res: CommandResult) -> bytes:
    doc = {
        "schema": COMMAND_SCHEMA,
        "id": res.id,
        "gateway": res.gateway,
        "device": res.device,
        "status": str(res.status),
        "detail": res.detail,
        "exception_code": res.exception_code,
        "readback": res.readback,
        "done_ms": res.done_ms,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _document(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandFormatError(f"payload of {len(payload)} bytes is over {MAX_COMMAND_BYTES}")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandFormatError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != COMMAND_SCHEMA:
        raise CommandFormatError(f"not a schema {COMMAND_SCHEMA} document")
    for key in ("id", "gateway", "device"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise CommandFormatError(f"'{key}' must be a non-empty string")
    if len(doc["id"]) > 64 or not is_valid_id(doc["gateway"]) or not is_valid_id(doc["device"]):
        raise CommandFormatError("'id', 'gateway' or 'device' is not a valid identifier")
    return doc


def _int(doc: dict[str, Any], key: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CommandFormatError(f"'{key}' must be a non-negative integer (epoch ms)")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CommandFormatError(f"{what} must be a finite number")
    return float(value)


def decode_command(payload: bytes) -> Command:
    doc = _document(payload)
    raw = doc.get("writes")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_WRITES:
        raise CommandFormatError(f"'writes' must be a list of 1…{MAX_WRITES} point writes")
    writes = []
    for i, w in enumerate(raw):
        if not isinstance(w, dict) or not isinstance(w.get("point"), str):
            raise CommandFormatError(f"writes[{i}] must be {{'point': name, 'value': number}}")
        writes.append(PointWrite(w["point"], _number(w.get("value"), f"writes[{i}].value")))
    issued_by = doc.get("issued_by", "")
    return Command(
        id=doc["id"],
        gateway=doc["gateway"],
        device=doc["device"],
        writes=tuple(writes),
        issued_ms=_int(doc, "issued_ms"),
        expires_ms=_int(doc, "expires_ms"),
        issued_by=str(issued_by)[:64],
    )


def decode_result(payload: bytes) -> CommandResult:
    doc = _document(payload)
    try:
        status = CommandStatus(str(doc.get("status")))
    except ValueError:
        raise CommandFormatError(f"unknown status {doc.get('status')!r}") from None
    if status not in FINAL:
        raise CommandFormatError(f"a gateway does not answer {status}")
    code = doc.get("exception_code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        raise CommandFormatError("'exception_code' must be an integer or null")
    readback = doc.get("readback") or {}
    if not isinstance(readback, dict):
        raise CommandFormatError("'readback' must map point names to numbers")
    return CommandResult(
        id=doc["id"],
        gateway=doc["gateway"],
        device=doc["device"],
        status=status,
        done_ms=_int(doc, "done_ms"),
        detail=str(doc.get("detail") or "")[:500],
        exception_code=code,
        readback={str(k): _number(v, f"readback.{k}") for k, v in readback.items()},
    )
