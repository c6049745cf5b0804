"""Shared fixtures.

The test database and its stores are made once per session (creating a
store migrates its schema, about half a second each); every test then runs in
a transaction that is rolled back, schemas included.

Named users (healthchecks style): Alice owns Acme, Bob is Acme's analyst,
Vera is Acme's viewer, Adam is Acme's admin limited to the outlet store,
Charlie owns Globex and has no access to Acme, Sam is platform staff.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from clerkgdpr.processes import free_port, start_celery, start_web, stop_process, worker_args
from stores.models import Role, Store, User
from stores.services import account_create, staff_add, store_create

PASSWORD = "correct-horse-battery"
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Create the test database (always: worker and browser tests use it without ``db``)."""
    from django.test.utils import setup_databases, teardown_databases

    # A database named by TEST_DATABASE_NAME exists already (made by `cluster.sh createdb`
    # for Citus): it is migrated and kept, not created and dropped.
    keep = bool(settings.TEST_DATABASE_NAME)
    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, keepdb=keep, aliases={"default"})
        _create_session_stores()
    yield
    with django_db_blocker.unblock():
        # A test that broke a server may have left this connection dead: start afresh.
        connection.close()
        connection.set_schema_to_public()
        # Servers and workers the tests started may not have closed their sessions yet.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(db_cfg, verbosity=0, keepdb=keep)


def _create_session_stores() -> None:
    acme = account_create(slug="acme", name="Acme Outdoor")
    globex = account_create(slug="globex", name="Globex")
    store_create(
        account=acme,
        slug="acme-main",
        name="Acme Main",
        product_codes=["search", "recommendations", "email"],
        collect_emails=True,
        crm_fields=["age", "city"],
    )
    outlet = store_create(
        account=acme, slug="acme-outlet", name="Acme Outlet", product_codes=["search"]
    )
    store_create(
        account=globex,
        slug="globex-shop",
        name="Globex Shop",
        product_codes=["search", "chat"],
        collect_emails=True,
    )
    staff_add(account=acme, email="alice@acme.example", role=Role.OWNER, password=PASSWORD)
    staff_add(account=acme, email="bob@acme.example", role=Role.ANALYST, password=PASSWORD)
    staff_add(account=acme, email="vera@acme.example", role=Role.VIEWER, password=PASSWORD)
    adam = staff_add(account=acme, email="adam@acme.example", role=Role.ADMIN, password=PASSWORD)
    adam.stores.set([outlet])
    staff_add(account=globex, email="charlie@globex.example", role=Role.OWNER, password=PASSWORD)
    User.objects.create_user(email="sam@platform.example", password=PASSWORD, is_staff=True)


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


def _user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture
def alice(db):
    return _user("alice@acme.example")


@pytest.fixture
def bob(db):
    return _user("bob@acme.example")


@pytest.fixture
def vera(db):
    return _user("vera@acme.example")


@pytest.fixture
def adam(db):
    return _user("adam@acme.example")


@pytest.fixture
def charlie(db):
    return _user("charlie@globex.example")


@pytest.fixture
def sam(db):
    return _user("sam@platform.example")


@pytest.fixture
def store(db) -> Store:
    """Acme Main: collects e-mails and the CRM fields age and city."""
    return Store.objects.select_related("account").get(slug="acme-main")


@pytest.fixture
def outlet(db) -> Store:
    """Acme Outlet: collects no e-mails and no CRM fields."""
    return Store.objects.select_related("account").get(slug="acme-outlet")


@pytest.fixture
def foreign_store(db) -> Store:
    """Globex Shop: another account's store."""
    return Store.objects.select_related("account").get(slug="globex-shop")


@pytest.fixture
def in_store(store):
    """Run the test body in Acme Main's schema."""
    connection.set_tenant(store)
    yield store
    connection.set_schema_to_public()


def login(client, user: User):
    client.force_login(user)
    return client


# --- committed data and a real Celery worker -------------------------------------------


def database_url() -> str:
    db = settings.DATABASES["default"]
    host = db["HOST"] or "127.0.0.1"
    if host.startswith("/"):
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}&port={db['PORT'] or 5432}"
    return f"postgresql://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def committed_store(django_db_setup, django_db_blocker):
    """A fresh store whose data is committed (visible to a worker); dropped afterwards.

    Use it instead of ``transactional_db``: that flushes every public table,
    which would remove the session's stores.
    """
    from gdpr_dashboard.models import PrivacyRequest
    from stores.models import Account

    with django_db_blocker.unblock():
        slug = f"live-{uuid.uuid4().hex[:8]}"
        account = Account.objects.get(slug="acme")
        store = store_create(
            account=account,
            slug=slug,
            name="Live store",
            collect_emails=True,
            crm_fields=["age", "city"],
            product_codes=["search"],
        )
        yield store
        connection.set_schema_to_public()
        PrivacyRequest.objects.filter(store=store).delete()
        store.delete(force_drop=True)


@pytest.fixture
def celery_worker_process(django_db_setup):
    """A real Celery worker (separate process) on the test database and this run's queues."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    log_path = BASE_DIR / "var" / f"test-worker-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    proc = start_celery(worker_args(), env=env, log_path=log_path)
    try:
        yield proc
    finally:
        stop_process(proc, timeout=15)


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy (for work done by another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:.0f}s")


@pytest.fixture
def committed_user(django_db_setup, django_db_blocker):
    """Make committed staff users (visible to a live server); deleted afterwards.

    ``committed_user(store.account, "owner")`` returns a user with PASSWORD.
    """
    made: list[User] = []

    def make(account, role: str, *, email: str | None = None) -> User:
        with django_db_blocker.unblock():
            email = email or f"{role}-{uuid.uuid4().hex[:8]}@live.example"
            user = staff_add(account=account, email=email, role=role, password=PASSWORD).user
        made.append(user)
        return user

    yield make
    with django_db_blocker.unblock():
        User.objects.filter(pk__in=[u.pk for u in made]).delete()


@pytest.fixture
def live_console(django_db_setup):
    """The console served by a real server process on the test database (for Playwright).

    pytest-django's ``live_server`` needs ``transactional_db``, whose flush
    would remove the session's stores; this serves committed data instead.
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log_path = BASE_DIR / "var" / f"test-web-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    # runserver, not gunicorn: with --insecure it serves the static files the browser needs.
    runserver = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    proc = start_web([*runserver, "--insecure"], port=port, env=env, log_path=log_path)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (``make browser``); Playwright never downloads a browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def browser_login(page, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")  # not the header's language buttons
    page.wait_for_url(f"{base_url}/")


# --- store API -----------------------------------------------------------------


@pytest.fixture
def api_key(store):
    """A fresh key pair of Acme Main: ``api_key.api_key.key``, ``api_key.private_key``."""
    from customers.api.keys import api_key_create

    return api_key_create(store=store, label="tests")


@pytest.fixture
def outlet_api_key(outlet):
    from customers.api.keys import api_key_create

    return api_key_create(store=outlet, label="tests")


@pytest.fixture
def shared_cache_down(settings):
    """The shared cache (Redis: rate limit, inventory debounce) points where nothing listens."""
    settings.CACHES = {
        **settings.CACHES,
        "shared": {**settings.CACHES["shared"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
