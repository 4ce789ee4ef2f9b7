# Front door: `make run`, `make test`, `make demo`, `make bench`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test test-long lint typecheck demo bench clean postgres

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot run

demo: $(STAMP)
	$(BIN)/python -m bot demo $(ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy

test: $(DEVSTAMP) lint postgres
	$(BIN)/python -m pytest -q

test-long: $(DEVSTAMP) postgres
	$(BIN)/python -m pytest -q -m long

# The tests start a throw-away PostgreSQL server themselves (tests/pg_server.py) from Debian's
# binaries; install them when missing (as root, e.g. CI). Without them the PostgreSQL tests are
# skipped and the pytest summary says so in red.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing PostgreSQL (Debian's postgresql) for the tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
	      || echo "WARNING: installing postgresql failed: PostgreSQL tests will be skipped"; \
	  else \
	    echo "WARNING: no PostgreSQL server binaries and not root: PostgreSQL tests will be skipped" \
	         "(install Debian's postgresql, or set NARRATOR_PG_BINDIR)"; \
	  fi; \
	fi

# Scripts that print figures (bench/annotations.py is a library they share, not a bench).
BENCHES := bench/import_speed.py bench/import_discord.py bench/attribution.py bench/seed.py bench/engine.py bench/ask.py bench/ask_heldout.py

bench: $(STAMP)
	@for f in $(BENCHES); do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
