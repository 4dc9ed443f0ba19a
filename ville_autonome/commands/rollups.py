"""``ville-autonome rollups --config FILE [--once]``: run the rollup compiler, the one writer of
rollups, until SIGINT or SIGTERM (``--once``: compile what is marked now, then exit)."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import threading
from types import FrameType
from typing import Any

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "rollups", help="the rollup compiler: dirty marks → 15-min and day rollups (run one)"
    )
    add_config_argument(parser)
    parser.add_argument("--once", action="store_true", help="compile everything marked now, then exit")
    parser.add_argument("--name", default=socket.gethostname(), help="name in the service counters (default: host)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ville_autonome.rollups.service import RollupCompiler
    from ville_autonome.storage.factory import open_store

    config = config_file.load(args.config)
    store = open_store(config.services.store)
    compiler = RollupCompiler(store, interval_s=config.services.store.rollup_refresh_s, name=args.name)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current chunk", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.once:
            return 0 if compiler.run_pass(budget_s=None) else 1
        compiler.run(stop)
    finally:
        store.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    log.info(
        "rollup compiler stopped: %d passes, %d rollups written", compiler.stats.passes, compiler.stats.rollups_written
    )
    return 0
