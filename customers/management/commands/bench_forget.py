"""manage.py bench_forget: the forget pipeline's two figures (issue 4 targets).

1. A subject with 50,000 events: ``forget_execute`` vs a raw SQL delete of
   the same rows on the same database (an identical twin subject), median of
   ``--repeat`` runs, amid background data of other shoppers.
2. 1,000 small forgets through the service and one real worker (``-c 1``):
   time from the bulk request until the last one is done.

Works in a throw-away store it creates and drops. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from clerkgdpr.processes import celery_command, worker_args
from customers.forget import forget_execute, forget_request_create, forget_requests_create_bulk
from customers.models import Click, ContentView, Customer, Order, PageView, Visitor
from gdpr_dashboard.models import PrivacyRequest, RequestStatus
from stores.digests import identifier_digest
from stores.models import Account, Store
from stores.services import account_create, store_create


def _insert_subject(store: Store, tag: str, *, visitors: int, events: int, orders: int) -> dict:
    """One customer with visitors, ``events`` events split over them, orders. Set-based inserts."""
    now = timezone.now()
    customer = Customer.objects.create(
        customer_ref=f"B-{tag}",
        email=f"{tag}@bench.example",
        name="Bench Person",
        email_digest=identifier_digest(store.secret, "email", f"{tag}@bench.example"),
        customer_digest=identifier_digest(store.secret, "customer", f"B-{tag}"),
        first_seen=now - timedelta(days=90),
        last_seen=now,
    )
    refs = [f"bv-{tag}-{i}" for i in range(visitors)]
    Visitor.objects.bulk_create(
        [
            Visitor(
                visitor_ref=ref,
                visitor_digest=identifier_digest(store.secret, "visitor", ref),
                customer=customer,
                first_seen=now - timedelta(days=90),
                last_seen=now,
            )
            for ref in refs
        ]
    )
    ids = list(Visitor.objects.filter(customer=customer).values_list("pk", flat=True))
    third = events // 3
    with connection.cursor() as cursor:
        for model, n, cols, values in (
            (
                PageView,
                events - 2 * third,
                "url, title, category, duration_seconds",
                "'/p/' || g, 'Page', 'cat', 5",
            ),
            (ContentView, third, "product_ref, api", "'1001', 'recommendations/popular'"),
            (
                Click,
                third,
                "product_ref, api, position, external, labels",
                "'1001', 'search/search', 0, false, '[]'::jsonb",
            ),
        ):
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} (visitor_id, {cols}, occurred_at) "
                f"SELECT (%s::bigint[])[1 + g %% %s], {values}, now() - g * interval '1 minute' "
                "FROM generate_series(1, %s) g",
                [ids, len(ids), n],
            )
        cursor.execute(
            f"INSERT INTO {Order._meta.db_table} (order_ref, customer_id, visitor_id, email, "
            "email_digest, total, placed_at) SELECT %s || g, %s, %s, %s, %s, 10, now() "
            "FROM generate_series(1, %s) g",
            [f"BO-{tag}-", customer.pk, ids[0], customer.email, customer.email_digest, orders],
        )
    return {"customer": customer.pk, "visitors": ids}


def _raw_delete(subject: dict) -> None:
    """The same rows removed by hand: what an engineer would type for this one subject."""
    with transaction.atomic(), connection.cursor() as cursor:
        v, c = subject["visitors"], [subject["customer"]]
        cursor.execute("DELETE FROM customers_pageview WHERE visitor_id = ANY(%s)", [v])
        cursor.execute("DELETE FROM customers_contentview WHERE visitor_id = ANY(%s)", [v])
        cursor.execute("DELETE FROM customers_click WHERE visitor_id = ANY(%s)", [v])
        cursor.execute(
            "UPDATE customers_order SET customer_id = NULL, visitor_id = NULL, email = NULL, "
            "email_digest = '' WHERE customer_id = ANY(%s) OR visitor_id = ANY(%s)",
            [c, v],
        )
        cursor.execute("DELETE FROM customers_visitor WHERE id = ANY(%s)", [v])
        cursor.execute("DELETE FROM customers_customer WHERE id = ANY(%s)", [c])


class Command(BaseCommand):
    help = "Measure the forget job (50,000-event subject vs raw SQL; 1,000 small forgets)."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=50_000)
        parser.add_argument(
            "--background", type=int, default=200_000, help="events of other shoppers in the store"
        )
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--small", type=int, default=1000, help="small forgets (0: skip)")

    def handle(self, *args, events, background, repeat, small, **options):
        account = Account.objects.filter(slug="bench").first() or account_create(
            slug="bench", name="Bench"
        )
        store = store_create(
            account=account,
            slug=f"bench-{uuid.uuid4().hex[:8]}",
            name="Bench forget",
            collect_emails=True,
        )
        try:
            result = {"events": events, "background_events": background}
            result.update(self._big(store, events, background, repeat))
            if small:
                result.update(self._small(store, small, bulk=True))
                result.update(self._small(store, small, bulk=False))
            self.stdout.write(json.dumps(result, indent=2))
        finally:
            connection.set_schema_to_public()
            PrivacyRequest.objects.filter(store=store).delete()
            store.delete(force_drop=True)

    def _big(self, store, events, background, repeat) -> dict:
        connection.set_tenant(store)
        _insert_subject(store, "background", visitors=2000, events=background, orders=5000)
        job, raw = [], []
        for i in range(repeat):
            connection.set_tenant(store)
            ours = _insert_subject(store, f"job{i}", visitors=20, events=events, orders=20)
            twin = _insert_subject(store, f"raw{i}", visitors=20, events=events, orders=20)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            request = forget_request_create(
                store=store, kind="email", value=f"job{i}@bench.example", via="cli"
            )
            started = time.perf_counter()
            counts = forget_execute(request=request)
            job.append(time.perf_counter() - started)
            assert counts["page_views"] + counts["content_views"] + counts["clicks"] == events
            connection.set_tenant(store)
            started = time.perf_counter()
            _raw_delete(twin)
            raw.append(time.perf_counter() - started)
            assert ours  # (the subject's ids are used by the service through the digests)
        job_s, raw_s = statistics.median(job), statistics.median(raw)
        return {
            "forget_50k_job_s": round(job_s, 4),
            "forget_50k_raw_sql_s": round(raw_s, 4),
            "forget_50k_ratio": round(job_s / raw_s, 2),
            # Best of the runs on both sides: less sensitive to a busy machine.
            "forget_50k_ratio_best": round(min(job) / min(raw), 2),
            "forget_50k_runs_job_s": [round(x, 4) for x in job],
            "forget_50k_runs_raw_s": [round(x, 4) for x in raw],
        }

    def _small(self, store, n, *, bulk: bool) -> dict:
        """``bulk``: one service call for all (one batch message); else one call (and one
        message) per subject, as 1,000 separate clicks or v2 API calls would make."""
        tag = "b" if bulk else "s"
        connection.set_tenant(store)
        for i in range(n):
            _insert_subject(store, f"{tag}{i}", visitors=1, events=6, orders=1)
        connection.set_schema_to_public()
        log_path = Path(settings.BASE_DIR) / "var" / f"bench-worker-{os.getpid()}.log"
        log_path.parent.mkdir(exist_ok=True)
        with open(log_path, "w") as log:
            worker = subprocess.Popen(
                celery_command(*worker_args(loglevel="WARNING")),
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(5)  # let the worker connect before the clock starts
            started = time.perf_counter()
            requests = forget_requests_create_bulk(
                store=store,
                subjects=[("email", f"s{i}@bench.example") for i in range(n)],
                via="cli",
            )
            ids = [r.pk for r in requests]
            while PrivacyRequest.objects.filter(pk__in=ids, status=RequestStatus.DONE).count() < n:
                if time.perf_counter() - started > 600:
                    raise RuntimeError("1,000 small forgets did not finish in 10 minutes")
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        key = "small_forgets_bulk" if bulk else "small_forgets_single"
        return {key: n, f"{key}_s": round(elapsed, 2), f"{key}_per_s": round(n / elapsed, 1)}
