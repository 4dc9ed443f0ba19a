"""Fixtures of tests/deploy: docker-compose.yml and its services, the configurations of Amiens
(the repository's and the deployed one), a .env written by deploy/gen-env.sh."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.deploy.compose import GEN_ENV, ROOT, load_compose, read_env_file
from ville_autonome.configuration.loader import load_config
from ville_autonome.configuration.topology import PlatformConfig


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


@pytest.fixture(scope="module")
def amiens() -> PlatformConfig:
    return load_config(ROOT / "config" / "amiens.yaml", environ={})


@pytest.fixture(scope="module")
def deployed() -> PlatformConfig:
    return load_config(ROOT / "deploy" / "config" / "amiens.yaml", environ={})


@pytest.fixture(scope="module")
def generated_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A .env written by deploy/gen-env.sh."""
    path = tmp_path_factory.mktemp("env") / ".env"
    done = subprocess.run(["sh", str(GEN_ENV), str(path)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return read_env_file(path)
