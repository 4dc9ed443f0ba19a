"""Command-line options shared by the subcommands (``--config FILE``)."""

from __future__ import annotations

import argparse
import os

DEFAULT_CONFIG = os.environ.get("VA_CONFIG", "config/amiens.yaml")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--config FILE`` option every service subcommand takes."""
    parser.add_argument(
        "-c",
        "--config",
        default=DEFAULT_CONFIG,
        help=f"configuration file (default: $VA_CONFIG or {DEFAULT_CONFIG})",
    )
