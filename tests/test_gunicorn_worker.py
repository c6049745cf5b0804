"""The web server's worker class (clerkgdpr/gunicorn_worker.py): gunicorn's sync worker,
woken alone for a new connection.

Served by gunicorn with the product's configuration, three workers: every worker serves,
in parallel; an idle worker is not woken for a connection another one takes (counted as
the workers' voluntary context switches, against gunicorn's stock sync worker in the same
test); SIGTERM stops them all at once.
"""

from __future__ import annotations

import http.client
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from clerkgdpr import gunicorn_conf
from clerkgdpr.processes import free_port, start_web, stop_process
from tests.conftest import BASE_DIR

pytestmark = pytest.mark.slow

WORKERS = 3
REQUESTS = 150


def _serve(tmp_path, worker_class: str):
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:clerkgdpr.gunicorn_conf",
        "-w", str(WORKERS), "-k", worker_class, "-b", f"127.0.0.1:{port}",
        "tests.wsgi_probe_app",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(BASE_DIR), "GUNICORN_ACCESS_LOG": ""}
    proc = start_web(command, port=port, env=env, log_path=tmp_path / f"{worker_class}.log")
    deadline = time.monotonic() + 20
    while len(psutil.Process(proc.pid).children()) < WORKERS:
        assert time.monotonic() < deadline, "workers not started"
        time.sleep(0.1)
    return proc, port


def _get(port: int, path: str = "/") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        return int(response.read())
    finally:
        conn.close()


def _wakeups_per_request(proc, port: int) -> float:
    for _ in range(10):  # every worker past its first request
        _get(port)
    time.sleep(0.5)
    workers = psutil.Process(proc.pid).children()
    before = sum(w.num_ctx_switches().voluntary for w in workers)
    for _ in range(REQUESTS):
        _get(port)
    return (sum(w.num_ctx_switches().voluntary for w in workers) - before) / REQUESTS


def test_the_product_serves_with_the_exclusive_sync_worker():
    assert gunicorn_conf.worker_class == "clerkgdpr.gunicorn_worker.ExclusiveSyncWorker"


def test_every_worker_serves_in_parallel_and_stops_on_sigterm(tmp_path):
    proc, port = _serve(tmp_path, gunicorn_conf.worker_class)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(WORKERS) as pool:
            pids = list(pool.map(lambda _: _get(port, "/slow"), range(WORKERS)))
        elapsed = time.monotonic() - started
        assert len(set(pids)) == WORKERS, pids
        assert elapsed < 0.3 * WORKERS, f"served one after the other: {elapsed:.2f} s"
        assert {_get(port) for _ in range(30)} <= set(pids)
    finally:
        started = time.monotonic()
        stop_process(proc, timeout=10)
    assert proc.returncode == 0
    assert time.monotonic() - started < 5


def test_an_idle_worker_is_not_woken_for_a_connection_another_takes(tmp_path):
    counts = {}
    for worker_class in ("sync", gunicorn_conf.worker_class):
        proc, port = _serve(tmp_path, worker_class)
        try:
            counts[worker_class] = _wakeups_per_request(proc, port)
        finally:
            stop_process(proc, timeout=10)
    # The stock worker wakes all three for each connection, ours one.
    assert counts[gunicorn_conf.worker_class] < 0.8 * counts["sync"], counts
