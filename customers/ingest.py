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

import json
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
from customers.tasks import inventory_refresh_soon
from gdpr_dashboard.suppression import SuppressionFilter, suppression_blocks
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
        # Every caller writes: what the GDPR dashboard shows may have changed.
        # Debounced and acted on at commit, so a batch costs one Redis SET at most.
        inventory_refresh_soon(store)
    finally:
        if switch:
            connection.set_tenant(previous)


class _Suppressed:
    """The suppression check of one ingestion call, by raw identifier.

    Digests each identifier once and asks ``gdpr_dashboard.suppression``'s
    ``SuppressionFilter`` (the rule and the counting live there): one indexed
    query for the call's identifiers of all kinds.
    """

    def __init__(self, store: Store, *, emails=(), customers=(), visitors=()):
        self.store = store
        self.digests: dict[tuple[str, str], str] = {}
        wanted = {"email": emails, "customer": customers, "visitor": visitors}
        self.filter = SuppressionFilter(
            store=store,
            digests={
                kind: [self.digest(kind, v) for v in values if v] for kind, values in wanted.items()
            },
        )

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
        return any(
            self.filter.blocks(kind=kind, digest=self.digest(kind, value), at=at)
            for kind, value in identifiers.items()
            if value
        )

    def would_block(self, at: datetime | None, **identifiers: str | None) -> bool:
        """Like ``blocks``, without counting (to decide before the counted write)."""
        return any(
            suppression_blocks(self.filter.active[kind].get(self.digest(kind, value)), at)
            for kind, value in identifiers.items()
            if value
        )

    def record(self) -> None:
        self.filter.save_counts()


# --- events ---------------------------------------------------------------------------

# (column, PostgreSQL type) of the event tables, in the order of the row tuples.
PAGE_VIEW_COLUMNS = (
    ("visitor_id", "bigint"),
    ("url", "varchar"),
    ("title", "varchar"),
    ("category", "varchar"),
    ("duration_seconds", "integer"),
    ("occurred_at", "timestamptz"),
)
CONTENT_VIEW_COLUMNS = (
    ("visitor_id", "bigint"),
    ("product_ref", "varchar"),
    ("api", "varchar"),
    ("occurred_at", "timestamptz"),
)
CLICK_COLUMNS = (
    ("visitor_id", "bigint"),
    ("product_ref", "varchar"),
    ("api", "varchar"),
    ("position", "integer"),
    ("external", "boolean"),
    ("labels", "jsonb"),
    ("occurred_at", "timestamptz"),
)


def _insert_rows(model, columns: tuple[tuple[str, str], ...], rows: list[tuple]) -> None:
    """COPY the rows in: the cheapest way into PostgreSQL for thousands of rows.

    About ten times cheaper than bulk_create, where Django and the driver
    prepare every value one by one; values stay parameters (no SQL text).
    """
    names = ", ".join(name for name, _ in columns)
    table = model._meta.db_table
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


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
                if event.kind == "sale":  # the order itself is not personal: kept, anonymous
                    passing.append(
                        event.model_copy(update={"customer": None, "email": None, "visitor": None})
                    )
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
        kind = e.kind
        if kind == "page":
            v = visitors[e.visitor]["id"]
            pages.append((v, e.url, e.title, e.category, e.duration, e.time))
        elif kind == "category":
            v = visitors[e.visitor]["id"]
            pages.append((v, e.url, e.category, e.category, 0, e.time))
        elif kind == "product":
            v = visitors[e.visitor]["id"]
            views.append((v, e.product, e.api, e.time))
        elif kind == "click":
            v = visitors[e.visitor]["id"]
            labels = json.dumps(e.labels) if e.labels else "[]"
            clicks.append((v, e.product, e.api, e.n, e.external, labels, e.time))
    for model, rows, name, columns in (
        (PageView, pages, "page_views", PAGE_VIEW_COLUMNS),
        (ContentView, views, "content_views", CONTENT_VIEW_COLUMNS),
        (Click, clicks, "clicks", CLICK_COLUMNS),
    ):
        if rows:
            _insert_rows(model, columns, rows)
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
    """Create missing visitors and add the events to their statistics, in one statement.

    Each visitor's statistics within the batch are counted here; how the batch
    joins the visitor's last activity (same visit, new visit, new day) is
    decided in the upsert, against the row as it is when locked, so
    concurrent batches for one visitor add up correctly. Returns
    {visitor_ref: {"id", "customer_id"}} for every visitor of the events.
    """
    times: dict[str, list[datetime]] = defaultdict(list)
    links: dict[str, int] = {}
    for e in events:
        times[e.visitor].append(e.time)
        if e.customer and e.customer in customer_ids:
            links[e.visitor] = customer_ids[e.customer]
    if not times:
        return {}
    rows = []
    for ref in sorted(times):  # one order everywhere: concurrent batches cannot deadlock
        ordered = sorted(times[ref])
        visits, days, seconds = _batch_stats(ordered)
        digest = suppressed.digest("visitor", ref)
        rows.append(
            (ref, digest, ordered[0], ordered[-1], 1 + visits, 1 + days, seconds, links.get(ref))
        )
    with connection.cursor() as cursor:
        cursor.execute(VISITOR_UPSERT, [list(col) for col in zip(*rows, strict=True)])
        return {ref: {"id": pk, "customer_id": cid} for ref, pk, cid in cursor.fetchall()}


# A batch entirely older than the visitor's last activity (sent out of order)
# only widens first_seen; one that starts within 30 minutes of it continues
# the last visit (no new visit, the gap counts as duration).
VISITOR_UPSERT = f"""
INSERT INTO {Visitor._meta.db_table} AS v (visitor_ref, visitor_digest, first_seen, last_seen,
    visit_count, visit_days, total_duration_seconds, customer_id)
SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[], %s::timestamptz[],
    %s::int[], %s::int[], %s::int[], %s::bigint[]) ORDER BY 1
ON CONFLICT (visitor_ref) DO UPDATE SET
    visit_count = v.visit_count + CASE
        WHEN EXCLUDED.last_seen <= v.last_seen THEN 0
        WHEN EXCLUDED.first_seen > v.last_seen + interval '{VISIT_GAP.seconds} seconds'
            THEN EXCLUDED.visit_count
        ELSE EXCLUDED.visit_count - 1 END,
    visit_days = v.visit_days + CASE
        WHEN EXCLUDED.last_seen <= v.last_seen THEN 0
        WHEN (EXCLUDED.first_seen AT TIME ZONE 'UTC')::date
            > (v.last_seen AT TIME ZONE 'UTC')::date THEN EXCLUDED.visit_days
        ELSE EXCLUDED.visit_days - 1 END,
    total_duration_seconds = v.total_duration_seconds + CASE
        WHEN EXCLUDED.last_seen <= v.last_seen THEN 0
        WHEN EXCLUDED.first_seen > v.last_seen
            AND EXCLUDED.first_seen <= v.last_seen + interval '{VISIT_GAP.seconds} seconds'
            THEN EXCLUDED.total_duration_seconds
                + floor(extract(epoch FROM EXCLUDED.first_seen - v.last_seen))::int
        ELSE EXCLUDED.total_duration_seconds END,
    first_seen = LEAST(v.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(v.last_seen, EXCLUDED.last_seen),
    customer_id = COALESCE(EXCLUDED.customer_id, v.customer_id)
RETURNING visitor_ref, id, customer_id
"""


def _batch_stats(times: list[datetime]) -> tuple[int, int, int]:
    """Within sorted event times: (visits after the first, day changes, seconds in visits)."""
    visits = days = 0
    seconds = 0.0
    for previous, t in zip(times, times[1:], strict=False):
        gap = t - previous
        if gap > VISIT_GAP:
            visits += 1
        else:
            seconds += gap.total_seconds()
        if t.date() != previous.date():
            days += 1
    return visits, days, int(seconds)


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
            customer_times = {
                o.customer: o.time
                for o in orders
                if o.customer and not suppressed.would_block(o.time, customer=o.customer)
            }
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
    rows: dict[str, tuple] = {}
    lines: dict[str, list[tuple]] = {}
    for o in orders:
        email = o.email if store.collect_emails else None
        if o.email and not store.collect_emails and result is not None:
            result.dropped["emails_not_collected"] += 1
        visitor = o.visitor if store.track_browsing else None
        customer = o.customer
        if suppressed.blocks(o.time, email=email, customer=customer, visitor=visitor):
            # A forgotten person's old order comes back as what a forget leaves:
            # the order and its lines, with no customer, visitor or e-mail.
            if result is not None:
                result.dropped["suppressed_links"] += 1
            email = visitor = customer = None
        order_lines = [
            (
                line.id,
                line.quantity,
                line.price if line.price is not None else (prices.get(line.id) or Decimal(0)),
            )
            for line in o.products
        ]
        rows[o.id] = (
            o.id,
            customer_ids.get(customer) if customer else None,
            visitor_ids.get(visitor) if visitor else None,
            email,
            suppressed.digest("email", email),
            sum((price * quantity for _, quantity, price in order_lines), Decimal(0)),
            o.time,
        )
        lines[o.id] = order_lines
    if not rows:
        return 0
    refs = sorted(rows)
    order_table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {OrderLine._meta.db_table} WHERE order_id IN "
            f"(SELECT id FROM {order_table} WHERE order_ref = ANY(%s))",
            [refs],
        )
        cursor.execute(
            f"INSERT INTO {order_table} "
            "(order_ref, customer_id, visitor_id, email, email_digest, total, placed_at) "
            "SELECT * FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[], %s::varchar[], "
            "%s::varchar[], %s::numeric[], %s::timestamptz[]) ORDER BY 1 "
            "ON CONFLICT (order_ref) DO UPDATE SET customer_id = EXCLUDED.customer_id, "
            "visitor_id = EXCLUDED.visitor_id, email = EXCLUDED.email, "
            "email_digest = EXCLUDED.email_digest, total = EXCLUDED.total, "
            "placed_at = EXCLUDED.placed_at RETURNING order_ref, id",
            [list(col) for col in zip(*(rows[r] for r in refs), strict=True)],
        )
        ids = dict(cursor.fetchall())
    all_lines = [(ids[ref], *line) for ref in refs for line in lines[ref]]
    if all_lines:
        _insert_rows(OrderLine, ORDER_LINE_COLUMNS, all_lines)
    if result is not None:
        result.stored["order_lines"] += len(all_lines)
    return len(rows)


ORDER_LINE_COLUMNS = (
    ("order_id", "bigint"),
    ("product_ref", "varchar"),
    ("quantity", "integer"),
    ("price", "numeric"),
)


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
    """Remove the CRM records (name, e-mail, attributes) of these customer ids.

    Not a forget: nothing is suppressed, and the customer may be synced again.
    A customer nothing points at is deleted. One that visitors or orders still
    point at stays as a bare row, its id and keyed digests only, like a
    customer known from tracking alone: deleting it would unlink them, and a
    later forget by the customer id or e-mail, which finds a customer's
    visitors and orders through this row, would leave them behind. The bare
    row then goes the way of any customer row (a forget, or retention expiry
    with its last visitor). ``customers_deleted`` counts the CRM records removed.
    """
    result = IngestResult()
    with _store_schema(store), transaction.atomic():
        rows = list(
            Customer.objects.select_for_update()
            .filter(customer_ref__in=refs)
            .order_by("pk")
            .values_list("pk", "email", "name", "attributes")
        )
        ids = [pk for pk, *_ in rows]
        linked = set(
            Visitor.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True)
        ) | set(Order.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
        cleared = [
            pk
            for pk, email, name, attributes in rows
            if pk in linked and (email or name or attributes)
        ]
        Customer.objects.filter(pk__in=cleared).update(email=None, name="", attributes={})
        _, by_model = Customer.objects.filter(pk__in=set(ids) - linked).delete()
    result.stored["customers_deleted"] = by_model.get(Customer._meta.label, 0) + len(cleared)
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
