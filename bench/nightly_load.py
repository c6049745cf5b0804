"""Live ingestion while the nightly expiry runs over many stores (``python -m bench.stores``).

Every store of the account gets visitors whose last visit is past any retention bound
(with page views), so each store's expiry deletes something. gunicorn (as the product runs it) and
one Celery worker start; clicks on one store at 100 req/s come from a second process: a
window before, the whole spread long, a window after. The spread is the product's own
(``jobs.send_spread``: steps of ``NIGHTLY_CHUNK`` stores, each postponed while more than
``NIGHTLY_MAX_QUEUED`` messages wait) at the pace of 10,000 stores in the default one-hour
window (``SECONDS_PER_STORE``, so a thousand stores take six minutes). The figure is the
p95 during the spread over the lower of before and after, as the big store's expiry figure.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from django.db import connection
from django.utils import timezone

from bench.processes import Web, Worker, load_from_second_process, maintenance_queue_purge
from clerkgdpr.processes import free_port
from customers.api.keys import api_key_create
from customers.jobs import send_spread
from gdpr_dashboard.models import RetentionRun
from stores.models import Store

SECONDS_PER_STORE = 3600 / 10_000
EXPIRED_VISITORS = 20
PAGE_VIEWS_EACH = 5
RATE = 100


def fill(stores: list[Store]) -> None:
    """EXPIRED_VISITORS visitors last seen 400 days ago, with page views, in every store."""
    try:
        for store in stores:
            connection.set_tenant(store)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO customers_visitor (visitor_ref, visitor_digest, first_seen, "
                    "last_seen, visit_count, visit_days, total_duration_seconds) "
                    "SELECT 'old-' || i, '', now() - interval '400 days', "
                    "now() - interval '400 days', 1, 1, 0 FROM generate_series(1, %s) i",
                    [EXPIRED_VISITORS],
                )
                cursor.execute(
                    "INSERT INTO customers_pageview (visitor_id, url, title, category, "
                    "duration_seconds, occurred_at) "
                    "SELECT v.id, '/old', 'Old', '', 10, v.last_seen "
                    "FROM customers_visitor v, generate_series(1, %s) "
                    "WHERE v.visitor_ref LIKE 'old-%%'",
                    [PAGE_VIEWS_EACH],
                )
    finally:
        connection.set_schema_to_public()


def measure(stores: list[Store], say) -> dict:
    """{"before", "during", "after": p95 ms, "seconds": the spread's, "ratio": during/base}.

    The spread covers every store of the database at its pace; the figure is taken while
    it runs over ``stores`` (the first ones by id, the spread's order)."""
    say(f"  {EXPIRED_VISITORS} expired visitors in each of {len(stores)} stores …")
    fill(stores)
    ids = [store.pk for store in stores]
    out = Path(tempfile.mkdtemp(prefix="bench-nightly-"))
    web, worker = Web(free_port(), out), Worker(out)
    try:
        key = api_key_create(store=stores[0], label="bench nightly").api_key.key
        template = f"/v2/log/click?key={key}&product={{n}}&visitor=v-night-{{n}}"

        def load(seconds: float, until: Path | None = None) -> dict:
            extra = [f"--until={until}"] if until is not None else []
            return load_from_second_process(
                port=web.port, template=template, rate=RATE, seconds=seconds, extra=extra
            )

        before = load(8)
        finished = out / "spread-finished"
        during: dict = {}
        loader = threading.Thread(target=lambda: during.update(load(1800, finished)))
        loader.start()
        started, spread_start = time.perf_counter(), timezone.now()
        try:
            send_spread(
                "retention_expire_store",
                window=SECONDS_PER_STORE * Store.objects.count(),
            )
            done = RetentionRun.objects.filter(
                store_id__in=ids, finished_at__isnull=False, started_at__gte=spread_start
            )
            while done.values("store_id").distinct().count() < len(ids):
                if time.perf_counter() - started > 1800:
                    raise RuntimeError("the nightly spread did not finish within 30 minutes")
                time.sleep(1)
            seconds = time.perf_counter() - started
        finally:
            finished.touch()
            loader.join()
        if "p95_ms" not in during:
            raise RuntimeError("the click load during the spread gave no result")
        after = load(8)
    finally:
        web.stop()
        worker.stop()
        # With more stores than were measured the spread goes on: its steps are dropped.
        maintenance_queue_purge()
    baseline = min(before["p95_ms"], after["p95_ms"])
    result = {
        "before": before["p95_ms"],
        "during": during["p95_ms"],
        "after": after["p95_ms"],
        "seconds": seconds,
        "ratio": during["p95_ms"] / max(baseline, 0.001),
        "errors": before["errors"] + during["errors"] + after["errors"],
        "calls during": during.get("sent"),
    }
    say(
        f"  expiry of {len(stores)} stores spread over {seconds:.0f} s: click p95 "
        f"{result['before']:.1f} ms before, {result['during']:.1f} during, "
        f"{result['after']:.1f} after ({result['ratio']:.2f} x)"
    )
    return result
