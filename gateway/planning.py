"""Read planning: each device's profile, and the fewest Modbus read requests that cover its points.

Pure but for reading profile files (:func:`device_profiles`). Points of one table (holding / input) are sorted by address and merged into one request
while the request stays within the protocol's 125-register limit and the hole between two
points is at most ``max_gap`` registers (a profile says how many unmapped registers its device
lets us read: a SunSpec model is one readable block; many vendor maps refuse holes with
exception 02, hence the default 0).

Each request also carries its points *planned* (:class:`PlannedPoint`): where each sits in the
answer and its decoder (``registers.block_decode``), made once when the device's reads are
planned instead of at every poll.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.registers.block_decode import PointDecoder
from ville_autonome.registers.catalog import AUTO_SUNSPEC
from ville_autonome.registers.profile import MAX_REGISTERS_PER_READ, Point, Profile, ProfileError, load_profile


@dataclass(frozen=True, slots=True)
class PlannedPoint:
    """A point of a request, ready to decode: its offset in the answer and its decoder."""

    point: Point
    offset: int  # registers from the request's first
    decoder: PointDecoder


@dataclass(frozen=True, slots=True)
class ReadRequest:
    table: str  # "holding" (FC 3) or "input" (FC 4)
    address: int
    count: int
    points: tuple[Point, ...]
    planned: tuple[PlannedPoint, ...] = ()

    def words_of(self, point: Point, words: Sequence[int]) -> Sequence[int]:
        """The registers of ``point`` inside this request's answer ``words``."""
        start = point.address - self.address
        return words[start : start + point.count]


def plan_reads(
    points: Iterable[Point], *, max_gap: int = 0, max_count: int = MAX_REGISTERS_PER_READ
) -> list[ReadRequest]:
    """Merge ``points`` into read requests, in (table, address) order."""
    if max_count < 1 or max_count > MAX_REGISTERS_PER_READ:
        raise ValueError(f"max_count must be 1…{MAX_REGISTERS_PER_READ}")
    requests: list[ReadRequest] = []
    ordered = sorted(points, key=lambda p: (p.table, p.address))
    group: list[Point] = []
    start = end = 0
    for p in ordered:
        if p.count > max_count:
            raise ValueError(f"point {p.name} ({p.count} registers) exceeds {max_count} registers per read")
        if group and (p.table != group[0].table or p.address - end > max_gap or max(end, p.end) - start > max_count):
            requests.append(_request(group, start, end))
            group = []
        if not group:
            start, end = p.address, p.end
        group.append(p)
        end = max(end, p.end)
    if group:
        requests.append(_request(group, start, end))
    return requests


def _request(group: list[Point], start: int, end: int) -> ReadRequest:
    planned = tuple(
        PlannedPoint(
            p,
            p.address - start,
            PointDecoder(
                p.datatype, word_order=p.word_order, byte_order=p.byte_order, scale=p.scale, markers=p.markers
            ),
        )
        for p in group
    )
    return ReadRequest(group[0].table, start, end - start, tuple(group), planned)


def device_profiles(
    devices: Iterable[DeviceConfig], dirs: Sequence[str]
) -> tuple[dict[str, Profile | None], list[str]]:
    """The profile of each Modbus device (``None`` for ``profile: sunspec``, chosen by discovery) and
    the problems that stop a gateway from reading its devices (one line each)."""
    profiles: dict[str, Profile | None] = {}
    problems: list[str] = []
    for dev in devices:
        if dev.protocol == "mqtt":
            if not dev.mqtt_topics():
                problems.append(
                    f"device {dev.id}: an mqtt device needs a 'topic' with 'fields', a 'preset' or 'topics'"
                )
        elif not dev.profile:
            problems.append(f"device {dev.id}: a {dev.protocol} device needs a register profile")
        elif dev.profile == AUTO_SUNSPEC:
            profiles[dev.id] = None
        else:
            try:
                profiles[dev.id] = load_profile(dev.profile, dirs)
            except ProfileError as exc:
                problems.extend(exc.problems)
    return profiles, problems
