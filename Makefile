# DataPass: two commands on a fresh machine.
#   make run   set up everything, then serve the app on http://127.0.0.1:5000
#   make test  set up everything, then lint and run the tests on SQLite and PostgreSQL

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DSFR_DIST := node_modules/@gouvfr/dsfr/dist
DSFR_STATIC := datapass/static/dsfr
DSFR_CHART_DIST := node_modules/@gouvfr/dsfr-chart/dist/BarChart
PORT ?= 5000
IDP_PORT ?= 5001
export FLASK_APP := wsgi

.PHONY: run test load setup python-deps npm-deps assets db seed serve lint format system-test-deps check-catalog clean

run: setup db seed serve

test: setup system-test-deps lint
	tests/support/run-suites.sh

setup: python-deps assets

# The load test (issue 16, bench/load/): 50 applicants and 5 instructors against gunicorn for
# LOAD_DURATION (5m); LOAD_DATABASE_URL=postgresql://… for PostgreSQL. Not part of `make test`.
load: setup $(VENV)-load/.installed
	bench/load/run.sh
$(VENV)-load/.installed: bench/load/requirements.txt
	@test -x $(VENV)-load/bin/python || $(PYTHON) -m venv $(VENV)-load
	$(VENV)-load/bin/pip install --quiet -r bench/load/requirements.txt
	@touch $@

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

npm-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json .dsfr.yml
	@command -v npm >/dev/null || { echo "npm is required (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# DSFR assets (and DSFR Chart's bar chart, for /stats) are copied at set-up, never committed.
assets: $(DSFR_STATIC)/.copied
$(DSFR_STATIC)/.copied: node_modules/.installed
	rm -rf $(DSFR_STATIC) && mkdir -p $(DSFR_STATIC)
	cp $(DSFR_DIST)/dsfr.min.css $(DSFR_DIST)/dsfr.module.min.js $(DSFR_DIST)/dsfr.nomodule.min.js $(DSFR_STATIC)/
	cp -r $(DSFR_DIST)/fonts $(DSFR_DIST)/icons $(DSFR_DIST)/favicon $(DSFR_DIST)/utility $(DSFR_STATIC)/
	mkdir -p $(DSFR_STATIC)/chart && cp $(DSFR_CHART_DIST)/BarChart.js $(DSFR_CHART_DIST)/BarChart.css $(DSFR_STATIC)/chart/
	@touch $@

db: python-deps
	$(BIN)/flask db upgrade

seed: python-deps
	$(BIN)/flask dev seed

# The local identity provider (demo users) on :5001, the app on :5000 and the outbox worker;
# Ctrl+C stops them all. Webhooks may reach private addresses here only (the development
# receiver on 127.0.0.1:$(PORT)): WEBHOOK_ALLOW_PRIVATE_NETWORKS, and the port allowed.
serve:
	@trap 'kill 0' EXIT INT TERM; \
	export WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 WEBHOOK_ALLOWED_PORTS=$${WEBHOOK_ALLOWED_PORTS:-$(PORT)}; \
	AUTHLIB_INSECURE_TRANSPORT=1 $(BIN)/python -m datapass.local_idp --host 127.0.0.1 --port $(IDP_PORT) & \
	OIDC_DISCOVERY_URL=$${OIDC_DISCOVERY_URL:-http://127.0.0.1:$(IDP_PORT)/.well-known/openid-configuration} \
	AUTHLIB_INSECURE_TRANSPORT=1 \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT) & \
	$(BIN)/flask jobs work & \
	wait

check-catalog: python-deps
	$(BIN)/flask catalog check

lint: python-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: python-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# What the tests need from Debian: a PostgreSQL server (the suite starts a throwaway one)
# and Chromium (the browser tests drive Debian's, Playwright never downloads one).
system-test-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing PostgreSQL from Debian for the tests..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "The tests need a PostgreSQL server: run 'sudo apt-get install postgresql' (or run make test as root)."; \
	    exit 1; \
	  fi; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Chromium from Debian for the browser tests..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: run 'sudo apt-get install chromium' (or run make test as root)."; \
	    exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) node_modules $(DSFR_STATIC) .pytest_cache .ruff_cache
