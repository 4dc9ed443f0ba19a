"""Where a counter rolls over, from the device's register profile (autonomy_queries.wraps)."""

from __future__ import annotations

from pathlib import Path

from ville_autonome.autonomy_queries.wraps import counter_wrap_wh
from ville_autonome.configuration.loader import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_register_width_and_scale_factor_give_the_wrap() -> None:
    config = load_config(ROOT / "config" / "amiens.yaml", environ={})

    def dev(name: str):  # type: ignore[no-untyped-def]
        found = config.device(name)
        assert found is not None
        return found[2]

    # SunSpec 203 acc32 with a scale factor read at run time: the smallest 2^32 × 10^SF above what was read
    assert counter_wrap_wh(dev("chu-grid-meter"), "energy_import_wh", 1e9) == 2.0**32
    assert counter_wrap_wh(dev("chu-grid-meter"), "energy_import_wh", 5e9) == 2.0**32 * 10
    assert counter_wrap_wh(dev("chu-load"), "energy_consumed_wh", 10.0) == 2.0**32  # never below 1 Wh steps
    # the IKO plant's own map: a uint64 without scale factor
    assert counter_wrap_wh(dev("iko-turbine"), "energy_produced_wh", 1e9) == 2.0**64
    # an MQTT device has no register map: no known wrap
    assert counter_wrap_wh(dev("mdp-load"), "energy_consumed_wh", 1e3) is None
    # a quantity the profile does not measure on that role
    assert counter_wrap_wh(dev("chu-load"), "energy_export_wh", 1e3) is None
