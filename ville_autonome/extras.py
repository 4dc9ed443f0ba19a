"""The optional features' third-party packages: the one place that imports them.

The core install (``pip install ville-autonome``) runs the platform: simulators, gateways, ingest,
API, dashboard. Two features need heavier packages, declared as extras in pyproject.toml:

=============  ==========================================  =======================================
extra          packages                                    what needs it
=============  ==========================================  =======================================
``reports``    matplotlib, typst, openpyxl, lxml           PDF and XLSX reports (CSV needs none)
``planning``   pvlib (with pandas, scipy, h5py)            what-if scenarios and storage sizing
=============  ==========================================  =======================================

Each function below imports its feature's packages (planning: and returns them), or raises
:class:`MissingExtraError` naming the extra to install; the API answers it 501, the ``report``
command exits 2 with the same sentence. Only third-party packages are imported here (our own
modules are imported the ordinary way, never behind an ``ImportError``).

::

    MissingExtraError    an optional feature is called without its extra installed
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

Extra = Literal["reports", "planning"]

WHAT: dict[Extra, str] = {
    "reports": "PDF and XLSX reports",
    "planning": "what-if scenarios",
}


class MissingExtraError(Exception):
    """A feature needs an extra that is not installed: ``extra`` to install, ``module`` not found."""

    def __init__(self, extra: Extra, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"{WHAT[extra]} need the optional '{extra}' dependencies (module {module} is not installed): "
            f"{install_command(extra)}"
        )


# the top-level packages each extra brings (checked without importing them by :func:`installed`)
PACKAGES: dict[Extra, tuple[str, ...]] = {
    "reports": ("matplotlib", "openpyxl", "typst"),
    "planning": ("pandas", "pvlib"),
}


def installed(extra: Extra) -> bool:
    """Whether ``extra``'s packages are installed: found on the path, not imported (cheap)."""
    return all(_found(name) for name in PACKAGES[extra])


def _found(name: str) -> bool:
    if name in sys.modules:  # imported already, or blocked (None: ``import`` raises ImportError)
        return sys.modules[name] is not None
    return importlib.util.find_spec(name) is not None


def install_command(extra: Extra) -> str:
    return f"pip install 'ville-autonome[{extra}]'"


@dataclass(frozen=True, slots=True)
class PlanningEngines:
    """Planning's packages: ``pvlib`` (the clear-sky PV model) and ``pandas`` (its time index)."""

    pvlib: ModuleType
    pandas: ModuleType


def require_reports() -> None:
    """Checks the ``reports`` extra's packages import (matplotlib: charts and font, typst: PDF,
    openpyxl: XLSX), else :class:`MissingExtraError`; reports.formats imports the modules that use
    them only after this."""
    try:
        import matplotlib  # noqa: F401
        import openpyxl  # noqa: F401
        import typst  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("reports", exc.name or "?") from exc


def missing() -> list[MissingExtraError]:
    """Imports every extra's packages (at a service's start-up, so that no first request pays for
    it) and says which extras are missing."""
    out = []
    for check in (require_reports, planning):
        try:
            check()
        except MissingExtraError as exc:
            out.append(exc)
    return out


def planning() -> PlanningEngines:
    """The ``planning`` extra's packages, or :class:`MissingExtraError`."""
    try:
        import pandas
        import pvlib
    except ImportError as exc:
        raise MissingExtraError("planning", exc.name or "?") from exc
    return PlanningEngines(pvlib, pandas)
