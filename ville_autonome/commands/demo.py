"""``ville-autonome demo``: the whole platform in one process, on embedded defaults.

No Docker, no root, nothing to install: an in-process MQTT broker (amqtt), the embedded SQLite
store, the simulators of every device of the configuration, one gateway per district, the ingest,
the rollup compiler (a thread, with a store connection of its own) and the API with the dashboard. It first backfills recent history (``--backfill-days``, with a
progress bar) so that dashboards and reports have something to show, then runs live. It prints the
dashboard URL and a local API key; Ctrl-C stops every part cleanly.

The alarm evaluator runs too (docs/alerts.md), its webhook pointed at a local receiver that logs
each notification in the terminal, and the simulators' fault control is served: the demo prints
how to silence a meter or stop the hydro plant, and watch the alarm fire, notify and resolve.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import math
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import uvicorn
from pydantic import SecretStr

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument, non_negative_number, port_number, positive_number
from ville_autonome.commands.port_offset import with_port_offset
from ville_autonome.configuration import PlatformConfig
from ville_autonome.configuration.errors import PortInUseError
from ville_autonome.configuration.services import ApiKey
from ville_autonome.extras import install_command, installed

log = logging.getLogger("ville_autonome.demo")

DEMO_MQTT_PORT = 18830
DEMO_CONTROL_PORT = 18700  # the simulators' fault control (+ the port offset)
DEMO_WEBHOOK_PORT = 18790  # the local webhook receiver that logs notifications (+ the port offset)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("demo", help="run the whole platform on embedded defaults")
    add_config_argument(p)
    p.add_argument("--port", type=port_number, default=None, help="API/dashboard port (default: services.api.port)")
    p.add_argument(
        "--mqtt-port",
        type=port_number,
        default=None,
        help=f"embedded broker port (default {DEMO_MQTT_PORT} + the offset)",
    )
    p.add_argument(
        "--port-offset", type=int, default=0, help="move every port (devices, broker, API) by N: a second demo beside"
    )
    p.add_argument(
        "--control-port",
        type=port_number,
        default=None,
        help=f"simulators' fault control (default {DEMO_CONTROL_PORT} + the offset)",
    )
    p.add_argument(
        "--webhook-port",
        type=port_number,
        default=None,
        help=f"local webhook receiver (default {DEMO_WEBHOOK_PORT} + the offset)",
    )
    p.add_argument(
        "--speed", type=positive_number, default=1.0, help="simulated clock speed (e.g. 60 for a fast-moving day)"
    )
    p.add_argument(
        "--backfill-days", type=non_negative_number, default=7.0, help="days of history to backfill first (0: none)"
    )
    p.add_argument(
        "--data-dir", default=None, help="where the embedded store and buffers live (default var/demo, var/demo-N)"
    )
    p.set_defaults(handler=run)


def demo_config(args: argparse.Namespace) -> PlatformConfig:
    """The configuration with the embedded defaults forced: local broker, SQLite store, ports moved."""
    if args.mqtt_port is None:
        args.mqtt_port = DEMO_MQTT_PORT + args.port_offset
    if args.data_dir is None:
        args.data_dir = f"var/demo-{args.port_offset}" if args.port_offset else "var/demo"
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ)
    environ.update(
        {
            "VA_MQTT_URL": f"mqtt://127.0.0.1:{args.mqtt_port}",
            "VA_MQTT_PROTOCOL": "3.1.1",
            "VA_STORE_BACKEND": "sqlite",
            "VA_STORE_PATH": str(data / "ville-autonome.sqlite"),
        }
    )
    cfg = with_port_offset(config_file.load(args.config, environ=environ), args.port_offset)
    cfg.services.mqtt.url = f"mqtt://127.0.0.1:{args.mqtt_port}"  # the embedded broker, as given
    if args.port is not None:
        cfg.services.api.port = args.port
    for gw in cfg.gateways:
        gw.buffer_path = str(data / f"{gw.id}.buffer.sqlite")
    return cfg


def add_demo_keys(cfg: PlatformConfig) -> dict[str, str]:
    """Create one local key per role for this run; only their hashes enter the configuration."""
    keys = {}
    for role in ("viewer", "staff", "admin"):
        key = secrets.token_urlsafe(24)
        keys[role] = key
        digest = hashlib.sha256(key.encode()).hexdigest()
        cfg.services.api.keys.append(ApiKey(name=f"demo-{role}", role=role, sha256=digest))
    return keys


def _progress(done: int, total: int) -> None:
    width = 30
    frac = done / total if total else 1.0
    bar = "#" * int(frac * width)
    sys.stderr.write(f"\rbackfill [{bar:<{width}}] {frac:6.1%} ({done}/{total} readings)")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the demo's event loop owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(cfg: PlatformConfig, args: argparse.Namespace, stop: asyncio.Event) -> None:
    from ville_autonome.alerts.receiver import WebhookLogger
    from ville_autonome.alerts.service import AlertService
    from ville_autonome.dashboard_api.main import create_app
    from ville_autonome.gateway.service import GatewayService
    from ville_autonome.ingest.service import IngestService
    from ville_autonome.journals.alarm_log import alarm_log_for
    from ville_autonome.mqttlink.embedded_broker import EmbeddedBroker
    from ville_autonome.rollups.balances import BalanceCompiler
    from ville_autonome.rollups.service import RollupCompiler
    from ville_autonome.simulators.backfill_publish import BackfillInterruptedError, publish_backfill
    from ville_autonome.simulators.service import SimulatorService
    from ville_autonome.storage.factory import open_store

    keys = add_demo_keys(cfg)
    cfg.services.simulator.speed = args.speed  # the lab's clock rate, read by the API's plausibility rule
    api = cfg.services.api
    broker = EmbeddedBroker("127.0.0.1", args.mqtt_port)
    await broker.start()
    store = await asyncio.to_thread(open_store, cfg.services.store)
    ingest = IngestService(cfg, store)
    rollup_store = await asyncio.to_thread(open_store, cfg.services.store)
    balances = BalanceCompiler(rollup_store, cfg)  # the per-device day balances the autonomy reads
    compiler = RollupCompiler(
        rollup_store, interval_s=cfg.services.store.rollup_refresh_s, name="demo", balances=balances
    )
    compiler_stop = threading.Event()
    compiler_task = asyncio.create_task(asyncio.to_thread(compiler.run, compiler_stop), name="rollups")
    control_port = args.control_port if args.control_port is not None else DEMO_CONTROL_PORT + args.port_offset
    webhook_port = args.webhook_port if args.webhook_port is not None else DEMO_WEBHOOK_PORT + args.port_offset
    simulators = SimulatorService(cfg, speed=args.speed, control_port=control_port)
    webhook_secret = secrets.token_hex(16)  # this run's, shared by the evaluator and the local receiver
    webhook = WebhookLogger("127.0.0.1", webhook_port, webhook_secret.encode())
    cfg.services.alerts.webhook_url = webhook.url
    cfg.services.alerts.webhook_secret = SecretStr(webhook_secret)
    alarm_log = alarm_log_for(store, cfg.services.store)
    alerts: AlertService | None = None
    gateway_tasks: list[asyncio.Task[None]] = []
    server: _EmbeddedServer | None = None
    app: Any = None
    server_task: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(ingest.start)
        if args.backfill_days > 0:
            end_ms = int(time.time() * 1000) // 900_000 * 900_000
            start_ms = end_ms - int(args.backfill_days * 86_400_000)
            log.info("backfilling %.1f days of history", args.backfill_days)
            interrupted = threading.Event()  # Ctrl-C during the backfill stops it at once
            watcher = asyncio.create_task(_relay(stop, interrupted), name="backfill-stop")
            try:
                await asyncio.to_thread(publish_backfill, cfg, start_ms, end_ms, progress=_progress, stop=interrupted)
            except BackfillInterruptedError as exc:
                log.warning("%s", exc)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if stop.is_set():
                return
        await simulators.start()
        webhook.start()
        alerts = AlertService(cfg, store, alarm_log)
        await asyncio.to_thread(alerts.start)
        for gw in cfg.gateways:
            service = GatewayService(cfg, gw.id)
            gateway_tasks.append(asyncio.create_task(service.run(stop), name=f"gateway-{gw.id}"))
        app = create_app(cfg, store)
        server = _EmbeddedServer(
            uvicorn.Config(
                app, host=api.host, port=api.port, log_level="warning", lifespan="on", timeout_graceful_shutdown=3
            )
        )
        server_task = asyncio.create_task(server.serve(), name="api")
        while not server.started:
            if server_task.done():
                await server_task
                raise PortInUseError(f"the API could not listen on {api.host}:{api.port} (choose another with --port)")
            await asyncio.sleep(0.05)
        base = f"http://{api.host}:{api.port}"
        print(
            f"\nVille Autonome 2050 demo is running.\n"
            f"  dashboard : {base}/?key={keys['staff']}\n"
            f"  viewer key: {keys['viewer']}   (live values and topology: a wall screen)\n"
            f"  staff key : {keys['staff']}   (+ history, autonomy, reports)\n"
            f"  admin key : {keys['admin']}   (+ configuration view)\n"
            f"  API docs  : {base}/api/v1/docs\n"
            f"  MQTT      : {broker.url}\n"
            f"Alarms (docs/alerts.md): notifications are logged here as the local webhook receives them.\n"
            f"  alarms now     : curl -H 'Authorization: Bearer {keys['viewer']}' {base}/api/v1/alarms\n"
            f"  fault control  : http://127.0.0.1:{control_port}/faults (devices: /devices)\n"
            f"  silence a meter: curl -X POST 127.0.0.1:{control_port}/faults/qi-grid-meter/silent   (fires in ~90 s)\n"
            f"  heal everything: curl -X DELETE 127.0.0.1:{control_port}/faults\n"
            f"  stop the hydro plant (2; start again: 1): curl -H 'Authorization: Bearer {keys['staff']}' "
            f'-H \'Content-Type: application/json\' -d \'{{"writes": [{{"point": "command", "value": 2}}]}}\' '
            f"{base}/api/v1/devices/iko-turbine/commands\n"
            f"Report on this demo's data (the same store; docs/reports.md):\n"
            f"  {report_command(args, cfg)}\n"
            f"{report_extra_hint()}"
            f"Press Ctrl-C to stop.\n",
            flush=True,
        )
        await stop.wait()
    finally:
        stop.set()
        if server is not None:
            app.state.shutting_down.set()  # open event streams end at once
            server.should_exit = True
        if server_task is not None:
            with contextlib.suppress(Exception):
                await server_task
        for task in gateway_tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)
        if alerts is not None:
            await asyncio.to_thread(alerts.stop)
        await asyncio.to_thread(alarm_log.close)
        await asyncio.to_thread(webhook.stop)
        await simulators.stop()
        await asyncio.to_thread(ingest.stop)
        compiler_stop.set()
        with contextlib.suppress(Exception):
            await compiler_task
        # what the ingest stored since the last pass, compiled before the store closes: a report run
        # after the demo reads every reading the demo stored (bounded: a Ctrl-C must stay quick)
        log.info("compiling the last rollups")
        with contextlib.suppress(Exception):
            await asyncio.to_thread(compiler.run_pass, FINAL_PASS_BUDGET_S)
        await asyncio.to_thread(rollup_store.close)
        await asyncio.to_thread(store.close)
        await broker.stop()
        log.info("demo stopped")


def report_command(args: argparse.Namespace, cfg: PlatformConfig, today: date | None = None) -> str:
    """The ``report`` command line that reads this demo's store: the city over the days the demo
    backfilled, up to today (Europe/Paris)."""
    day = today or datetime.now(ZoneInfo("Europe/Paris")).date()
    first = day - timedelta(days=max(1, math.ceil(args.backfill_days)))
    config = f" -c {args.config}" if args.config else ""
    # a PDF needs the reports extra; the core install (what `make demo` installs) writes CSV
    output = "demo-report.pdf" if installed("reports") else "demo-report.csv"
    return (
        f"VA_STORE_BACKEND=sqlite VA_STORE_PATH={cfg.services.store.path} .venv/bin/ville-autonome report{config} "
        f"--scope city --period {first.isoformat()}..{day.isoformat()} -o {output}"
    )


def report_extra_hint() -> str:
    """A line under the report command when PDF/XLSX need the ``reports`` extra (the core install)."""
    return "" if installed("reports") else f"  (PDF and XLSX: {install_command('reports')})\n"


FINAL_PASS_BUDGET_S = 20.0

# the embedded broker's libraries narrate every state change at INFO, and amqtt logs a traceback
# for each QoS 1 delivery whose PUBACK comes late (the ingest acknowledges after its write: during a
# long backfill, often) although it delivers again and nothing is lost: their records go to a file
BROKER_LOGGERS = ("amqtt", "transitions")
BROKER_LOG = "broker.log"


@contextlib.contextmanager
def broker_logs_to(path: Path) -> Iterator[None]:
    """While inside, the embedded broker's log records go to ``path``, not to the terminal."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in BROKER_LOGGERS]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.propagate = True
        handler.close()


async def _relay(stop: asyncio.Event, to: threading.Event) -> None:
    """Set the thread-side event ``to`` when the asyncio event ``stop`` is set."""
    await stop.wait()
    to.set()


def run(args: argparse.Namespace) -> int:
    cfg = demo_config(args)
    broker_log = Path(args.data_dir) / BROKER_LOG
    log.info("the embedded broker logs to %s", broker_log)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await _serve(cfg, args, stop)

    with broker_logs_to(broker_log):
        asyncio.run(main())
    return 0
