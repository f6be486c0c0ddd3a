# OMS developer commands. Everything installs into ./.venv from pyproject.toml.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv install install-test run test test-fast lint format bench migrate seed clean messages

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
# server, a django-q2 cluster (background jobs) and the development fake of EasyParcel's
# API (127.0.0.1:8765, for the demo's EasyParcel carrier) together; Ctrl-C stops them.
run: export OMS_COMPANY_PHONE ?= +55 11 4000-0000
run: seed
	@echo ""
	@echo "  OMS running at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "  Logins are printed above by seed_demo (manager / warehouse)."
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py run_fake_easyparcel & \
	$(PY) manage.py qcluster & \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# The whole test suite, in two stages: the fast tests, then the slow ones (browser,
# resilience, soak: marker "slow"). On PostgreSQL when DATABASE_URL is set or a server
# answers on 127.0.0.1:5432 (database oms_test), else SQLite; TEST_DB=sqlite forces
# SQLite (the fallbacks production never runs, but the demo does).
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS)
test: install-test
	@url="$$($(PY) scripts/test_database_url.py)" || exit 1; \
	if [ -n "$$url" ]; then export DATABASE_URL="$$url"; else unset DATABASE_URL; fi; \
	echo "tests on $${DATABASE_URL:-SQLite}"; \
	$(PYTEST) -m "not slow" $(PYTEST_ARGS) || [ $$? -eq 5 ] || exit 1; \
	$(PYTEST) -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-fast: install-test
	@url="$$($(PY) scripts/test_database_url.py)" || exit 1; \
	if [ -n "$$url" ]; then export DATABASE_URL="$$url"; else unset DATABASE_URL; fi; \
	echo "tests on $${DATABASE_URL:-SQLite}"; \
	$(PYTEST) -m "not slow" $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

format: install-test
	$(VENV)/bin/ruff format .

bench: install-test
	$(PY) bench/run_all.py

# Translations: refresh locale/pt_BR/LC_MESSAGES/django.po from the code and templates,
# then compile the .mo (both committed; needs GNU gettext).
messages: install
	$(PY) manage.py makemessages -l pt_BR --ignore=.venv --ignore=tests --ignore=bench --ignore=media
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache
