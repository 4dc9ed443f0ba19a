"""``ville-autonome gateway --config FILE --id GW`` (or ``--all``): run gateways until SIGINT/SIGTERM.

A configuration error is one line and exit code 2. An unreachable broker is not an error: the
gateway logs it once, buffers readings on disk and keeps retrying.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument

if TYPE_CHECKING:
    from ville_autonome.gateway.service import GatewayService

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("gateway", help="run an edge gateway: poll devices, buffer on disk, publish the uplink")
    add_config_argument(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="gateway_id", help="the gateway id to run (see 'gateways:' in the config)")
    which.add_argument("--all", action="store_true", help="run every gateway of the configuration in this process")
    parser.add_argument("--buffer", help="buffer file (default: the gateway's buffer_path); only with --id")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from ville_autonome.gateway.errors import GatewayConfigError
    from ville_autonome.gateway.service import GatewayService

    config = config_file.load(args.config)
    ids = [g.id for g in config.gateways] if args.all else [args.gateway_id]
    if not ids:
        raise GatewayConfigError([f"{args.config}: no gateways configured"])
    if args.buffer and args.all:
        raise GatewayConfigError(["--buffer applies to one gateway: use it with --id"])
    status = config.services.gateway.status_file
    if status is not None and len(ids) > 1 and "{gateway}" not in status:
        raise GatewayConfigError(
            [f"services.gateway.status_file {status!r}: with several gateways, put {{gateway}} in it (a file each)"]
        )
    services = [GatewayService(config, gid, buffer_path=args.buffer) for gid in ids]  # validates first
    asyncio.run(_run(services))
    return 0


async def _run(services: list[GatewayService]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # the process is the gateways': their long-lived objects leave the collector's scans (docs/gateway.md)
    await asyncio.gather(*(s.run(stop, freeze_gc=True) for s in services))
