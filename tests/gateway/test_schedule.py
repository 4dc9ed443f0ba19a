"""Phases (gateway.schedule): devices sharing a connection are spread over the interval, so
that none of them waits for the others' answers at its start."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.gateway.schedule import spread_phases


def test_the_devices_of_one_endpoint_are_a_tenth_of_the_interval_apart_at_100_by_10() -> None:
    keys = [f"modbus-tcp:127.0.0.1:{port}" for port in range(100) for _ in range(10)]
    phases = spread_phases(keys)
    for port in range(100):
        mine = sorted(phases[port * 10 : port * 10 + 10])
        assert [round(b - a, 9) for a, b in itertools.pairwise(mine)] == [0.1] * 9
    assert sorted(phases) == [i / 1000 for i in range(1000)]  # a poll every millisecond


def test_one_connection_alone_is_spread_over_the_whole_interval() -> None:
    assert spread_phases(["rtu:/dev/ttyUSB0"] * 4) == [0.0, 0.25, 0.5, 0.75]


@given(st.lists(st.sampled_from("abcde"), min_size=1, max_size=60))
def test_every_device_has_its_own_slot_and_a_connection_keeps_its_order(keys: list[str]) -> None:
    phases = spread_phases(keys)
    assert sorted(phases) == [i / len(keys) for i in range(len(keys))]
    for key in set(keys):
        mine = [p for p, k in zip(phases, keys, strict=True) if k == key]
        assert mine == sorted(mine)
