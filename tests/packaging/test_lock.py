"""The lock files say what is installed: every declared dependency is pinned inside its bounds, the
runtime and the development locks agree, and this environment (built by ``make``) holds exactly the
development lock's versions."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins(name: str) -> dict[str, tuple[str, Marker | None]]:
    pins: dict[str, tuple[str, Marker | None]] = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if not line or line.startswith(("#", " ")):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", line
        pins[canonicalize_name(req.name)] = (spec.version, req.marker)
    return pins


def _declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return runtime, dev


def test_every_declared_dependency_is_pinned_within_its_bounds() -> None:
    runtime, dev = _declared()
    runtime_pins, dev_pins = _pins("runtime.lock"), _pins("dev.lock")
    for pins, reqs in ((runtime_pins, runtime), (dev_pins, runtime + dev)):
        for req in reqs:
            name = canonicalize_name(req.name)
            assert name in pins, f"{req} is not in the lock: run make lock"
            assert req.specifier.contains(pins[name][0], prereleases=True), f"{req} locked at {pins[name][0]}"


def test_the_runtime_and_development_locks_agree() -> None:
    runtime_pins, dev_pins = _pins("runtime.lock"), _pins("dev.lock")
    assert set(runtime_pins) <= set(dev_pins)
    assert {n: dev_pins[n][0] for n in runtime_pins} == {n: v for n, (v, _) in runtime_pins.items()}


def test_this_environment_holds_the_development_lock() -> None:
    differ = {}
    for name, (version, marker) in _pins("dev.lock").items():
        if marker is not None and not marker.evaluate():
            continue
        installed = importlib.metadata.version(name)
        if installed != version:
            differ[name] = (installed, version)
    assert not differ, f"installed vs locked: {differ} (make installs from requirements/dev.lock)"
