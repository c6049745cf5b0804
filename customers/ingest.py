"""Collection: the one write path for tracked events and synced customers, orders and products.

The API (v1 batch, v2 single calls) and ``seed_demo`` all come through here.
Each call takes validated records (``customers.ingest_schemas``), the store
explicitly, and writes set-based in one transaction in the store's schema.

Before anything is written, in this order:

1. **Collection settings**: e-mail addresses are dropped unless
   ``store.collect_emails`` (an ``email`` event then stores nothing at all);
   CRM attributes are cut to ``store.crm_fields``; with ``track_browsing`` off
   no visitor is created and page views, product views, clicks and category
   views are dropped (a sale is still kept as an order, without a visitor).
2. **Suppression**: a record naming a forgotten e-mail, customer id or visitor
   id (by keyed digest) is dropped if its time is before the forget; newer
   activity passes. Customer records carry no event time unless they send
   ``time``, so a forgotten customer's old CRM record is always blocked.

Visitors are created on demand and their statistics kept: first/last seen,
visits (a new visit after 30 minutes without activity), distinct visit days
and total duration (the time between events of one visit). Events older than
a visitor's last activity (arriving out of order) widen ``first_seen`` but do
not add visits; send events in time order for exact statistics.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from customers.ingest_schemas import (
    CategoryEvent,
    ClickEvent,
    CustomerIn,
    EmailEvent,
    OrderIn,
    PageEvent,
    ProductEvent,
    ProductIn,
    SaleEvent,
)
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
from gdpr_dashboard.suppression import active_suppressions, count_blocked
from stores.digests import identifier_digest
from stores.models import Store

VISIT_GAP = timedelta(minutes=30)
BROWSING_KINDS = frozenset({"page", "category", "product", "click"})


@dataclass
class IngestResult:
    """What was stored and what was dropped (and why); returned to API callers."""

    stored: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"stored": dict(self.stored), "dropped": dict(self.dropped)}

    def merge(self, other: IngestResult) -> None:
        self.stored.update(other.stored)
        self.dropped.update(other.dropped)


@contextmanager
def _store_schema(store: Store) -> Iterator[None]:
    previous = connection.tenant
    switch = connection.schema_name != store.schema_name
    if switch:
        connection.set_tenant(store)
    try:
        yield
    finally:
        if switch:
            connection.set_tenant(previous)


class _Suppressed:
    """The store's suppression entries for the identifiers of one call (three queries)."""

    def __init__(self, store: Store, *, emails=(), customers=(), visitors=()):
        self.store = store
        self.digests: dict[tuple[str, str], str] = {}
        self.since: dict[str, dict[str, datetime]] = {}
        for kind, values in (("email", emails), ("customer", customers), ("visitor", visitors)):
            wanted = {v for v in values if v}
            for v in wanted:
                self.digests[(kind, v)] = identifier_digest(store.secret, kind, v)
            self.since[kind] = active_suppressions(
                store=store, kind=kind, digests=[self.digests[(kind, v)] for v in wanted]
            )
        self.blocked: dict[str, Counter] = defaultdict(Counter)

    def digest(self, kind: str, value: str | None) -> str:
        if not value:
            return ""
        key = (kind, value)
        if key not in self.digests:
            self.digests[key] = identifier_digest(self.store.secret, kind, value)
        return self.digests[key]

    def blocks(self, at: datetime | None, **identifiers: str | None) -> bool:
        """True (and counted) if any identifier is suppressed since after ``at``.

        ``at`` None means the record has no time of its own: it is blocked.
        """
        for kind, value in identifiers.items():
            if not value:
                continue
            digest = self.digest(kind, value)
            forgotten_at = self.since[kind].get(digest)
            if forgotten_at is not None and (at is None or at < forgotten_at):
                self.blocked[kind][digest] += 1
                return True
        return False

    def record(self) -> None:
        for kind, counts in self.blocked.items():
            count_blocked(store=self.store, kind=kind, blocked=dict(counts))


# --- events ---------------------------------------------------------------------------


def _collected(store: Store, kind: str) -> bool:
    if kind == "email":
        return store.collect_emails
    if kind in BROWSING_KINDS:
        return store.track_browsing
    return True


def events_ingest(*, store: Store, events: Iterable) -> IngestResult:
    """Store a batch of tracking events (any kinds, each with its own time)."""
    result = IngestResult()
    kept = []
    for event in events:
        if _collected(store, event.kind):
            kept.append(event)
        else:
            result.dropped["not_collected"] += 1
    if not kept:
        return result

    with _store_schema(store):
        suppressed = _Suppressed(
            store,
            emails=[getattr(e, "email", None) for e in kept],
            customers=[e.customer for e in kept],
            visitors=[e.visitor for e in kept],
        )
        passing = []
        for event in kept:
            email = getattr(event, "email", None) if store.collect_emails else None
            if suppressed.blocks(
                event.time, visitor=event.visitor, customer=event.customer, email=email
            ):
                result.dropped["suppressed"] += 1
            else:
                passing.append(event)
        with transaction.atomic():
            suppressed.record()
            if passing:
                _write_events(store, passing, suppressed, result)
    return result


def _write_events(store, events, suppressed: _Suppressed, result: IngestResult) -> None:
    # Customers named by logged-in events or sales are created on demand.
    customer_times: dict[str, datetime] = {}
    for e in events:
        if e.customer:
            customer_times[e.customer] = max(e.time, customer_times.get(e.customer, e.time))
    customer_ids = _customers_ensure(store, customer_times, suppressed) if customer_times else {}

    visitor_events = [e for e in events if e.visitor and store.track_browsing]
    visitors = _visitors_touch(store, visitor_events, customer_ids, suppressed)

    emails = [e for e in events if e.kind == "email"]
    if emails:
        result.stored["emails"] += _emails_link(store, emails, visitors, suppressed)

    pages, views, clicks = [], [], []
    for e in events:
        if e.kind in BROWSING_KINDS:
            visitor_id = visitors[e.visitor]["id"]
        if e.kind == "page":
            pages.append(_page_view(visitor_id, e))
        elif e.kind == "category":
            pages.append(_category_view(visitor_id, e))
        elif e.kind == "product":
            views.append(
                ContentView(
                    visitor_id=visitor_id, product_ref=e.product, api=e.api, occurred_at=e.time
                )
            )
        elif e.kind == "click":
            clicks.append(
                Click(
                    visitor_id=visitor_id,
                    product_ref=e.product,
                    api=e.api,
                    position=e.n,
                    external=e.external,
                    labels=e.labels,
                    occurred_at=e.time,
                )
            )
    for model, rows, name in (
        (PageView, pages, "page_views"),
        (ContentView, views, "content_views"),
        (Click, clicks, "clicks"),
    ):
        if rows:
            model.objects.bulk_create(rows, batch_size=5000)
            result.stored[name] += len(rows)

    sales = [e for e in events if e.kind == "sale"]
    if sales:
        result.stored["orders"] += _orders_write(
            store,
            [_order_from_sale(e) for e in sales],
            customer_ids=customer_ids,
            visitor_ids={ref: v["id"] for ref, v in visitors.items()},
            suppressed=suppressed,
        )


def _page_view(visitor_id: int, e: PageEvent) -> PageView:
    return PageView(
        visitor_id=visitor_id,
        url=e.url,
        title=e.title,
        category=e.category,
        duration_seconds=e.duration,
        occurred_at=e.time,
    )


def _category_view(visitor_id: int, e: CategoryEvent) -> PageView:
    return PageView(
        visitor_id=visitor_id,
        url=e.url,
        title=e.category,
        category=e.category,
        occurred_at=e.time,
    )


def _order_from_sale(e: SaleEvent) -> OrderIn:
    return OrderIn.model_construct(
        id=e.sale,
        products=e.products,
        time=e.time,
        customer=e.customer,
        email=e.email,
        visitor=e.visitor,
    )


def _visitors_touch(store, events, customer_ids, suppressed) -> dict[str, dict]:
    """Create missing visitors, lock them, add the events to their statistics.

    Returns {visitor_ref: {"id", "customer_id"}} for every visitor of the events.
    """
    times: dict[str, list[datetime]] = defaultdict(list)
    links: dict[str, int] = {}
    for e in events:
        times[e.visitor].append(e.time)
        if e.customer and e.customer in customer_ids:
            links[e.visitor] = customer_ids[e.customer]
    if not times:
        return {}
    refs = sorted(times)  # one order everywhere: concurrent batches cannot deadlock
    table = Visitor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (visitor_ref, visitor_digest, first_seen, last_seen, "
            "visit_count, visit_days, total_duration_seconds) "
            "SELECT ref, digest, t, t, 0, 0, 0 "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[]) AS d(ref, digest, t) "
            "ORDER BY ref ON CONFLICT (visitor_ref) DO NOTHING",
            [
                refs,
                [suppressed.digest("visitor", r) for r in refs],
                [min(times[r]) for r in refs],
            ],
        )
        cursor.execute(
            f"SELECT id, visitor_ref, customer_id, last_seen, visit_count FROM {table} "
            "WHERE visitor_ref = ANY(%s) ORDER BY id FOR UPDATE",
            [refs],
        )
        rows = cursor.fetchall()
        updates = []
        found = {}
        for pk, ref, customer_id, last_seen, visit_count in rows:
            stats = _visit_stats(sorted(times[ref]), last_seen if visit_count else None)
            customer_id = links.get(ref, customer_id)
            found[ref] = {"id": pk, "customer_id": customer_id}
            updates.append((pk, *stats, customer_id))
        cols = list(zip(*updates, strict=True))
        cursor.execute(
            f"UPDATE {table} AS v SET first_seen = LEAST(v.first_seen, d.first), "
            "last_seen = GREATEST(v.last_seen, d.last), "
            "visit_count = v.visit_count + d.visits, visit_days = v.visit_days + d.days, "
            "total_duration_seconds = v.total_duration_seconds + d.duration, "
            "customer_id = d.customer "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::int[], "
            "%s::int[], %s::int[], %s::bigint[]) "
            "AS d(id, first, last, visits, days, duration, customer) WHERE v.id = d.id",
            [list(c) for c in cols],
        )
    return found


def _visit_stats(times: list[datetime], last_seen: datetime | None) -> tuple:
    """(first, last, new visits, new visit days, added seconds) for sorted event times."""
    visits = days = 0
    duration = 0.0
    previous = last_seen
    for t in times:
        if previous is not None and t <= previous:
            continue  # out of order or same instant: no new visit
        if previous is None or t - previous > VISIT_GAP:
            visits += 1
            if previous is None or t.date() != previous.date():
                days += 1
        else:
            duration += (t - previous).total_seconds()
            if t.date() != previous.date():
                days += 1
        previous = t
    return times[0], times[-1], visits, days, int(duration)


def _customers_ensure(store, refs: dict[str, datetime], suppressed) -> dict[str, int]:
    """{customer_ref: id}, creating a bare customer for refs not known yet."""
    ordered = sorted(refs)
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_ref, customer_digest, email_digest, name, "
            "attributes, first_seen, last_seen) "
            "SELECT ref, digest, '', '', '{}'::jsonb, t, t "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[]) AS d(ref, digest, t) "
            "ORDER BY ref ON CONFLICT (customer_ref) DO NOTHING",
            [
                ordered,
                [suppressed.digest("customer", r) for r in ordered],
                [refs[r] for r in ordered],
            ],
        )
        cursor.execute(
            f"UPDATE {table} AS c SET last_seen = GREATEST(c.last_seen, d.t) "
            "FROM unnest(%s::varchar[], %s::timestamptz[]) AS d(ref, t) "
            "WHERE c.customer_ref = d.ref RETURNING c.customer_ref, c.id",
            [ordered, [refs[r] for r in ordered]],
        )
        return dict(cursor.fetchall())


def _emails_link(store, events: list[EmailEvent], visitors: dict, suppressed) -> int:
    """Attach each e-mail to its visitor's customer (or a customer with that e-mail).

    A visitor whose customer has no e-mail yet gives it this one; otherwise the
    visitor is linked to the customer holding the e-mail, made if needed.
    """
    latest: dict[str, EmailEvent] = {}
    for e in sorted(events, key=lambda e: e.time):
        latest[e.visitor] = e
    by_email = {
        email: pk
        for email, pk in Customer.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in={e.email for e in latest.values()})
        .order_by("last_seen")
        .values_list("email_lower", "pk")
    }
    current = Customer.objects.in_bulk(
        {v["customer_id"] for v in visitors.values() if v["customer_id"]}
    )
    relink: dict[int, int] = {}
    linked = 0
    for ref, e in sorted(latest.items()):
        visitor = visitors.get(ref)
        if visitor is None:
            continue  # browsing tracking is off: there is no visitor to link to
        linked += 1
        customer = current.get(visitor["customer_id"])
        if e.email in by_email:
            relink[visitor["id"]] = by_email[e.email]
        elif customer is not None and not customer.email:
            customer.email = e.email
            customer.email_digest = suppressed.digest("email", e.email)
            customer.last_seen = max(customer.last_seen, e.time)
            customer.save(update_fields=["email", "email_digest", "last_seen"])
            by_email[e.email] = customer.pk
        else:
            created = Customer.objects.create(
                email=e.email,
                email_digest=suppressed.digest("email", e.email),
                first_seen=e.time,
                last_seen=e.time,
            )
            by_email[e.email] = created.pk
            relink[visitor["id"]] = created.pk
    for visitor_id, customer_id in relink.items():
        Visitor.objects.filter(pk=visitor_id).update(customer_id=customer_id)
    return linked


# --- orders ---------------------------------------------------------------------------


def orders_sync(*, store: Store, orders: list[OrderIn]) -> IngestResult:
    """Create or replace orders (by order id) with their lines."""
    result = IngestResult()
    orders = list({o.id: o for o in orders}.values())  # the last record of an id wins
    with _store_schema(store):
        suppressed = _Suppressed(
            store,
            emails=[o.email for o in orders if store.collect_emails],
            customers=[o.customer for o in orders],
            visitors=[o.visitor for o in orders if store.track_browsing],
        )
        with transaction.atomic():
            customer_times = {o.customer: o.time for o in orders if o.customer}
            customer_ids = (
                _customers_ensure(store, customer_times, suppressed) if customer_times else {}
            )
            visitor_ids = {}
            if store.track_browsing:
                refs = {o.visitor for o in orders if o.visitor}
                visitor_ids = dict(
                    Visitor.objects.filter(visitor_ref__in=refs).values_list("visitor_ref", "pk")
                )
            stored = _orders_write(
                store,
                orders,
                customer_ids=customer_ids,
                visitor_ids=visitor_ids,
                suppressed=suppressed,
                result=result,
            )
            suppressed.record()
    result.stored["orders"] += stored
    return result


def _orders_write(
    store, orders, *, customer_ids, visitor_ids, suppressed, result: IngestResult | None = None
) -> int:
    prices = dict(
        Product.objects.filter(
            product_ref__in={line.id for o in orders for line in o.products}
        ).values_list("product_ref", "price")
    )
    rows: dict[str, Order] = {}
    lines: dict[str, list[OrderLine]] = {}
    for o in orders:
        email = o.email if store.collect_emails else None
        if o.email and not store.collect_emails and result is not None:
            result.dropped["emails_not_collected"] += 1
        visitor = o.visitor if store.track_browsing else None
        if suppressed.blocks(o.time, email=email, customer=o.customer, visitor=visitor):
            if result is not None:
                result.dropped["suppressed"] += 1
            continue
        order_lines = [
            OrderLine(
                product_ref=line.id,
                quantity=line.quantity,
                price=line.price if line.price is not None else (prices.get(line.id) or 0),
            )
            for line in o.products
        ]
        rows[o.id] = Order(
            order_ref=o.id,
            customer_id=customer_ids.get(o.customer) if o.customer else None,
            visitor_id=visitor_ids.get(visitor) if visitor else None,
            email=email,
            email_digest=suppressed.digest("email", email),
            total=sum((line.price * line.quantity for line in order_lines), Decimal(0)),
            placed_at=o.time,
        )
        lines[o.id] = order_lines
    if not rows:
        return 0
    OrderLine.objects.filter(order__order_ref__in=list(rows)).delete()
    created = Order.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["order_ref"],
        update_fields=["customer", "visitor", "email", "email_digest", "total", "placed_at"],
        batch_size=5000,
    )
    all_lines = []
    for order in created:
        for line in lines[order.order_ref]:
            line.order_id = order.pk
            all_lines.append(line)
    OrderLine.objects.bulk_create(all_lines, batch_size=5000)
    return len(created)


def orders_delete(*, store: Store, refs: list[str]) -> IngestResult:
    result = IngestResult()
    with _store_schema(store), transaction.atomic():
        deleted, by_model = Order.objects.filter(order_ref__in=refs).delete()
    result.stored["orders_deleted"] = by_model.get(Order._meta.label, 0)
    return result


# --- customers ------------------------------------------------------------------------


def customers_sync(
    *, store: Store, customers: list[CustomerIn], partial: bool = False
) -> IngestResult:
    """Create or update CRM records by customer id.

    ``partial`` (PATCH): only the given fields change and attributes are merged;
    otherwise (POST) name, e-mail and attributes are replaced by the record's.
    """
    result = IngestResult()
    now = timezone.now()
    records = list({c.id: c for c in customers}.values())
    allowed = set(store.crm_fields)
    with _store_schema(store):
        suppressed = _Suppressed(
            store,
            emails=[c.email for c in records if store.collect_emails],
            customers=[c.id for c in records],
        )
        with transaction.atomic():
            existing = {
                c.customer_ref: c
                for c in Customer.objects.select_for_update().filter(
                    customer_ref__in=[c.id for c in records]
                )
            }
            rows = []
            for c in records:
                email = c.email if store.collect_emails else None
                if c.email and not store.collect_emails:
                    result.dropped["emails_not_collected"] += 1
                attributes = {k: v for k, v in c.attributes.items() if k in allowed}
                result.dropped["attributes_not_collected"] += len(c.attributes) - len(attributes)
                if suppressed.blocks(c.time, customer=c.id, email=email):
                    result.dropped["suppressed"] += 1
                    continue
                old = existing.get(c.id)
                if partial and old is not None:
                    attributes = {**old.attributes, **attributes}
                    email = email if "email" in c.model_fields_set else old.email
                    name = c.name if c.name is not None else old.name
                else:
                    name = c.name or ""
                seen = c.time or now
                rows.append(
                    Customer(
                        customer_ref=c.id,
                        email=email or None,
                        name=name,
                        attributes=attributes,
                        email_digest=suppressed.digest("email", email),
                        customer_digest=suppressed.digest("customer", c.id),
                        first_seen=min(old.first_seen, seen) if old else seen,
                        last_seen=max(old.last_seen, seen) if old else seen,
                    )
                )
            if rows:
                Customer.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["customer_ref"],
                    update_fields=[
                        "email",
                        "name",
                        "attributes",
                        "email_digest",
                        "customer_digest",
                        "first_seen",
                        "last_seen",
                    ],
                )
            suppressed.record()
    result.stored["customers"] += len(rows)
    return result


def customers_delete(*, store: Store, refs: list[str]) -> IngestResult:
    """Remove CRM records (visitors and orders stay, unlinked)."""
    result = IngestResult()
    with _store_schema(store), transaction.atomic():
        _, by_model = Customer.objects.filter(customer_ref__in=refs).delete()
    result.stored["customers_deleted"] = by_model.get(Customer._meta.label, 0)
    return result


# --- products -------------------------------------------------------------------------


def products_sync(*, store: Store, products: list[ProductIn]) -> IngestResult:
    """Create or update catalogue entries by product id (no personal data)."""
    result = IngestResult()
    records = list({p.id: p for p in products}.values())
    with _store_schema(store), transaction.atomic():
        Product.objects.bulk_create(
            [
                Product(
                    product_ref=p.id,
                    name=p.name,
                    price=p.price,
                    url=p.url,
                    categories=p.categories,
                )
                for p in records
            ],
            update_conflicts=True,
            unique_fields=["product_ref"],
            update_fields=["name", "price", "url", "categories"],
            batch_size=5000,
        )
    result.stored["products"] = len(records)
    return result


def products_delete(*, store: Store, refs: list[str]) -> IngestResult:
    result = IngestResult()
    with _store_schema(store), transaction.atomic():
        _, by_model = Product.objects.filter(product_ref__in=refs).delete()
    result.stored["products_deleted"] = by_model.get(Product._meta.label, 0)
    return result


__all__ = [
    "CategoryEvent",
    "ClickEvent",
    "EmailEvent",
    "IngestResult",
    "PageEvent",
    "ProductEvent",
    "SaleEvent",
    "customers_delete",
    "customers_sync",
    "events_ingest",
    "orders_delete",
    "orders_sync",
    "products_delete",
    "products_sync",
]
