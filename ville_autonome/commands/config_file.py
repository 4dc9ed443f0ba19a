"""The configuration as every subcommand loads it: the file, ``VA_*`` overrides, and every register
profile it names loaded and validated (the configuration package itself knows no profiles: it is
handed ``registers.profile.profile_problems``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ville_autonome.configuration import PlatformConfig, load_config
from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.registers.profile import profile_problems


def load(path: str | Path, *, environ: Mapping[str, str] | None = None) -> PlatformConfig:
    """Load and validate the configuration at ``path``; raises ``ConfigError`` naming every problem
    (of the file and of the profiles it uses, and the quantities its alert rules name)."""
    return load_config(path, environ=environ, profile_check=profile_problems, known_quantities=frozenset(QUANTITIES))
