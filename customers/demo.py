"""Deterministic demo data: realistic shoppers, visits, clicks and orders for one store.

Generates records as a shop's systems would send them and writes them through
the collection services (``customers.ingest``), the same path as the API: the
store's collection settings and suppressions decide what is kept, visitors
are created by their events and their statistics computed from them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from customers.ingest.baskets import basket_set, subscriber_set
from customers.ingest.common import IngestResult
from customers.ingest.crm import customers_sync
from customers.ingest.events import events_ingest
from customers.ingest.orders import orders_sync
from customers.ingest.products import products_sync
from customers.ingest.schemas import (
    CustomerIn,
    OrderIn,
    ProductIn,
    SaleLine,
)
from stores.models import Store

FIRST = [
    "Anna",
    "Lars",
    "Sofie",
    "Jonas",
    "Mia",
    "Emil",
    "Clara",
    "Noah",
    "Ida",
    "Felix",
    "Lea",
    "Oskar",
    "Maja",
    "Paul",
    "Freja",
    "Lukas",
    "Alma",
    "Ben",
    "Ella",
    "Karl",
]
LAST = [
    "Jensen",
    "Müller",
    "Nielsen",
    "Schmidt",
    "Hansen",
    "Fischer",
    "Larsen",
    "Weber",
    "Andersen",
    "Wagner",
    "Petersen",
    "Becker",
    "Kristensen",
    "Hoffmann",
    "Møller",
]
CITIES = ["Aarhus", "Berlin", "Copenhagen", "Hamburg", "Odense", "Munich", "Malmö", "Cologne"]
APIS = [
    "search/search",
    "search/predictive",
    "recommendations/popular",
    "recommendations/visitor/history",
    "recommendations/complementary",
    "email/recommendations",
]
WORDS = [
    "jacket",
    "boots",
    "tent",
    "mug",
    "kettle",
    "sneaker",
    "scarf",
    "backpack",
    "lamp",
    "teapot",
    "socks",
    "pan",
    "knife",
    "bottle",
    "gloves",
    "hat",
]
BATCH = 5000
# Bigger event batches: each batch updates every visitor it touches once.
EVENT_BATCH = 20_000


@dataclass(frozen=True)
class Volume:
    customers: int = 2000
    visitors: int = 5000
    events: int = 200_000
    orders: int = 10_000
    products: int = 400

    def scaled(self, factor: float) -> Volume:
        return Volume(
            *(
                max(1, int(v * factor))
                for v in (self.customers, self.visitors, self.events, self.orders, self.products)
            )
        )


def seed_store(store: Store, *, volume: Volume, seed: int, now: datetime | None = None) -> dict:
    """Fill one (empty) store with demo data; returns row counts per kind."""
    rng = random.Random(f"{seed}:{store.slug}")
    now = now or timezone.now().replace(microsecond=0)
    try:
        return _seed(store, rng, volume, now)
    finally:
        connection.set_schema_to_public()


def _when(rng: random.Random, now: datetime, max_days: int = 330) -> datetime:
    return now - timedelta(seconds=rng.randint(0, max_days * 86400))


def _chunks(items: list, size: int = BATCH):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _seed(store: Store, rng: random.Random, volume: Volume, now: datetime) -> dict:
    # Records are trusted (made here), so they skip validation: model_construct.
    products = [
        ProductIn.model_construct(
            id=str(1000 + i),
            name=f"{rng.choice(['Classic', 'Nordic', 'Urban', 'Pro', 'Soft'])} {rng.choice(WORDS)}",
            price=Decimal(rng.randint(500, 25000)) / 100,
            url=f"https://{store.slug}.example/p/{1000 + i}",
            categories=[rng.choice(WORDS)],
        )
        for i in range(volume.products)
    ]
    result = products_sync(store=store, products=products)
    product_refs = [p.id for p in products]
    prices = {p.id: p.price for p in products}

    customers = []
    for i in range(volume.customers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        customers.append(
            CustomerIn.model_construct(
                id=f"C{10000 + i}",
                # Sent whatever the store's settings; the service drops what is not collected.
                email=f"{first}.{last}{i}@example.com".lower(),
                name=f"{first} {last}",
                time=_when(rng, now),
                age=rng.randint(18, 80),
                gender=rng.choice(["female", "male", "other"]),
                city=rng.choice(CITIES),
            )
        )
    for chunk in _chunks(customers):
        result.merge(customers_sync(store=store, customers=chunk))

    visitors: list[tuple[str, datetime]] = []
    if store.track_browsing:
        result.merge(_seed_events(store, rng, customers, product_refs, volume, now, visitors))
    result.merge(_seed_orders(store, rng, customers, visitors, product_refs, prices, volume, now))
    result.merge(_seed_baskets_and_newsletter(store, rng, customers, visitors, product_refs, now))
    stored = result.stored
    return {
        "products": stored["products"],
        "customers": stored["customers"],
        "visitors": len(visitors),
        "page_views": stored["page_views"],
        "content_views": stored["content_views"],
        "clicks": stored["clicks"],
        "orders": stored["orders"],
        "order_lines": result.stored["order_lines"],
        "baskets": stored["baskets"],
        "subscribers": stored["subscribers"],
    }


def _seed_baskets_and_newsletter(store, rng, customers, visitors, product_refs, now):
    """Open baskets on a few devices and of a few e-mails; a newsletter list with withdrawals."""
    result = IngestResult()
    for ref, _ in rng.sample(visitors, min(len(visitors), max(1, len(visitors) // 50))):
        result.merge(
            basket_set(
                store=store,
                visitor=ref,
                email=None,
                products=rng.sample(product_refs, rng.randint(1, 3)),
                at=now - timedelta(hours=rng.randint(1, 72)),
            )
        )
    for c in rng.sample(customers, min(len(customers), max(1, len(customers) // 10))):
        result.merge(
            subscriber_set(
                store=store,
                email=c.email,
                subscribed=rng.random() < 0.8,
                at=now - timedelta(days=rng.randint(1, 300)),
            )
        )
        if rng.random() < 0.3:
            result.merge(
                basket_set(
                    store=store,
                    visitor=None,
                    email=c.email,
                    products=rng.sample(product_refs, 1),
                    at=now - timedelta(days=rng.randint(1, 20)),
                )
            )
    return result


def _seed_events(store, rng, customers, product_refs, volume, now, visitors) -> IngestResult:
    """Every visitor's last visit first (logged in for half of them), then random events."""
    raw: list[tuple] = []
    for i in range(volume.visitors):
        # Roughly half the visitors log in at some point and are linked to a customer.
        customer = customers[i % len(customers)].id if customers and i % 2 == 0 else None
        last_seen = _when(rng, now)
        ref = f"v-{store.slug[:4]}-{rng.getrandbits(48):012x}"
        visitors.append((ref, last_seen))
        raw.append((last_seen, "page", ref, "/", "Home", "", rng.randint(3, 300), customer))
    for _ in range(max(0, volume.events - len(visitors))):
        ref, last_seen = (
            visitors[min(len(visitors) - 1, int(rng.paretovariate(0.9)) - 1)]
            if rng.random() < 0.3
            else rng.choice(visitors)
        )
        at = last_seen - timedelta(seconds=rng.randint(0, 86400 * 30))
        roll = rng.random()
        product = rng.choice(product_refs)
        if roll < 0.5:
            category = rng.choice(WORDS)
            raw.append(
                (
                    at,
                    "page",
                    ref,
                    f"/c/{category}/{product}",
                    category.title(),
                    category,
                    rng.randint(3, 300),
                    None,
                )
            )
        elif roll < 0.8:
            raw.append((at, "product", ref, product, rng.choice(APIS)))
        else:
            raw.append((at, "click", ref, product, rng.choice(APIS), rng.randint(0, 11)))
    # In time order, as a shop sends them: the visit statistics come out exact.
    raw.sort(key=lambda r: (r[0], r[2]))
    result = IngestResult()
    for chunk in _chunks(raw, EVENT_BATCH):
        result.merge(events_ingest(store=store, events=[_event(r) for r in chunk], trusted=True))
    return result


@dataclass(slots=True)
class _Tracked:
    """A tracking event as the ingest service reads it (the fields of ingest_schemas' events).

    Made here, so trusted: plain slots instead of 200,000 validated models.
    """

    kind: str
    visitor: str
    time: datetime
    customer: str | None = None
    url: str = ""
    title: str = ""
    category: str = ""
    duration: int = 0
    product: str = ""
    api: str = ""
    n: int | None = None
    external: bool = False
    labels: tuple = ()


def _event(r: tuple) -> _Tracked:
    if r[1] == "page":
        at, _, ref, url, title, category, duration, customer = r
        return _Tracked(
            "page", ref, at, customer, url=url, title=title, category=category, duration=duration
        )
    if r[1] == "product":
        at, _, ref, product, api = r
        return _Tracked("product", ref, at, product=product, api=api)
    at, _, ref, product, api, position = r
    return _Tracked("click", ref, at, product=product, api=api, n=position)


def _seed_orders(store, rng, customers, visitors, product_refs, prices, volume, now):
    orders = []
    for i in range(volume.orders):
        customer = rng.choice(customers) if customers and rng.random() < 0.8 else None
        visitor = rng.choice(visitors)[0] if visitors and rng.random() < 0.6 else None
        placed = _when(rng, now)
        products = []
        for _ in range(rng.randint(1, 4)):
            ref = rng.choice(product_refs)
            products.append(
                SaleLine.model_construct(id=ref, quantity=rng.randint(1, 3), price=prices[ref])
            )
        orders.append(
            OrderIn.model_construct(
                id=f"O{100000 + i}",
                customer=customer.id if customer else None,
                email=customer.email if customer else None,
                visitor=visitor,
                products=products,
                time=placed,
            )
        )
    result = IngestResult()
    for chunk in _chunks(orders):
        result.merge(orders_sync(store=store, orders=chunk))
    return result
