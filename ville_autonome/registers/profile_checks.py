"""What a register profile must satisfy beyond its schema: pure checks, each ``(path, reason)``.

Per point (:func:`build_point`): the register count fits the datatype, the address is given (or a
SunSpec model + offset inside that model), the registers fit the address space, a quantity has
its unit, a helper (string, scale factor) carries none, role overrides keep the unit, only holding
registers are writable and only writable points have a command range. Across points
(:func:`cross_check`): unique names, scale factors that are ``sunssf`` points of the same table,
no overlapping registers, no quantity measured twice for one role.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from ville_autonome.configuration.yaml_source import Loc
from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.registers.codec import CodecError, register_count
from ville_autonome.registers.points import ROLES, Point, SunSpecLayout
from ville_autonome.registers.profile_schema import PointDoc

Problem = tuple[Loc, str]


def _count(doc: PointDoc) -> tuple[int, list[Problem]]:
    try:
        return register_count(doc.datatype, doc.count), []
    except CodecError as exc:
        return 1, [(("count",), str(exc))]


def _address(doc: PointDoc, count: int, layout: SunSpecLayout | None) -> tuple[int, list[Problem]]:
    if doc.model is None and doc.offset is None:
        if doc.address is None:
            return 0, [(("address",), "a point needs an 'address' 0…65535 (or a SunSpec 'model' and 'offset')")]
        return doc.address, []
    model = layout.model(doc.model) if layout is not None and doc.model is not None else None
    if model is None:
        return 0, [(("model",), f"model {doc.model!r} is not in the profile's sunspec.models")]
    offset = doc.offset
    if offset is None or not 2 <= offset <= model.length + 1 or offset + count > model.length + 2:
        msg = f"offset {offset!r} (+{count} registers) is outside model {doc.model} (L={model.length})"
        return 0, [(("offset",), msg)]
    address = model.address + offset
    if doc.address is not None and doc.address != address:
        return address, [(("address",), f"address {doc.address} disagrees with model {doc.model} offset {offset}")]
    return address, []


def _quantity(doc: PointDoc) -> list[Problem]:
    problems: list[Problem] = []
    if doc.quantity is not None:
        expected = QUANTITIES[doc.quantity].unit
        if doc.unit is None:
            problems.append((("unit",), f"a point with a quantity needs its unit ({expected!r} for {doc.quantity})"))
        elif doc.unit != expected:
            msg = f"unit {doc.unit!r} does not match {doc.quantity} (expects {expected!r} after scaling)"
            problems.append((("unit",), msg))
        if doc.datatype in ("string", "sunssf"):
            problems.append((("datatype",), f"a {doc.datatype} point cannot carry a quantity"))
    for role, qname in doc.role_quantity.items():
        if doc.quantity is not None and QUANTITIES[qname].unit != QUANTITIES[doc.quantity].unit:
            problems.append((("role_quantity", role), f"{qname} has another unit than {doc.quantity}"))
    return problems


def _writable(doc: PointDoc) -> list[Problem]:
    problems: list[Problem] = []
    if doc.writable and doc.table != "holding":
        problems.append((("writable",), "only holding registers are writable"))
    ranged = doc.minimum is not None or doc.maximum is not None or doc.values is not None
    if ranged and not doc.writable:
        problems.append((("writable",), "a command range (minimum, maximum, values) is for writable points"))
    if doc.minimum is not None and doc.maximum is not None and doc.minimum > doc.maximum:
        problems.append((("minimum",), f"minimum {doc.minimum} is above maximum {doc.maximum}"))
    return problems


def build_point(doc: PointDoc, layout: SunSpecLayout | None, line: int) -> tuple[Point | None, list[Problem]]:
    """The point ``doc`` describes, or ``None`` with its problems (paths relative to the point)."""
    count, problems = _count(doc)
    address, found = _address(doc, count, layout)
    problems += found
    if address + count > 65536:
        problems.append((("count",), f"{count} registers from {address} pass the end of the address space"))
    problems += _quantity(doc) + _writable(doc)
    if problems:
        return None, problems
    point = Point(
        name=doc.name,
        datatype=doc.datatype,
        table=doc.table,
        address=address,
        count=count,
        quantity=doc.quantity,
        unit=doc.unit,
        word_order=doc.word_order,
        byte_order=doc.byte_order,
        scale=float(doc.scale),
        scale_factor=doc.scale_factor,
        writable=doc.writable,
        markers=doc.markers,
        roles=tuple(doc.roles) if doc.roles is not None else None,
        role_quantity={str(k): v for k, v in doc.role_quantity.items()},
        model=doc.model,
        offset=doc.offset,
        line=line,
        description=doc.description,
        minimum=float(doc.minimum) if doc.minimum is not None else None,
        maximum=float(doc.maximum) if doc.maximum is not None else None,
        values=dict(doc.values or {}),
    )
    return point, []


def cross_check(points: Iterable[tuple[int, Point]]) -> list[Problem]:
    """Problems between points; ``points`` pairs each point with its index in the file."""
    indexed = list(points)
    where = {id(p): i for i, p in indexed}
    problems: list[Problem] = []
    by_name: dict[str, Point] = {}
    for i, p in indexed:
        if p.name in by_name:
            problems.append((("points", i), f"duplicate point name {p.name!r}"))
        by_name[p.name] = p
    for i, p in indexed:
        if p.scale_factor is None:
            continue
        sf = by_name.get(p.scale_factor)
        if sf is None or sf.datatype != "sunssf":
            problems.append((("points", i, "scale_factor"), f"{p.scale_factor!r} is not a sunssf point"))
        elif sf.table != p.table:
            problems.append((("points", i, "scale_factor"), "the scale factor is in another table"))
    ordered = sorted((p for _, p in indexed), key=lambda p: (p.table, p.address))
    for a, b in itertools.pairwise(ordered):
        if a.table == b.table and b.address < a.end:
            msg = f"{b.name} ({b.table} {b.address}…{b.end - 1}) overlaps {a.name} ({a.address}…{a.end - 1})"
            problems.append((("points", where[id(b)], "address"), msg))
    problems += _measured_twice(indexed)
    return problems


def _measured_twice(indexed: list[tuple[int, Point]]) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for role in ROLES:
        seen: dict[str, Point] = {}
        for i, p in indexed:
            q = p.quantity_for(role)
            if q is None:
                continue
            if q in seen and (p.name, q) not in reported:
                reported.add((p.name, q))
                msg = f"quantity {q} is already measured by {seen[q].name} (role {role})"
                problems.append((("points", i, "quantity"), msg))
            seen[q] = p
    return problems
