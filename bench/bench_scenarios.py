"""Benchmark of what-if planning (not collected by pytest): ``python bench/bench_scenarios.py [--store influxdb]``.

A city-year (2026 up to today, the default Amiens scenario's backfill at 15-min intervals, the
store of ``bench/bench_autonomy.py``: ``var/bench/city-year.sqlite``, filled on first use, or a
private influxd filled every run, with the day balances the rollup compiler keeps) and one
scenario through the real app: ``POST /api/v1/scenarios`` for the city with more PV (on a site
without PV: the pvlib model), a battery, a load change and a sizing search (target: < 2 s, cold
and warm, docs/planning.md). Cold: the first request of a new app (nothing cached in the app);
warm: the best of ``--runs`` more. Baseline in the same run: ``GET /api/v1/autonomy`` for the same
scope and period (the engine once, cold, in another new app), and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from typing import Any

import httpx
from bench_autonomy import KEY, config_with_key, open_bench_store  # the same city-year store
from fastapi import FastAPI

from ville_autonome.dashboard_api.main import create_app
from ville_autonome.extras import missing

log = logging.getLogger("bench_scenarios")
PERIOD = "2026-01-01..2026-11-30"
SCENARIO = {
    "scope": "city",
    "period": PERIOD,
    "pv": [{"site": "saint-leu-housing", "added_kwp": 300}, {"site": "campus-citadelle", "added_kwp": 500}],
    "storage": [{"site": "saint-leu-housing", "capacity_kwh": 800, "power_kw": 400}],
    "load": [{"site": "campus-citadelle", "change_pct": -10}],
    "sizing": {"site": "saint-leu-housing", "target_self_sufficiency": 0.5},
}


def timed(app: FastAPI, method: str, url: str, **kwargs: Any) -> tuple[float, dict[str, Any]]:
    async def call() -> tuple[float, dict[str, Any]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
            t0 = time.perf_counter()
            r = await c.request(method, url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60, **kwargs)
            elapsed = time.perf_counter() - t0
            if r.status_code != 200:
                raise SystemExit(f"{method} {url}: {r.status_code} {r.text[:300]}")
            return elapsed, r.json()

    return asyncio.run(call())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "influxdb"), default="sqlite", help="the year's backend")
    parser.add_argument("--runs", type=int, default=3, help="warm requests (the best is printed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = config_with_key()
    # the API process imports the extras' packages beside its server at start-up (commands/api.py):
    # "cold" is a new app's empty caches, not an interpreter that has never imported pvlib (1.4 s)
    missing()
    with contextlib.ExitStack() as stack:
        store = open_bench_store(args.store, stack, config)
        stack.callback(store.close)
        base, _ = timed(
            create_app(config, store), "GET", "/api/v1/autonomy",
            params={"scope": "city", "start": "2026-01-01", "end": "2026-12-01", "series": "false"},
        )  # fmt: skip
        app = create_app(config, store)
        cold, answer = timed(app, "POST", "/api/v1/scenarios", json=SCENARIO)
        warm = min(timed(app, "POST", "/api/v1/scenarios", json=SCENARIO)[0] for _ in range(args.runs))
    rows = {r["metric"]: r for r in answer["comparison"]}
    ss = rows["self_sufficiency"]
    print(
        f"SCENARIO {args.store} city {PERIOD} (PV on two sites, a battery, a load change, a sizing search): cold {cold:.2f} s, "
        f"warm {warm:.2f} s (target < 2 s); self-sufficiency {ss['before']:.4f} -> {ss['after']:.4f}; "
        f"sizing {answer['sizing']}"
    )
    print(
        f"BASELINE GET /api/v1/autonomy, same scope and period, cold: {base:.2f} s; "
        f"scenario/baseline cold {cold / base:.1f}x, warm {warm / base:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
