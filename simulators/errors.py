"""The simulator's exceptions: one root, :class:`SimulatorError`.

::

    SimulatorError                                  every error the lab raises at run time
    ├── faults.FaultError (ValueError)              unknown fault name, unknown device, or a bad parameter
    ├── control.UnknownDeviceError (LookupError)    a device id the simulator does not serve (HTTP 404)
    ├── storage_controls.ControlRefusedError (ValueError)   a written value the register refuses
    │                                               (answered with Modbus exception 03)
    └── backfill_publish.BackfillError (RuntimeError)   the backfill did not complete
        ├── BackfillIncompleteError                 envelopes never acknowledged (named)
        └── BackfillInterruptedError                stopped; how far it got

Each also derives from the built-in exception in brackets, which callers caught before the root
existed. Start-up failures are ``configuration.errors.StartupError``s (``simulators.service``); a bad
period or step of a backfill is a ``ValueError`` (``simulators.backfill``).
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Every error the simulator raises at run time."""
