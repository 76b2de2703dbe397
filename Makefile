# Two commands are all a user needs: `make demo` and `make test`. Both set up .venv first.
# `make check` is the fast inner loop: lint, the import contracts, and the in-process unit tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXTRAS := mlflow,fast,test,bench
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: install demo lint check test bench fuzz clean

# A no-op when .venv is up to date with pyproject.toml.
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	@touch $(STAMP)

demo: install
	$(BIN)/python examples/demo.py

# Style, complexity limits (C901, PLR0915) and the layer contracts of pyproject.toml.
lint: install
	$(BIN)/ruff check manifest tests benchmarks examples
	$(BIN)/lint-imports

# Under a minute: everything that runs in-process, without MLflow stores or subprocesses.
check: lint
	$(BIN)/python -m pytest -q -m "not e2e" -n 2

# Everything: lint, contracts, unit and end-to-end tests on real MLflow.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --durations=15

# Property-based fuzzing of reader, validator, digests and import planning (not part of `make test`).
FUZZ_SECONDS ?= 600
fuzz: install
	$(BIN)/python tests/fuzz/run.py --seconds $(FUZZ_SECONDS)

bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .demo .bench
