"""The benchmark's store: millions of rows, loaded with COPY into a fresh store schema.

Shape (default scale): 100,000 customers and 900,000 visitors (one million
people to search), 1,000,000 events (page views, content views, clicks) on
random visitors, orders for a fifth of the customers; plus named subjects the
figures need: a customer with 10 events, one with 50,000, copies of the heavy
one to forget, and many small subjects for the forget throughput run.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from bench.bulk_stores import dashboard_stores_create
from gdpr_dashboard.models import PrivacyRequest
from stores.digests import identifier_digest
from stores.models import Account, Role, Store, User
from stores.services import account_create, staff_add, store_create

BENCH_ACCOUNT = "bench"
BENCH_STORE = "bench-big"
BENCH_OWNER = "owner@bench.example"
BENCH_PASSWORD = "bench-password-not-secret"
FIRST = ["anna", "lars", "sofie", "jonas", "mia", "emil", "clara", "noah", "ida", "felix"]
LAST = ["jensen", "muller", "nielsen", "schmidt", "hansen", "fischer", "larsen", "weber"]
APIS = ["search/search", "recommendations/popular", "recommendations/visitor/history"]


@dataclass(frozen=True)
class Scale:
    customers: int = 100_000
    visitors: int = 900_000
    events: int = 1_000_000
    heavy_events: int = 50_000  # the big subject of the profile and forget figures
    light_events: int = 10
    forget_copies: int = 6  # heavy subjects to forget: a pair per run (job, raw SQL)
    small_forgets: int = 1_000

    @classmethod
    def quick(cls) -> Scale:
        return cls(
            customers=2_000,
            visitors=8_000,
            events=20_000,
            heavy_events=5_000,
            forget_copies=6,
            small_forgets=50,
        )


@dataclass
class Dataset:
    store: Store
    scale: Scale
    light_email: str = "light@bench.example"
    heavy_email: str = "heavy@bench.example"
    forget_emails: list[str] = field(default_factory=list)
    small_emails: list[str] = field(default_factory=list)
    sample_emails: list[str] = field(default_factory=list)
    sample_customer_refs: list[str] = field(default_factory=list)
    sample_visitor_refs: list[str] = field(default_factory=list)
    sample_names: list[str] = field(default_factory=list)
    build_seconds: float = 0.0


def _ts(value: datetime) -> str:
    return value.isoformat()


def _copy(cursor, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    """COPY rows (tuples of str/int/None) into table, streamed in blocks; returns the count."""
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
            count += 1
            if count % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def ensure_owner() -> tuple[Account, object]:
    account = Account.objects.filter(slug=BENCH_ACCOUNT).first() or account_create(
        slug=BENCH_ACCOUNT, name="Bench Co"
    )
    membership = staff_add(
        account=account, email=BENCH_OWNER, role=Role.OWNER, password=BENCH_PASSWORD
    )
    return account, membership.user


def drop_store(slug: str) -> None:
    connection.set_schema_to_public()
    store = Store.objects.filter(slug=slug).first()
    if store is not None:
        PrivacyRequest.objects.filter(store=store).delete()
        store.delete(force_drop=True)


def build(scale: Scale, *, seed: int = 8, progress: Callable[[str], None] = print) -> Dataset:
    """Drop and rebuild the bench store at this scale."""
    started = time.perf_counter()
    account, _ = ensure_owner()
    drop_store(BENCH_STORE)
    store = store_create(
        account=account,
        slug=BENCH_STORE,
        name="Bench Big Store",
        collect_emails=True,
        crm_fields=["age", "city"],
        product_codes=["search", "recommendations"],
    )
    data = Dataset(store=store, scale=scale)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    secret = store.secret
    connection.set_tenant(store)
    try:
        with connection.cursor() as cursor:
            _load(cursor, data, rng, now, secret, progress)
            # As autovacuum would after a load this size: statistics for the planner and the
            # visibility map, without which index-only scans (the profile's counts) read the heap.
            progress("vacuum analyze")
            cursor.execute("VACUUM (ANALYZE)")
    finally:
        connection.set_schema_to_public()
    data.build_seconds = time.perf_counter() - started
    return data


def _people(data: Dataset, rng: random.Random):
    """Customers: the random crowd, then the named subjects (ids in that order)."""
    s = data.scale
    crowd = []
    for i in range(s.customers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        crowd.append((f"{first}.{last}{i}@example.com", f"C{100000 + i}", f"{first} {last}"))
    named = [(data.light_email, "C-LIGHT", "Light Subject"), (data.heavy_email, "C-HEAVY", "Heavy")]
    data.forget_emails = [f"forget{k}@bench.example" for k in range(s.forget_copies)]
    named += [(e, f"C-FORGET-{k}", "Forget Me") for k, e in enumerate(data.forget_emails)]
    data.small_emails = [f"small{k}@bench.example" for k in range(s.small_forgets)]
    named += [(e, f"C-SMALL-{k}", "Small Subject") for k, e in enumerate(data.small_emails)]
    return crowd, named


def _load(cursor, data: Dataset, rng, now, secret, progress) -> None:
    s = data.scale
    crowd, named = _people(data, rng)
    people = crowd + named
    progress(f"customers: {len(people):,}")
    ages = ["age", "city"]

    def customers():
        for pk, (email, ref, name) in enumerate(people, start=1):
            seen = now - timedelta(minutes=rng.randint(0, 500_000))
            attrs = json.dumps({ages[0]: rng.randint(18, 80), ages[1]: "Aarhus"})
            yield (
                pk,
                ref,
                email,
                name,
                attrs,
                identifier_digest(secret, "email", email),
                identifier_digest(secret, "customer", ref),
                _ts(seen - timedelta(days=30)),
                _ts(seen),
            )

    _copy(
        cursor,
        "customers_customer",
        [
            "id",
            "customer_ref",
            "email",
            "name",
            "attributes",
            "email_digest",
            "customer_digest",
            "first_seen",
            "last_seen",
        ],
        customers(),
    )
    # Visitors: the crowd (30% linked to a crowd customer), then per named subject.
    n_crowd_customers = len(crowd)
    named_ids = {email: n_crowd_customers + 1 + k for k, (email, _, _) in enumerate(named)}
    visitor_rows: list[tuple[int | None, str]] = []
    for i in range(s.visitors):
        customer = rng.randint(1, n_crowd_customers) if rng.random() < 0.3 else None
        visitor_rows.append((customer, f"v-{i:07d}-{rng.getrandbits(32):08x}"))
    subject_visitors: dict[str, list[int]] = {}
    for email, _, _ in named:
        count = 5 if email == data.heavy_email or email in data.forget_emails else 1
        first = len(visitor_rows) + 1
        for k in range(count):
            visitor_rows.append((named_ids[email], f"v-{email.split('@')[0]}-{k}"))
        subject_visitors[email] = list(range(first, first + count))
    progress(f"visitors: {len(visitor_rows):,}")

    def visitors():
        for pk, (customer, ref) in enumerate(visitor_rows, start=1):
            seen = now - timedelta(minutes=rng.randint(0, 500_000))
            yield (
                pk,
                ref,
                identifier_digest(secret, "visitor", ref),
                customer if customer is not None else None,
                _ts(seen - timedelta(days=10)),
                _ts(seen),
                rng.randint(1, 20),
                rng.randint(1, 10),
                rng.randint(10, 5000),
            )

    _copy(
        cursor,
        "customers_visitor",
        [
            "id",
            "visitor_ref",
            "visitor_digest",
            "customer_id",
            "first_seen",
            "last_seen",
            "visit_count",
            "visit_days",
            "total_duration_seconds",
        ],
        visitors(),
    )
    # Events: the crowd's random ones, then each named subject's own.
    plan: list[tuple[int, int]] = [(rng.randint(1, s.visitors), 1) for _ in range(s.events)]
    for email, _, _ in named:
        if email == data.light_email:
            total = s.light_events
        elif email == data.heavy_email or email in data.forget_emails:
            total = s.heavy_events
        else:
            total = 3
        ids = subject_visitors[email]
        plan.extend((ids[k % len(ids)], 1) for k in range(total))
    progress(f"events: {len(plan):,}")
    pages, views, clicks = [], [], []
    for visitor_id, _ in plan:
        roll = rng.random()
        at = _ts(now - timedelta(seconds=rng.randint(0, 30_000_000)))
        product = str(1000 + rng.randint(0, 400))
        if roll < 0.5:
            pages.append((visitor_id, f"/c/shoes/{product}", "Shoes", "shoes", 30, at))
        elif roll < 0.8:
            views.append((visitor_id, product, rng.choice(APIS), at))
        else:
            clicks.append(
                (visitor_id, product, rng.choice(APIS), rng.randint(0, 11), "f", "[]", at)
            )
    _copy(
        cursor,
        "customers_pageview",
        ["visitor_id", "url", "title", "category", "duration_seconds", "occurred_at"],
        iter(pages),
    )
    _copy(
        cursor,
        "customers_contentview",
        ["visitor_id", "product_ref", "api", "occurred_at"],
        iter(views),
    )
    _copy(
        cursor,
        "customers_click",
        ["visitor_id", "product_ref", "api", "position", "external", "labels", "occurred_at"],
        iter(clicks),
    )
    # Orders: a fifth of the crowd plus every named subject has one, with two lines each.
    buyers = rng.sample(range(1, n_crowd_customers + 1), n_crowd_customers // 5)
    buyers += list(named_ids.values())
    progress(f"orders: {len(buyers):,}")
    _copy(
        cursor,
        "customers_order",
        ["id", "order_ref", "customer_id", "email", "email_digest", "total", "placed_at"],
        (
            (
                pk,
                f"O{pk:08d}",
                customer,
                people[customer - 1][0],
                identifier_digest(secret, "email", people[customer - 1][0]),
                "59.80",
                _ts(now - timedelta(days=rng.randint(0, 300))),
            )
            for pk, customer in enumerate(buyers, start=1)
        ),
    )
    _copy(
        cursor,
        "customers_orderline",
        ["order_id", "product_ref", "quantity", "price"],
        (
            (pk, str(1000 + (pk + k) % 400), 1, "29.90")
            for pk in range(1, len(buyers) + 1)
            for k in (0, 1)
        ),
    )
    for table in ("customers_customer", "customers_visitor", "customers_order"):
        # Two statements: on Citus one reading the store's table runs on its worker, where
        # the sequence is not to be found by the table's name.
        cursor.execute(f"SELECT max(id) FROM {table}")
        (last,) = cursor.fetchone()
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, last])
    sample = rng.sample(range(n_crowd_customers), min(200, n_crowd_customers))
    data.sample_emails = [crowd[i][0] for i in sample]
    data.sample_customer_refs = [crowd[i][1] for i in sample]
    data.sample_names = [crowd[i][2] for i in sample]
    data.sample_visitor_refs = [
        visitor_rows[i][1] for i in rng.sample(range(s.visitors), min(200, s.visitors))
    ]


DASH_ACCOUNT = "bench-dash"
DASH_OWNER = "dash@bench.example"


def session_cookie(email: str) -> dict:
    """A logged-in session for this user, as the Cookie header a browser would send."""
    user = User.objects.get(email=email)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"Cookie": f"sessionid={session.session_key}"}


def dashboard_account(n: int) -> tuple[str, dict]:
    """An account with n stores for the dashboard figure (public rows only: the dashboard
    never reads a store schema), owned by its own user so search elsewhere is not affected."""
    connection.set_schema_to_public()
    account = Account.objects.filter(slug=DASH_ACCOUNT).first() or account_create(
        slug=DASH_ACCOUNT, name="Bench Dashboard Co"
    )
    Store.objects.filter(account=account).delete()  # rows only; these stores have no schema
    staff_add(account=account, email=DASH_OWNER, role=Role.OWNER, password=BENCH_PASSWORD)
    dashboard_stores_create(
        account=account,
        n=n,
        slug_prefix="bench-dash",
        counts=lambda i: {
            "customers": 1000 + i,
            "visitors": 5000,
            "page_views": 90_000,
            "orders": 300,
        },
    )
    return account.slug, session_cookie(DASH_OWNER)


def drop_dashboard_account() -> None:
    connection.set_schema_to_public()
    Store.objects.filter(account__slug=DASH_ACCOUNT).delete()
    Account.objects.filter(slug=DASH_ACCOUNT).delete()
