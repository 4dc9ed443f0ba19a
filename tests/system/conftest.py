"""The fault suite's pipelines (tests/system/pipeline.py), made per test and closed after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.services import Influxd, Mosquitto
from tests.system.pipeline import Pipeline

PipelineFactory = Callable[..., Pipeline]  # (broker, influxd, *, users=None) -> a started Pipeline


@pytest.fixture
def pipeline_factory(tmp_path: Path, unique_name: str) -> Iterator[PipelineFactory]:
    made: list[Pipeline] = []

    def make(broker: Mosquitto, influxd: Influxd, *, users: dict[str, str] | None = None) -> Pipeline:
        p = Pipeline(tmp_path, broker, influxd, unique_name, users=users)
        made.append(p)
        p.start()
        return p

    yield make
    for p in made:
        p.close()
        print(p.logs())
