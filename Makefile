# The README's two commands: `make demo` and `make test`. Both bootstrap .venv from python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
DEMO_DIR ?= .plinth-demo

.PHONY: install system-deps demo demo-stop test test-fast lint format bench clean

$(STAMP): pyproject.toml
	./scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	touch $(STAMP)

install: $(STAMP)

system-deps:
	./scripts/install-system-deps.sh

demo: install
	./scripts/demo.sh "$(BIN)" "$(PORT)" "$(DEMO_DIR)"

demo-stop:
	-kill $$(cat $(DEMO_DIR)/server.pid) 2>/dev/null; rm -f $(DEMO_DIR)/server.pid

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

test: install system-deps lint
	CI=1 $(BIN)/python -m pytest -n 2 --dist loadfile -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not browser and not e2e"

bench: install
	./bench/run_all.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
