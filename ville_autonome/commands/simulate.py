"""``ville-autonome simulate``: run the living lab, or publish a past period into the uplink.

    ville-autonome simulate --config config/amiens.yaml [--speed N] [--seed N] [--control-port P] [--port-offset N]
    ville-autonome simulate --backfill-days 365 [--step-s 900] [--gateway-id backfill]
    ville-autonome simulate --backfill-start 2025-01-01 --backfill-end 2026-01-01

Live mode runs until SIGINT/SIGTERM and exits 0. Start-up failures (configuration, scenario,
port in use, broker unreachable for a backfill) print one line and exit 2. A backfill exits 0 once
the ingest has acknowledged every envelope; 1 naming the envelopes it never acknowledged; 130 on
SIGINT/SIGTERM (within a fraction of a second), saying how far it got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument, port_number, positive_integer, positive_number
from ville_autonome.commands.port_offset import with_port_offset
from ville_autonome.configuration.errors import ConfigError
from ville_autonome.simulators.scenario import check_against, scenario_for, unknown_devices

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "simulate", help="simulate every configured device (Modbus TCP, MQTT), or backfill history"
    )
    add_config_argument(p)
    p.add_argument(
        "--speed", type=positive_number, default=None, help="simulated seconds per real second (default: config)"
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    p.add_argument(
        "--control-port", type=port_number, default=None, help="HTTP control endpoint port (faults at run time)"
    )
    p.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="move every configured port (devices, broker, API) by N: a second lab beside the first",
    )
    p.add_argument("--start", default=None, help="simulated start instant, ISO 8601 UTC (default: now)")
    p.add_argument(
        "--backfill-days", type=positive_number, default=None, help="publish the last N days of history, then exit"
    )
    p.add_argument("--backfill-start", default=None, help="backfill from this UTC date/instant (ISO 8601)")
    p.add_argument("--backfill-end", default=None, help="backfill up to this UTC date/instant (default: now)")
    p.add_argument("--step-s", type=positive_integer, default=900, help="backfill resolution in seconds (default 900)")
    p.add_argument("--gateway-id", default="backfill", help="gateway id of the backfill envelopes")
    p.set_defaults(handler=run)


def parse_instant_ms(text: str, what: str) -> int:
    """ISO 8601 date or instant (UTC when no offset) → epoch ms; ConfigError naming the option."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError([f"{what}: {text!r} is not an ISO 8601 date or instant"]) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def backfill_period(args: argparse.Namespace, now_ms: int) -> tuple[int, int] | None:
    if args.backfill_days is None and args.backfill_start is None:
        return None
    end = parse_instant_ms(args.backfill_end, "--backfill-end") if args.backfill_end else now_ms
    if args.backfill_start is not None:
        start = parse_instant_ms(args.backfill_start, "--backfill-start")
    else:
        start = end - int(args.backfill_days * 86_400_000)
    step_ms = args.step_s * 1000
    start -= start % step_ms
    if end <= start:
        raise ConfigError([f"backfill period is empty: start {start} ms ≥ end {end} ms"])
    return start, end


def run(args: argparse.Namespace) -> int:
    config = with_port_offset(config_file.load(args.config), args.port_offset)
    scenario = scenario_for(config)
    problems = check_against(config, scenario, strict=True)
    if problems:
        raise ConfigError(problems)
    extra = unknown_devices(config, scenario)
    if extra:
        log.info("the scenario also describes %d devices this configuration does not use", len(extra))
    period = backfill_period(args, int(time.time() * 1000))
    if period is not None:
        return _run_backfill(args, config, *period)
    start_ms = parse_instant_ms(args.start, "--start") if args.start else None
    return asyncio.run(_run_live(args, config, start_ms))


def _run_backfill(args: argparse.Namespace, config: Any, start_ms: int, end_ms: int) -> int:
    from ville_autonome.simulators.backfill_publish import (
        BackfillError,
        BackfillInterruptedError,
        publish_backfill,
    )

    began = time.monotonic()
    stop = threading.Event()

    def progress(acked: int, total: int) -> None:
        pct = 100.0 * acked / total if total else 100.0
        rate = acked / max(time.monotonic() - began, 1e-6)
        sys.stderr.write(f"\rbackfill: {acked}/{total} readings ({pct:5.1f} %), {rate:,.0f} readings/s")
        sys.stderr.flush()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        envelopes = publish_backfill(
            config,
            start_ms,
            end_ms,
            step_s=args.step_s,
            gateway_id=args.gateway_id,
            progress=progress,
            seed=args.seed,
            stop=stop,
        )
    except ValueError as exc:
        raise ConfigError([f"backfill: {exc}"]) from None
    except BackfillError as exc:
        sys.stderr.write("\n")
        log.error("%s", exc)
        return 130 if isinstance(exc, BackfillInterruptedError) else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stderr.write("\n")
    log.info("backfill done: %d envelopes acknowledged in %.1f s", envelopes, time.monotonic() - began)
    return 0


async def _run_live(args: argparse.Namespace, config: Any, start_ms: int | None) -> int:
    from ville_autonome.simulators.service import SimulatorService

    if args.speed is not None and args.speed != config.services.simulator.speed:
        log.warning(
            "--speed %g: the lab's clock rate is services.simulator.speed (%g) for the other processes; "
            "set VA_SIMULATOR_SPEED=%g for the API too, or its plausibility rule flags every counter",
            args.speed,
            config.services.simulator.speed,
            args.speed,
        )
    service = SimulatorService(
        config, seed=args.seed, speed=args.speed, start_ms=start_ms, control_port=args.control_port, strict=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
        if service.control_url:
            log.info("control endpoint: %s", service.control_url)
        await stop.wait()
        log.info("stopping the simulators")
    finally:
        await service.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    return 0
