"""``ville-autonome SUBCOMMAND``: the single console script of the platform.

Each service package contributes its subcommand through a ``cli`` module exposing
``register(subparsers)``; the parser's ``handler(args) -> int`` runs it. Expected failures
(:class:`configuration.errors.StartupError`) print one line on stderr and exit non-zero, with no
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from configuration.errors import StartupError

# subcommand → the module that registers it, in the order of `--help`
SUBCOMMANDS = {
    "simulate": "simulators.cli",
    "gateway": "gateway.cli",
    "ingest": "ingest.cli",
    "api": "dashboard_api.cli",
    "demo": "commands.demo",
    "check-config": "commands.check_config",
    "report": "reports.cli",
}
SUBCOMMAND_MODULES = tuple(SUBCOMMANDS.values())

DEFAULT_CONFIG = os.environ.get("VA_CONFIG", "config/amiens.yaml")


def _wanted_modules(argv: Sequence[str] | None) -> tuple[str, ...]:
    """Only the module of the subcommand being run is imported (a service starts faster without
    FastAPI, matplotlib and friends); ``--help`` or an unknown word imports them all."""
    if argv is not None:
        for word in argv:
            if word in SUBCOMMANDS:
                return (SUBCOMMANDS[word],)
    return SUBCOMMAND_MODULES


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ville-autonome",
        description="Ville Autonome 2050: energy IoT platform (simulators, gateway, ingest, API, reports).",
    )
    parser.add_argument("--log-level", default=os.environ.get("VA_LOG_LEVEL", "INFO"), help="logging level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _wanted_modules(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # this subcommand's package is not part of this build yet
            raise
        module.register(sub)
    return parser


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--config FILE`` option every service subcommand takes."""
    parser.add_argument(
        "-c",
        "--config",
        default=DEFAULT_CONFIG,
        help=f"configuration file (default: $VA_CONFIG or {DEFAULT_CONFIG})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
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
