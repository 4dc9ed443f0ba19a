"""The fault suite: the whole pipeline as real processes under each fault in turn, counting every
reading from the gateway that produced it to the InfluxDB point that stores it.

Simulators → gateway → Mosquitto → two ingest workers (one shared subscription) → InfluxDB.
For each fault: readings stored = readings produced, exactly once (distinct points, same values);
no sequence gap at the ingest; every service still running and new data flowing after the fault,
without operator action (except the restart a supervisor gives a process killed -9).
Method and measured figures: docs/reliability.md.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable

import pytest

from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from tests.system.conftest import PipelineFactory
from tests.system.counting import Produced, buffer_state, stored_counts, stored_points
from tests.system.pipeline import DEVICES, Pipeline, now_ms
from ville_autonome.configuration.loader import load_config
from ville_autonome.simulators.backfill import generate
from ville_autonome.simulators.backfill_publish import publish_backfill

BUFFER_BUSY = (sqlite3.OperationalError,)  # the gateway writing its buffer file while the test reads it


def recovered_by_itself(p: Pipeline, *, fault_end_ms: int) -> float:
    """Every process still the one we started, and readings measured after the fault stored."""
    assert p.all_running(), p.logs()
    return p.wait_flowing(since_ms=fault_end_ms, timeout=60, what="new readings stored after the fault")


def finish(p: Pipeline, fault: str) -> None:
    p.account()
    assert p.sequence_gaps() == [], "the ingest sees a sequence gap"
    p.report(fault)


# ---------------------------------------------------------------------- ingest worker


def test_one_ingest_worker_killed_9(pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd) -> None:
    p = pipeline_factory(mosquitto, influxd)
    victim, survivor = p.workers
    p.ride_out(2.0)  # both workers share the load for a while
    victim.kill()
    t_kill = now_ms()
    p.figures["recovery_s"] = round(p.wait_flowing(since_ms=t_kill, what="survivor stores new data"), 2)
    # the victim stays dead longer than the gateway's ack_timeout_s (5 s): what it held
    # unacknowledged, and what the broker keeps routing to its offline session, comes back
    # through the survivor when the gateway re-sends it — no restart needed for that
    peak = [0]

    def watch() -> bool:
        peak[0] = max(peak[0], p.buffered())
        return survivor.running and p.gateway.running

    p.ride_out(8.0, check=watch)
    p.figures["peak_unacked_envelopes_while_dead"] = peak[0]
    t0 = time.monotonic()
    try:
        wait_for(
            lambda: p.buffered() <= 5,
            timeout=20,
            what="gateway buffer drained by the survivor alone",
            retry_on=BUFFER_BUSY,
        )
        drained_alone = ""
        p.figures["drained_by_survivor_s"] = round(time.monotonic() - t0, 2)
    except AssertionError:
        _next, held = buffer_state(p.buffer_path)
        drained_alone = f"{held} envelopes stay unacknowledged while one worker is dead (docs/reliability.md)"
        p.figures["stuck_while_worker_dead"] = held
    victim.start()  # what a supervisor does; it joins the group again
    p.ride_out(2.0)
    assert p.all_running()
    finish(p, "ingest worker killed -9")
    # the survivor alone must carry everything while the victim is dead: readings must not wait
    # for a dead worker's return
    assert not drained_alone, drained_alone


# ---------------------------------------------------------------------- broker


def test_broker_restarted_cleanly(
    pipeline_factory: PipelineFactory, mosquitto_factory: Callable[..., Mosquitto], influxd: Influxd
) -> None:
    broker = mosquitto_factory()
    p = pipeline_factory(broker, influxd)
    p.ride_out(1.0)
    broker.stop()  # SIGTERM: Mosquitto saves its sessions and queues
    broker.start()
    t_up = now_ms()
    p.figures["recovery_s"] = round(recovered_by_itself(p, fault_end_ms=t_up), 2)
    wait_for(lambda: p.buffered() <= 5, timeout=60, what="gateway buffer drained", retry_on=BUFFER_BUSY)
    finish(p, "broker restarted cleanly")


def test_broker_killed_9_end_to_end_acks_cover_its_lost_queue(
    pipeline_factory: PipelineFactory, mosquitto_factory: Callable[..., Mosquitto], influxd: Influxd
) -> None:
    broker = mosquitto_factory()
    p = pipeline_factory(broker, influxd)
    # 1. the broker dies under live traffic: every service reconnects by itself
    p.kill_broker()
    p.figures["recovery_s"] = round(recovered_by_itself(p, fault_end_ms=now_ms()), 2)
    # 2. the broker dies while nothing has been acknowledged for a while: the ingest workers are
    #    away, the gateway keeps publishing; kill -9 loses whatever the broker held (it saves only
    #    every autosave_interval) — the gateway's buffer still holds it all
    for w in p.workers:
        w.stop()
    wait_for(
        lambda: p.buffered() >= 15, timeout=30, what="15 envelopes queued for the absent ingest", retry_on=BUFFER_BUSY
    )
    p.figures["envelopes_queued_at_kill"] = p.buffered()
    p.kill_broker()
    for w in p.workers:
        w.start()
    t_up = now_ms()
    p.figures["recovery_with_lost_queue_s"] = round(recovered_by_itself(p, fault_end_ms=t_up), 2)
    t0 = time.monotonic()
    wait_for(lambda: p.buffered() <= 5, timeout=60, what="gateway re-sent what the broker lost", retry_on=BUFFER_BUSY)
    p.figures["lost_queue_resent_s"] = round(time.monotonic() - t0, 2)
    finish(p, "broker killed -9")


def test_network_to_the_broker_cut_for_a_while(
    pipeline_factory: PipelineFactory, mosquitto_factory: Callable[..., Mosquitto], influxd: Influxd
) -> None:
    broker = mosquitto_factory()
    p = pipeline_factory(broker, influxd)
    broker.stop()  # nobody reaches the broker: the gateway buffers on disk, the ingest retries
    held_before = p.buffered()
    p.ride_out(8.0, check=p.all_running)
    p.figures["envelopes_buffered_during_cut"] = p.buffered() - held_before
    assert p.figures["envelopes_buffered_during_cut"] >= 10, "the gateway kept sealing while cut off"
    broker.start()
    t_up = now_ms()
    p.figures["recovery_s"] = round(recovered_by_itself(p, fault_end_ms=t_up), 2)
    t0 = time.monotonic()
    wait_for(lambda: p.buffered() <= 5, timeout=60, what="backlog replayed", retry_on=BUFFER_BUSY)
    p.figures["backlog_replayed_s"] = round(time.monotonic() - t0, 2)
    finish(p, "network to the broker cut 8 s")


# ---------------------------------------------------------------------- store


@pytest.mark.slow
def test_influxdb_down_30_s(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd_factory: Callable[[], Influxd]
) -> None:
    db = influxd_factory()
    p = pipeline_factory(mosquitto, db)
    db.stop()
    held_before = p.buffered()
    p.ride_out(30.0, check=p.all_running)  # the outage itself; the pipeline is watched all along
    p.figures["envelopes_unacked_during_outage"] = p.buffered() - held_before
    assert p.figures["envelopes_unacked_during_outage"] >= 50, "nothing acknowledged while the store was down"
    db.start()
    t_up = now_ms()
    p.figures["recovery_s"] = round(recovered_by_itself(p, fault_end_ms=t_up), 2)
    t0 = time.monotonic()
    wait_for(lambda: p.buffered() <= 5, timeout=90, what="backlog written and acknowledged", retry_on=BUFFER_BUSY)
    p.figures["backlog_acked_s"] = round(time.monotonic() - t0, 2)
    finish(p, "InfluxDB down 30 s")


# ---------------------------------------------------------------------- gateway


def test_gateway_killed_9_with_a_full_buffer(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd
) -> None:
    p = pipeline_factory(mosquitto, influxd)
    for w in p.workers:
        w.stop()  # nothing acknowledged: the buffer fills with published, unacknowledged envelopes
    wait_for(
        lambda: p.buffered() >= 25, timeout=30, what="25 unacknowledged envelopes in the buffer", retry_on=BUFFER_BUSY
    )
    p.gateway.kill()
    p.figures["envelopes_in_buffer_at_kill"] = p.buffered()
    p.gateway.start()  # what a supervisor does; the buffer file is all it has
    for w in p.workers:
        w.start()
    t_up = now_ms()
    p.figures["recovery_s"] = round(recovered_by_itself(p, fault_end_ms=t_up), 2)
    t0 = time.monotonic()
    wait_for(lambda: p.buffered() <= 5, timeout=60, what="buffer replayed and acknowledged", retry_on=BUFFER_BUSY)
    p.figures["buffer_replayed_s"] = round(time.monotonic() - t0, 2)
    finish(p, "gateway killed -9 with a full buffer")
    assert p.ledger is not None
    p.figures["redeliveries"] = p.ledger.deliveries - p.figures["envelopes"]
    assert p.figures["redeliveries"] > 0, "the restarted gateway re-sent its unacknowledged buffer"
    p.report("gateway killed -9 with a full buffer (after)")


# ---------------------------------------------------------------------- device


SILENCE_S = 6.0
GAP_S = 3.0  # six missed polls at 0.5 s


def good_gaps(points: dict[tuple[str, str, int], tuple[float | None, str]], device: str) -> list[tuple[int, int]]:
    ts = sorted(
        t for (d, q, t), (_, quality) in points.items() if d == device and q == "active_power_w" and quality == "good"
    )
    return [(a, b) for a, b in itertools.pairwise(ts) if b - a > GAP_S * 1000]


def test_a_device_silent(pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd) -> None:
    p = pipeline_factory(mosquitto, influxd)
    p.wait_control()
    p.ride_out(2.0)
    silent = "sys-load"
    t_begin = now_ms()  # before this, the gateway may have polled the simulators before they listened
    t_on = now_ms()
    p.fault(silent, "silent")
    p.ride_out(SILENCE_S, check=p.all_running)  # the silence itself
    p.clear_faults()
    t_off = now_ms()
    t0 = time.monotonic()

    def speaks_again() -> bool:
        pts = stored_points(p.influxd, p.database, f"WHERE device = '{silent}' AND time > {t_off}ms")
        return any(q == "good" for (_, q) in pts.values())

    wait_for(speaks_again, timeout=30, what="the silent device's good readings stored again", retry_on=(OSError,))
    p.figures["recovery_s"] = round(time.monotonic() - t0, 2)
    p.ride_out(1.0)
    finish(p, "a device silent 6 s")
    points = stored_points(p.influxd, p.database, f"WHERE time >= {p.since_ms}ms")
    # the silence is in the data: a gap in good values, filled with timeout readings
    gaps = good_gaps(points, silent)
    assert gaps, "the silent device left a gap"
    for a, b in gaps:
        assert a >= t_on - 1000, f"gap {a}..{b} starts before the silence {t_on}..{t_off}"
        assert b <= t_off + 5000, f"gap {a}..{b} ends long after the silence {t_on}..{t_off}"
    timeouts = [
        t for (d, _q, t), (_, quality) in points.items() if d == silent and quality == "timeout" and t >= t_begin
    ]
    assert timeouts
    assert all(t_on - 1000 <= t <= t_off + 1000 for t in timeouts)
    p.figures["silent_device_timeout_readings"] = len(timeouts)
    p.figures["silence_gap_s"] = [round((b - a) / 1000, 1) for a, b in gaps]
    # the others never missed a beat
    for device in DEVICES:
        if device != silent:
            assert good_gaps(points, device) == [], f"{device} has a gap though it never was silent"
    p.report("a device silent 6 s (after)")


# ---------------------------------------------------------------------- burst

BURST_STEP_S = 10
BURST_STEPS = 14_400  # 7 readings per step for the three devices: 100,800 readings in 40 h (160 rollup buckets)


@pytest.mark.slow
def test_a_burst_of_100000_readings(pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd) -> None:
    p = pipeline_factory(mosquitto, influxd)
    config = load_config(p.config)
    end = (now_ms() - 86_400_000) // 900_000 * 900_000  # history, well before the live data, 15-min aligned
    start = end - BURST_STEPS * BURST_STEP_S * 1000
    expected = Produced.of(generate(config, start, end, BURST_STEP_S))
    assert len(expected.readings) >= 100_000
    assert expected.duplicates == 0
    want = expected.counts(with_value=False)
    window = f"WHERE time >= {start}ms AND time <= {end}ms"
    t0 = time.monotonic()
    envelopes = publish_backfill(config, start, end, step_s=BURST_STEP_S, gateway_id="backfill")
    published_s = time.monotonic() - t0
    wait_for(
        lambda: stored_counts(p.influxd, p.database, "quality", window) == want,
        timeout=90,
        interval=0.25,
        what="the whole burst stored",
        retry_on=(OSError,),
    )
    stored_s = time.monotonic() - t0
    t_end = now_ms()
    points = stored_points(p.influxd, p.database, window)
    assert points.keys() == expected.readings.keys()
    for key, r in expected.readings.items():
        value, _quality = points[key]
        assert r.value is not None
        assert value is not None
        assert abs(value - r.value) <= 1e-9 * max(1.0, abs(r.value)), key
    # the 15-minute rollups the API reads catch up with the burst (no fault: the ingest's own refresh)
    t_roll = time.monotonic()
    want_good = dict(expected.counts(with_value=True))
    wait_for(
        lambda: rollup_counts(p, window) == want_good,
        timeout=60,
        interval=0.5,
        what="rollups = raw",
        retry_on=(OSError,),
    )
    p.figures["burst_rollups_caught_up_s"] = round(time.monotonic() - t_roll, 2)
    # the live pipeline kept going through the burst, and lost nothing either
    p.figures.update(
        burst_readings=len(expected.readings),
        burst_envelopes=envelopes,
        burst_published_s=round(published_s, 2),
        burst_stored_s=round(stored_s, 2),
        burst_readings_per_s=round(len(expected.readings) / stored_s),
    )
    recovered_by_itself(p, fault_end_ms=t_end)
    finish(p, "a burst of 100,800 readings")


def rollup_counts(p: Pipeline, window: str) -> dict[tuple[str, str], int]:
    """Good readings per series as the 15-minute rollups say (what the API's intervals read)."""
    query = f'SELECT sum("count") FROM rollup_15m {window} GROUP BY device, quantity'  # noqa: S608 (test's own)
    doc = p.influxd.query(query, p.database)
    out: dict[tuple[str, str], int] = {}
    for series in doc["results"][0].get("series", []):
        out[(series["tags"]["device"], series["tags"]["quantity"])] = int(series["values"][0][1])
    return out


def test_both_ingest_workers_killed_9_right_after_a_burst_rollups_catch_up(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd
) -> None:
    p = pipeline_factory(mosquitto, influxd)
    config = load_config(p.config)
    end = (now_ms() - 86_400_000) // 900_000 * 900_000  # 15-minute aligned history
    start = end - 6 * 3_600_000
    expected = Produced.of(generate(config, start, end, BURST_STEP_S))
    want = expected.counts(with_value=True)
    window = f"WHERE time >= {start}ms AND time <= {end}ms"
    publish_backfill(config, start, end, step_s=BURST_STEP_S, gateway_id="backfill")
    wait_for(
        lambda: stored_counts(p.influxd, p.database, "value", window) == want,
        timeout=60,
        interval=0.1,
        what="the backfill stored",
        retry_on=(OSError,),
    )
    for w in p.workers:
        w.kill()  # acknowledged and durable: the raw points are safe; what about the rollups?
    for w in p.workers:
        w.start()
    recovered_by_itself(p, fault_end_ms=now_ms())
    t0 = time.monotonic()
    try:
        wait_for(
            lambda: rollup_counts(p, window) == dict(want),
            timeout=40,
            interval=0.5,
            what="rollups = raw",
            retry_on=(OSError,),
        )
        stale = ""
        p.figures["rollups_caught_up_s"] = round(time.monotonic() - t0, 2)
    except AssertionError:
        have = rollup_counts(p, window)
        stale = f"rollups differ from the raw readings after the crash: {sum(have.values())} vs {sum(want.values())} good readings"
        p.figures["rollup_readings_missing"] = sum(want.values()) - sum(have.values())
    finish(p, "both ingest workers killed -9 after a burst")
    assert not stale, stale
