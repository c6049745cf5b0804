"""Measure the staff console's targets on a throw-away store (not a test: figures, not asserts).

- profile page of a customer with 10 events vs one with 50,000 (median time, ratio,
  query count), through the real view with Django's test client;
- search p50/p95 over a mix of exact e-mails, e-mail prefixes, customer ids, visitor
  ids, names and misses, on a store with N customers + N visitors: the selector
  alone, and the whole /search request.

    python -m bench.console [--rows 500000] [--events 50000] [--runs 31] [--keep]
"""

from __future__ import annotations

import bench.django_setup  # noqa: F401 - first: Django set up before the product is imported

# isort: split
import argparse
import hashlib
import json
import random
import statistics
import time
import uuid

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.stats import percentile
from customers.console.search import search_current_store
from stores.models import Account, Role, User
from stores.services import account_create, staff_add, store_create


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console",
        description="Benchmark the profile page and the search on a throw-away store.",
    )
    parser.add_argument("--rows", type=int, default=500_000, help="customers, and visitors")
    parser.add_argument("--events", type=int, default=50_000, help="events of the big customer")
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--searches", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = console_bench(
        rows=args.rows, events=args.events, runs=args.runs, searches=args.searches, keep=args.keep
    )
    print(_table(figures))
    if args.json_path:
        with open(args.json_path, "w") as out:
            out.write(json.dumps(figures, indent=2) + "\n")


def console_bench(*, rows: int, events: int, runs: int, searches: int, keep: bool) -> dict:
    suffix = uuid.uuid4().hex[:6]
    account = account_create(slug=f"bench-{suffix}", name="Bench")
    store = user = None
    try:
        store = store_create(
            account=account, slug=f"bench-{suffix}", name="Bench store", collect_emails=True
        )
        user = staff_add(
            account=account,
            email=f"bench-{suffix}@bench.example",
            role=Role.ANALYST,
            password=uuid.uuid4().hex,
        ).user
        started = time.monotonic()
        _fill(store, rows=rows, events=events)
        print(f"filled in {time.monotonic() - started:.1f} s")
        figures = {"rows": {"customers": rows, "visitors": rows}, "events_big": events}
        figures["profile"] = _profiles(store, user, runs=runs)
        figures["search"] = _search(store, user, rows=rows, searches=searches)
    finally:
        connection.set_schema_to_public()
        if not keep:
            if store is not None:
                store.delete(force_drop=True)
            if user is not None:
                User.objects.filter(pk=user.pk).delete()
            Account.objects.filter(pk=account.pk).delete()
    return figures


def _fill(store, *, rows: int, events: int) -> None:
    connection.set_tenant(store)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (customer_ref, email, name, attributes, "
            "email_digest, customer_digest, first_seen, last_seen) "
            "SELECT 'C-' || i, 'user' || i || '@example' || (i %% 97) || '.com', "
            "'Name' || md5(i::text), '{}', '', '', now() - interval '90 days', "
            "now() - (i %% 1000) * interval '1 hour' FROM generate_series(1, %s) AS i",
            [rows],
        )
        cursor.execute(
            "INSERT INTO customers_visitor (visitor_ref, visitor_digest, customer_id, "
            "first_seen, last_seen, visit_count, visit_days, total_duration_seconds) "
            "SELECT md5('v' || i), '', CASE WHEN i %% 2 = 0 THEN i END, "
            "now() - interval '30 days', now(), 1, 1, 60 FROM generate_series(1, %s) AS i",
            [rows],
        )
        # Background activity of other visitors, so the event tables are not tiny.
        cursor.execute(
            "INSERT INTO customers_click (visitor_id, product_ref, api, position, external, "
            "labels, occurred_at) SELECT 1 + (i::bigint * 7919) %% %s, 'P' || (i %% 500), "
            "'search/search', i %% 10, false, '[]', now() - (i %% 10000) * interval '1 min' "
            "FROM generate_series(1, %s) AS i",
            [rows, rows],
        )
        for ref, n in (("C-SMALL", 10), ("C-BIG", events)):
            cursor.execute(
                "INSERT INTO customers_customer (customer_ref, email, name, attributes, "
                "email_digest, customer_digest, first_seen, last_seen) VALUES "
                "(%s, %s, 'Bench Person', '{\"city\": \"Berlin\"}', '', '', now(), now()) "
                "RETURNING id",
                [ref, f"{ref.lower()}@bench.example"],
            )
            (customer_id,) = cursor.fetchone()
            for k in (1, 2):
                cursor.execute(
                    "INSERT INTO customers_visitor (visitor_ref, visitor_digest, customer_id, "
                    "first_seen, last_seen, visit_count, visit_days, total_duration_seconds) "
                    "VALUES (%s, '', %s, now(), now(), 5, 3, 600) RETURNING id",
                    [f"{ref}-v{k}", customer_id],
                )
                (visitor_id,) = cursor.fetchone()
                share = n // 2 if k == 1 else n - n // 2
                third = max(share // 3, 0)
                for table, columns, values in (
                    (
                        "customers_pageview",
                        "url, title, category, duration_seconds",
                        "'/p/' || i, 'Page', 'cat', 10",
                    ),
                    ("customers_contentview", "product_ref, api", "'P' || i, 'recs'"),
                    (
                        "customers_click",
                        "product_ref, api, position, external, labels",
                        "'P' || i, 'search', 1, false, '[]'",
                    ),
                ):
                    count = share - 2 * third if table == "customers_click" else third
                    cursor.execute(
                        f"INSERT INTO {table} (visitor_id, {columns}, occurred_at) "  # noqa: S608
                        f"SELECT %s, {values}, now() - i * interval '1 min' "
                        "FROM generate_series(1, %s) AS i",
                        [visitor_id, count],
                    )
                cursor.execute(
                    "INSERT INTO customers_order (order_ref, customer_id, visitor_id, email, "
                    "email_digest, total, placed_at) SELECT %s || '-' || i, %s, %s, NULL, '', "
                    "10, now() - i * interval '1 day' FROM generate_series(1, 5) AS i",
                    [f"{ref}-v{k}", customer_id, visitor_id],
                )
    connection.set_schema_to_public()
    # VACUUM (not in a transaction) keeps index-only count scans and fresh statistics.
    with connection.cursor() as cursor:
        for table in ("customer", "visitor", "click", "pageview", "contentview", "order"):
            cursor.execute(f'VACUUM ANALYZE "{store.schema_name}"."customers_{table}"')


def _profiles(store, user, *, runs: int) -> dict:
    client = Client()
    client.force_login(user)
    client.get(f"/s/{store.slug}/")
    urls = {ref: f"/s/{store.slug}/customer/{ref}/" for ref in ("C-SMALL", "C-BIG")}
    times: dict[str, list[float]] = {ref: [] for ref in urls}
    queries: dict[str, int] = {}
    for url in urls.values():
        client.get(url)  # warm
    # Interleaved, so a busy neighbour slows both alike.
    for _ in range(runs):
        for ref, url in urls.items():
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                times[ref].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            queries[ref] = len(captured)
    result = {
        ref: {"median_ms": _ms(statistics.median(times[ref])), "queries": queries[ref]}
        for ref in urls
    }
    result["ratio"] = round(result["C-BIG"]["median_ms"] / result["C-SMALL"]["median_ms"], 2)
    return result


def _search(store, user, *, rows: int, searches: int) -> dict:
    rng = random.Random(7)
    queries = []
    for n in range(searches):
        i = rng.randint(1, rows)
        queries.append(
            [
                f"user{i}@example{i % 97}.com",  # exact e-mail
                f"user{i}"[: rng.randint(5, 9)],  # e-mail prefix, often very broad
                f"C-{i}",  # customer id
                _md5(f"v{i}"),  # visitor id
                _md5(f"v{i}")[:6],  # visitor id prefix
                "name" + _md5(str(i))[:3],  # name prefix
                f"nobody{n}@nowhere.example",  # miss
                f"er{i}@example",  # inside an e-mail (trigram index)
            ][n % 8]
        )
    connection.set_tenant(store)
    selector = []
    for query in queries:
        started = time.perf_counter()
        search_current_store(query)
        selector.append(time.perf_counter() - started)
    connection.set_schema_to_public()
    client = Client()
    client.force_login(user)
    request = []
    for query in queries:
        started = time.perf_counter()
        response = client.get("/search", {"q": query}, HTTP_HX_REQUEST="true")
        request.append(time.perf_counter() - started)
        assert response.status_code == 200
    return {
        "selector_p50_ms": _ms(percentile(selector, 0.5)),
        "selector_p95_ms": _ms(percentile(selector, 0.95)),
        "request_p50_ms": _ms(percentile(request, 0.5)),
        "request_p95_ms": _ms(percentile(request, 0.95)),
        "queries": len(queries),
    }


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 (matches the SQL's md5())


def _table(f: dict) -> str:
    p, s = f["profile"], f["search"]
    return "\n".join(
        [
            f"store: {f['rows']['customers']:,} customers + {f['rows']['visitors']:,} visitors",
            f"profile, 10 events:      {p['C-SMALL']['median_ms']:8.2f} ms  "
            f"({p['C-SMALL']['queries']} queries)",
            f"profile, {f['events_big']:,} events: {p['C-BIG']['median_ms']:8.2f} ms  "
            f"({p['C-BIG']['queries']} queries)  ratio {p['ratio']}",
            f"search selector p50/p95: {s['selector_p50_ms']} / {s['selector_p95_ms']} ms",
            f"search request  p50/p95: {s['request_p50_ms']} / {s['request_p95_ms']} ms "
            f"({s['queries']} queries)",
        ]
    )


if __name__ == "__main__":
    main()
