# Two entry points for a fresh machine with python3, pip and make (see README.md):
#   make run   - the main job on embedded defaults (SQLite in var/, local outbox): migrate, load and
#                activate the demo year (the example plan carried to the current year), then run
#                everything (Prefect server and UI, deployments, worker, portal and feeds) until Ctrl-C
#   make test  - the whole test suite, against SQLite and PostgreSQL
#   make bench - every benchmark, one table of medians (needs wrk)
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
VENV := .venv
BIN := $(VENV)/bin
PLAN ?= plans/bac-giang-vhxh-2020.yaml
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test lint bench chromium

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(TOOLS)/bin/uv pyproject.toml uv.lock
	$(TOOLS)/bin/uv sync --frozen
	touch $@

install: $(VENV)/.synced

# Everything on one machine until Ctrl-C: `make run UP="--port 8080 --prefect-port 4300"`.
run: install
	$(BIN)/thidua db upgrade
	$(BIN)/thidua plan demo $(PLAN)
	$(BIN)/thidua plan show
	$(BIN)/thidua up $(UP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser test drives Debian's chromium (Playwright downloads no browser here); the plan
# import test writes its PDF in Debian's DejaVu font.
chromium:
	(command -v chromium && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf) >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core)

test: lint chromium
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py
