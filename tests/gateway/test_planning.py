"""Read planning: fewest requests within 125 registers, gaps only where the profile allows."""

from __future__ import annotations

import pytest

from ville_autonome.gateway.planning import plan_reads
from ville_autonome.registers.profile import Point, load_profile


def pt(name: str, address: int, count: int = 1, table: str = "holding") -> Point:
    return Point(name=name, datatype="uint16" if count == 1 else "uint32", table=table, address=address, count=count)  # type: ignore[arg-type]


def spans(points: list[Point], **kw: int) -> list[tuple[str, int, int]]:
    return [(r.table, r.address, r.count) for r in plan_reads(points, **kw)]


def test_adjacent_points_merge() -> None:
    assert spans([pt("a", 10), pt("b", 11), pt("c", 12, 2)]) == [("holding", 10, 4)]


def test_a_hole_splits_unless_allowed() -> None:
    points = [pt("a", 10), pt("b", 15)]
    assert spans(points) == [("holding", 10, 1), ("holding", 15, 1)]
    assert spans(points, max_gap=4) == [("holding", 10, 6)]
    assert spans(points, max_gap=3) == [("holding", 10, 1), ("holding", 15, 1)]


def test_tables_never_merge() -> None:
    assert spans([pt("a", 10), pt("b", 11, table="input")]) == [("holding", 10, 1), ("input", 11, 1)]


def test_limit_of_125_registers() -> None:
    points = [pt(f"p{i}", 1000 + 2 * i, 2) for i in range(100)]  # 200 contiguous registers
    plan = spans(points)
    assert plan == [("holding", 1000, 124), ("holding", 1124, 76)]
    assert all(c <= 125 for _, _, c in plan)


def test_unordered_input_and_each_point_once() -> None:
    points = [pt("c", 30), pt("a", 10), pt("b", 20)]
    requests = plan_reads(points, max_gap=10)
    assert [(r.address, r.count) for r in requests] == [(10, 21)]
    assert [p.name for p in requests[0].points] == ["a", "b", "c"]
    assert list(requests[0].words_of(points[0], list(range(21)))) == [20]  # "c" at 30


def test_sunspec_meter_is_one_request() -> None:
    meter = load_profile("sunspec-meter-203")
    requests = plan_reads(meter.needed("grid"), max_gap=meter.max_gap)
    assert len(requests) == 1
    assert requests[0].address == 40073  # AphA, the first point read
    assert requests[0].count <= 125


def test_vendor_map_without_gaps() -> None:
    iem = load_profile("schneider-iem3255")
    requests = plan_reads(iem.needed("grid"), max_gap=iem.max_gap)
    assert [(r.address, r.count) for r in requests][:2] == [(2999, 6), (3027, 6)]


def test_oversized_point_is_refused() -> None:
    big = Point(name="s", datatype="string", table="holding", address=0, count=126)
    with pytest.raises(ValueError, match="exceeds"):
        plan_reads([big])
