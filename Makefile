# The two commands of this project: `make demo` (the whole platform, embedded defaults)
# and `make test` (ruff, mypy, pytest against real Mosquitto, InfluxDB and Chromium).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck pytest services bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the locked versions (requirements/*.lock, written by `make lock`), then the project itself.
# .runtime is the core install (what `make demo` needs: no reports or planning extras, README
# "Dependencies"); .dev is everything (the tests exercise every feature)
$(VENV)/.runtime: pyproject.toml requirements/runtime.lock | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements/runtime.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: pyproject.toml requirements/dev.lock | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@ $(VENV)/.runtime

# re-resolve the locks: the newest versions pyproject.toml allows, on every platform (uv's universal mode).
# runtime: the core; full: the core and every feature (the Docker image); dev: full and the tools
lock: $(VENV)/.dev
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 pyproject.toml -o requirements/runtime.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 pyproject.toml --extra reports --extra planning -o requirements/full.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 pyproject.toml --extra dev -o requirements/dev.lock

demo: $(VENV)/.runtime
	$(BIN)/ville-autonome demo $(ARGS)

services:
	bash scripts/install-test-services.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture
	$(BIN)/xenon --max-absolute C ville_autonome gateway ingest dashboard_api simulators

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# two workers: most tests wait on real processes (brokers, databases, browsers), not on the CPU;
# worksteal: a worker that runs out takes half of the other's queue, from its end (the tests marked
# slow run first: tests/conftest.py), so that both finish together on short tests
PYTEST_ARGS ?= -n 2 --dist worksteal

pytest: $(VENV)/.dev
	$(BIN)/pytest $(PYTEST_ARGS)

test: services lint typecheck pytest

bench: $(VENV)/.dev
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache var

# refresh the screenshots of the README and docs/img/ from a run of the browser tests that take
# them (a plain test run writes its screenshots to test-artifacts/ only: the tree stays clean)
.PHONY: screenshots
screenshots: $(VENV)/.dev
	VA_SCREENSHOTS_DIR=docs/img $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS) tests/dashboard/test_pages.py \
		tests/dashboard/test_alarms_ui.py tests/staff_web/test_staff_pages.py
