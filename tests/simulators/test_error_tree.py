"""One exception root per service: every public exception the simulators define is a
SimulatorError, and keeps the built-in base its callers catch."""

from __future__ import annotations

import ville_autonome.simulators as simulators
from tests.support.exceptions import public_exceptions
from ville_autonome.simulators.backfill_publish import BackfillError
from ville_autonome.simulators.control import UnknownDeviceError
from ville_autonome.simulators.errors import SimulatorError
from ville_autonome.simulators.faults import FaultError
from ville_autonome.simulators.storage_controls import ControlRefusedError


def test_every_simulator_exception_derives_from_simulator_error() -> None:
    found = public_exceptions(simulators)
    assert len(found) >= 7
    assert [name for name, cls in found.items() if not issubclass(cls, SimulatorError)] == []


def test_the_simulator_errors_keep_the_bases_their_callers_catch() -> None:
    assert issubclass(FaultError, ValueError)
    assert issubclass(ControlRefusedError, ValueError)
    assert issubclass(UnknownDeviceError, LookupError)
    assert issubclass(BackfillError, RuntimeError)
