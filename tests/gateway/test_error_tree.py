"""One exception root per service: every public exception the gateway defines is a GatewayError,
and keeps the built-in or start-up base its callers catch."""

from __future__ import annotations

import ville_autonome.gateway as gateway
from tests.support.exceptions import public_exceptions
from ville_autonome.configuration.errors import ConfigError
from ville_autonome.gateway.errors import GatewayConfigError, GatewayError, PayloadError


def test_every_gateway_exception_derives_from_gateway_error() -> None:
    found = public_exceptions(gateway)
    assert len(found) >= 6
    assert [name for name, cls in found.items() if not issubclass(cls, GatewayError)] == []


def test_the_gateway_errors_keep_the_bases_their_callers_catch() -> None:
    assert issubclass(GatewayConfigError, ConfigError)
    assert issubclass(PayloadError, ValueError)
