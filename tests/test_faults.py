"""Faults on servers the tests own (tests/faults.py): PostgreSQL restarts, Redis down.

Each test starts its own PostgreSQL and/or Redis and points gunicorn and
Celery processes at them; the shared servers of the machine are never touched.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.faults import OwnPostgres, OwnRedis, Web, child_env, prepare_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.filterwarnings("ignore::UserWarning:platformdirs"),
]


@pytest.fixture
def own_servers(tmp_path):
    postgres = OwnPostgres()
    redis = OwnRedis(tmp_path)
    env = child_env(database_url=postgres.url(), redis_url=redis.url)
    try:
        facts = prepare_database(env)
        yield postgres, redis, env, facts
    finally:
        redis.close()
        postgres.close()


@pytest.fixture
def web(own_servers, tmp_path):
    _, _, env, _ = own_servers
    server = Web(env, tmp_path / "web.log")
    yield server
    server.stop()


def _hammer(web: Web, path: str, headers: dict, stop: threading.Event, seen: list) -> None:
    while not stop.is_set():
        try:
            status, response_headers, body = web.request("GET", path, headers=headers)
        except OSError as exc:  # the web server itself must stay up
            seen.append(("connection", repr(exc), b""))
        else:
            seen.append((status, response_headers.get("Retry-After"), body[:200]))
        time.sleep(0.02)


def test_a_postgres_restart_answers_503_with_retry_after_then_recovers(own_servers, web):
    postgres, _, _, facts = own_servers
    path = f"/s/{facts['store']}/"
    headers = {"Cookie": f"sessionid={facts['session']}"}
    assert web.request("GET", path, headers=headers)[0] == 200

    seen: list = []
    stop = threading.Event()
    worker = threading.Thread(target=_hammer, args=(web, path, headers, stop, seen))
    worker.start()
    try:
        time.sleep(0.3)
        postgres.restart(down_for=1.5)
        time.sleep(2.0)
    finally:
        stop.set()
        worker.join()

    statuses = [s for s, _, _ in seen]
    assert set(statuses) <= {200, 503}, f"unexpected answers: {set(statuses)}"
    assert 503 in statuses, "the restart was noticed"
    assert all(retry == "5" for status, retry, _ in seen if status == 503)
    assert all(b"Briefly unavailable" in body for status, _, body in seen if status == 503)
    assert statuses[-5:] == [200] * 5, "recovered after the restart"


def _query(postgres: OwnPostgres, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(
        dbname="clerkgdpr", user="postgres", host=str(postgres.socket_dir), port=postgres.port
    ) as conn:
        return conn.execute(sql).fetchall()


def test_a_postgres_restart_during_ingestion_loses_no_batch_and_writes_none_twice(own_servers, web):
    """Clients retry what got 503 (as Retry-After tells them): every batch ends up stored
    exactly once, whole; none half-written by the restart."""
    postgres, _, _, facts = own_servers
    headers = {
        "Authorization": f"Bearer {facts['key']}:{facts['private_key']}",
        "Content-Type": "application/json",
    }
    batch_size, batches = 200, 24
    now = int(time.time()) - 60
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def send(batch: int) -> None:
        events = [
            {"kind": "page", "visitor": f"v-b{batch:03d}-{i % 10}", "url": f"/p/{i}", "time": now}
            for i in range(batch_size)
        ]
        body = json.dumps({"events": events}).encode()
        for _ in range(200):
            try:
                status, response_headers, _ = web.request(
                    "POST", "/api/v1/events", body=body, headers=headers
                )
            except OSError:
                status, response_headers = 0, {}
            with lock:
                answers.append((status, response_headers.get("Retry-After")))
            if status == 200:
                return
            time.sleep(0.3)
        raise AssertionError(f"batch {batch} never accepted")

    def client(offset: int) -> None:
        for batch in range(offset, batches, 3):
            send(batch)
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    postgres.restart(down_for=1.5)
    for thread in threads:
        thread.join(timeout=120)

    statuses = {status for status, _ in answers}
    assert statuses <= {200, 503}, f"unexpected answers: {statuses}"
    assert 503 in statuses, "the restart was noticed"
    assert all(retry == "5" for status, retry in answers if status == 503)
    schema = facts["schema"]
    per_batch = dict(
        _query(
            postgres,
            f"SELECT substring(v.visitor_ref from 3 for 4), count(*) "
            f"FROM {schema}.customers_pageview p "
            f"JOIN {schema}.customers_visitor v ON v.id = p.visitor_id GROUP BY 1",
        )
    )
    assert per_batch == {f"b{b:03d}": batch_size for b in range(batches)}
