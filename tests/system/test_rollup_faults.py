"""The rollup compiler under faults, in the whole pipeline as real processes (tests/system/pipeline.py):
killed -9 again and again while it catches up with a burst, and run twice by mistake. In the end
the 15-minute rollups hold exactly the good readings stored (none lost, none counted twice), and
the raw accounting of the fault suite holds too."""

from __future__ import annotations

import time

import pytest

from tests.support.processes import CommandProcess
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from tests.system.conftest import PipelineFactory
from tests.system.pipeline import Pipeline, Produced, now_ms, stored_counts
from ville_autonome.configuration.loader import load_config
from ville_autonome.simulators.backfill import generate
from ville_autonome.simulators.backfill_publish import publish_backfill

STEP_S = 10
STEPS = 4_320  # 7 readings per step for the three devices: 30,240 readings over 12 h (48 rollup buckets)


def rollup_counts(p: Pipeline, window: str) -> dict[tuple[str, str], int]:
    """Good readings per series as the 15-minute rollups say (what the API's intervals read)."""
    query = f'SELECT sum("count") FROM rollup_15m {window} GROUP BY device, quantity'  # noqa: S608 (test's own)
    doc = p.influxd.query(query, p.database)
    return {
        (s["tags"]["device"], s["tags"]["quantity"]): int(s["values"][0][1])
        for s in doc["results"][0].get("series", [])
    }


def burst(p: Pipeline) -> tuple[str, dict[tuple[str, str], int]]:
    """Publish a burst of history through the uplink and wait until it is stored; returns its
    InfluxQL time window and the good readings per series it holds."""
    config = load_config(p.config)
    end = (now_ms() - 86_400_000) // 900_000 * 900_000  # history, well before the live data, 15-min aligned
    start = end - STEPS * STEP_S * 1000
    expected = Produced.of(generate(config, start, end, STEP_S))
    window = f"WHERE time >= {start}ms AND time <= {end}ms"
    publish_backfill(config, start, end, step_s=STEP_S, gateway_id="backfill")
    want = expected.counts(with_value=False)
    wait_for(
        lambda: stored_counts(p.influxd, p.database, "quality", window) == want,
        timeout=90,
        what="burst stored",
        retry_on=(OSError,),
    )
    return window, dict(expected.counts(with_value=True))


def live_rollups_match(p: Pipeline) -> None:
    """The fault suite's accounting of the live data, then its rollups: exactly its good readings."""
    produced = p.account()
    want = dict(produced.counts(with_value=True))
    live = f"WHERE time >= {p.since_ms - p.since_ms % 900_000}ms"
    wait_for(
        lambda: rollup_counts(p, live) == want, timeout=60, interval=0.5, what="live rollups = raw", retry_on=(OSError,)
    )


@pytest.mark.slow
def test_the_compiler_killed_9_again_and_again_while_it_catches_up(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd
) -> None:
    p = pipeline_factory(mosquitto, influxd)
    p.rollups.pause()  # the burst's marks pile up
    window, want = burst(p)
    kills_before_done = 0
    delays = (0.0, 0.2, 0.4, 0.6, 0.9, 1.2)  # kill points after the compiler has started its passes
    for n, delay in enumerate(delays, start=1):
        p.rollups.resume()
        wait_for(lambda n=n: p.rollups.log().count("rollup compiler") >= n, timeout=30, what="compiler started")
        p.ride_out(delay)
        if rollup_counts(p, window) != want:
            kills_before_done += 1
        p.rollups.kill()
        p.rollups.start()  # what a supervisor does
    t0 = time.monotonic()
    wait_for(
        lambda: rollup_counts(p, window) == want, timeout=60, interval=0.5, what="rollups = raw", retry_on=(OSError,)
    )
    p.figures.update(
        compiler_kills=len(delays), kills_before_done=kills_before_done, caught_up_s=round(time.monotonic() - t0, 2)
    )
    live_rollups_match(p)
    p.report("rollup compiler killed -9 six times while catching up")


@pytest.mark.slow
def test_two_compilers_by_mistake_give_the_rollups_of_one(
    pipeline_factory: PipelineFactory, mosquitto: Mosquitto, influxd: Influxd
) -> None:
    p = pipeline_factory(mosquitto, influxd)
    second = CommandProcess("rollups-2", ["rollups", "-c", str(p.config), "--name", "by-mistake"], workdir=p.workdir)
    second.start()
    try:
        window, want = burst(p)
        wait_for(
            lambda: rollup_counts(p, window) == want,
            timeout=60,
            interval=0.5,
            what="rollups = raw",
            retry_on=(OSError,),
        )
        p.ride_out(3.0, check=lambda: second.running)  # both go on compiling live data: nothing drifts
        assert rollup_counts(p, window) == want
    finally:
        assert second.stop() == 0, second.log()
    live_rollups_match(p)
    p.report("two rollup compilers")
