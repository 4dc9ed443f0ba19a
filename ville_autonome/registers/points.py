"""A device profile as the gateway and the simulators use it: points of a register map.

Pure data, built from a validated YAML document by ``registers.profile`` (the format is in
docs/profiles.md). A :class:`Point` is one value of the map (its address, datatype, scaling, and
the standard quantity it measures for each device role); a :class:`Profile` is the whole map,
optionally laid out as SunSpec models that discovery may move (:meth:`Profile.rebased`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

Table = Literal["holding", "input"]
MAX_REGISTERS_PER_READ = 125  # Modbus: at most 125 registers per read (FC 3/4)
ROLES = ("production", "consumption", "storage", "grid")


@dataclass(frozen=True, slots=True)
class Point:
    """One value in a device's register map."""

    name: str
    datatype: str
    table: Table
    address: int  # 0-based protocol address of the first register
    count: int  # registers occupied
    quantity: str | None = None  # standard quantity (None: helper such as a scale factor)
    unit: str | None = None
    word_order: Literal["big", "little"] = "big"
    byte_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    scale_factor: str | None = None  # name of the sunssf point that scales this one
    writable: bool = False
    markers: bool = True  # honour "not implemented" markers
    roles: tuple[str, ...] | None = None  # only for devices of these roles (None: all)
    role_quantity: Mapping[str, str] = field(default_factory=dict)  # quantity override by device role
    model: int | None = None  # SunSpec model id, when addressed by model + offset
    offset: int | None = None
    line: int = 0
    description: str = ""
    # writable points: what a command may write, in the point's unit after scaling
    minimum: float | None = None
    maximum: float | None = None
    values: Mapping[int, str] = field(default_factory=dict)  # allowed values and their meaning

    @property
    def end(self) -> int:
        """One past the last register."""
        return self.address + self.count

    def quantity_for(self, role: str | None) -> str | None:
        """The quantity this point measures on a device of ``role`` (None: not measured there)."""
        if role is not None and self.roles is not None and role not in self.roles:
            return None
        if role is not None and role in self.role_quantity:
            return self.role_quantity[role]
        return self.quantity


@dataclass(frozen=True, slots=True)
class SunSpecModel:
    id: int
    address: int  # address of the model's ID register
    length: int  # L: registers after the ID and L registers


@dataclass(frozen=True, slots=True)
class SunSpecLayout:
    base: int
    models: tuple[SunSpecModel, ...]

    def model(self, model_id: int) -> SunSpecModel | None:
        return next((m for m in self.models if m.id == model_id), None)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    points: tuple[Point, ...]
    description: str = ""
    reference: str = ""
    manufacturer: str = ""
    max_gap: int = 0
    sunspec: SunSpecLayout | None = None
    source: str = ""

    def point(self, name: str) -> Point:
        for p in self.points:
            if p.name == name:
                return p
        raise KeyError(name)

    def measured(self, role: str | None = None) -> list[Point]:
        """Points that yield a reading on a device of ``role``."""
        return [p for p in self.points if p.quantity_for(role) is not None]

    def needed(self, role: str | None = None) -> list[Point]:
        """Points to read for ``role``: measured ones and the scale factors they use."""
        measured = self.measured(role)
        factors = {p.scale_factor for p in measured if p.scale_factor}
        return [p for p in self.points if p in measured or p.name in factors]

    def rebased(self, addresses: Mapping[int, int]) -> Profile:
        """A copy whose SunSpec models start at ``addresses[model_id]`` (found by discovery)."""
        if self.sunspec is None:
            return self
        models = tuple(replace(m, address=addresses.get(m.id, m.address)) for m in self.sunspec.models)
        layout = SunSpecLayout(self.sunspec.base, models)
        points = []
        for p in self.points:
            if p.model is not None and p.offset is not None:
                m = layout.model(p.model)
                assert m is not None
                p = replace(p, address=m.address + p.offset)
            points.append(p)
        return replace(self, points=tuple(points), sunspec=layout)
