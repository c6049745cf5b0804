"""Django's per-request health check: a live session answers without a round trip, a
session the server has ended is found out and replaced before the request uses it."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection


@pytest.fixture
def autocommit(django_db_setup, django_db_blocker):
    """The connection outside any test transaction (an idle session, as between requests)."""
    with django_db_blocker.unblock():
        yield


def _other_session():
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
        autocommit=True,
    )


def _last_statement(pid: int) -> str:
    with _other_session() as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[
            0
        ]


def test_a_live_session_is_usable_without_asking_the_server(autocommit):
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    assert connection.is_usable()
    assert _last_statement(pid) == "SELECT pg_backend_pid()"


def test_a_terminated_session_is_not_usable_and_the_next_request_reconnects(
    autocommit, committed_store, client
):
    from customers.api.keys import api_key_create

    key = api_key_create(store=committed_store, label="health").api_key.key
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with _other_session() as other:
        other.execute("SELECT pg_terminate_backend(%s::int)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not connection.is_usable()
    # A request starts with the check: it reconnects instead of answering 503.
    connection.health_check_done = False
    answer = client.get("/v2/log/click", {"key": key, "product": 7, "visitor": "v-1"})
    assert answer.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
