# clerkgdpr — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test test-deep test-citus install lint format bench bench-quick bench-stores bench-stores-quick clean browser messages

# Translations: the .po files are committed; their .mo files are compiled here with polib
# (a Python package), so no machine needs GNU gettext.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(STAMP)
	$(PY) -m clerkgdpr.compile_messages

install: $(STAMP) $(MO_FILES)

# As production serves: collectstatic, gunicorn (sync workers), whitenoise for static files.
run: install
	$(PY) -m clerkgdpr.launcher

# Development: the autoreloading runserver instead of gunicorn.
dev: install
	$(PY) -m clerkgdpr.launcher --dev

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The generated-world proofs with many more examples (minutes), a new seed each run.
test-deep: install
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest tests/test_generated_worlds.py $(PYTEST_ARGS)

# The database-facing tests again on a local Citus cluster (coordinator + 2 workers, schema-based
# sharding; README "Running on Citus"). The test database comes from `cluster.sh createdb` (a plain
# CREATE DATABASE carries no Citus), made afresh each run and kept afterwards for a look.
CITUS ?= ../shared/citus
CITUS_PORT ?= 9700
CITUS_TEST_DB ?= test_clerkgdpr_citus_$(shell echo $(CURDIR) | sha256sum | cut -c1-8)
CITUS_TESTS ?= tests --ignore=tests/test_architecture.py --ignore=tests/test_faults.py -m 'not browser'
test-citus: $(STAMP)
	CITUS_PORT=$(CITUS_PORT) $(CITUS)/cluster.sh start >/dev/null
	CITUS_PORT=$(CITUS_PORT) $(CITUS)/cluster.sh dropdb $(CITUS_TEST_DB)
	CITUS_PORT=$(CITUS_PORT) $(CITUS)/cluster.sh createdb $(CITUS_TEST_DB) >/dev/null
	# A statement joining a store's tables with public ones fails instead of moving rows.
	psql -X -q -h 127.0.0.1 -p $(CITUS_PORT) -U postgres -d $(CITUS_TEST_DB) \
	  -c "ALTER DATABASE $(CITUS_TEST_DB) SET citus.local_table_join_policy = 'never'"
	DATABASE_URL=postgresql://postgres@127.0.0.1:$(CITUS_PORT)/postgres \
	TEST_DATABASE_NAME=$(CITUS_TEST_DB) \
	  $(PY) -m pytest $(CITUS_TESTS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks (README "Benchmarks"): a store of 1,000,000 events / 100,000 customers, or a small one.
# The harness is bench/ at the top, not part of the installed packages.
bench: install
	$(PY) manage.py migrate_schemas --shared -v 0
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: install
	$(PY) manage.py migrate_schemas --shared -v 0
	$(PY) -m bench --quick $(BENCH_ARGS)

# Many stores (README "Benchmarks"): 1,000 stores created and migrated, nightly scheduling
# for 10,000; the quick form (50 stores) runs in CI.
bench-stores: $(STAMP)
	$(PY) manage.py migrate_schemas --shared -v 0
	$(PY) -m bench.stores $(BENCH_ARGS)

bench-stores-quick: $(STAMP)
	$(PY) manage.py migrate_schemas --shared -v 0
	$(PY) -m bench.stores --quick $(BENCH_ARGS)

# Re-extract the strings after changing texts (needs GNU gettext, a developer's tool only),
# then translate the new entries in locale/*/LC_MESSAGES/django.po.
messages: $(STAMP)
	$(PY) manage.py makemessages -l de -l da --no-location \
		--ignore='.venv/*' --ignore='bench/*' --ignore='tests/*' --ignore='var/*'
	$(PY) -m clerkgdpr.compile_messages

# Debian's Chromium for the Playwright tests (no browser download).
browser:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) var
