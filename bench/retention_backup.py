"""Benchmark: expiry of N expired events under concurrent ingestion, and the backup of N events.

    DATABASE_URL=... .venv/bin/python -m bench.retention_backup [--events 1000000]

Creates (or refills) the store ``bench-retention`` in account ``bench``; run
``manage.py migrate_schemas --shared`` on the database first.  Ingestion is
simulated as the tracking API's write: one transaction that bumps a visitor's
counters and inserts a page view, from a separate connection, measured before
(baseline) and during the expiry.
"""

from __future__ import annotations

import bench.django_setup  # noqa: F401 - first: Django set up before the product is imported

# isort: split
import argparse
import threading
import time
from pathlib import Path

import psycopg
from django.db import connection
from django.utils import timezone

from bench.stats import percentile
from customers.retention.backup import backup_create
from customers.retention.expiry import retention_expire
from customers.retention.restore import restore_store
from stores.models import Account, Store
from stores.services import account_create, store_create

FRESH_VISITORS = 1000


def bench_store() -> Store:
    account = Account.objects.filter(slug="bench").first() or account_create(
        slug="bench", name="Bench"
    )
    store = Store.objects.filter(slug="bench-retention").first()
    if store is None:
        store = store_create(account=account, slug="bench-retention", name="Bench retention")
    return store


def fill(store: Store, events: int) -> None:
    """``events`` expired events over events/100 expired visitors, plus fresh visitors."""
    expired_visitors = max(events // 100, 1)
    per = events // expired_visitors
    connection.set_tenant(store)
    with connection.cursor() as c:
        c.execute(
            "TRUNCATE customers_pageview, customers_contentview, customers_click, "
            "customers_orderline, customers_order, customers_visitor, customers_customer "
            "RESTART IDENTITY"
        )
        c.execute(
            "INSERT INTO customers_visitor (visitor_ref, visitor_digest, first_seen, last_seen, "
            "visit_count, visit_days, total_duration_seconds) "
            "SELECT 'old-' || g, '', now() - interval '100 days', now() - interval '100 days', "
            "1, 1, 60 FROM generate_series(1, %s) g",
            [expired_visitors],
        )
        c.execute(
            "INSERT INTO customers_visitor (visitor_ref, visitor_digest, first_seen, last_seen, "
            "visit_count, visit_days, total_duration_seconds) "
            "SELECT 'fresh-' || g, '', now(), now(), 1, 1, 60 FROM generate_series(1, %s) g",
            [FRESH_VISITORS],
        )
        pv, cv = per // 2, per * 3 // 10
        cl = per - pv - cv
        for table, n, cols, vals in [
            # Varied values, so the dump compresses like real data rather than a constant.
            (
                "customers_pageview",
                pv,
                "url, title, category, duration_seconds",
                "'https://shop.example/p/' || (random() * 100000)::int || '?q=' || md5(g::text), "
                "'Product ' || md5(random()::text), 'cat-' || (random() * 50)::int, "
                "(random() * 300)::int",
            ),
            (
                "customers_contentview",
                cv,
                "product_ref, api",
                "(1000 + (random() * 5000)::int)::text, 'recommendations/popular'",
            ),
            (
                "customers_click",
                cl,
                "product_ref, api, position, external, labels",
                "(1000 + (random() * 5000)::int)::text, 'search/search', "
                "(random() * 20)::int, false, '[]'::jsonb",
            ),
        ]:
            c.execute(
                f"INSERT INTO {table} (visitor_id, occurred_at, {cols}) "
                f"SELECT v.id, now() - interval '100 days' - random() * interval '30 days', {vals} "
                "FROM customers_visitor v, generate_series(1, %s) g "
                "WHERE v.visitor_ref LIKE 'old-%%'",
                [n],
            )
        c.execute("ANALYZE")
        c.execute(
            "SELECT (SELECT count(*) FROM customers_pageview) + "
            "(SELECT count(*) FROM customers_contentview) + (SELECT count(*) FROM customers_click)"
        )
        print(f"filled: {c.fetchone()[0]} expired events, {expired_visitors} expired visitors")
    connection.set_schema_to_public()


class Ingestion(threading.Thread):
    """One tracking write after another from its own connection; records latencies."""

    def __init__(self, dsn_kwargs: dict, schema: str):
        super().__init__(daemon=True)
        self.conn = psycopg.connect(**dsn_kwargs, autocommit=True)
        self.conn.execute(f"SET search_path = {schema}")
        self.latencies: list[float] = []
        self.recording = True
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            ref = f"fresh-{i % FRESH_VISITORS + 1}"
            t0 = time.perf_counter()
            with self.conn.transaction():
                row = self.conn.execute(
                    "UPDATE customers_visitor SET last_seen = now(), visit_count = visit_count + 1 "
                    "WHERE visitor_ref = %s RETURNING id",
                    [ref],
                ).fetchone()
                self.conn.execute(
                    "INSERT INTO customers_pageview (visitor_id, url, title, category, "
                    "duration_seconds, occurred_at) VALUES (%s, '/live', 't', '', 3, now())",
                    [row[0]],
                )
            if self.recording:
                self.latencies.append(time.perf_counter() - t0)
            time.sleep(0.002)

    def take(self) -> list[float]:
        out, self.latencies = self.latencies, []
        return out


def p95_ms(values: list[float]) -> float:
    return percentile(values, 0.95) * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    store = bench_store()
    db = connection.settings_dict
    dsn = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "password": db["PASSWORD"] or None,
    }

    fill(store, args.events)
    ingest = Ingestion(dsn, store.schema_name)
    ingest.start()
    time.sleep(5)
    baseline = ingest.take()
    t0 = time.perf_counter()
    counts = retention_expire(store=store, now=timezone.now())
    expiry_s = time.perf_counter() - t0
    during = ingest.take()
    ingest.stop.set()
    ingest.join()
    print(
        f"expiry: {expiry_s:.1f} s, deleted {counts}\n"
        f"ingestion p95: baseline {p95_ms(baseline):.1f} ms ({len(baseline)} writes), "
        f"during expiry {p95_ms(during):.1f} ms ({len(during)} writes)"
    )

    fill(store, args.events)
    t0 = time.perf_counter()
    backup = backup_create(store=store)
    backup_s = time.perf_counter() - t0
    print(f"backup: {backup_s:.1f} s, {backup.size_bytes / 1e6:.1f} MB, {backup.path}")
    t0 = time.perf_counter()
    restore_store(store=store, backup=backup)
    restore_s = time.perf_counter() - t0
    print(f"restore of that backup (load into a scratch schema, swap): {restore_s:.1f} s")
    Path(backup.path).unlink()
    backup.delete()


if __name__ == "__main__":
    main()
