"""The console for an account with many stores (``python -m bench.stores``): the GDPR
dashboard, the store list and a store page (header with the store menu), and the top search
of an exact e-mail or id across all of them.

Timed in process through Django's test client (the view, its queries and the template,
no HTTP), logged in as the account's owner, after one warm-up request each; what is loaded
by then is frozen for the garbage collector, as the web process does (clerkgdpr/wsgi.py).
With production's settings (``DEBUG`` off: no query log, no template debug information),
on a settled database (no autovacuum at work, a checkpoint behind).
"""

from __future__ import annotations

import gc
import statistics
import time

from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from bench.settle import settle_database
from bench.stats import percentile
from customers.models import Customer, Visitor
from gdpr_dashboard.models import InventorySnapshot
from stores.digests import identifier_digest
from stores.models import Account, Membership, Role, Store, User

OWNER = "bench-many-owner@example.com"
PEOPLE = 20  # e-mails, each held by a few stores
SEARCHES = 60


def _timed(client: Client, path: str, data: dict | None = None, runs: int = 10) -> list[float]:
    client.get(path, data)  # warm-up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, data)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return timings


def _people(stores: list[Store]) -> list[str]:
    """PEOPLE e-mails, each a customer (with a device) in every 97th store from its own."""
    emails = [f"person-{i}@bench.example" for i in range(PEOPLE)]
    now = timezone.now()
    try:
        for i, email in enumerate(emails):
            for store in stores[i::97]:
                connection.set_tenant(store)
                customer = Customer.objects.create(
                    customer_ref=f"C-{i}",
                    email=email,
                    email_digest=identifier_digest(store.secret, "email", email),
                    customer_digest=identifier_digest(store.secret, "customer", f"C-{i}"),
                    first_seen=now,
                    last_seen=now,
                )
                Visitor.objects.create(
                    visitor_ref=f"v-{i}",
                    visitor_digest=identifier_digest(store.secret, "visitor", f"v-{i}"),
                    customer=customer,
                    first_seen=now,
                    last_seen=now,
                )
    finally:
        connection.set_schema_to_public()
    return emails


def measure(account: Account, say) -> dict[str, list[float]]:
    stores = list(Store.objects.filter(account=account).order_by("name"))
    now = timezone.now()
    InventorySnapshot.objects.bulk_create(
        InventorySnapshot(store=s, counts={"visitors": 1, "customers": 1}, refreshed_at=now)
        for s in stores
    )
    owner = User.objects.filter(email=OWNER).first() or User.objects.create_user(
        email=OWNER, password=None
    )
    Membership.objects.get_or_create(user=owner, account=account, defaults={"role": Role.OWNER})
    say(f"  {PEOPLE} people in {len(stores)} stores …")
    emails = _people(stores)
    settle_database()
    with override_settings(DEBUG=False):
        return _console(owner, account, stores, emails, say)


def _console(owner: User, account: Account, stores: list[Store], emails: list[str], say) -> dict:
    client = Client()
    client.force_login(owner)
    client.get("/healthz")  # the URLconf and the apps loaded, then frozen as in clerkgdpr/wsgi.py
    gc.freeze()
    timings = {
        "dashboard": _timed(client, f"/a/{account.slug}/gdpr/"),
        "store_list": _timed(client, "/"),
        "store_page": _timed(client, f"/s/{stores[len(stores) // 2].slug}/"),
    }
    queries = [emails[i % PEOPLE] if i % 3 else f"nobody-{i}@bench.example" for i in range(40)]
    queries += [f"C-{i % PEOPLE}" for i in range(10)] + [f"v-{i % PEOPLE}" for i in range(10)]
    timings["search"] = _searches(client, queries[:SEARCHES])
    # What the header's search box fetches as one types (htmx: the results, no page around).
    timings["search_live"] = _searches(client, queries[:SEARCHES], HTTP_HX_REQUEST="true")
    for name, values in timings.items():
        say(
            f"  {name}: median {statistics.median(values):.1f} ms, "
            f"p95 {percentile(values, 0.95):.1f} ms"
        )
    return timings


def _searches(client: Client, queries: list[str], **headers) -> list[float]:
    client.get("/search", {"q": queries[0]}, **headers)
    timings = []
    for query in queries:
        started = time.perf_counter()
        response = client.get("/search", {"q": query}, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return timings


def forget_owner() -> None:
    User.objects.filter(email=OWNER).delete()
