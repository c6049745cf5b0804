# ruff: noqa: F811 (own_servers is a fixture imported from test_faults)
"""A burst of concurrent tracking calls leaves no pile of idle PostgreSQL connections.

gunicorn's sync workers hold one connection each (bounded by the worker count whatever
the load); the development server closes each request's connection (DB_CONN_MAX_AGE=0,
set by `make dev`). Own PostgreSQL and Redis (tests/faults.py), never the shared ones.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from clerkgdpr.processes import start_web, stop_process
from tests.faults import BASE_DIR, Web, free_port
from tests.test_faults import own_servers  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.filterwarnings("ignore::UserWarning:platformdirs"),
]

THREADS = 32
CALLS = 1_500


def _connections(postgres) -> int:
    import psycopg

    with psycopg.connect(
        dbname="clerkgdpr", user="postgres", host=str(postgres.socket_dir), port=postgres.port
    ) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = 'clerkgdpr' AND pid <> pg_backend_pid()"
        ).fetchone()
    return count


def _burst(port: int, key: str, postgres) -> tuple[list[int], list[int]]:
    """CALLS tracking calls from THREADS threads; the connection count sampled meanwhile."""
    import http.client

    local = threading.local()
    statuses: list[int] = []
    samples: list[int] = []
    done = threading.Event()

    def call(n: int) -> None:
        conn = getattr(local, "conn", None) or http.client.HTTPConnection(
            "127.0.0.1", port, timeout=60
        )
        local.conn = conn
        try:
            conn.request("GET", f"/v2/log/click?key={key}&product={n % 50}&visitor=v-burst-{n}")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        except OSError:
            conn.close()
            local.conn = None
            statuses.append(0)

    def sample() -> None:
        while not done.is_set():
            samples.append(_connections(postgres))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(call, range(CALLS)))
    finally:
        done.set()
        sampler.join()
    return statuses, samples


def test_gunicorn_holds_at_most_one_connection_per_worker_under_a_burst(own_servers, tmp_path):
    postgres, _, env, facts = own_servers
    web = Web(env, tmp_path / "web.log", workers=3)
    try:
        statuses, samples = _burst(web.port, facts["key"], postgres)
        time.sleep(1.0)
        after = _connections(postgres)
    finally:
        web.stop()
    assert statuses.count(200) == CALLS, {s: statuses.count(s) for s in set(statuses)}
    assert samples and max(samples) <= 3, samples
    assert after <= 3
    assert _connections(postgres) == 0  # and none outlive the server


def test_the_development_server_closes_each_request_connection(own_servers, tmp_path):
    postgres, _, env, facts = own_servers
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    proc = start_web(
        command, port=port, env={**env, "DB_CONN_MAX_AGE": "0"}, log_path=tmp_path / "dev.log"
    )
    try:
        statuses, samples = _burst(port, facts["key"], postgres)
        time.sleep(1.0)
        after = _connections(postgres)
    finally:
        stop_process(proc, timeout=10)
    assert set(statuses) <= {200, 503}, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(200) > CALLS // 2
    assert max(samples) <= THREADS + 2, samples
    assert after == 0, "idle connections left behind by the request threads"
    assert BASE_DIR.exists()
