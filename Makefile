# Two commands: `make demo` and `make test`. Each bootstraps .venv on its own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench fuzz lint venv broker postgres clean

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
	$(BIN)/ruff check cli_conventions protocols keys lane_engine rsu_sim centre tests benchmarks
	$(BIN)/mypy cli_conventions protocols keys lane_engine rsu_sim centre

test: $(STAMP) broker postgres lint
	$(BIN)/python -m pytest --benchmark-disable -q

demo: $(STAMP)
	$(BIN)/python -m rsu_sim.plaza.demo

# Fails when a benchmark fails or a judged target is missed; `make bench SAVE=1` also saves the
# run under benchmarks/results/ (otherwise the report stays in the untracked var/bench/).
BENCH_OUT := var/bench
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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
