"""Command-line options shared by the subcommands (``--config FILE``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)

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


def _checked(parse: Callable[[str], N], accepts: Callable[[N], bool], rule: str) -> Callable[[str], N]:
    """An option type: ``parse`` the text, then refuse a value ``accepts`` says no to, naming ``rule``."""

    def check(text: str) -> N:
        value = parse(text)
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return check


positive_number = _checked(_finite, lambda v: v > 0, "greater than 0")  # a clock speed, a number of days
non_negative_number = _checked(_finite, lambda v: v >= 0, "0 or more")  # 0 often meaning "none"
positive_integer = _checked(_integer, lambda v: v > 0, "greater than 0")  # a step in seconds
port_number = _checked(_integer, lambda v: 0 < v < 65536, "a port in 1…65535")  # a TCP port


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(text: str) -> str:
    """A logging level name, any case (``$VA_LOG_LEVEL`` is checked the same way)."""
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return level
