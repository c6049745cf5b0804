"""Deterministic demo data: realistic shoppers, visits, clicks and orders for one store.

Generates plain rows and writes them with bulk inserts in the store's schema.
The store's collection settings are honoured (no e-mails where the store does
not collect them, only allowed CRM fields, no browsing if tracking is off).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from customers.models import (
    Click,
    ContentView,
    Customer,
    Order,
    OrderLine,
    PageView,
    Product,
    Visitor,
)
from gdpr_dashboard.suppression import SuppressionFilter
from stores.digests import identifier_digest
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
    connection.set_tenant(store)
    try:
        with transaction.atomic():
            return _seed(store, rng, volume, now)
    finally:
        connection.set_schema_to_public()


def _when(rng: random.Random, now: datetime, max_days: int = 330) -> datetime:
    return now - timedelta(seconds=rng.randint(0, max_days * 86400))


def _seed(store: Store, rng: random.Random, volume: Volume, now: datetime) -> dict:
    products = [
        Product(
            product_ref=str(1000 + i),
            name=f"{rng.choice(['Classic', 'Nordic', 'Urban', 'Pro', 'Soft'])} {rng.choice(WORDS)}",
            price=Decimal(rng.randint(500, 25000)) / 100,
            url=f"https://{store.slug}.example/p/{1000 + i}",
            categories=[rng.choice(WORDS)],
        )
        for i in range(volume.products)
    ]
    Product.objects.bulk_create(products, batch_size=BATCH)
    product_refs = [p.product_ref for p in products]
    prices = {p.product_ref: p.price for p in products}

    customers = []
    for i in range(volume.customers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        ref = f"C{10000 + i}"
        email = f"{first}.{last}{i}@example.com".lower() if store.collect_emails else None
        attrs = {
            "age": rng.randint(18, 80),
            "gender": rng.choice(["female", "male", "other"]),
            "city": rng.choice(CITIES),
        }
        attrs = {k: v for k, v in attrs.items() if k in store.crm_fields}
        seen = _when(rng, now)
        customers.append(
            Customer(
                customer_ref=ref,
                email=email,
                name=f"{first} {last}",
                attributes=attrs,
                email_digest=identifier_digest(store.secret, "email", email) if email else "",
                customer_digest=identifier_digest(store.secret, "customer", ref),
                first_seen=seen - timedelta(days=rng.randint(0, 60)),
                last_seen=seen,
            )
        )
    # Forgotten people stay forgotten: their old records are not loaded again.
    suppressed = SuppressionFilter(store=store)
    if suppressed:
        customers = [
            c
            for c in customers
            if not suppressed.blocks(kind="email", digest=c.email_digest, at=c.first_seen)
            and not suppressed.blocks(kind="customer", digest=c.customer_digest, at=c.first_seen)
        ]
    Customer.objects.bulk_create(customers, batch_size=BATCH)

    visitors = []
    if store.track_browsing:
        for i in range(volume.visitors):
            # Roughly half the visitors log in at some point and are linked to a customer.
            customer = customers[i % len(customers)] if customers and i % 2 == 0 else None
            last_seen = _when(rng, now)
            visits = max(1, int(rng.paretovariate(1.3)))
            ref = f"v-{store.slug[:4]}-{rng.getrandbits(48):012x}"
            visitors.append(
                Visitor(
                    visitor_ref=ref,
                    visitor_digest=identifier_digest(store.secret, "visitor", ref),
                    customer=customer,
                    first_seen=last_seen - timedelta(days=rng.randint(0, 90)),
                    last_seen=last_seen,
                    visit_count=visits,
                    visit_days=max(1, visits - rng.randint(0, visits // 2)),
                    total_duration_seconds=visits * rng.randint(30, 900),
                )
            )
        if suppressed:
            kept = {id(c) for c in customers}
            visitors = [
                v
                for v in visitors
                if (v.customer is None or id(v.customer) in kept)
                and not suppressed.blocks(kind="visitor", digest=v.visitor_digest, at=v.first_seen)
            ]
        Visitor.objects.bulk_create(visitors, batch_size=BATCH)

    counts = {"products": len(products), "customers": len(customers), "visitors": len(visitors)}
    counts.update(_seed_events(rng, visitors, product_refs, volume.events, now))
    counts.update(_seed_orders(store, rng, customers, visitors, product_refs, prices, volume, now))
    suppressed.save_counts()
    return counts


def _seed_events(rng, visitors, product_refs, total, now) -> dict:
    counts = {"page_views": 0, "content_views": 0, "clicks": 0}
    if not visitors:
        return counts
    pages, views, clicks = [], [], []

    def flush(force: bool = False) -> None:
        for rows, model, name in (
            (pages, PageView, "page_views"),
            (views, ContentView, "content_views"),
            (clicks, Click, "clicks"),
        ):
            if rows and (force or len(rows) >= BATCH):
                model.objects.bulk_create(rows, batch_size=BATCH)
                counts[name] += len(rows)
                rows.clear()

    for _ in range(total):
        visitor = (
            visitors[min(len(visitors) - 1, int(rng.paretovariate(0.9)) - 1)]
            if rng.random() < 0.3
            else rng.choice(visitors)
        )
        at = visitor.last_seen - timedelta(seconds=rng.randint(0, 86400 * 30))
        roll = rng.random()
        product = rng.choice(product_refs)
        if roll < 0.5:
            category = rng.choice(WORDS)
            pages.append(
                PageView(
                    visitor=visitor,
                    url=f"/c/{category}/{product}",
                    title=category.title(),
                    category=category,
                    duration_seconds=rng.randint(3, 300),
                    occurred_at=at,
                )
            )
        elif roll < 0.8:
            views.append(
                ContentView(
                    visitor=visitor, product_ref=product, api=rng.choice(APIS), occurred_at=at
                )
            )
        else:
            clicks.append(
                Click(
                    visitor=visitor,
                    product_ref=product,
                    api=rng.choice(APIS),
                    position=rng.randint(0, 11),
                    occurred_at=at,
                )
            )
        flush()
    flush(force=True)
    return counts


def _seed_orders(store, rng, customers, visitors, product_refs, prices, volume, now) -> dict:
    orders, lines = [], []
    for i in range(volume.orders):
        customer = rng.choice(customers) if customers and rng.random() < 0.8 else None
        visitor = rng.choice(visitors) if visitors and rng.random() < 0.6 else None
        placed = _when(rng, now)
        orders.append(
            Order(
                order_ref=f"O{100000 + i}",
                customer=customer,
                visitor=visitor,
                email=customer.email if customer else None,
                email_digest=customer.email_digest if customer else "",
                placed_at=placed,
            )
        )
    Order.objects.bulk_create(orders, batch_size=BATCH)
    for order in orders:
        total = Decimal(0)
        for _ in range(rng.randint(1, 4)):
            ref = rng.choice(product_refs)
            qty = rng.randint(1, 3)
            lines.append(OrderLine(order=order, product_ref=ref, quantity=qty, price=prices[ref]))
            total += prices[ref] * qty
        order.total = total
    OrderLine.objects.bulk_create(lines, batch_size=BATCH)
    Order.objects.bulk_update(orders, ["total"], batch_size=BATCH)
    return {"orders": len(orders), "order_lines": len(lines)}
