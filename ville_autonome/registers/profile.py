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

Validation is the configuration's: the schema in pydantic (``registers.profile_schema``), the
rules between fields and points in ``registers.profile_checks``, the YAML locations and the
message format in ``configuration.yaml_source``. Every problem is one line
``FILE:LINE: points[3].datatype: reason``, all problems of a file together. Errors::

    configuration.errors.ConfigError
    └── ProfileError        a profile file is missing, not YAML, or fails validation
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.yaml_source import Problems, YamlDocument, parse_yaml
from ville_autonome.registers.catalog import AUTO_SUNSPEC, is_path, profile_names, profile_path
from ville_autonome.registers.points import (
    MAX_REGISTERS_PER_READ,
    ROLES,
    Point,
    Profile,
    SunSpecLayout,
    SunSpecModel,
)
from ville_autonome.registers.profile_checks import build_point, cross_check
from ville_autonome.registers.profile_schema import PointDoc, ProfileDoc, SunSpecDoc

__all__ = [
    "MAX_REGISTERS_PER_READ",
    "ROLES",
    "Point",
    "Profile",
    "ProfileError",
    "SunSpecLayout",
    "SunSpecModel",
    "load_profile",
    "parse_profile",
    "profile_for_models",
    "profile_problems",
]


class ProfileError(ConfigError):
    """A register profile that cannot be used; one line per problem, with file and line."""


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


def load_profile(name_or_path: str | Path, dirs: Sequence[str | Path] = ()) -> Profile:
    """Load and validate a profile (a name searched in ``dirs`` then among the shipped ones, or a
    path); raise :class:`ProfileError` listing every problem."""
    path = profile_path(str(name_or_path), dirs)
    return _load_cached(str(path.resolve()) if path.exists() else str(path))


def profile_problems(name: str, dirs: Sequence[str]) -> list[str]:
    """The configuration's profile check (``configuration.checks.ProfileCheck``): [] if the profile
    loads, else a line for the device's entry followed by the profile's own problems."""
    if name == AUTO_SUNSPEC:
        return []
    path = profile_path(name, dirs)
    if not path.is_file():
        if is_path(name):
            return [f"no register profile file {str(path)!r}"]
        searched = ", ".join([*dirs, "the shipped profiles"])
        return [f"unknown register profile {name!r} (searched: {searched})"]
    try:
        load_profile(path)
    except ProfileError as exc:
        return [f"register profile {name!r} ({path}) has {len(exc.problems)} problem(s):", *exc.problems]
    return []


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
        doc = parse_yaml(text, source)
    except ConfigError as exc:
        raise ProfileError(exc.problems) from None
    problems = Problems(doc, schema="profile")
    if not isinstance(doc.data, dict):
        problems.add((), "a profile is a mapping with 'name' and 'points'")
        problems.raise_if_any(ProfileError)
    try:
        header = ProfileDoc.model_validate(doc.data)
    except ValidationError as exc:
        problems.add_validation_error(exc)
        header = None
    profile = _build(doc, header, problems)
    problems.raise_if_any(ProfileError)
    assert profile is not None
    return profile


def _layout(sunspec: SunSpecDoc | None) -> SunSpecLayout | None:
    if sunspec is None:
        return None
    return SunSpecLayout(sunspec.base, tuple(SunSpecModel(m.id, m.address, m.length) for m in sunspec.models))


def _build(doc: YamlDocument, header: ProfileDoc | None, problems: Problems) -> Profile | None:
    """The points that validate (each on its own, the profile's defaults first), cross-checked."""
    data: dict[str, Any] = doc.data
    raw_points = data.get("points")
    if not isinstance(raw_points, list):
        return None
    layout = _layout(header.sunspec) if header is not None else None
    defaults = header.defaults.model_dump() if header is not None else {}
    points: list[tuple[int, Point]] = []
    for i, raw in enumerate(raw_points):
        at = ("points", i)
        if not isinstance(raw, dict):
            problems.add(at, "a point is a mapping")
            continue
        try:
            point_doc = PointDoc.model_validate({**defaults, **raw})
        except ValidationError as exc:
            problems.add_validation_error(exc, at)
            continue
        point, found = build_point(point_doc, layout, doc.lines.line(at))
        for loc, reason in found:
            problems.add((*at, *loc), reason)
        if point is not None:
            points.append((i, point))
    for loc, reason in cross_check(points):
        problems.add(loc, reason)
    if header is None:
        return None
    return Profile(
        name=header.name,
        points=tuple(p for _, p in points),
        description=header.description,
        reference=header.reference,
        manufacturer=header.manufacturer,
        max_gap=header.max_gap,
        sunspec=layout,
        source=doc.source,
    )
