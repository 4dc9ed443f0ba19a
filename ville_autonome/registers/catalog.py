"""The catalogue of register profiles shipped in ``registers/profiles/*.yaml``.

A profile is named by its file name without extension. The gateway's profile loader
(``registers.profile``) parses and validates them; this module only knows which exist, so that
configuration validation can refuse an unknown profile name without loading every map.
"""

from __future__ import annotations

from pathlib import Path

PROFILE_DIR = Path(__file__).with_name("profiles")
# ``profile: sunspec``: no map named; the gateway discovers the SunSpec models and picks the
# shipped profile whose models the device has (registers.profile.profile_for_models)
AUTO_SUNSPEC = "sunspec"


def profile_path(name: str) -> Path:
    return PROFILE_DIR / f"{name}.yaml"


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def profile_exists(name: str) -> bool:
    return name == AUTO_SUNSPEC or ("/" not in name and profile_path(name).is_file())
