"""Every rule kind as a pure function of an observation: table tests of which subjects are in
alarm, since when, and which cannot be judged (their alarms keep their state)."""

from __future__ import annotations

import pytest

from tests.alerts.lab import T0, GatewayBuffer, config, facts, health, observe, quality
from ville_autonome.alerts.conditions import evaluate
from ville_autonome.alerts.observation import StatSample, rate_per_minute

S = 1000


def verdict(rule: str, obs):  # type: ignore[no-untyped-def]
    cfg = config(f"    - {rule}\n")
    subs, v = evaluate(cfg.alerts.rules[0], cfg, obs)
    return [s.id for s in subs], {c.subject.id: c for c in v.active}, v.unknown


def test_device_silent_from_the_last_good_reading_or_the_gateways_last_seen() -> None:
    now = T0 + 600 * S
    obs = observe(
        now,
        values={
            ("plant-meter", "active_power_w"): (now - 5 * S, 1.0),
            ("turbine", "active_power_w"): (now - 400 * S, None, False),  # a timeout reading: not heard
            ("homes-meter", "active_power_w"): (now - 100 * S, 3.0),
        },
        health_records=[
            health("turbine", "gw-a", now - 70 * S, now),  # the gateway last got an answer 70 s ago
            health("homes-meter", "gw-a", now - 30 * S, now),  # fresher than its newest stored reading
        ],
    )
    subjects, active, unknown = verdict("{id: s, kind: device_silent, after_s: 60}", obs)
    assert subjects == ["plant-meter", "turbine", "homes-meter", "homes-load", "hub-meter", "battery"]
    assert set(active) == {"turbine", "homes-load", "hub-meter", "battery"}
    assert active["turbine"].since_ms == now - 70 * S + 60 * S, "silent 60 s after it was last heard"
    assert active["turbine"].value == 70.0
    # never heard of: counts from when the evaluator started watching
    assert active["homes-load"].since_ms == T0 + 60 * S
    assert "nothing heard since the evaluator started" in active["homes-load"].summary
    assert not unknown


def test_device_silent_narrowed_by_match() -> None:
    obs = observe(T0 + 600 * S)
    subjects, active, _ = verdict("{id: s, kind: device_silent, match: {districts: [south], roles: [storage]}}", obs)
    assert subjects == ["battery"]
    assert set(active) == {"battery"}


def test_gateway_offline_from_its_last_health_report() -> None:
    now = T0 + 600 * S
    obs = observe(now, health_records=[health("plant-meter", "gw-a", None, now - 5 * S)])
    _, active, _ = verdict("{id: g, kind: gateway_offline, after_s: 60}", obs)
    assert set(active) == {"gw-b"}, "gw-a reported 5 s ago; gw-b never since the evaluator started"
    assert active["gw-b"].subject.labels == {"gateway": "gw-b", "district": "south"}


@pytest.mark.parametrize(
    ("buffer", "state"),
    [
        (None, "unknown"),
        (GatewayBuffer(10, T0 + 590 * S, T0 + 595 * S), "fine"),
        (GatewayBuffer(2000, T0 + 590 * S, T0 + 595 * S), "active"),  # too many envelopes
        (GatewayBuffer(10, T0 + 0 * S, T0 + 595 * S), "active"),  # the oldest waits 10 min
        (GatewayBuffer(2000, T0, T0 + 100 * S), "unknown"),  # an old report says nothing of now
    ],
)
def test_gateway_backlog(buffer: GatewayBuffer | None, state: str) -> None:
    obs = observe(T0 + 600 * S, buffers={"gw-a": buffer} if buffer else {})
    _, active, unknown = verdict("{id: b, kind: gateway_backlog, max_envelopes: 1000, max_age_s: 300}", obs)
    assert ("gw-a" in active, "gw-a" in unknown) == (state == "active", state == "unknown")


@pytest.mark.parametrize(
    ("rule", "value", "state"),
    [
        ("minimum: 49.8, maximum: 50.2", 50.01, "fine"),
        ("minimum: 49.8, maximum: 50.2", 50.3, "active"),
        ("minimum: 49.8, maximum: 50.2", 49.7, "active"),
        ("maximum: 50.2", 10.0, "fine"),
        ("nominal: 50, tolerance_pct: 1", 50.6, "active"),
        ("nominal: 50, tolerance_pct: 1", 49.6, "fine"),
        ("minimum: 49.8", None, "unknown"),  # no good value: the silent rule's business
        ("minimum: 49.8", "stale", "unknown"),
    ],
)
def test_value_out_of_range(rule: str, value: float | str | None, state: str) -> None:
    now = T0 + 600 * S
    values = {}
    if value == "stale":
        values[("plant-meter", "frequency_hz")] = (now - 300 * S, 40.0)
    elif value is not None:
        values[("plant-meter", "frequency_hz")] = (now - 1 * S, value)
    obs = observe(now, values=values)  # type: ignore[arg-type]
    r = f"{{id: f, kind: value_out_of_range, quantity: frequency_hz, {rule}, match: {{devices: [plant-meter]}}}}"
    _, active, unknown = verdict(r, obs)
    assert ("plant-meter" in active, "plant-meter" in unknown) == (state == "active", state == "unknown")


@pytest.mark.parametrize(("soc", "fires"), [(5.0, "below"), (50.0, None), (99.5, "above")])
def test_battery_state_of_charge(soc: float, fires: str | None) -> None:
    now = T0 + 600 * S
    obs = observe(now, values={("battery", "soc_pct"): (now - S, soc)})
    _, active, _ = verdict("{id: b, kind: battery_soc, below: 10, above: 98, match: {roles: [storage]}}", obs)
    assert ("battery" in active) == (fires is not None)
    if fires:
        assert fires in active["battery"].summary


@pytest.mark.parametrize(
    ("state", "flags", "expected"),
    [
        (1, 0, "fine"),  # running
        (2, 2, "tripped"),
        (0, 1, "fine"),  # stopped for low flow: nothing to do
        (0, 0, "stopped while the river flow allows running"),  # stopped by command, or a fault
        (0, None, "unknown"),
        (None, None, "unknown"),
    ],
)
def test_hydro_stopped(state: int | None, flags: int | None, expected: str) -> None:
    now = T0 + 600 * S
    values = {}
    if state is not None:
        values[("turbine", "operating_state")] = (now - S, float(state))
    if flags is not None:
        values[("turbine", "alarm_flags")] = (now - S, float(flags))
    _, active, unknown = verdict("{id: h, kind: hydro_stopped, match: {sources: [hydro]}}", observe(now, values=values))
    if expected == "fine":
        assert not active
        assert not unknown
    elif expected == "unknown":
        assert unknown == {"turbine"}
    else:
        assert expected in active["turbine"].summary


def test_data_quality_flags_name_their_devices_and_sites() -> None:
    q = quality(
        {("city", 3600): facts("city", flags=("implausible_jump:turbine", "unbalanced:homes", "unrated:battery"))}
    )
    obs = observe(T0, quality=q)
    _, active, _ = verdict("{id: i, kind: implausible_readings}", obs)
    assert set(active) == {"turbine"}
    assert "implausible_jump in the last 60 min" in active["turbine"].summary
    _, active, _ = verdict("{id: u, kind: unbalanced_site}", obs)
    assert set(active) == {"homes"}
    # before the engine has run once, nothing can be said: the alarms keep their state
    _, active, unknown = verdict("{id: u, kind: unbalanced_site}", observe(T0))
    assert not active
    assert unknown == {"plant", "homes", "hub"}


def test_low_coverage_per_scope() -> None:
    q = quality(
        {
            ("district:north", 3600): facts("district:north", coverage=0.7),
            ("district:south", 3600): facts("district:south"),
        }
    )
    _, active, unknown = verdict("{id: c, kind: low_coverage, scope: district, below: 0.9}", observe(T0, quality=q))
    assert set(active) == {"north"}
    assert active["north"].value == 0.7
    assert not unknown


def test_ingest_lag() -> None:
    now = T0 + 600 * S
    _, active, _ = verdict(
        "{id: l, kind: ingest_lag, after_s: 120}", observe(now, values={("battery", "soc_pct"): (now - 200 * S, 1.0)})
    )
    assert active["city"].since_ms == now - 80 * S
    _, active, _ = verdict(
        "{id: l, kind: ingest_lag, after_s: 120}",
        observe(now, values={("battery", "soc_pct"): (now - 20 * S, None, False)}),
    )
    assert not active, "a stored timeout reading still shows the pipeline flows"


def test_dead_letters_per_minute() -> None:
    _, active, unknown = verdict("{id: d, kind: dead_letters, per_minute_above: 10}", observe(T0))
    assert unknown == {"city"}, "no rate before two samples"
    _, active, _ = verdict(
        "{id: d, kind: dead_letters, per_minute_above: 10}", observe(T0, dead_letters_per_minute=12.0)
    )
    assert active["city"].value == 12.0


def test_counter_rate_survives_a_restart_of_the_service() -> None:
    samples = [
        StatSample(T0, 100),
        StatSample(T0 + 20 * S, 110),
        StatSample(T0 + 40 * S, 4),
        StatSample(T0 + 60 * S, 10),
    ]
    # +10, then the worker restarted (its count starts again at 0: +4), then +6 = 20 in a minute
    assert rate_per_minute(samples, 60 * S, T0 + 60 * S) == 20.0
    assert rate_per_minute(samples[:1], 60 * S, T0) is None


def test_self_sufficiency_of_the_day_says_when_it_may_be_wrong() -> None:
    today = {
        "district:north": facts("district:north", ss=0.1, flags=("missing_data:turbine",)),
        "district:south": facts("district:south", ss=0.5),
    }
    _, active, _ = verdict(
        "{id: s, kind: self_sufficiency_below, scope: district, below: 0.2}", observe(T0, quality=quality({}, today))
    )
    assert set(active) == {"north"}
    assert "may be wrong: missing_data:turbine" in active["north"].summary


def test_the_hydro_and_battery_rules_watch_only_their_devices() -> None:
    # a PV inverter's SunSpec operating state 2 is "sleeping" at night, not a trip
    now = T0 + 600 * S
    obs = observe(
        now, values={("homes-load", "operating_state"): (now - S, 2.0), ("turbine", "operating_state"): (now - S, 1.0)}
    )
    subjects, active, _ = verdict("{id: h, kind: hydro_stopped}", obs)
    assert (subjects, active) == (["turbine"], {})
    subjects, _, _ = verdict("{id: b, kind: battery_soc, below: 10}", obs)
    assert subjects == ["battery"]
