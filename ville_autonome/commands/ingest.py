"""``ville-autonome ingest --config FILE [--client-id ID] [--shared-group G]``: run one ingest worker
until SIGINT or SIGTERM (then flush, acknowledge what was written, disconnect)."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import threading
from types import FrameType
from typing import Any

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument

log = logging.getLogger(__name__)

GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython default 700)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "ingest", help="central ingest: MQTT uplink → validation → store, at least once"
    )
    add_config_argument(parser)
    parser.add_argument(
        "--client-id", help="stable MQTT client id (persistent session); default services.ingest.client_id"
    )
    parser.add_argument("--shared-group", help="join $share/GROUP/… so that several workers split the load")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ville_autonome.ingest.service import IngestService
    from ville_autonome.storage.factory import open_store

    config = config_file.load(args.config)
    store = open_store(config.services.store)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    service = IngestService(config, store, client_id=args.client_id, shared_group=args.shared_group)
    # a batch holds thousands of readings for a moment: collect the young generation less often,
    # and keep the start-up objects (modules, configuration) out of every full collection
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    try:
        service.start()
        log.info("ingest %s running", service.client_id)
        stop.wait()
    finally:
        service.stop()
        store.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    stats = service.stats
    log.info("ingest stopped: %d readings written, %d dead-lettered", stats.written, sum(stats.rejected.values()))
    return 0
