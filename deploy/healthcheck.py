#!/usr/local/bin/python
"""Container health checks of the platform's services (docker-compose.yml ``healthcheck``).

Installed in the image as ``va-healthcheck``; exits 0 when healthy, 1 (with one line on stderr)
when not. Standard library only, Linux ``/proc/net/tcp*`` for socket states:

- ``va-healthcheck http URL``              the URL answers 2xx (the API's health route);
- ``va-healthcheck connected PORT...``     an established TCP connection to each remote PORT
                                          (a service connected to the broker);
- ``va-healthcheck listening PORT...``     a listening TCP socket on each local PORT
                                          (the simulators' Modbus servers);
- ``va-healthcheck status FILE``           the service's own status file says healthy and is
                                          fresh (an ingest worker: connected to the broker, its
                                          store accepting its credentials; a gateway: connected,
                                          its client id its own, its buffer writable;
                                          ``--max-age`` s).

Inside a container the network namespace is the service's own, so the sockets seen are its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

ESTABLISHED = "01"
LISTEN = "0A"
PROC_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def parse_proc_net_tcp(text: str) -> list[tuple[int, int, str]]:
    """(local port, remote port, state) of every socket in a ``/proc/net/tcp`` table (pure)."""
    out = []
    for row in text.splitlines()[1:]:
        cols = row.split()
        if len(cols) < 4:
            continue
        local, remote, state = cols[1], cols[2], cols[3].upper()
        out.append((int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), state))
    return out


def sockets(tables: Iterable[str] = PROC_TABLES) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for table in tables:
        try:
            found.extend(parse_proc_net_tcp(Path(table).read_text()))
        except OSError:
            continue  # no IPv6 table when IPv6 is disabled
    return found


def missing_connections(ports: Sequence[int], table: Sequence[tuple[int, int, str]]) -> list[int]:
    return [p for p in ports if not any(state == ESTABLISHED and remote == p for _, remote, state in table)]


def missing_listeners(ports: Sequence[int], table: Sequence[tuple[int, int, str]]) -> list[int]:
    return [p for p in ports if not any(state == LISTEN and local == p for local, _, state in table)]


def check_http(url: str, timeout_s: float) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as r:  # noqa: S310 (a fixed local URL)
            return None if 200 <= r.status < 300 else f"{url} answered {r.status}"
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"{url} answered {exc.code}"
    except OSError as exc:
        return f"{url} unreachable: {exc}"


def check_status(path: str, max_age_s: float, now_ms: int) -> str | None:
    """The problem a status file (``mqttlink.status_file.write_status_file``) reports, or ``None``."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"no readable status in {path}: {exc}"
    if not isinstance(doc, dict):
        return f"{path} is not a status document"
    age_s = (now_ms - int(doc.get("updated_ms", 0))) / 1000
    if age_s > max_age_s:
        return f"status in {path} is {age_s:.0f} s old (the service is stuck or gone)"
    if doc.get("healthy") is not True:
        return "; ".join(str(p) for p in doc.get("problems", [])) or "unhealthy"
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="va-healthcheck", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="check", required=True)
    http = sub.add_parser("http", help="the URL answers 2xx")
    http.add_argument("url")
    http.add_argument("--timeout", type=float, default=5.0)
    conn = sub.add_parser("connected", help="an established TCP connection to each remote port")
    conn.add_argument("ports", type=int, nargs="+")
    listen = sub.add_parser("listening", help="a listening TCP socket on each local port")
    listen.add_argument("ports", type=int, nargs="+")
    status = sub.add_parser("status", help="the service's status file says healthy and is fresh")
    status.add_argument("file")
    status.add_argument("--max-age", type=float, default=60.0, help="seconds (default 60)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    if args.check == "http":
        problem = check_http(args.url, args.timeout)
    elif args.check == "status":
        problem = check_status(args.file, args.max_age, int(time.time() * 1000))
    elif args.check == "connected":
        missing = missing_connections(args.ports, sockets())
        problem = f"no established connection to port(s) {missing}" if missing else None
    else:
        missing = missing_listeners(args.ports, sockets())
        problem = f"nothing listening on port(s) {missing}" if missing else None
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
