"""Faults on servers the tests own (tests/faults.py): PostgreSQL restarts, Redis down.

Each test starts its own PostgreSQL and/or Redis and points gunicorn and
Celery processes at them; the shared servers of the machine are never touched.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.faults import (
    Celery,
    OwnPostgres,
    OwnRedis,
    Web,
    child_env,
    prepare_database,
    wait_until,
)

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


def _through_a_restart(postgres, web: Web, path: str, headers: dict) -> list:
    """``path`` requested all through a PostgreSQL restart: only 200 or 503 with Retry-After,
    the restart noticed, and 200 again afterwards. What was seen, for further checks."""
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
    assert statuses[-5:] == [200] * 5, "recovered after the restart"
    return seen


def test_a_postgres_restart_answers_503_with_retry_after_then_recovers(own_servers, web):
    postgres, _, _, facts = own_servers
    path = f"/s/{facts['store']}/"
    headers = {"Cookie": f"sessionid={facts['session']}"}
    assert web.request("GET", path, headers=headers)[0] == 200
    seen = _through_a_restart(postgres, web, path, headers)
    assert all(b"Briefly unavailable" in body for status, _, body in seen if status == 503)


def test_tracking_calls_through_a_postgres_restart_answer_503_never_500(own_servers, web):
    """The tracking call's prepared statements and its own SET search_path come back as
    Django's database errors, so a lost connection is a 503 the shop retries."""
    postgres, _, _, facts = own_servers
    path = f"/v2/log/click?key={facts['key']}&product=1&visitor=v-restart"
    assert web.request("GET", path, headers={})[0] == 200
    for _ in range(6):  # past psycopg's prepare threshold: the statements are prepared
        web.request("GET", path, headers={})
    _through_a_restart(postgres, web, path, {})


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


def test_api_forgets_while_redis_is_down_complete_once_with_two_beats_running(
    own_servers, web, tmp_path
):
    """Shops call both forget APIs while the broker is down: the requests are durable at
    once (ledger rows, 'received'); once Redis is back, two beat processes (a deployment
    mistake the design tolerates) sweep them to one worker: every request done exactly
    once, its data gone, one audit row each."""
    postgres, redis, env, facts = own_servers
    auth = {
        "Authorization": f"Bearer {facts['key']}:{facts['private_key']}",
        "Content-Type": "application/json",
    }
    now = int(time.time()) - 60
    events = [
        {"kind": "page", "visitor": f"v-forget-{k}", "url": f"/p/{i}", "time": now}
        for k in range(5)
        for i in range(20)
    ]
    status, _, body = web.request(
        "POST", "/api/v1/events", body=json.dumps({"events": events}).encode(), headers=auth
    )
    assert status == 200, body

    redis.stop()
    status, _, body = web.request(
        "POST",
        "/api/v1/privacy/forget",
        body=json.dumps({"subjects": [{"visitor": f"v-forget-{k}"} for k in range(3)]}).encode(),
        headers=auth,
    )
    assert status == 202, body
    request_ids = [int(r) for r in json.loads(body)["requests"]]
    for k in (3, 4):
        v2 = {"key": facts["key"], "private_key": facts["private_key"], "visitor": f"v-forget-{k}"}
        status, _, body = web.request(
            "POST",
            "/v2/privacy/forget",
            body=json.dumps(v2).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200 and json.loads(body)["status"] == "ok", body
        request_ids.append(int(json.loads(body)["request"]))
    ledger = dict(
        _query(postgres, "SELECT id, status FROM gdpr_dashboard_privacyrequest ORDER BY id")
    )
    assert {ledger[i] for i in request_ids} == {"received"}, "durable while Redis is down"

    redis.start()
    fast_sweep = {
        **env,
        "FORGET_SWEEP_INTERVAL_SECONDS": "1",
        "FORGET_STUCK_AFTER_SECONDS": "1",
    }
    worker = Celery.worker(fast_sweep, tmp_path / "worker.log")
    beats = [
        Celery.beat(fast_sweep, tmp_path / f"beat{n}.log", tmp_path / f"schedule{n}")
        for n in (1, 2)
    ]
    try:

        def all_done() -> bool:
            rows = _query(
                postgres,
                "SELECT status FROM gdpr_dashboard_privacyrequest "
                f"WHERE id IN ({', '.join(map(str, request_ids))})",
            )
            return {r[0] for r in rows} == {"done"}

        wait_until(all_done, timeout=90, interval=0.5, what="every forget done")
        time.sleep(3)  # let both beats sweep a few more times: nothing may run twice
    finally:
        for beat in beats:
            beat.stop()
        worker.stop()

    schema = facts["schema"]
    left = _query(
        postgres,
        f"SELECT count(*) FROM {schema}.customers_visitor WHERE visitor_ref LIKE 'v-forget-%'",
    )
    assert left == [(0,)]
    rows = _query(
        postgres, "SELECT count(*), count(DISTINCT id) FROM gdpr_dashboard_privacyrequest"
    )
    assert rows == [(5, 5)], "one ledger row per request, none added by the sweeps"
    done_audits = _query(
        postgres,
        "SELECT detail->>'request', count(*) FROM gdpr_dashboard_auditevent "
        "WHERE action = 'forget.done' GROUP BY 1",
    )
    assert dict(done_audits) == {str(i): 1 for i in request_ids}, "each forget ran once"
    counts = _query(
        postgres,
        "SELECT counts->>'page_views' FROM gdpr_dashboard_privacyrequest ORDER BY id",
    )
    assert [c[0] for c in counts] == ["20"] * 5
