# clerkgdpr — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test test-deep install lint format bench bench-quick bench-stores bench-stores-quick clean browser messages

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
