"""python -m bench.stores [--stores 1000] [--account-stores 1000] [--spares N] [--nightly 10000]
[--workers 2] [--quick]

Many stores on one PostgreSQL (README, "Benchmarks"): makes ``--spares`` spare schemas
ahead (timed on their own), creates ``--stores`` stores with ``store_create`` (the first
``--account-stores`` in account ``bench-many``, whose dashboard, store pages and search are
timed; the rest in ``bench-many-more``; with fewer spares the rest replay the DDL), runs
the nightly expiry spread over all of them under clicks, times a ``migrate_stores``
with nothing to do (noted states, and ``--verify`` reading every schema), then a real migration (a
column and a concurrently built index on the clicks table, bench/next_migration.py)
over all of them in ``--workers`` processes, and the scheduling of the nightly spread
for ``--nightly`` stores (public rows only: scheduling reads ids, queued messages are
purged). Everything it made is dropped at the end. Use a CELERY_KEY_PREFIX of its own.
"""

from __future__ import annotations

import bench.django_setup  # noqa: F401 - first: Django set up before the product is imported

# isort: split
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from bench import many_stores_pages, nightly_load, processes, report
from bench.next_migration import next_migration
from bench.stats import percentile
from customers import jobs
from stores import schemas
from stores.models import Account, SchemaTemplate, SpareSchema, Store
from stores.schema_migrations import stores_lacking, stores_migrate, stores_verify
from stores.services import account_create, store_create

ACCOUNT = "bench-many"
MORE_ACCOUNT = "bench-many-more"
NIGHTLY_ACCOUNT = "bench-nightly"


def _figure(key, title, unit, target, value, source="", note="", detail=None):
    figure = report.Figure(key, title, unit, target, source=source, note=note)
    figure.value, figure.runs, figure.detail = value, [value], detail or {}
    return figure


def create_stores(n: int, spares: int, in_account: int, say) -> tuple[list[float], float]:
    """(milliseconds per store_create, milliseconds per spare schema made ahead)."""
    account = Account.objects.filter(slug=ACCOUNT).first() or account_create(
        slug=ACCOUNT, name="Bench many stores"
    )
    more = Account.objects.filter(slug=MORE_ACCOUNT).first() or account_create(
        slug=MORE_ACCOUNT, name="Bench more stores"
    )
    schemas.template_current()  # built once, outside the timing (a deploy builds it)
    started = time.perf_counter()
    schemas.spare_schemas_fill(count=spares)
    fill_ms = (time.perf_counter() - started) * 1000 / max(1, spares)
    say(f"  {spares} spare schemas made ahead, {fill_ms:.0f} ms each")
    timings = []
    for i in range(n):
        started = time.perf_counter()
        owner = account if i < in_account else more
        store_create(account=owner, slug=f"bm-{i}", name=f"Bench store {i}")
        timings.append((time.perf_counter() - started) * 1000)
        if (i + 1) % 500 == 0:
            say(f"  {i + 1} stores, median so far {statistics.median(timings):.1f} ms")
    return timings, fill_ms


def nightly_scheduling(n: int, say) -> float:
    """Seconds to queue the expiry task through every spread step, per 10,000 stores: ``n``
    store rows are added, and the spread covers every store in the database (the bench's
    own ``--stores`` too), so the time is scaled by the messages actually queued."""
    account = account_create(slug=NIGHTLY_ACCOUNT, name="Bench nightly")
    Store.objects.bulk_create(
        Store(account=account, slug=f"bn-{i}", name="N", schema_name=f"store_bn_{i}")
        for i in range(n)
    )
    started = time.perf_counter()
    after, sent = 0, 0
    chunk = 20
    while after is not None:  # the steps a worker would run, back to back
        after, count = jobs.spread_step("retention_expire_store", after_id=after, chunk=chunk)
        sent += count
    seconds = time.perf_counter() - started
    say(f"  queued {sent} messages in {seconds:.2f} s")
    processes.maintenance_queue_purge()
    return seconds * 10000 / max(1, sent)


def drop_everything(say) -> None:
    connection.set_schema_to_public()
    stores = list(Store.objects.filter(account__slug__in=[ACCOUNT, MORE_ACCOUNT]))
    say(f"dropping {len(stores)} stores …")
    for store in stores:
        store.delete(force_drop=True)
    Store.objects.filter(account__slug=NIGHTLY_ACCOUNT).delete()  # rows only, no schemas
    many_stores_pages.forget_owner()
    Account.objects.filter(slug__in=[ACCOUNT, MORE_ACCOUNT, NIGHTLY_ACCOUNT]).delete()
    for spare in SpareSchema.objects.all():  # left when there were more spares than stores
        schemas.schema_drop(spare.schema_name)
        spare.delete()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stores")
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument(
        "--account-stores",
        type=int,
        default=1000,
        help="stores of the account whose console is timed (the rest in another account)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        help="stores the nightly spread under clicks and the real migration are timed on "
        "(default: all; their cost per store does not grow with the count)",
    )
    parser.add_argument("--nightly", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--spares", type=int, help="spare schemas made ahead (default: one per store)"
    )
    parser.add_argument("--quick", action="store_true", help="50 stores, 1,000 nightly (CI)")
    parser.add_argument("--keep", action="store_true", help="keep the stores (not the bench rows)")
    args = parser.parse_args(argv)
    if args.quick:
        args.stores, args.nightly = 50, 1000
    args.spares = args.stores if args.spares is None else args.spares
    say = print
    figures: list[report.Figure] = []
    kept_states = set(SchemaTemplate.objects.values_list("state", flat=True))
    try:
        say(f"creating {args.stores} stores …")
        timings, fill_ms = create_stores(args.stores, args.spares, args.account_stores, say)
        figures.append(
            _figure(
                "store_create_ms",
                f"Create a store (median of {args.stores})",
                "ms",
                50,
                statistics.median(timings),
                "a store on sign-up in milliseconds",
                note=f"{min(args.spares, args.stores)} of them from spare schemas",
                detail={"p95": percentile(timings, 0.95), "mean": statistics.mean(timings)},
            )
        )
        figures.append(
            _figure(
                "spare_fill_ms",
                "A spare schema made ahead (DDL replayed), each",
                "ms",
                None,
                fill_ms,
            )
        )
        n = min(args.stores, args.account_stores)
        say(f"the console of an account with {n} stores (of {args.stores}) …")
        pages = many_stores_pages.measure(Account.objects.get(slug=ACCOUNT), say)
        figures += [
            _figure(
                "account_dashboard_ms",
                f"GDPR dashboard, account with {n} stores (median)",
                "ms",
                300,
                statistics.median(pages["dashboard"]),
                "a DPO's overview of a big account",
                note="in process, no HTTP",
            ),
            _figure(
                "account_search_p95_ms",
                f"Search of an exact e-mail or id across {n} stores, p95",
                "ms",
                50,
                percentile(pages["search"], 0.95),
                "find a person in every store at once",
                note="substrings and names in the current store only",
                detail={"p50": statistics.median(pages["search"])},
            ),
            _figure(
                "account_search_live_p95_ms",
                f"The same searches as the header's box sends them (htmx), {n} stores, p95",
                "ms",
                None,
                percentile(pages["search_live"], 0.95),
                note="the results only, no page around them",
                detail={"p50": statistics.median(pages["search_live"])},
            ),
            _figure(
                "account_store_page_ms",
                "A store page with the store menu (median)",
                "ms",
                None,
                statistics.median(pages["store_page"]),
            ),
            _figure(
                "account_store_list_ms",
                f"The store list, first of {-(-n // 60)} pages (median)",
                "ms",
                None,
                statistics.median(pages["store_list"]),
            ),
        ]
        sample = min(args.sample or args.stores, args.stores)
        say(f"live ingestion while the nightly expiry runs over {sample} stores …")
        bench_stores = Store.objects.filter(account__slug__in=[ACCOUNT, MORE_ACCOUNT])
        night = nightly_load.measure(list(bench_stores.order_by("pk")[:sample]), say)
        figures.append(
            _figure(
                "nightly_ingest_ratio",
                f"Click p95 while expiry spreads over {sample} stores vs before/after",
                "x",
                2,
                night["ratio"],
                "the shops keep sending events through the night's work",
                note=f"100 req/s; the spread took {night['seconds']:.0f} s for {sample} of "
                f"{args.stores} stores",
                detail={k: v for k, v in night.items() if k != "ratio"},
            )
        )
        slugs = [f"bm-{i}" for i in range(args.stores)]
        started = time.perf_counter()
        call_command("migrate_stores", verbosity=0)
        noop = (time.perf_counter() - started) * 1000 / args.stores
        figures.append(
            _figure(
                "migrate_noop_ms",
                "migrate_stores, nothing to do, per store",
                "ms",
                6,
                noop,
                "10,000 stores in a minute",
                note=f"{args.stores} stores + the test/demo ones",
            )
        )
        started = time.perf_counter()
        assert stores_verify(slugs=slugs) == []
        verify = (time.perf_counter() - started) * 1000 / args.stores
        figures.append(
            _figure(
                "migrate_verify_ms",
                "migrate_stores --verify, reading every schema, per store",
                "ms",
                None,
                verify,
            )
        )
        with tempfile.TemporaryDirectory() as directory, next_migration(Path(directory)):
            lacking = stores_lacking(slugs=slugs[:sample])
            say(f"real migration over {len(lacking)} stores, {args.workers} workers …")
            started = time.perf_counter()
            result = stores_migrate(lacking=lacking, workers=args.workers)
            seconds = time.perf_counter() - started
            say(f"  {len(result.done)} migrated, {len(result.failed)} failed in {seconds:.1f} s")
            figures.append(
                _figure(
                    "migrate_real_s",
                    f"A real migration over {sample} stores",
                    "s",
                    300 * sample / 1000,
                    seconds,
                    "1,000 stores in 5 minutes (target scaled to the store count)",
                    detail={"failed": len(result.failed), "workers": args.workers},
                )
            )
        say(f"scheduling the nightly spread for {args.nightly} stores …")
        figures.append(
            _figure(
                "nightly_schedule_s",
                "Scheduling nightly work, per 10,000 stores",
                "s",
                10,
                nightly_scheduling(args.nightly, say),
                "10,000 stores in 10 s",
                note=f"{args.nightly} store rows added to the bench's own",
            )
        )
    finally:
        # The figures first (also those before a failure): dropping 10,000 stores takes a
        # while.
        say("")
        say(report.table(figures))
        if not args.keep:
            drop_everything(say)
        SchemaTemplate.objects.exclude(state__in=kept_states).delete()


if __name__ == "__main__":
    main()
