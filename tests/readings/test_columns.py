"""Readings held column by column (``readings.columns``): a ``Sequence[StoredReading]`` like a list
of them, slices included; readings made only when asked for."""

from __future__ import annotations

from ville_autonome.readings.columns import ReadingColumns, Series, as_columns
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading

CTX = DeviceContext("d", "s", "m-1", "grid", "")
POWER = Series(CTX, "active_power_w")
SOC = Series(CTX, "soc_pct")


def _three() -> ReadingColumns:
    cols = ReadingColumns()
    cols.append(POWER, 1000, 2.5, Quality.GOOD)
    cols.append(SOC, 1000, None, Quality.TIMEOUT)
    cols.append(POWER, 2000, 3.5, Quality.GOOD)
    return cols


READINGS = [
    StoredReading(CTX, "active_power_w", 1000, 2.5),
    StoredReading(CTX, "soc_pct", 1000, None, Quality.TIMEOUT),
    StoredReading(CTX, "active_power_w", 2000, 3.5),
]


def test_columns_read_as_the_list_of_their_readings() -> None:
    cols = _three()
    assert len(cols) == 3
    assert list(cols) == READINGS
    assert cols == READINGS
    assert cols == READINGS  # the list's comparison falls back on the columns'
    assert cols[1] == READINGS[1]
    assert cols[-1] == READINGS[-1]
    assert cols != READINGS[:2]


def test_a_slice_is_columns_of_the_same_readings() -> None:
    part = _three()[1:3]
    assert isinstance(part, ReadingColumns)
    assert part == READINGS[1:3]
    assert part.series == [SOC, POWER]  # the same series objects: shared, not copied


def test_columns_are_joined_as_columns_and_a_mix_as_readings() -> None:
    joined = as_columns([_three(), _three()[:1]])
    assert isinstance(joined, ReadingColumns)
    assert joined == [*READINGS, READINGS[0]]
    mixed = as_columns([_three(), [READINGS[0]]])
    assert mixed == [*READINGS, READINGS[0]]
    assert isinstance(mixed, list)
    assert as_columns([]) == []
