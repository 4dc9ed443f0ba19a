"""The atheris entry point of the ingest's fuzz target (run by tests/ingest/test_fuzz.py):

    python tests/ingest/fuzz_atheris.py -max_total_time=15 SCRATCH_CORPUS

Only the platform's own modules are instrumented for coverage (instrumenting every library
takes minutes); libFuzzer's options go on the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for `tests.`

with atheris.instrument_imports(include=["ville_autonome"]):
    from tests.ingest.fuzz_target import one_input

if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
