"""``ville-autonome alerts --config FILE``: the alarm evaluator (docs/alerts.md), until SIGINT or
SIGTERM; ``--export-prometheus FILE`` (``-``: standard output) writes the rules as a Prometheus
alerting-rule file instead and exits. An unreachable store at start is one line and exit 2."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "alerts", help="evaluate the alarm rules and notify (one evaluator per deployment; others stand by)"
    )
    add_config_argument(parser)
    parser.add_argument("--holder", help="this evaluator's name in the lease (default: host-pid-random)")
    parser.add_argument(
        "--export-prometheus", metavar="FILE", help="write the rules as a Prometheus rule file ('-': stdout) and exit"
    )
    parser.set_defaults(handler=run)


def export(args: argparse.Namespace) -> int:
    import yaml

    from ville_autonome.alerts.prometheus_rules import prometheus_rules

    config = config_file.load(args.config)
    text = "# written by `ville-autonome alerts --export-prometheus` from " + args.config + "\n"
    text += yaml.safe_dump(prometheus_rules(config), sort_keys=False, allow_unicode=True, width=200)
    if args.export_prometheus == "-":
        sys.stdout.write(text)
    else:
        with open(args.export_prometheus, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.export_prometheus:
        return export(args)
    from ville_autonome.alerts.service import AlertService
    from ville_autonome.journals.alarm_log import alarm_log_for
    from ville_autonome.storage.factory import open_store

    config = config_file.load(args.config)
    store = open_store(config.services.store)
    alarm_log = alarm_log_for(store, config.services.store)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    service = AlertService(config, store, alarm_log, holder=args.holder)
    try:
        service.start()
        stop.wait()
    finally:
        service.stop()
        alarm_log.close()
        store.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
