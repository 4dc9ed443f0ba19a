"""Nine days of a small city with everything the engine has to cope with, for the day-balance tests.

The city of ``tests.autonomy.stored_data`` (three sites: ``sun``, ``town``, ``river``) with rated
powers on the meters (so that the plausibility rules bite) and, over the readings:

- ``sun-pv``: a reading that jumps far beyond what the inverter can produce, then back (a spike:
  ``implausible_jump``), and readings that are not good every five hours;
- ``sun-load``: a reading that drops and comes back (``counter_glitch``), later a jump that stays
  (a level shift);
- ``town-load``: six hours without the meter across UTC midnight; later the meter stuck for six
  hours, then catching up;
- ``town-grid``: its import counter reset mid-bucket (meter replaced);
- ``sun-grid``: an hour and a lone bucket without the meter;
- ``sun-battery``: stops reporting after 60 h;
- ``river-turbine``: no counter at all (mean power integrated);
- the whole ``river`` site silent for 36 hours (two midnights).
"""

from __future__ import annotations

from collections.abc import Iterator

from tests.autonomy.stored_data import DAY_MS, T0, config_text, readings
from ville_autonome.configuration.loader import load_config_text
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import Quality, StoredReading

HOUR = 3_600_000
START = T0 - DAY_MS  # the first reading
END = T0 + 8 * DAY_MS  # the last one
RATED: dict[str, float] = {"sun-pv": 9000, "sun-load": 6000, "town-load": 8000, "sun-grid": 12000, "town-grid": 12000}


def troubled_config(rated: dict[str, float] | None = None) -> PlatformConfig:
    """The city with :data:`RATED` powers (or others for the devices named in ``rated``)."""
    text = config_text()
    for device, watts in (RATED | (rated or {})).items():
        text = text.replace(f"{{id: {device}, ", f"{{id: {device}, rated_power_w: {watts}, ")
    return load_config_text(text, environ={})


def troubled(config: PlatformConfig) -> Iterator[StoredReading]:
    """The readings of the module docstring, oldest first."""
    shift = 0.0
    town_offset = 0.0
    stuck: float | None = None
    for r in readings(config, START, END, 450):
        t = r.ts_ms - T0
        if r.device.startswith("river-") and 70 * HOUR <= t < 106 * HOUR:
            continue  # the whole site silent
        if r.device == "town-load" and 20 * HOUR <= t < 26 * HOUR:
            continue
        if r.device == "sun-grid" and (40 * HOUR <= t < 41 * HOUR or 3 * HOUR <= t < 3 * HOUR + 900_000):
            continue
        if r.device == "sun-battery" and t >= 60 * HOUR:
            continue
        if r.device == "river-turbine" and r.quantity == "energy_produced_wh":
            continue
        if r.quantity.startswith("energy_") and r.value is not None:
            v = r.value
            if r.device == "town-grid" and r.quantity == "energy_import_wh":
                if t == 30 * HOUR + 450_000:
                    town_offset = v - 2.0  # meter replaced mid-bucket
                v -= town_offset
            if r.device == "sun-pv" and t == 80 * HOUR + 450_000:
                v += 5e6  # a spike, back at the next reading
            if r.device == "sun-load":
                if t == 50 * HOUR + 450_000:
                    v -= 500.0  # a dip, back at the next reading
                if t >= 100 * HOUR + 450_000:
                    shift = 1e6  # a jump that stays
                v += shift
            if r.device == "town-load" and 120 * HOUR <= t < 126 * HOUR:
                stuck = v if stuck is None else stuck
                v = stuck
            r = StoredReading(r.context, r.quantity, r.ts_ms, v, r.quality)
        if r.device == "sun-pv" and t % (5 * HOUR) == 0:
            yield StoredReading(r.context, r.quantity, r.ts_ms + 1, None, Quality.TIMEOUT)
            yield StoredReading(r.context, r.quantity, r.ts_ms + 2, 1e12, Quality.OUT_OF_RANGE)
        yield r
