"""Where register profiles are found: folders given by the configuration, then the shipped ones.

A profile is named by its file name without extension (``sunspec-meter-203``), searched in the
configuration's ``profiles_dirs`` in order and then in ``registers/profiles/``; or given as a path
to a YAML file (anything with a ``/`` or ending in ``.yaml``/``.yml``). The loader
(``registers.profile``) parses and validates them; this module only finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

PROFILE_DIR = Path(__file__).with_name("profiles")
# ``profile: sunspec``: no map named; the gateway discovers the SunSpec models and picks the
# shipped profile whose models the device has (registers.profile.profile_for_models)
AUTO_SUNSPEC = "sunspec"


def is_path(name: str) -> bool:
    """A profile given as a path rather than a name."""
    return "/" in name or name.endswith((".yaml", ".yml"))


def profile_path(name: str, dirs: Sequence[str | Path] = ()) -> Path:
    """The file of profile ``name``: the first of ``dirs`` holding ``name.yaml``, else the shipped one
    (which may not exist); a path is returned as it is."""
    if is_path(name):
        return Path(name)
    for d in dirs:
        candidate = Path(d) / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return PROFILE_DIR / f"{name}.yaml"


def profile_names() -> list[str]:
    """The shipped profiles."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
