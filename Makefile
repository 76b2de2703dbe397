# Two commands are all a user needs: `make demo` and `make test`. Both set up .venv first.
# `make check` is the fast inner loop: lint, the import contracts, and the in-process unit tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXTRAS := mlflow,fast,test,bench,sign
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

TOOLS  := .tools
.PHONY: install system-deps tools demo lint check test bench fuzz clean

# A no-op when .venv is up to date with pyproject.toml.
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	@touch $(STAMP)

# Debian packages the end-to-end tests drive: Chromium renders a bundle's page; PostgreSQL's server
# (its initdb and pg_ctl; the tests start clusters of their own as the `postgres` user) backs the
# PostgreSQL stores and servers. Installed with apt-get when missing (CI runs as root); otherwise
# say what to run. `make demo` needs neither.
SYSTEM_PACKAGES := chromium postgresql
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else echo "make system-deps: install these Debian packages first: sudo apt-get install$$missing" >&2; exit 1; fi; fi

# Validators that pin what the main venv cannot have (cffconvert: jsonschema<4; roc-validator: rich<14),
# and MLflow 2 for the migration tests, each in a venv of its own; the tests call their commands.
tools: $(TOOLS)/cff/bin/cffconvert $(TOOLS)/roc/bin/rocrate-validator $(TOOLS)/mlflow2/bin/mlflow
$(TOOLS)/cff/bin/cffconvert:
	$(PYTHON) -m venv $(TOOLS)/cff && $(TOOLS)/cff/bin/pip install --quiet --disable-pip-version-check 'cffconvert==2.0.0'
$(TOOLS)/roc/bin/rocrate-validator:
	$(PYTHON) -m venv $(TOOLS)/roc && $(TOOLS)/roc/bin/pip install --quiet --disable-pip-version-check 'roc-validator==0.13.0'
# MLflow 2 (its last release) for the migration tests (tests/tracking/test_mlflow2.py): its server
# needs SQLAlchemy < 2.1; scikit-learn is the main venv's, so the models it pickles load in MLflow 3.
MLFLOW2 := 2.22.5
$(TOOLS)/mlflow2/bin/mlflow: | $(STAMP)
	$(PYTHON) -m venv $(TOOLS)/mlflow2 && $(TOOLS)/mlflow2/bin/pip install --quiet --disable-pip-version-check 'mlflow==$(MLFLOW2)' 'sqlalchemy<2.1' "scikit-learn==$$($(BIN)/python -c 'import sklearn; print(sklearn.__version__)')"

demo: install
	$(BIN)/python examples/demo.py

# Style, complexity limits (C901, PLR0915) and the layer contracts of pyproject.toml.
lint: install
	$(BIN)/ruff check manifest tests benchmarks examples
	$(BIN)/lint-imports

# Under a minute: everything that runs in-process, without MLflow stores or subprocesses.
check: lint
	$(BIN)/python -m pytest -q -m "not e2e" -n 2

# Everything: lint, contracts, unit and end-to-end tests on real MLflow. (Three workers on two cores
# were no faster here: 987 s of pytest against 940 s with two.)
test: lint system-deps tools
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --durations=15

# Property-based fuzzing of reader, validator, digests and import planning (not part of `make test`).
FUZZ_SECONDS ?= 600
fuzz: install
	$(BIN)/python tests/fuzz/run.py --seconds $(FUZZ_SECONDS)

bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .demo .bench
