"""Each figure of issue 8, measured against real PostgreSQL, Redis, gunicorn and Celery.

A figure whose feature is not on main yet (no URL, no command, no service)
is reported as "not measured yet" and measured as soon as the feature lands:
each measurement finds its feature through the documented URL or command.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import get_commands
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from clerkgdpr.benchmark.dataset import BENCH_OWNER, Dataset
from clerkgdpr.benchmark.processes import MemorySampler, Web, Worker
from clerkgdpr.benchmark.report import Figure
from stores.models import User


class NotYet(Exception):
    """The feature this figure measures is not on main yet."""


def has_url(path: str) -> bool:
    try:
        resolve(path.split("?")[0])
        return True
    except Resolver404:
        return False


def has_command(name: str) -> bool:
    return name in get_commands()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Run:
    data: Dataset
    runs: int
    quick: bool
    web: Web
    worker: Worker | None
    memory: MemorySampler
    out_dir: Path
    session_cookie: dict

    @classmethod
    def session_for_owner(cls) -> dict:
        user = User.objects.get(email=BENCH_OWNER)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return {"Cookie": f"sessionid={session.session_key}"}


def timed_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _get_ok(run: Run, path: str) -> None:
    status, _ = run.web.get(path, run.session_cookie)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")


# --- profile -------------------------------------------------------------------------


def profile(run: Run) -> list[Figure]:
    heavy_n, light_n = run.data.scale.heavy_events, run.data.scale.light_events
    ratio = Figure(
        "profile_ratio",
        f"Profile page, {heavy_n:,} vs {light_n} events",
        "x",
        1.5,
        source="issue 3",
    )
    queries = Figure(
        "profile_queries",
        f"Profile page, extra SQL queries for {heavy_n:,} events",
        "queries",
        0,
        source="issue 3",
    )
    slug = run.data.store.slug
    heavy_path = f"/s/{slug}/customer/{quote(run.data.heavy_email)}/"
    light_path = f"/s/{slug}/customer/{quote(run.data.light_email)}/"
    if not has_url(heavy_path):
        raise NotYet
    for path in (light_path, heavy_path):  # warm up both
        _get_ok(run, path)
    light, heavy = [], []
    for _ in range(run.runs):
        light.append(
            statistics.median(timed_ms(lambda: _get_ok(run, light_path)) for _ in range(5))
        )
        heavy.append(
            statistics.median(timed_ms(lambda: _get_ok(run, heavy_path)) for _ in range(5))
        )
    ratio.runs = [h / max(lt, 0.001) for h, lt in zip(heavy, light, strict=True)]
    ratio.value = statistics.median(ratio.runs)
    ratio.detail = {
        f"{light_n} events (ms)": round(statistics.median(light), 1),
        f"{heavy_n:,} events (ms)": round(statistics.median(heavy), 1),
    }
    counts = {}
    client = Client()
    client.force_login(User.objects.get(email=BENCH_OWNER))
    for name, path in (("light", light_path), ("heavy", heavy_path)):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        counts[name] = len(ctx.captured_queries)
        connection.set_schema_to_public()
    queries.value = counts["heavy"] - counts["light"]
    queries.detail = {
        f"queries ({light_n} events)": counts["light"],
        f"queries ({heavy_n:,} events)": counts["heavy"],
    }
    return [ratio, queries]


# --- search --------------------------------------------------------------------------


def search(run: Run) -> list[Figure]:
    people = f"{run.data.scale.customers + run.data.scale.visitors:,} customers + visitors"
    p50 = Figure("search_p50", f"Search p50, {people}", "ms", None, source="issue 3")
    p95 = Figure("search_p95", f"Search p95, {people}", "ms", 50, source="issue 3")
    if not has_url("/search"):
        raise NotYet
    d = run.data
    rng = random.Random(3)
    queries = (
        [rng.choice(d.sample_emails) for _ in range(30)]
        + [rng.choice(d.sample_emails)[:7] for _ in range(20)]  # e-mail prefixes
        + [rng.choice(d.sample_customer_refs) for _ in range(20)]
        + [rng.choice(d.sample_visitor_refs) for _ in range(20)]
        + [rng.choice(d.sample_names) for _ in range(10)]
    )
    for q in queries[:10]:  # warm up
        _get_ok(run, "/search?" + urlencode({"q": q}))
    p50_runs, p95_runs = [], []
    for _ in range(run.runs):
        times = [
            timed_ms(lambda q=q: _get_ok(run, "/search?" + urlencode({"q": q}))) for q in queries
        ]
        p50_runs.append(percentile(times, 0.5))
        p95_runs.append(percentile(times, 0.95))
    p50.runs, p95.runs = p50_runs, p95_runs
    p50.value, p95.value = statistics.median(p50_runs), statistics.median(p95_runs)
    p95.detail = {"queries per run": len(queries), "through": "gunicorn, HTTP, logged in"}
    return [p50, p95]


# --- figures whose features land from other branches -----------------------------------


def forget(run: Run) -> list[Figure]:
    ratio = Figure(
        "forget_ratio", "Forget 50,000 events vs raw SQL delete", "x", 2, source="issue 4"
    )
    seconds = Figure(
        "forget_heavy_s", "Forget a subject with 50,000 events", "s", 1, source="issue 4"
    )
    many = Figure("forget_1000_s", "1,000 small forgets, one worker", "s", 30, source="issue 4")
    for figure in (ratio, seconds, many):
        figure.note = "not measured yet (forget service not on main)"
    return [ratio, seconds, many]


def ingestion(run: Run) -> list[Figure]:
    batch = Figure(
        "ingest_events_per_s",
        "Batch ingestion /api/v1/events",
        "events/s",
        3000,
        higher_is_better=True,
        source="issue 5",
    )
    click = Figure("click_p95", "/v2/log/click p95 at 200 req/s", "ms", 20, source="issue 5")
    info = Figure("privacy_info_ms", "/v2/privacy/info, 50,000 events", "ms", 300, source="issue 5")
    if not has_url("/api/v1/events") or not has_url("/v2/log/click"):
        for figure in (batch, click, info):
            figure.note = "not measured yet (store API not on main)"
    return [batch, click, info]


def dashboard(run: Run) -> list[Figure]:
    figure = Figure("dashboard_ms", "GDPR dashboard, 50 stores", "ms", 150, source="issue 7")
    if not has_url("/a/bench/gdpr/"):
        figure.note = "not measured yet (dashboard not on main)"
    return [figure]


def backup(run: Run) -> list[Figure]:
    figure = Figure("backup_s", "Backup of the big store", "s", 60, source="issue 6")
    if not has_command("backup_stores"):
        figure.note = "not measured yet (backups not on main)"
    return [figure]


def expiry(run: Run) -> list[Figure]:
    seconds = Figure("expiry_s", "Expiry of 1,000,000 events", "s", 60, source="issue 6")
    ratio = Figure(
        "expiry_ingest_ratio", "Ingestion p95 during expiry vs baseline", "x", 2, source="issue 6"
    )
    if not has_command("expire_retention"):
        for figure in (seconds, ratio):
            figure.note = "not measured yet (retention expiry not on main)"
    return [seconds, ratio]


def memory(run: Run) -> list[Figure]:
    web = Figure("web_peak_mb", "Peak memory, one web process", "MB", 512, source="issue 8")
    worker = Figure(
        "worker_peak_mb", "Peak memory, one worker process", "MB", 512, source="issue 8"
    )
    web.value = round(run.memory.peak_mb.get("web", 0.0), 1) or None
    worker.value = round(run.memory.peak_mb.get("worker", 0.0), 1) or None
    return [web, worker]


# In order: expiry deletes the data, so it runs last; memory reads the whole run's peak.
MEASUREMENTS: list[Callable[[Run], list[Figure]]] = [
    profile,
    search,
    forget,
    ingestion,
    dashboard,
    backup,
    expiry,
    memory,
]
