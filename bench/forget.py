"""python -m bench.forget: the forget pipeline's two figures, in depth.

1. A subject with 50,000 events: ``forget_execute`` vs the raw SQL delete of an
   identical twin subject on the same database (bench/raw_forget.py, the same
   baseline as ``python -m bench``), median of ``--repeat`` runs, amid background
   data of other shoppers.
2. 1,000 small forgets through the service and one real worker (``-c 1``):
   time from the bulk request until the last one is done; once as one bulk call,
   once as one call per subject.

    python -m bench.forget [--events 50000] [--background 200000] [--repeat 5] [--small 1000]

Works in a throw-away store it creates and drops. Prints one JSON object.
"""

from __future__ import annotations

import bench.django_setup  # noqa: F401 - first: Django set up before the product is imported

# isort: split
import argparse
import json
import os
import statistics
import time
import uuid
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from bench.raw_forget import raw_forget_seconds
from clerkgdpr.processes import start_celery, stop_process, worker_args
from clerkgdpr.runtime import VAR_DIR
from customers.models import Click, ContentView, Customer, Order, PageView, Visitor
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create, forget_requests_create_bulk
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.forget",
        description="Measure the forget job (50,000-event subject vs raw SQL; small forgets).",
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument(
        "--background", type=int, default=200_000, help="events of other shoppers in the store"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--small", type=int, default=1000, help="small forgets (0: skip)")
    args = parser.parse_args(argv)
    result = forget_bench(
        events=args.events, background=args.background, repeat=args.repeat, small=args.small
    )
    print(json.dumps(result, indent=2))


def forget_bench(*, events: int, background: int, repeat: int, small: int) -> dict:
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
        result.update(_big(store, events, background, repeat))
        if small:
            result.update(_small(store, small, bulk=True))
            result.update(_small(store, small, bulk=False))
        return result
    finally:
        connection.set_schema_to_public()
        PrivacyRequest.objects.filter(store=store).delete()
        store.delete(force_drop=True)


def _big(store, events, background, repeat) -> dict:
    connection.set_tenant(store)
    _insert_subject(store, "background", visitors=2000, events=background, orders=5000)
    job, raw = [], []
    for i in range(repeat):
        connection.set_tenant(store)
        _insert_subject(store, f"job{i}", visitors=20, events=events, orders=20)
        _insert_subject(store, f"raw{i}", visitors=20, events=events, orders=20)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        request = forget_request_create(
            store=store, kind="email", value=f"job{i}@bench.example", via="cli"
        )
        started = time.perf_counter()
        counts = forget_execute(request=request)
        job.append(time.perf_counter() - started)
        assert counts["page_views"] + counts["content_views"] + counts["clicks"] == events
        raw.append(raw_forget_seconds(store=store, email=f"raw{i}@bench.example"))
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


def _small(store, n, *, bulk: bool) -> dict:
    """``bulk``: one service call for all (one batch message); else one call (and one
    message) per subject, as 1,000 separate clicks or v2 API calls would make."""
    tag = "b" if bulk else "s"
    connection.set_tenant(store)
    for i in range(n):
        _insert_subject(store, f"{tag}{i}", visitors=1, events=6, orders=1)
    connection.set_schema_to_public()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    worker = start_celery(
        worker_args(), env=dict(os.environ), log_path=VAR_DIR / f"bench-worker-{os.getpid()}.log"
    )
    try:
        started = time.perf_counter()
        subjects = [("email", f"{tag}{i}@bench.example") for i in range(n)]
        if bulk:
            requests = forget_requests_create_bulk(store=store, subjects=subjects, via="cli")
        else:
            requests = [
                forget_request_create(store=store, kind=kind, value=value, via="cli")
                for kind, value in subjects
            ]
        ids = [r.pk for r in requests]
        while PrivacyRequest.objects.filter(pk__in=ids, status=RequestStatus.DONE).count() < n:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"{n:,} small forgets did not finish in 10 minutes")
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        stop_process(worker, timeout=30)
    key = "small_forgets_bulk" if bulk else "small_forgets_single"
    return {key: n, f"{key}_s": round(elapsed, 2), f"{key}_per_s": round(n / elapsed, 1)}


if __name__ == "__main__":
    main()
