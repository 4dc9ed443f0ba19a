"""Load configuration text in a test, as ``test.yaml``: the configuration as the loader builds it,
or the problems it reports (each ``test.yaml:LINE: path: reason``)."""

from __future__ import annotations

from typing import Any

import pytest

from ville_autonome.configuration import ConfigError, load_config_text
from ville_autonome.configuration.topology import PlatformConfig

SOURCE = "test.yaml"


def load_text(text: str, env: dict[str, str], **options: Any) -> PlatformConfig:
    """``options``: those of ``load_config_text`` (``profile_check``, ``known_quantities``, …)."""
    return load_config_text(text, source=SOURCE, environ=env, **options)


def problems_of(text: str, env: dict[str, str], **options: Any) -> list[str]:
    """The problems the loader reports for ``text`` (it must refuse it)."""
    with pytest.raises(ConfigError) as info:
        load_text(text, env, **options)
    return info.value.problems
