"""The measured side of planning on a real store: the profiles a scenario scales."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ville_autonome.autonomy_queries import TtlCache
from ville_autonome.configuration import PlatformConfig
from ville_autonome.planning import pv_model
from ville_autonome.planning.measured import measure, measure_with_profiles, profiles_for
from ville_autonome.planning.scenario import GenerationChange, Scenario
from ville_autonome.storage.base import Store

START = 1_761_343_200_000  # 2026-10-25T00:00+02:00
END = START + 2 * 86_400_000


def _located(config: PlatformConfig) -> PlatformConfig:
    data = config.model_dump(mode="python")
    data["city"].update(latitude=49.894, longitude=2.302)
    return PlatformConfig.model_validate(data)


def test_the_pv_model_computed_during_the_read_is_the_one_used(
    store: Store, city_store: tuple[PlatformConfig, Path]
) -> None:
    config = _located(city_store[0])
    scenario = Scenario(generation=(GenerationChange("saint-leu-housing", "pv", 10.0),))
    pv_model._profile.cache_clear()
    m, profiles = measure_with_profiles(store, config, "city", START, END, 900, scenario, cache=TtlCache(60.0))
    info = pv_model._profile.cache_info()
    assert (info.misses, info.hits) == (1, 1)  # computed once, in the second thread; found by profiles_for
    again = profiles_for(store, config, measure(store, config, "city", START, END, 900), scenario)
    assert np.array_equal(profiles.per_kw_wh["pv"], again.per_kw_wh["pv"])
    assert (
        m.result.metrics
        == measure(store, config, "city", START, END, 900, now_ms=m.settings.closed_before_ms).result.metrics
    )


def test_wind_without_any_measured_wind_is_modelled(store: Store, city_store: tuple[PlatformConfig, Path]) -> None:
    # the small city has no wind turbine: the rooftop unit's power curve, flagged as a model
    config = city_store[0]
    scenario = Scenario(generation=(GenerationChange("campus", "wind", 5.0),))
    _, profiles = measure_with_profiles(store, config, "city", START, END, 900, scenario)
    assert profiles.modelled == frozenset({"wind"})
    assert profiles.per_kw_wh["wind"].sum() > 0
