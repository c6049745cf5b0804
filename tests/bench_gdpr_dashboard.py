"""Benchmark, not collected by default (not test_*.py): the dashboard with 50 stores.

Run: .venv/bin/python -m pytest -q -s tests/bench_gdpr_dashboard.py
Prints the median and p95 of server-side render time (Django test client, the
whole request through middleware), after two warm-up requests.
"""

import statistics
import time

from tests.conftest import login
from tests.test_gdpr_dashboard import make_account_with_stores

RUNS = 30


def test_bench_dashboard_with_50_stores(client, alice):
    account = make_account_with_stores(50, alice)
    login(client, alice)
    url = f"/a/{account.slug}/gdpr/"
    for _ in range(2):
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.content.decode().count('class="gdpr-store"') == 50
    timings.sort()
    print(
        f"\ndashboard, 50 stores: median {statistics.median(timings):.1f} ms, "
        f"p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms, "
        f"max {timings[-1]:.1f} ms over {RUNS} runs (target < 150 ms)"
    )
