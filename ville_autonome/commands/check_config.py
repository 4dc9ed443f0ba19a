"""``ville-autonome check-config FILE``: validate a configuration and every register profile it uses,
and print "ok" or every problem (of the file and of its profiles) with its file and line."""

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
    profiles = len({dev.profile for _, _, dev in cfg.devices() if dev.profile})
    print(
        f"ok: {len(cfg.districts)} districts, {len(cfg.sites())} sites, {devices} devices, "
        f"{len(cfg.gateways)} gateways, {profiles} register profiles, {len(cfg.alerts.rules)} alarm rules"
    )
    return 0
