"""A storefront's tracking call commits without waiting for the disk; every other write does.

Counted on a real server: PostgreSQL's WAL syncs (``pg_stat_wal``) while gunicorn answers
clicks one after the other. A commit that waits flushes the WAL itself, once per call; a
commit that does not leaves the flush to the WAL writer, at most every ``wal_writer_delay``.
"""

from __future__ import annotations

import http.client
import os
import time
from urllib.parse import urlencode

import pytest
from django.db import connection

from clerkgdpr.processes import free_port, start_gunicorn, stop_process
from customers.api.keys import api_key_create
from customers.models import Click
from stores.schemas import on_citus
from tests.conftest import database_url

pytestmark = pytest.mark.slow

CALLS = 80


def _wal_syncs() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_sync FROM pg_stat_wal")
        return cursor.fetchone()[0]


def _sessions() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _server_gone(earlier: set[int]) -> None:
    """The server's sessions (those not open before it started) have ended: a session adds
    its counts to pg_stat_wal as it ends."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not _sessions() - earlier:
            return
        time.sleep(0.1)
    raise AssertionError("the server's database sessions did not end")


def _syncs_while_answering(tmp_path, path: str, queries: list[dict]) -> int:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE_LIMIT_REQUESTS": "0",
    }
    earlier = _sessions()
    proc = start_gunicorn(port=port, env=env, log_path=tmp_path / "web.log", workers=1)
    try:
        before = _wal_syncs()
        for query in queries:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", f"{path}?{urlencode(query)}")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b'{"status": "ok"}')
            conn.close()
    finally:
        stop_process(proc, timeout=10)
    _server_gone(earlier)
    return _wal_syncs() - before


def test_a_visitors_click_commits_without_waiting_for_the_disk(
    committed_store, django_db_blocker, tmp_path
):
    if on_citus():
        pytest.skip("on Citus the tracking call commits on the store's worker, waiting")
    with django_db_blocker.unblock():
        key = api_key_create(store=committed_store, label="commit").api_key.key
        # An e-mail given in the storefront is written in a transaction of its own, which
        # waits for the disk as every other write does: the counts' yardstick.
        waited = _syncs_while_answering(
            tmp_path,
            "/v2/log/email",
            [
                {"key": key, "visitor": f"v-{n}", "email": f"shopper{n}@example.com"}
                for n in range(CALLS)
            ],
        )
        if waited < CALLS // 2:
            pytest.skip(f"this PostgreSQL syncs no WAL per commit ({waited} for {CALLS})")
        not_waited = _syncs_while_answering(
            tmp_path,
            "/v2/log/click",
            [{"key": key, "product": n, "visitor": f"anon-{n}"} for n in range(CALLS)],
        )
        connection.set_tenant(committed_store)
        stored = Click.objects.filter(visitor__visitor_ref__startswith="anon-").count()
        connection.set_schema_to_public()
    assert stored == CALLS
    assert not_waited < waited // 4, (not_waited, waited)


def test_a_click_inside_a_callers_transaction_leaves_its_durability_alone(client, api_key):
    """Every test runs in a transaction: the click's statement must not relax all of it."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        setting = cursor.fetchone()[0]
    query = {"key": api_key.api_key.key, "product": "1", "visitor": "v-in-transaction"}
    assert client.get("/v2/log/click", query).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == setting
