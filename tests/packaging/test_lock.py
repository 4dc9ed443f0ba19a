"""The lock files say what is installed: every declared dependency is pinned inside its bounds, the
runtime and the development locks agree, the runtime lock is the core install (no optional
feature's packages), and this environment (built by ``make``) holds exactly the development lock's
versions."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# what the optional extras bring (ville_autonome/extras.py), the core install never
EXTRAS_ONLY = {"typst", "matplotlib", "openpyxl", "lxml", "pvlib", "pandas", "scipy", "h5py"}


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
    """The core's requirements, and every extra's (dev and the features: the development lock holds them all)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    extras = [Requirement(r) for reqs in project["optional-dependencies"].values() for r in reqs]
    return runtime, [r for r in extras if canonicalize_name(r.name) != "ville-autonome"]


def test_every_declared_dependency_is_pinned_within_its_bounds() -> None:
    runtime, dev = _declared()
    runtime_pins, dev_pins = _pins("runtime.lock"), _pins("dev.lock")
    for pins, reqs in ((runtime_pins, runtime), (dev_pins, runtime + dev)):
        for req in reqs:
            name = canonicalize_name(req.name)
            assert name in pins, f"{req} is not in the lock: run make lock"
            assert req.specifier.contains(pins[name][0], prereleases=True), f"{req} locked at {pins[name][0]}"


def test_the_runtime_lock_is_the_core_install() -> None:
    runtime, _ = _declared()
    assert not {canonicalize_name(r.name) for r in runtime} & EXTRAS_ONLY
    assert not set(_pins("runtime.lock")) & EXTRAS_ONLY, "an optional feature's package is in the core lock"
    for lock in ("full.lock", "dev.lock"):  # the image's and the tests'
        assert set(_pins(lock)) >= EXTRAS_ONLY, f"{lock} holds every feature's packages"


@pytest.mark.parametrize(("smaller", "larger"), [("runtime.lock", "full.lock"), ("full.lock", "dev.lock")])
def test_the_locks_agree(smaller: str, larger: str) -> None:
    small, large = _pins(smaller), _pins(larger)
    assert set(small) <= set(large)
    assert {n: large[n][0] for n in small} == {n: v for n, (v, _) in small.items()}


def test_this_environment_holds_the_development_lock() -> None:
    differ = {}
    for name, (version, marker) in _pins("dev.lock").items():
        if marker is not None and not marker.evaluate():
            continue
        installed = importlib.metadata.version(name)
        if installed != version:
            differ[name] = (installed, version)
    assert not differ, f"installed vs locked: {differ} (make installs from requirements/dev.lock)"
