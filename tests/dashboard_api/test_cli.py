"""The ``api`` subcommand's start-up checks (the running server is covered end to end elsewhere)."""

from __future__ import annotations

import socket

import pytest

from ville_autonome.commands.api import bind_socket
from ville_autonome.configuration.errors import PortInUseError, StartupError


def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port} is already in use") as info:
            bind_socket("127.0.0.1", port)
        assert isinstance(info.value, StartupError)


def test_a_free_port_is_bound_and_listening() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()
