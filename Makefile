# Front door: `make run`, `make test`, `make demo`, `make bench`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test test-long lint typecheck demo bench clean

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

test: $(DEVSTAMP) lint
	$(BIN)/python -m pytest -q

test-long: $(DEVSTAMP)
	$(BIN)/python -m pytest -q -m long

# Scripts that print figures (bench/annotations.py is a library they share, not a bench).
BENCHES := bench/import_speed.py bench/import_discord.py bench/attribution.py bench/seed.py bench/engine.py bench/ask.py bench/ask_heldout.py

bench: $(STAMP)
	@for f in $(BENCHES); do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
