# OMS developer commands. Everything installs into ./.venv from pyproject.toml.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv install install-test run test lint format bench migrate seed clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py setup_schedules

# Run the app on the embedded default (SQLite file db.sqlite3) with demo data: the web
# server and a django-q2 cluster (background jobs) together; Ctrl-C stops both.
run: seed
	@echo ""
	@echo "  OMS running at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "  Logins are printed above by seed_demo (manager / warehouse)."
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py qcluster & \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# The whole test suite; uses DATABASE_URL when set (PostgreSQL in CI), else SQLite.
PYTEST_WORKERS ?= 2
test: install-test
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .

format: install-test
	$(VENV)/bin/ruff format .

bench: install-test
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache
