"""Fuzzing the centre's whole decode/validate path (tests/ingest/fuzz_target.py): arbitrary bytes,
JSON with wrong types in every field of the envelope and of health documents, the committed seed
corpus (tests/ingest/fuzz_corpus: the poison messages of issue 13 among them), and a bounded
coverage-guided atheris run over the same target. The property: nothing raises, every input ends
as stored points or named dead letters."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.fuzz_target import CORPUS, GATEWAY, KINDS, NOW, check_message, message, one_input

ATHERIS_SECONDS = 15

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _or_any(*plausible: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(plausible) | json_values


readings = st.fixed_dictionaries(
    {},
    optional={
        "device": _or_any("m1", "pv1", "b2", "nobody", "m" * 70),
        "quantity": _or_any("active_power_w", "soc_pct", "energy_import_wh", "nope"),
        "ts": _or_any(NOW, NOW - 1000, 2**63, -1),
        "value": _or_any(1.5, 0, 1e12, -1e300),
        "quality": _or_any("good", "timeout", "bad"),
        "unit": _or_any("W", "%", "kW"),
        "extra": json_values,
    },
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "schema": _or_any(1, 2),
        "gateway": _or_any(GATEWAY, "gw-b", "GW A", ""),
        "seq": _or_any(1, 0, -1, 2**63),
        "sent_ms": _or_any(NOW, 1.5),
        "epoch": _or_any(0, 7, -3),
        "readings": st.lists(readings, max_size=6) | json_values,
    },
)
device_records = st.fixed_dictionaries(
    {},
    optional={
        "device": _or_any("m1", "b2", "nobody"),
        "online": _or_any(True, False),
        "last_seen": _or_any(NOW, None),
        "last_quality": _or_any("good", "timeout"),
        "errors": st.dictionaries(st.text(max_size=70), json_values, max_size=3) | json_values,
    },
)
health_docs = st.fixed_dictionaries(
    {},
    optional={
        "schema": _or_any(1),
        "gateway": _or_any(GATEWAY, "gw-b"),
        "ts": _or_any(NOW),
        "devices": st.lists(device_records | json_values, max_size=4) | json_values,
    },
)


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.sampled_from(KINDS), st.booleans(), st.binary(max_size=2000))
def test_arbitrary_bytes_on_every_topic(kind: str, retain: bool, payload: bytes) -> None:
    check_message(message(kind, payload, retain=retain))


@FAST
@given(envelopes, st.booleans())
def test_envelopes_with_wrong_types_in_every_field(doc: dict[str, Any], retain: bool) -> None:
    check_message(message("uplink", _dumps(doc), retain=retain))


@FAST
@given(health_docs, st.booleans())
def test_health_documents_with_wrong_types_in_every_field(doc: dict[str, Any], retain: bool) -> None:
    check_message(message("health", _dumps(doc), retain=retain))


@pytest.mark.parametrize("seed", sorted(p.name for p in CORPUS.iterdir()))
def test_the_seed_corpus(seed: str) -> None:
    one_input((CORPUS / seed).read_bytes())


def test_a_bounded_atheris_run_over_the_same_target(tmp_path: Path) -> None:
    """Coverage-guided, for ATHERIS_SECONDS: new inputs go to a scratch copy of the corpus; a crash
    writes its input next to it and fails the run (replay it with test_one_input)."""
    work = tmp_path / "corpus"
    shutil.copytree(CORPUS, work)
    target = Path(__file__).with_name("fuzz_atheris.py")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            str(target),
            f"-max_total_time={ATHERIS_SECONDS}",
            "-rss_limit_mb=2048",
            "-max_len=20000",
            f"-artifact_prefix={tmp_path}/",
            str(work),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=ATHERIS_SECONDS + 120,
        check=False,
    )
    crashes = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "oom-", "timeout-"))]
    assert not crashes, f"{crashes}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done" in done.stderr, done.stderr[-2000:]
