"""Device profiles: register maps as YAML data, parsed and validated at load time.

A profile names the points of a device's register map and how each maps onto a standard
quantity (``readings.quantities``). The format is documented in docs/profiles.md; in short::

    name: sunspec-meter-203
    description: ...
    reference: the public document the map comes from
    defaults: {table: holding, word_order: big, byte_order: big, markers: true}
    max_gap: 125                 # registers a read request may skip to merge two blocks (0: none)
    sunspec:                     # optional: a SunSpec layout, points addressed by model + offset
      base: 40000
      models: [{id: 1, address: 40002, length: 66}, {id: 203, address: 40070, length: 105}]
    points:
      - {name: W, quantity: active_power_w, unit: W, model: 203, offset: 18,
         datatype: int16, scale_factor: W_SF}
      - {name: W_SF, model: 203, offset: 22, datatype: sunssf}

Every problem is reported as ``FILE:LINE: points[3].datatype: reason`` and all problems of a
file are reported together. Errors::

    configuration.errors.ConfigError
    └── ProfileError        a profile file is missing, not YAML, or fails validation
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.registers.catalog import profile_names, profile_path
from ville_autonome.registers.codec import DATATYPES, CodecError, register_count

Table = Literal["holding", "input"]
MAX_REGISTERS_PER_READ = 125  # Modbus: at most 125 registers per read (FC 3/4)
ROLES = ("production", "consumption", "storage", "grid")

_PROFILE_KEYS = {"name", "description", "reference", "manufacturer", "defaults", "max_gap", "sunspec", "points"}
_DEFAULT_KEYS = {"table", "word_order", "byte_order", "markers"}
_POINT_KEYS = {
    "name",
    "description",
    "quantity",
    "unit",
    "table",
    "address",
    "model",
    "offset",
    "datatype",
    "count",
    "word_order",
    "byte_order",
    "scale",
    "scale_factor",
    "writable",
    "markers",
    "roles",
    "role_quantity",
}


class ProfileError(ConfigError):
    """A register profile that cannot be used; one line per problem, with file and line."""


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


def profile_for_models(model_ids: Iterable[int]) -> Profile | None:
    """The shipped SunSpec profile whose models (besides the common model 1) a device has all of,
    preferring the one that uses the most of them; ``None`` if none fits."""
    found = set(model_ids)
    best: tuple[int, Profile] | None = None
    for name in profile_names():
        profile = load_profile(name)
        if profile.sunspec is None:
            continue
        wanted = {m.id for m in profile.sunspec.models} - {1}
        if wanted and wanted <= found and (best is None or len(wanted) > best[0]):
            best = (len(wanted), profile)
    return best[1] if best else None


# ---------------------------------------------------------------- loading


class _Lines:
    """Line numbers (1-based) of the nodes of a composed YAML document."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, *path: str | int) -> int:
        node = self.root
        best = node.start_mark.line + 1 if node is not None else 1
        for part in path:
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == part:
                        nxt, best = value, key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                nxt = node.value[part]
                best = nxt.start_mark.line + 1
            if nxt is None:
                break
            node = nxt
        return best


class _Problems:
    def __init__(self, source: str, lines: _Lines) -> None:
        self.source, self.lines, self.items = source, lines, []  # type: ignore[var-annotated]

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
        self.items.append(f"{self.source}:{self.lines.line(*path)}: {where or '(document)'}: {message}")


def resolve_profile_path(name_or_path: str | Path) -> Path:
    """A catalogue name (``sunspec-meter-203``) or a path to a YAML file."""
    text = str(name_or_path)
    if "/" in text or text.endswith((".yaml", ".yml")):
        return Path(text)
    return profile_path(text)


def load_profile(name_or_path: str | Path) -> Profile:
    """Load and validate a profile; raise :class:`ProfileError` listing every problem."""
    path = resolve_profile_path(name_or_path)
    return _load_cached(str(path.resolve()) if path.exists() else str(path))


@functools.lru_cache(maxsize=128)
def _load_cached(path_text: str) -> Profile:
    path = Path(path_text)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError([f"{path}: cannot read register profile: {exc.strerror or exc}"]) from None
    return parse_profile(text, source=str(path))


def parse_profile(text: str, *, source: str = "<profile>") -> Profile:
    """Parse and validate profile YAML ``text``; ``source`` names it in errors."""
    try:
        root = yaml.compose(text)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ProfileError([f"{source}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    problems = _Problems(source, _Lines(root))
    if not isinstance(doc, dict):
        problems.add((), "a profile is a mapping with 'name' and 'points'")
        raise ProfileError(problems.items)
    profile = _build(doc, problems)
    if problems.items or profile is None:
        raise ProfileError(problems.items)
    return replace(profile, source=source)


def _build(doc: dict[str, Any], problems: _Problems) -> Profile | None:
    for key in doc:
        if key not in _PROFILE_KEYS:
            problems.add((str(key),), f"unknown key (known: {', '.join(sorted(_PROFILE_KEYS))})")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        problems.add(("name",), "a profile needs a non-empty 'name'")
        name = ""
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.add(("defaults",), "must be a mapping")
        defaults = {}
    for key in defaults:
        if key not in _DEFAULT_KEYS:
            problems.add(("defaults", str(key)), f"unknown default (known: {', '.join(sorted(_DEFAULT_KEYS))})")
    max_gap = doc.get("max_gap", 0)
    if not isinstance(max_gap, int) or isinstance(max_gap, bool) or not 0 <= max_gap <= MAX_REGISTERS_PER_READ:
        problems.add(("max_gap",), f"must be an integer 0…{MAX_REGISTERS_PER_READ}")
        max_gap = 0
    layout = _build_layout(doc.get("sunspec"), problems)
    raw_points = doc.get("points")
    if not isinstance(raw_points, list) or not raw_points:
        problems.add(("points",), "a profile needs a non-empty list of points")
        return None
    points = [p for i, raw in enumerate(raw_points) if (p := _build_point(i, raw, defaults, layout, problems))]
    _cross_check(points, problems)
    return Profile(
        name=name,
        points=tuple(points),
        description=str(doc.get("description") or ""),
        reference=str(doc.get("reference") or ""),
        manufacturer=str(doc.get("manufacturer") or ""),
        max_gap=max_gap,
        sunspec=layout,
    )


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _build_layout(raw: Any, problems: _Problems) -> SunSpecLayout | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        problems.add(("sunspec",), "must be a mapping with 'base' and a list of 'models'")
        return None
    base = raw.get("base", 40000)
    if not _int_in(base, 0, 65535):
        problems.add(("sunspec", "base"), "must be a register address 0…65535")
        base = 40000
    models = []
    for i, m in enumerate(raw["models"]):
        if not isinstance(m, dict) or not all(_int_in(m.get(k), 0, 65535) for k in ("id", "address", "length")):
            problems.add(("sunspec", "models", i), "each model needs integer 'id', 'address' and 'length'")
            continue
        models.append(SunSpecModel(m["id"], m["address"], m["length"]))
    return SunSpecLayout(base, tuple(models))


def _build_point(
    i: int, raw: Any, defaults: dict[str, Any], layout: SunSpecLayout | None, problems: _Problems
) -> Point | None:
    at: tuple[str | int, ...] = ("points", i)
    if not isinstance(raw, dict):
        problems.add(at, "a point is a mapping")
        return None
    bad = False

    def fail(key: str | None, message: str) -> None:
        nonlocal bad
        bad = True
        problems.add((*at, key) if key else at, message)

    for key in raw:
        if key not in _POINT_KEYS:
            fail(str(key), f"unknown key (known: {', '.join(sorted(_POINT_KEYS))})")
    name: Any = raw.get("name")
    if not isinstance(name, str) or not name:
        fail("name", "a point needs a non-empty 'name'")
    datatype = raw.get("datatype")
    if datatype not in DATATYPES:
        fail("datatype", f"unknown datatype {datatype!r} (known: {', '.join(DATATYPES)})")
        datatype = "uint16"
    count = raw.get("count")
    try:
        count = register_count(datatype, count)
    except CodecError as exc:
        fail("count", str(exc))
        count = 1
    table = raw.get("table", defaults.get("table", "holding"))
    if table not in ("holding", "input"):
        fail("table", f"{table!r} is not one of holding, input")
        table = "holding"
    orders = {}
    for key in ("word_order", "byte_order"):
        orders[key] = raw.get(key, defaults.get(key, "big"))
        if orders[key] not in ("big", "little"):
            fail(key, f"{orders[key]!r} is not one of big, little")
            orders[key] = "big"
    model: Any = raw.get("model")
    offset: Any = raw.get("offset")
    address: Any = raw.get("address")
    if model is not None or offset is not None:
        m = layout.model(model) if layout is not None and isinstance(model, int) else None
        if m is None:
            fail("model", f"model {model!r} is not in the profile's sunspec.models")
            address = 0
        elif not _int_in(offset, 2, m.length + 1) or offset + count > m.length + 2:
            fail("offset", f"offset {offset!r} (+{count} registers) is outside model {model} (L={m.length})")
            address = 0
        else:
            if address is not None and address != m.address + offset:
                fail("address", f"address {address} disagrees with model {model} offset {offset}")
            address = m.address + offset
    elif not _int_in(address, 0, 65535):
        fail("address", "a point needs an 'address' 0…65535 (or a SunSpec 'model' and 'offset')")
        address = 0
    if address + count > 65536:
        fail("count", f"{count} registers from {address} pass the end of the address space")
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale == 0 or not math.isfinite(scale):
        fail("scale", "must be a finite, non-zero number")
        scale = 1.0
    scale_factor = raw.get("scale_factor")
    if scale_factor is not None and not isinstance(scale_factor, str):
        fail("scale_factor", "must name a sunssf point of this profile")
    quantity, unit = raw.get("quantity"), raw.get("unit")
    if quantity is not None:
        q = QUANTITIES.get(quantity) if isinstance(quantity, str) else None
        if q is None:
            fail("quantity", f"unknown quantity {quantity!r} (see readings/quantities.py)")
        elif unit is None:
            fail("unit", f"a point with a quantity needs its unit ({q.unit!r} for {quantity})")
        elif unit != q.unit:
            fail("unit", f"unit {unit!r} does not match {quantity} (expects {q.unit!r} after scaling)")
        if datatype in ("string", "sunssf"):
            fail("datatype", f"a {datatype} point cannot carry a quantity")
    elif unit is not None and not isinstance(unit, str):
        fail("unit", "must be a string")
    roles = raw.get("roles")
    if roles is not None and (not isinstance(roles, list) or not all(r in ROLES for r in roles)):
        fail("roles", f"must be a list of {', '.join(ROLES)}")
        roles = None
    role_quantity = raw.get("role_quantity") or {}
    if not isinstance(role_quantity, dict):
        fail("role_quantity", "must map a role to a quantity")
        role_quantity = {}
    for role, qname in role_quantity.items():
        if role not in ROLES:
            fail("role_quantity", f"unknown role {role!r}")
        elif qname not in QUANTITIES:
            fail("role_quantity", f"unknown quantity {qname!r}")
        elif quantity in QUANTITIES and QUANTITIES[qname].unit != QUANTITIES[quantity].unit:
            fail("role_quantity", f"{qname} has another unit than {quantity}")
    writable = raw.get("writable", False)
    if not isinstance(writable, bool):
        fail("writable", "must be true or false")
    elif writable and table != "holding":
        fail("writable", "only holding registers are writable")
    markers = raw.get("markers", defaults.get("markers", True))
    if not isinstance(markers, bool):
        fail("markers", "must be true or false")
    if bad:
        return None
    return Point(
        name=name,
        datatype=datatype,
        table=table,
        address=address,
        count=count,
        quantity=quantity,
        unit=unit,
        word_order=orders["word_order"],
        byte_order=orders["byte_order"],
        scale=float(scale),
        scale_factor=scale_factor,
        writable=writable,
        markers=markers,
        roles=tuple(roles) if roles is not None else None,
        role_quantity=dict(role_quantity),
        model=model,
        offset=offset,
        line=problems.lines.line("points", i),
    )


def _cross_check(points: list[Point], problems: _Problems) -> None:
    by_name: dict[str, Point] = {}
    for p in points:
        if p.name in by_name:
            problems.add(("points", _pos(p, problems)), f"duplicate point name {p.name!r}")
        by_name[p.name] = p
    for p in points:
        if p.scale_factor is None:
            continue
        sf = by_name.get(p.scale_factor)
        if sf is None or sf.datatype != "sunssf":
            problems.add(("points", _pos(p, problems), "scale_factor"), f"{p.scale_factor!r} is not a sunssf point")
        elif sf.table != p.table:
            problems.add(("points", _pos(p, problems), "scale_factor"), "the scale factor is in another table")
    ordered = sorted(points, key=lambda p: (p.table, p.address))
    for a, b in itertools.pairwise(ordered):
        if a.table == b.table and b.address < a.end:
            problems.add(
                ("points", _pos(b, problems), "address"),
                f"{b.name} ({b.table} {b.address}…{b.end - 1}) overlaps {a.name} ({a.address}…{a.end - 1})",
            )
    reported: set[tuple[str, str]] = set()
    for role in ROLES:
        seen: dict[str, Point] = {}
        for p in points:
            q = p.quantity_for(role)
            if q is None:
                continue
            if q in seen and (p.name, q) not in reported:
                reported.add((p.name, q))
                problems.add(
                    ("points", _pos(p, problems), "quantity"),
                    f"quantity {q} is already measured by {seen[q].name} (role {role})",
                )
            seen[q] = p


def _pos(p: Point, problems: _Problems) -> int:
    """The index of ``p`` in the document's points list (found by its line)."""
    root = problems.lines.root
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "points" and isinstance(value, yaml.SequenceNode):
                for i, node in enumerate(value.value):
                    if node.start_mark.line + 1 == p.line:
                        return i
    return 0
