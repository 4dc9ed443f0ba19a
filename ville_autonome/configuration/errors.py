"""Errors every service shares at start-up.

::

    StartupError                 expected failure before a service runs: one line, exit code 2
    ├── ConfigError              the configuration file or an override is wrong (file:line: path: reason)
    ├── ServiceUnreachableError  the broker or the database does not answer at start-up
    └── PortInUseError           a listening port is already taken

Service packages derive their own start-up errors from these; ``commands.main`` prints the
message alone (no traceback) and exits non-zero.
"""

from __future__ import annotations


class StartupError(Exception):
    """An expected failure at start-up, reported as one clear line."""

    exit_code = 2


class ConfigError(StartupError):
    """One or more configuration problems; ``problems`` holds each as one line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ServiceUnreachableError(StartupError):
    """A service this one depends on (broker, database) does not answer."""


class PortInUseError(StartupError):
    """A port this service must listen on is already in use."""
