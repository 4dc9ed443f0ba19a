"""The configuration as every subcommand loads it: the file, ``VA_*`` overrides, and the shipped
register profiles' names checked (the configuration package itself knows no profiles)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ville_autonome.configuration import PlatformConfig, load_config
from ville_autonome.registers.catalog import profile_exists


def load(path: str | Path, *, environ: Mapping[str, str] | None = None) -> PlatformConfig:
    """Load and validate the configuration at ``path``; raises ``ConfigError`` naming every problem."""
    return load_config(path, environ=environ, profile_exists=profile_exists)
