"""``ville-autonome SUBCOMMAND``: the single console script of the platform.

Each subcommand is a module of this package exposing ``register(subparsers)``; the parser's
``handler(args) -> int`` runs it. Expected failures
(:class:`configuration.errors.StartupError`) print one line on stderr and exit non-zero, with no
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ville_autonome.commands import alerts, api, check_config, demo, gateway, ingest, report, rollups, simulate
from ville_autonome.commands.arguments import log_level
from ville_autonome.configuration.errors import StartupError

# the subcommands' modules, in the order of `--help`; each keeps its heavy imports inside its
# handler, so that a service does not load FastAPI, matplotlib and friends it does not need
SUBCOMMANDS = (simulate, gateway, ingest, rollups, alerts, api, demo, check_config, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ville-autonome",
        description="Ville Autonome 2050: energy IoT platform (simulators, gateway, ingest, API, reports).",
    )
    parser.add_argument(
        "--log-level",
        type=log_level,
        default=os.environ.get("VA_LOG_LEVEL", "INFO"),
        help="logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL (default: $VA_LOG_LEVEL or INFO)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.handler(args) or 0)
    except StartupError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
