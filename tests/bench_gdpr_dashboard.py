"""Benchmark, not collected by default (not test_*.py): the dashboard with 50 stores.

Run: .venv/bin/python -m pytest -q -s tests/bench_gdpr_dashboard.py

Serves the console from a real server process (``live_console``: runserver,
DEBUG off, on the test database) and times 30 GET requests of the dashboard
of an account with 50 stores over HTTP, after two warm-up requests.  Prints
median, p95 and max wall time, and the server process's CPU time per request
(steadier than wall time when other work shares the machine; PostgreSQL's own
time is not in it).  The Django test client is not used: it copies
every template context for its assertions, which costs more than the page.
"""

import statistics
import time
import urllib.request

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from bench.stats import percentile
from gdpr_dashboard.models import PrivacyRequest
from stores.models import Account, Store, User
from tests.test_gdpr_dashboard import make_account_with_stores

RUNS = 30


def test_bench_dashboard_with_50_stores(live_console, django_db_blocker):
    with django_db_blocker.unblock():
        alice = User.objects.get(email="alice@acme.example")
        account = make_account_with_stores(50, alice)  # committed: the server must see it
        session = SessionStore()
        session[SESSION_KEY] = str(alice.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = alice.get_session_auth_hash()
        session.save()
    try:
        request = urllib.request.Request(
            f"{live_console}/a/{account.slug}/gdpr/",
            headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"},
        )
        server = _server_process(live_console)
        timings = []
        for i in range(RUNS + 2):
            if i == 2:
                cpu_before = sum(server.cpu_times()[:2])
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read().decode()
            if i >= 2:
                timings.append((time.perf_counter() - start) * 1000)
            assert body.count('class="gdpr-store"') == 50
        cpu_ms = (sum(server.cpu_times()[:2]) - cpu_before) * 1000 / RUNS
        print(
            f"\ndashboard over HTTP, 50 stores: median {statistics.median(timings):.1f} ms, "
            f"p95 {percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms "
            f"over {RUNS} runs (target < 150 ms); server CPU {cpu_ms:.1f} ms per request"
        )
    finally:
        with django_db_blocker.unblock():
            session.delete()
            PrivacyRequest.objects.filter(store__account=account).delete()
            # Queryset delete: these rows have no schema to drop.
            Store.objects.filter(account=account).delete()
            Account.objects.filter(pk=account.pk).delete()


def _server_process(base_url: str):
    """The process listening on the live console's port (runserver --noreload)."""
    import psutil

    port = int(base_url.rsplit(":", 1)[1])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    raise RuntimeError(f"nobody listens on port {port}")
