"""The per-key rate limit: counted in Redis across processes, each process asking it rarely.

Processes are simulated by giving ``customers.api.auth`` one window table each in turn
(what a process remembers); the count in Redis is shared, as between gunicorn workers.
"""

from __future__ import annotations

import threading
import time

import pytest

from clerkgdpr import shared_redis
from customers.api import auth
from customers.api.errors import ApiError


def _calls(api_key, n: int, processes: list[dict], monkeypatch) -> int:
    """``n`` calls spread in turn over ``processes``; how many were let through."""
    let_through = 0
    for i in range(n):
        monkeypatch.setattr(auth, "_windows", processes[i % len(processes)])
        try:
            auth.rate_limit(api_key.api_key)
        except ApiError as exc:
            assert exc.status == 429 and exc.type == "RateLimited"
        else:
            let_through += 1
    return let_through


@pytest.fixture
def long_window(settings, monkeypatch):
    # An hour: the calls of a test fall in one window (a window ending mid-test starts
    # the count afresh).
    settings.API_RATE_LIMIT_WINDOW = 3600
    monkeypatch.setattr(auth, "_down_until", 0.0)


def test_it_is_exact_within_one_process(api_key, settings, long_window, monkeypatch):
    settings.API_RATE_LIMIT_REQUESTS = 300
    assert _calls(api_key, 500, [{}], monkeypatch) == 300


def test_it_holds_across_processes_within_its_tolerance(
    api_key, settings, long_window, monkeypatch
):
    limit = settings.API_RATE_LIMIT_REQUESTS = 640
    let_through = _calls(api_key, 2000, [{}, {}, {}], monkeypatch)
    # Each process beyond the first: at most 1/COUNT_SHARE of the limit more.
    assert limit <= let_through <= limit + 2 * limit // auth.COUNT_SHARE


def test_a_process_asks_redis_about_once_per_interval_far_below_the_limit(
    api_key, settings, long_window, monkeypatch
):
    settings.API_RATE_LIMIT_REQUESTS = 1_000_000
    asks = []
    count_in_window = shared_redis.count_in_window

    def counting(*args, **kwargs):
        asks.append(kwargs["add"])
        return count_in_window(*args, **kwargs)

    monkeypatch.setattr(shared_redis, "count_in_window", counting)
    started = time.monotonic()
    for _ in range(200):
        auth.rate_limit(api_key.api_key)
    elapsed = time.monotonic() - started
    # The first call, then one ask per COUNT_INTERVAL, each adding the calls counted since.
    assert 1 <= len(asks) <= 2 + elapsed / auth.COUNT_INTERVAL
    assert sum(asks) <= 200


def test_a_key_over_its_limit_is_refused_without_asking_again(
    api_key, settings, long_window, monkeypatch
):
    settings.API_RATE_LIMIT_REQUESTS = 2
    assert _calls(api_key, 2, [{}], monkeypatch) == 2
    monkeypatch.setattr(shared_redis, "count_in_window", pytest.fail)
    with pytest.raises(ApiError) as refused:
        auth.rate_limit(api_key.api_key)
    assert 1 <= refused.value.retry_after <= 3600


def test_threads_of_one_process_send_each_call_once(api_key, settings, long_window, monkeypatch):
    """The development server answers in threads: concurrent asks never send a call twice."""
    settings.API_RATE_LIMIT_REQUESTS = 1_000_000
    monkeypatch.setattr(auth, "_windows", {})
    monkeypatch.setattr(auth, "COUNT_INTERVAL", 0.002)  # frequent asks, calls counted between
    pk = api_key.api_key.pk

    def calls():
        for _ in range(100):
            auth.rate_limit(api_key.api_key)

    threads = [threading.Thread(target=calls) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (known,) = auth._windows.values()
    sent = shared_redis.count_in_window(
        f"ratelimit:{pk}:{known.slot}", ttl=settings.API_RATE_LIMIT_WINDOW + 1, add=0
    )
    assert sent + known.unsent == 800
