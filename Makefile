# clerkgdpr — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test test-deep install lint format bench bench-quick bench-stores bench-stores-quick clean browser

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# As production serves: collectstatic, gunicorn (sync workers), whitenoise for static files.
run: $(STAMP)
	$(PY) -m clerkgdpr.launcher

# Development: the autoreloading runserver instead of gunicorn.
dev: $(STAMP)
	$(PY) -m clerkgdpr.launcher --dev

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The generated-world proofs with many more examples (minutes), a new seed each run.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest tests/test_generated_worlds.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks (README "Benchmarks"): a store of 1,000,000 events / 100,000 customers, or a small one.
# The harness is bench/ at the top, not part of the installed packages.
bench: $(STAMP)
	$(PY) manage.py migrate_schemas --shared -v 0
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: $(STAMP)
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

# Debian's Chromium for the Playwright tests (no browser download).
browser:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) var
