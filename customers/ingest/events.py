"""Tracked events: page, category and product views, clicks, e-mails and sales."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from customers.ingest.common import (
    VISIT_GAP,
    IngestResult,
    Suppressed,
    collected,
    customers_ensure,
    insert_rows,
    links_touch,
    store_schema,
)
from customers.ingest.orders import orders_write
from customers.ingest.schemas import (
    EmailEvent,
    OrderIn,
    SaleEvent,
)
from customers.models import (
    Click,
    ContentView,
    Customer,
    PageView,
    Visitor,
)
from stores.models import Store
from stores.schemas import on_citus

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


def events_ingest(*, store: Store, events: Iterable, trusted: bool = False) -> IngestResult:
    """Store a batch of tracking events (any kinds, each with its own time).

    ``trusted``: the batch comes with the store's private key (a shop's server, or the
    demo seeder), so it may assign a device to a customer and an e-mail to the device's
    customer. Calls with the public key (anyone's browser) only ever add links.
    """
    result = IngestResult()
    kept = []
    for event in events:
        if collected(store, event.kind):
            kept.append(event)
        else:
            result.dropped["not_collected"] += 1
    if not kept:
        return result

    with store_schema(store):
        suppressed = Suppressed(
            store,
            emails=[getattr(e, "email", None) for e in kept],
            customers=[e.customer for e in kept],
            visitors=[e.visitor for e in kept],
        )
        passing = []
        for event in kept:
            email = getattr(event, "email", None) if store.collect_emails else None
            if (
                event.kind == "sale"
                and suppressed.would_block(event.time, visitor=event.visitor)
                and not suppressed.would_block(event.time, customer=event.customer, email=email)
            ):
                # A forgotten device: the sale stays its customer's, without the device.
                suppressed.blocks(event.time, visitor=event.visitor)
                result.dropped["suppressed"] += 1
                passing.append(event.model_copy(update={"visitor": None}))
            elif suppressed.blocks(
                event.time, visitor=event.visitor, customer=event.customer, email=email
            ):
                result.dropped["suppressed"] += 1
                if event.kind == "sale":  # the order itself is not personal: kept, anonymous
                    passing.append(
                        event.model_copy(update={"customer": None, "email": None, "visitor": None})
                    )
            else:
                passing.append(event)
        if len(kept) == 1 and len(passing) == 1 and _anonymous_browsing(store, passing[0]):
            _browsing_event_write(store, passing[0], suppressed, result)
            return result
        with transaction.atomic():
            suppressed.record()
            if passing:
                _write_events(store, passing, suppressed, result, trusted=trusted)
    return result


# The table of each browsing kind's rows, with its columns and the result's name.
EVENT_TABLES = {
    "page": (PageView, PAGE_VIEW_COLUMNS, "page_views"),
    "category": (PageView, PAGE_VIEW_COLUMNS, "page_views"),
    "product": (ContentView, CONTENT_VIEW_COLUMNS, "content_views"),
    "click": (Click, CLICK_COLUMNS, "clicks"),
}


def _event_row(e, visitor_id: int) -> tuple:
    """The event's row, in the order of its table's columns."""
    kind = e.kind
    if kind == "page":
        return (visitor_id, e.url, e.title, e.category, e.duration, e.time)
    if kind == "category":
        return (visitor_id, e.url, e.category, e.category, 0, e.time)
    if kind == "product":
        return (visitor_id, e.product, e.api, e.time)
    labels = json.dumps(e.labels) if e.labels else "[]"
    return (visitor_id, e.product, e.api, e.n, e.external, labels, e.time)


def _anonymous_browsing(store: Store, e) -> bool:
    return bool(e.kind in EVENT_TABLES and e.visitor and not e.customer and store.track_browsing)


def _browsing_event_write(store, e, suppressed: Suppressed, result: IngestResult) -> None:
    """One page, category, product view or click of a visitor not logged in: the storefront's
    tracking call. The visitor upsert and the event's row in one statement, atomic on its own,
    so the call costs no transaction round trips; stores what ``_write_events`` stores."""
    model, columns, name = EVENT_TABLES[e.kind]
    # The visitor's dates never lie in the future (as in ``_visitors_touch``).
    visitor = _visitor_row(e.visitor, [_span(e, timezone.now())], suppressed, customer_id=None)
    if on_citus():
        # Citus runs an INSERT … SELECT (from unnest or from a CTE) through the coordinator,
        # rows pulled there and sent back: two plain INSERTs, each routed to the store's
        # worker whole, cost a third of that. One transaction, on that one worker.
        with transaction.atomic(), connection.prepared_cursor() as cursor:
            cursor.execute(VISITOR_UPSERT_ONE, list(visitor))
            visitor_id = cursor.fetchone()[1]
            cursor.execute(_event_values_sql(model, columns), [visitor_id, *_event_row(e, 0)[1:]])
    else:
        with connection.prepared_cursor() as cursor:
            sql = _one_event_sql(model, columns, own_transaction=not connection.in_atomic_block)
            cursor.execute(sql, [*visitor, *_event_row(e, 0)[1:]])
    result.stored[name] += 1


# The storefront's tracking call commits without waiting for its WAL to reach the disk: the
# setting holds for the statement's own transaction only. A database crash may lose the
# last fraction of a second of such events (wal_writer_delay, 0.2 s by default, three
# times at most), never half of one; everything else (orders, customers, e-mails, batches,
# forgets) still waits for the disk. Waiting cost a tracking call one WAL flush each,
# serialised among all calls: what limited their rate (README "Store API").
_ASYNC_COMMIT = " WHERE set_config('synchronous_commit', 'off', true) = 'off'"


@functools.cache
def _one_event_sql(model, columns, *, own_transaction: bool) -> str:
    names = ", ".join(name for name, _ in columns)
    values = ", ".join(f"%s::{kind}" for _, kind in columns[1:])
    return (
        f"WITH v AS ({VISITOR_UPSERT_ONE}) "
        f"INSERT INTO {model._meta.db_table} ({names}) SELECT v.id, {values} FROM v"
        # Inside a caller's transaction the setting would hold for all of it: never.
        + (_ASYNC_COMMIT if own_transaction else "")
    )


@functools.cache
def _event_values_sql(model, columns) -> str:
    names = ", ".join(name for name, _ in columns)
    values = ", ".join(f"%s::{kind}" for _, kind in columns)
    return f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({values})"


def _write_events(
    store, events, suppressed: Suppressed, result: IngestResult, *, trusted: bool
) -> None:
    # Customers named by logged-in events or sales are created on demand.
    customer_times: dict[str, datetime] = {}
    for e in events:
        if e.customer:
            customer_times[e.customer] = max(e.time, customer_times.get(e.customer, e.time))
    customer_ids = customers_ensure(store, customer_times, suppressed) if customer_times else {}

    visitor_events = [e for e in events if e.visitor and store.track_browsing]
    visitors = _visitors_touch(store, visitor_events, customer_ids, suppressed, trusted=trusted)

    emails = [e for e in events if e.kind == "email"]
    if emails:
        result.stored["emails"] += _emails_link(
            store, emails, visitors, suppressed, trusted=trusted
        )

    rows: dict[tuple, list[tuple]] = defaultdict(list)  # per (model, columns, name)
    for e in events:
        if e.kind in EVENT_TABLES:
            rows[EVENT_TABLES[e.kind]].append(_event_row(e, visitors[e.visitor]["id"]))
    for (model, columns, name), table_rows in rows.items():
        insert_rows(model, columns, table_rows)
        result.stored[name] += len(table_rows)

    sales = [e for e in events if e.kind == "sale"]
    if sales:
        result.stored["orders"] += orders_write(
            store,
            [_order_from_sale(e) for e in sales],
            customer_ids=customer_ids,
            visitor_ids={ref: v["id"] for ref, v in visitors.items()},
            suppressed=suppressed,
            replace=False,
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


def _visitors_touch(store, events, customer_ids, suppressed, *, trusted) -> dict[str, dict]:
    """Create missing visitors and add the events to their statistics, in one statement.

    Each visitor's statistics within the batch are counted here; how the batch
    joins the visitor's last activity (same visit, new visit, new day) is
    decided in the upsert, against the row as it is when locked, so
    concurrent batches for one visitor add up correctly. Returns
    {visitor_ref: {"id", "customer_id"}} for every visitor of the events.
    """
    times: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    links: dict[str, int] = {}
    seen_with: dict[tuple[str, int], tuple[str, datetime, datetime]] = {}
    # Events are stored with the time sent (up to a day ahead is taken); the visitor's
    # dates, which retention counts from, never lie in the future.
    now = timezone.now()
    for e in events:
        times[e.visitor].append(_span(e, now))
        if e.customer and e.customer in customer_ids:
            links.setdefault(e.visitor, customer_ids[e.customer])
            key = (e.visitor, customer_ids[e.customer])
            via, first, last = seen_with.get(key, ("login", e.time, e.time))
            seen_with[key] = (
                "sale" if e.kind == "sale" else via,
                min(first, e.time),
                max(last, e.time),
            )
    if not times:
        return {}
    # One order everywhere: concurrent batches cannot deadlock.
    rows = [
        _visitor_row(ref, times[ref], suppressed, customer_id=links.get(ref))
        for ref in sorted(times)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            VISITOR_UPSERT_TRUSTED if trusted else VISITOR_UPSERT,
            [list(col) for col in zip(*rows, strict=True)],
        )
        touched = {ref: {"id": pk, "customer_id": cid} for ref, pk, cid in cursor.fetchall()}
    # The upsert has already given each device its customer where it had none.
    links_touch(
        {(touched[ref]["id"], cid): seen for (ref, cid), seen in seen_with.items()},
        set_owner=False,
    )
    return touched


def _span(e, now: datetime) -> tuple[datetime, datetime]:
    """When the event began and ended (a page view lasts its duration), never after now."""
    start = min(e.time, now)
    return start, min(start + timedelta(seconds=getattr(e, "duration", 0) or 0), now)


def _visitor_row(ref, spans, suppressed, *, customer_id) -> tuple:
    """One visitor's row for the upsert: its events' statistics within the call."""
    ordered = sorted(spans)
    visits, days, seconds, until = _batch_stats(ordered)
    digest = suppressed.digest("visitor", ref)
    return (
        ref,
        digest,
        ordered[0][0],
        max(start for start, _ in ordered),
        1 + visits,
        1 + days,
        seconds,
        customer_id,
        until,
    )


# A batch entirely older than the visitor's last event (sent out of order) adds no visit or
# day and only widens first_seen. Time on site runs from a visit's first event to the end
# of its last activity (``active_until``: a page view ends its duration after its time); a
# visit ends after 30 minutes without activity. A batch that starts within 30 minutes of
# that end continues the visit (the gap counts); one that starts before it overlaps it (or
# is older), and the overlap is not counted twice: exactly, when the batch's events form
# one visit, as every storefront call's do; a batch whose first visit ends inside the
# earlier activity loses at most that difference.
# Only IMMUTABLE functions in DO UPDATE SET (Citus refuses others on distributed tables):
# gaps are `timestamptz - timestamptz` compared with an interval, never `timestamptz +
# interval` (STABLE); `AT TIME ZONE 'UTC'` on timestamptz and `extract(epoch FROM interval)`
# are IMMUTABLE. tests/test_citus.py runs this upsert on a Citus cluster.
_UNTIL = "COALESCE(v.active_until, v.last_seen)"
_GAP = f"interval '{VISIT_GAP.seconds} seconds'"
_ROWS = (
    "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[], %s::timestamptz[], "
    "%s::int[], %s::int[], %s::int[], %s::bigint[], %s::timestamptz[]) ORDER BY 1"
)
_ONE_ROW = (
    "VALUES (%s::varchar, %s::varchar, %s::timestamptz, %s::timestamptz, "
    "%s::int, %s::int, %s::int, %s::bigint, %s::timestamptz)"
)
VISITOR_UPSERT = f"""
INSERT INTO {Visitor._meta.db_table} AS v (visitor_ref, visitor_digest, first_seen, last_seen,
    visit_count, visit_days, total_duration_seconds, customer_id, active_until)
{_ROWS}
ON CONFLICT (visitor_ref) DO UPDATE SET
    visit_count = v.visit_count + CASE
        WHEN EXCLUDED.last_seen <= v.last_seen THEN 0
        WHEN EXCLUDED.first_seen - {_UNTIL} > {_GAP} THEN EXCLUDED.visit_count
        ELSE EXCLUDED.visit_count - 1 END,
    visit_days = v.visit_days + CASE
        WHEN EXCLUDED.last_seen <= v.last_seen THEN 0
        WHEN (EXCLUDED.first_seen AT TIME ZONE 'UTC')::date
            > (v.last_seen AT TIME ZONE 'UTC')::date THEN EXCLUDED.visit_days
        ELSE EXCLUDED.visit_days - 1 END,
    total_duration_seconds = v.total_duration_seconds + CASE
        WHEN EXCLUDED.first_seen - {_UNTIL} > {_GAP} THEN EXCLUDED.total_duration_seconds
        WHEN EXCLUDED.first_seen >= {_UNTIL}
            THEN EXCLUDED.total_duration_seconds
                + floor(extract(epoch FROM EXCLUDED.first_seen - {_UNTIL}))::int
        ELSE GREATEST(0, EXCLUDED.total_duration_seconds
                - ceil(extract(epoch FROM {_UNTIL} - EXCLUDED.first_seen))::int) END,
    active_until = GREATEST({_UNTIL}, EXCLUDED.active_until),
    first_seen = LEAST(v.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(v.last_seen, EXCLUDED.last_seen),
    customer_id = COALESCE(v.customer_id, EXCLUDED.customer_id)
RETURNING visitor_ref, id, customer_id
"""


# One visitor's row as VALUES (no arrays to send and unnest; on Citus an INSERT … VALUES
# is routed to the worker whole).
VISITOR_UPSERT_ONE = VISITOR_UPSERT.replace(_ROWS, _ONE_ROW)

# With the private key the batch's customer becomes the device's customer.
VISITOR_UPSERT_TRUSTED = VISITOR_UPSERT.replace(
    "COALESCE(v.customer_id, EXCLUDED.customer_id)", "COALESCE(EXCLUDED.customer_id, v.customer_id)"
)


def _batch_stats(spans: list[tuple[datetime, datetime]]) -> tuple[int, int, int, datetime]:
    """Within (start, end) spans sorted by start: (visits after the first, day changes,
    seconds in visits, when the last activity ended)."""
    visits = days = 0
    start, until = spans[0]
    seconds = (until - start).total_seconds()
    previous = start
    for start, end in spans[1:]:
        if start - until > VISIT_GAP:
            visits += 1
            seconds += (end - start).total_seconds()
        else:  # the same visit: it now lasts until this event's end, if that is later
            seconds += max(0.0, (end - until).total_seconds())
        if start.date() != previous.date():
            days += 1
        until, previous = max(until, end), start
    return visits, days, int(seconds), until


def _emails_link(
    store, events: list[EmailEvent], visitors: dict, suppressed, *, trusted: bool
) -> int:
    """Link each e-mail's device to the customer holding that e-mail (made if needed).

    A public-key call never writes an e-mail onto an existing customer, nor takes a
    device away from its customer: it only adds a link (the device may be shared). A
    trusted batch gives the device's customer the e-mail if it has none, and makes the
    e-mail's customer the device's customer.
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
    current = (
        Customer.objects.in_bulk({v["customer_id"] for v in visitors.values() if v["customer_id"]})
        if trusted
        else {}
    )
    pairs: dict[tuple[int, int], tuple[str, datetime, datetime]] = {}
    for ref, e in sorted(latest.items()):
        visitor = visitors.get(ref)
        if visitor is None:
            continue  # browsing tracking is off: there is no visitor to link to
        customer = current.get(visitor["customer_id"])
        if e.email not in by_email and customer is not None and not customer.email:
            customer.email = e.email
            customer.email_digest = suppressed.digest("email", e.email)
            customer.last_seen = max(customer.last_seen, e.time)
            customer.save(update_fields=["email", "email_digest", "last_seen"])
            by_email[e.email] = customer.pk
        elif e.email not in by_email:
            by_email[e.email] = Customer.objects.create(
                email=e.email,
                email_digest=suppressed.digest("email", e.email),
                first_seen=e.time,
                last_seen=e.time,
            ).pk
        pairs[(visitor["id"], by_email[e.email])] = ("email", e.time, e.time)
    links_touch(pairs, reassign=trusted)
    return len(pairs)
