"""Backfill: the readings every device would have produced over a past period, straight into the uplink.

:func:`generate` is pure (the same models as the live service, :mod:`simulators.sites`, evaluated
on a regular grid); :func:`publish_backfill` wraps the readings in uplink envelopes
(:mod:`readings.envelope`) and publishes them at QoS 1 on ``Topics(root).uplink(gateway_id)``,
waiting for the broker's PUBACKs with a bounded number in flight.

Per interval and site, from the counters: Δconsumed = Δproduced + Δdischarged − Δcharged +
Δimport − Δexport (exactly, up to float rounding).

Stamps: every reading is the device's state at the instant it is stamped with, ``start_ms + k ×
step`` for every such instant in [start_ms, end_ms] — the end included, so that the counter
reading on the period's last boundary closes its last interval (a counter reading stamped on a
boundary closes the interval before it: docs/metrics.md, "Interval boundaries"). Live data that
takes over after ``end_ms`` continues the same counters: no interval is counted twice.

Errors::

    configuration.errors.StartupError
    └── ServiceUnreachableError / mqttlink BrokerUnreachableError   the broker does not answer
    ValueError                                                      a bad period or step
    BackfillError (RuntimeError)                                    the broker stopped acknowledging
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.mqttlink.client import connect_blocking, make_client
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading
from ville_autonome.readings.topics import Topics
from ville_autonome.simulators.scenario import Scenario, effective_seed, resolve, scenario_for
from ville_autonome.simulators.sites import EPOCH_S, build_engines

log = logging.getLogger(__name__)

CHUNK_S = 30 * 86_400  # evaluate a month at a time: bounded memory for long periods
ProgressFn = Callable[[int, int], None]

# the quantities a backfill writes per kind of device (a subset of what the registers show)
BACKFILL_QUANTITIES: dict[str, tuple[str, ...]] = {
    "meter": ("active_power_w", "energy_import_wh", "energy_export_wh"),
    "load": ("active_power_w", "energy_consumed_wh"),
    "battery": ("active_power_w", "soc_pct", "energy_charged_wh", "energy_discharged_wh"),
    "production": ("active_power_w", "energy_produced_wh"),
    "hydro": ("active_power_w", "energy_produced_wh", "flow_m3_s", "head_m", "water_level_m", "operating_state"),
    "chp": ("active_power_w", "energy_produced_wh", "gas_flow_m3_h", "heat_power_w"),
}


class BackfillError(RuntimeError):
    """The broker stopped acknowledging the backfill's messages."""


def _check_period(start_ms: int, end_ms: int, step_s: int) -> None:
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if end_ms <= start_ms:
        raise ValueError(f"the period is empty: end {end_ms} ≤ start {start_ms}")
    if start_ms < EPOCH_S * 1000:
        raise ValueError(f"the simulators start on 2024-01-01T00:00Z ({EPOCH_S * 1000} ms); asked {start_ms}")


def generate(
    config: PlatformConfig,
    start_ms: int,
    end_ms: int,
    step_s: int = 900,
    seed: int | None = None,
    *,
    scenario: Scenario | None = None,
) -> Iterator[Reading]:
    """Readings of every simulated device at ``start_ms, start_ms + step, …`` (≤ ``end_ms``)."""
    _check_period(start_ms, end_ms, step_s)
    scenario = scenario if scenario is not None else scenario_for(config)
    seed = effective_seed(config, scenario, seed)
    engines = build_engines([s for _, s in config.sites()], resolve(config, scenario), seed)
    step_ms = step_s * 1000
    n_total = _stamps(start_ms, end_ms, step_ms)
    chunk_n = max(1, CHUNK_S // step_s)
    for c0 in range(0, n_total, chunk_n):
        idx = np.arange(c0, min(c0 + chunk_n, n_total), dtype=np.int64)
        ts_ms = start_ms + idx * step_ms
        t_s = ts_ms / 1000.0
        ts_list = ts_ms.tolist()
        for engine in engines:
            out = engine.evaluate(t_s)
            for dev in engine.devices:
                kind = dev.kind
                if kind == "production":
                    kind = dev.spec.model if dev.spec.model in ("hydro", "chp") else "production"
                values = out[dev.id]
                for quantity in BACKFILL_QUANTITIES[kind]:
                    column = values[quantity].tolist()
                    device_id = dev.id
                    for ts, v in zip(ts_list, column, strict=True):
                        yield Reading(device_id, quantity, ts, v)


def _stamps(start_ms: int, end_ms: int, step_ms: int) -> int:
    """How many instants ``start_ms + k × step_ms`` lie in [start_ms, end_ms] (the end included)."""
    return (end_ms - start_ms) // step_ms + 1


def count_readings(config: PlatformConfig, start_ms: int, end_ms: int, step_s: int = 900) -> int:
    """How many readings :func:`generate` yields (for progress reports)."""
    n = _stamps(start_ms, end_ms, step_s * 1000)
    scenario = scenario_for(config)
    specs = resolve(config, scenario)
    per_step = 0
    for _, _, dev in config.devices():
        spec = specs[dev.id]
        if spec.model == "meter":
            per_step += len(BACKFILL_QUANTITIES["meter"])
        elif spec.model == "load":
            per_step += len(BACKFILL_QUANTITIES["load"])
        elif spec.model == "battery":
            per_step += len(BACKFILL_QUANTITIES["battery"])
        elif spec.model in ("hydro", "chp"):
            per_step += len(BACKFILL_QUANTITIES[spec.model])
        else:
            per_step += len(BACKFILL_QUANTITIES["production"])
    return max(n, 0) * per_step


class _Inflight:
    """Counts unacknowledged QoS 1 publishes; ``wait_below`` blocks while too many are in flight."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: set[int] = set()
        self._early: set[int] = set()  # acknowledged before ``add`` saw the message id

    def add(self, mid: int) -> None:
        with self._cond:
            if mid in self._early:
                self._early.discard(mid)
            else:
                self._pending.add(mid)

    def done(self, mid: int) -> None:
        with self._cond:
            if mid in self._pending:
                self._pending.discard(mid)
            else:
                self._early.add(mid)
            self._cond.notify_all()

    def wait_below(self, limit: int, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self._pending) < limit, timeout_s)


def publish_backfill(
    config: PlatformConfig,
    start_ms: int,
    end_ms: int,
    *,
    step_s: int = 900,
    gateway_id: str = "backfill",
    batch: int = 5000,
    progress: ProgressFn | None = None,
    seed: int | None = None,
    max_inflight: int = 20,
    seq_start: int | None = None,
    ack_timeout_s: float = 60.0,
) -> int:
    """Publish the period's readings as uplink envelopes; return how many envelopes were sent.

    ``seq_start`` defaults to the current epoch milliseconds, so a second run's sequence numbers
    continue above the first run's (the ingest sees a gap, not a replay).
    """
    _check_period(start_ms, end_ms, step_s)
    if batch < 1:
        raise ValueError("batch must be ≥ 1")
    settings = config.services.mqtt
    topic = Topics(settings.topic_root).uplink(gateway_id)
    client = make_client(settings, f"va-backfill-{gateway_id}-{int(time.time() * 1000) & 0xFFFFFF:x}")
    inflight = _Inflight()
    client.on_publish = lambda _c, _u, mid, _rc, _p: inflight.done(mid)
    connect_blocking(client, settings)
    total = count_readings(config, start_ms, end_ms, step_s)
    seq = seq_start if seq_start is not None else int(time.time() * 1000)
    sent = 0
    envelopes = 0
    try:
        chunk: list[Reading] = []

        def flush() -> None:
            nonlocal seq, sent, envelopes
            if not inflight.wait_below(max_inflight, ack_timeout_s):
                raise BackfillError(f"no PUBACK from the broker within {ack_timeout_s:g} s (topic {topic})")
            env = Envelope(gateway=gateway_id, seq=seq, sent_ms=int(time.time() * 1000), readings=tuple(chunk))
            info = client.publish(topic, encode(env), qos=1)
            inflight.add(info.mid)
            seq += 1
            envelopes += 1
            sent += len(chunk)
            chunk.clear()
            if progress is not None:
                progress(sent, total)

        for reading in generate(config, start_ms, end_ms, step_s, seed):
            chunk.append(reading)
            if len(chunk) >= batch:
                flush()
        if chunk:
            flush()
        if not inflight.wait_below(1, ack_timeout_s):
            raise BackfillError(f"the broker did not acknowledge the last envelopes within {ack_timeout_s:g} s")
    finally:
        client.disconnect()
        client.loop_stop()
    log.info("backfill: %d readings in %d envelopes on %s", sent, envelopes, topic)
    return envelopes
