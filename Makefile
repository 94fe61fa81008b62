# Two commands: `make demo` and `make test`. Each bootstraps .venv on its own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := cli_conventions protocols keys lane_engine rsu_sim centre

.PHONY: test demo bench fuzz chaos lint venv broker postgres clean docs province

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

venv: $(STAMP)

# Later tests need Debian's mosquitto; install it when we may (root), else let them say it is missing.
broker:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null) \
	      || echo "note: could not install mosquitto; broker tests will say so"; \
	  fi; }

# The centre's store tests need Debian's postgresql (its initdb and postgres); likewise.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "note: could not install postgresql; PostgreSQL tests will say so"; \
	  fi; }

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests benchmarks
	$(BIN)/mypy $(PACKAGES)

test: $(STAMP) broker postgres lint
	$(BIN)/python -m pytest --benchmark-disable -q

demo: $(STAMP)
	$(BIN)/python -m rsu_sim.plaza.demo

# A month of a province of 20,000 vehicles and 10 plazas, cleared and reconciled every day
# (about half an hour on a 2-core machine); the report in var/province.
province: $(STAMP)
	$(BIN)/rsu-sim run --days 30 --vehicles 20000 --plazas 10 --out var/province

# Fails when a benchmark fails or a judged target is missed; `make bench SAVE=1` also saves the
# run under benchmarks/results/ (otherwise the report stays in the untracked var/bench/).
BENCH_OUT := var/bench
# The API reference, from the docstrings, in docs/api/ (HTML; open docs/api/index.html). Every
# module is named: a package's __all__ lists what it re-exports, not its submodules.
DOCS_OUT ?= docs/api
DOC_MODULES = $(shell find $(PACKAGES) -name '*.py' ! -name '__main__.py' \
	| sed 's|/__init__\.py$$||; s|\.py$$||; s|/|.|g' | sort -u)
docs: $(STAMP)
	$(BIN)/python -m pdoc --docformat markdown -o $(DOCS_OUT) $(DOC_MODULES)

bench: $(STAMP)
	mkdir -p $(BENCH_OUT)
	$(BIN)/python -m pytest benchmarks/ --benchmark-only -q -p no:cacheprovider \
	  --benchmark-max-time=0.3 --benchmark-json=$(BENCH_OUT)/raw.json
	$(BIN)/python -m benchmarks.report $(BENCH_OUT)/raw.json --out $(BENCH_OUT) $(if $(SAVE),--save)

# The mutation campaign over the golden frames: `make fuzz SECONDS=600 SEED=7`.
SECONDS ?= 60
SEED ?= 1
fuzz: $(STAMP)
	$(BIN)/python -m tests.protocols.campaign --seconds $(SECONDS) --seed $(SEED)

# The crash campaign: lane, served world and broker SIGKILLed and restarted, then the audit:
# `make chaos KILLS=1000 SEED=1 SECONDS=3600` (SECONDS bounds the kills).
KILLS ?= 10
chaos: $(STAMP) broker
	$(BIN)/python -m tests.chaos.campaign --kills $(KILLS) --seed $(SEED) --seconds $(SECONDS)

clean:
	rm -rf $(VENV) var docs/api .pytest_cache .mypy_cache .ruff_cache
