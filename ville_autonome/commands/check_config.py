"""``ville-autonome check-config FILE``: validate a configuration and print "ok" or every problem."""

from __future__ import annotations

import argparse
from typing import Any

from ville_autonome.commands import config_file


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("check-config", help="validate a configuration file")
    p.add_argument("file", help="configuration file to check")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_file.load(args.file)  # raises ConfigError: printed line by line by commands.main
    devices = len(cfg.devices())
    print(
        f"ok: {len(cfg.districts)} districts, {len(cfg.sites())} sites, {devices} devices, {len(cfg.gateways)} gateways"
    )
    return 0
