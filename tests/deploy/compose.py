"""Reading docker-compose.yml the way Docker Compose does, for the static deployment tests:
merge keys resolved by PyYAML, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` interpolated
from a given environment (a missing required variable raises, like ``docker compose up``)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
GEN_ENV = ROOT / "deploy" / "gen-env.sh"
ACL_FILE = ROOT / "deploy" / "mosquitto" / "acl"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $
_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariableError(LookupError):
    pass


def load_compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(doc, dict)
    return doc


def variables(text: str) -> Iterator[tuple[str, str | None, str]]:
    """(name, operator, argument) of every interpolation in ``text``."""
    for m in _VAR.finditer(text):
        if m.group("name"):
            yield m.group("name"), m.group("op"), m.group("arg") or ""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name"), m.group("op"), m.group("arg") or ""
        current = env.get(name)
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise MissingVariableError(f"{name}: {arg}")
            return current
        if op in (":-", "-"):
            return current if current is not None and (op == "-" or current != "") else arg
        return current or ""

    return _VAR.sub(sub, value)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a .env file (single or double quotes around the value stripped)."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[name.strip()] = value
    return out


def service_env(service: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    raw = service.get("environment") or {}
    assert isinstance(raw, dict), "environment must be a mapping"
    return {str(k): interpolate(str(v), env) for k, v in raw.items()}


def load_healthcheck() -> ModuleType:
    """deploy/healthcheck.py, the image's ``va-healthcheck``, as a module."""
    spec = importlib.util.spec_from_file_location("va_healthcheck", ROOT / "deploy" / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def acl_blocks(text: str) -> dict[str | None, list[tuple[str, str]]]:
    """Mosquitto ACL rules by user (``None``: pattern lines), each (access, topic)."""
    blocks: dict[str | None, list[tuple[str, str]]] = {None: []}
    user: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "user":
            user = rest.strip()
            blocks.setdefault(user, [])
        elif word in ("topic", "pattern"):
            parts = rest.split(None, 1)
            access, topic = (
                (parts[0], parts[1]) if parts[0] in ("read", "write", "readwrite", "deny") else ("readwrite", rest)
            )
            blocks[None if word == "pattern" else user].append((access, topic.strip()))
    return blocks


MQTT_CLIENTS = ("simulate", "gateway", "ingest", "alerts")  # the subcommands that connect to the broker


def platform_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services running the platform's own image (Dockerfile)."""
    return {name: s for name, s in services.items() if s.get("build") == "."}


def argv_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    assert isinstance(command, list), "commands are exec-form lists (no shell in between)"
    return [str(a) for a in command]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]
