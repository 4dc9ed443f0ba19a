"""Stored readings held column by column (:class:`ReadingColumns`): what the ingest makes of a
well-formed envelope without an object per reading.

Each reading is its series (a :class:`Series`: the device's context and the quantity, one object
shared by every reading of that device and quantity), its time, its value and its quality. A
:class:`readings.model.StoredReading` is made only when one is asked for (a point the store
refused, a backend that binds rows one by one), so a batch keeps alive only its numbers: the
InfluxDB backend encodes the columns straight to line protocol
(:func:`influx_wire.reading_lines.column_lines`). It is a ``Sequence[StoredReading]`` like a list
of them, slices included (docs/ingest.md, "Performance").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from ville_autonome.readings.model import DeviceContext, Quality, StoredReading


class Series:
    """One device's quantity: compared by identity (one object per series and process cache)."""

    __slots__ = ("context", "quantity")

    def __init__(self, context: DeviceContext, quantity: str) -> None:
        self.context, self.quantity = context, quantity

    def __repr__(self) -> str:
        return f"Series({self.context.device!r}, {self.quantity!r})"


class ReadingColumns(Sequence[StoredReading]):
    """Readings as four parallel lists; :meth:`append` and :meth:`extend` add to them."""

    __slots__ = ("qualities", "series", "ts", "values")

    def __init__(
        self,
        series: list[Series] | None = None,
        ts: list[int] | None = None,
        values: list[float | None] | None = None,
        qualities: list[Quality] | None = None,
    ) -> None:
        self.series: list[Series] = series if series is not None else []
        self.ts: list[int] = ts if ts is not None else []
        self.values: list[float | None] = values if values is not None else []
        self.qualities: list[Quality] = qualities if qualities is not None else []

    def append(self, series: Series, ts: int, value: float | None, quality: Quality) -> None:
        self.series.append(series)
        self.ts.append(ts)
        self.values.append(value)
        self.qualities.append(quality)

    def extend(self, other: ReadingColumns) -> None:
        self.series += other.series
        self.ts += other.ts
        self.values += other.values
        self.qualities += other.qualities

    def __len__(self) -> int:
        return len(self.ts)

    @overload
    def __getitem__(self, index: int) -> StoredReading: ...

    @overload
    def __getitem__(self, index: slice) -> ReadingColumns: ...

    def __getitem__(self, index: int | slice) -> StoredReading | ReadingColumns:
        if isinstance(index, slice):
            return ReadingColumns(self.series[index], self.ts[index], self.values[index], self.qualities[index])
        s = self.series[index]
        return StoredReading(s.context, s.quantity, self.ts[index], self.values[index], self.qualities[index])

    def __iter__(self) -> Iterator[StoredReading]:
        for s, ts, value, quality in zip(self.series, self.ts, self.values, self.qualities, strict=True):
            yield StoredReading(s.context, s.quantity, ts, value, quality)

    def __eq__(self, other: object) -> bool:  # the readings, as a list of them would compare
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list


def as_columns(parts: Sequence[Sequence[StoredReading]]) -> Sequence[StoredReading]:
    """The readings of ``parts`` in order: one :class:`ReadingColumns` when every part is one,
    else a list of :class:`StoredReading` (a batch mixing both shapes is rare: a message refused
    in part takes the per-reading path)."""
    columns = [p for p in parts if isinstance(p, ReadingColumns)]
    if len(columns) == len(parts):
        out = ReadingColumns()
        for c in columns:
            out.extend(c)
        return out
    return [r for p in parts for r in p]
