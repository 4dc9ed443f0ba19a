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


# Typed options: a bad value is refused by the parser with its reason (exit 2, no traceback),
# before anything starts. Floats must be finite: ``nan`` and ``inf`` parse as floats in Python.


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_number(text: str) -> float:
    """A finite number > 0 (a clock speed, a number of days)."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def non_negative_number(text: str) -> float:
    """A finite number ≥ 0 (0 often meaning "none")."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_integer(text: str) -> int:
    """An integer > 0 (a step in seconds)."""
    value = _integer(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def port_number(text: str) -> int:
    """A TCP port, 1…65535."""
    value = _integer(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be a port in 1…65535, got {text}")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(text: str) -> str:
    """A logging level name, any case (``$VA_LOG_LEVEL`` is checked the same way)."""
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return level
