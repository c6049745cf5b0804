"""The export document: everything a store holds about one subject.

One shape for the profile's "Download all data", the privacy API's full
export (``/api/v1/privacy/subjects``) and, trimmed, ``/v2/privacy/info``.
Lists are read with server-side cursors and written out as they come, so a
subject with 50,000 events never sits in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from customers.models import (
    Basket,
    Click,
    ContentView,
    OrderLine,
    PageView,
    Subscriber,
    Visitor,
)
from customers.privacy.subjects import Subject

CHUNK = 2000
FORMAT_VERSION = 1


def customer_section(subject: Subject) -> dict | None:
    c = subject.customer
    if c is None:
        return None
    return {
        "customer_id": c.customer_ref,
        "email": c.email,
        "name": c.name,
        "attributes": c.attributes,
        "first_seen": c.first_seen,
        "last_seen": c.last_seen,
    }


def visitors_query(subject: Subject) -> QuerySet:
    return (
        Visitor.objects.filter(pk__in=subject.visitor_ids)
        .order_by("-last_seen")
        .values(
            "visitor_ref",
            "first_seen",
            "last_seen",
            "visit_count",
            "visit_days",
            "total_duration_seconds",
            "active_until",
        )
    )


def _events(model, subject: Subject, fields: list[str]) -> QuerySet:
    return (
        model.objects.filter(visitor_id__in=subject.visitor_ids)
        .order_by("-occurred_at", "-pk")
        .values("visitor_id", *fields)  # the visitor's id text comes from the subject: no join
    )


def clicks_query(subject: Subject) -> QuerySet:
    return _events(
        Click, subject, ["product_ref", "api", "position", "external", "labels", "occurred_at"]
    )


def content_views_query(subject: Subject) -> QuerySet:
    return _events(ContentView, subject, ["product_ref", "api", "occurred_at"])


def page_views_query(subject: Subject) -> QuerySet:
    return _events(
        PageView, subject, ["url", "title", "category", "duration_seconds", "occurred_at"]
    )


def orders_query(subject: Subject) -> QuerySet:
    return (
        subject.orders()
        .order_by("-placed_at", "-pk")
        .values(
            "pk",
            "order_ref",
            "email",
            "total",
            "placed_at",
            "visitor__visitor_ref",
            "customer__customer_ref",
        )
    )


def _rename_event(row: dict, refs: dict[int, str]) -> dict:
    row = dict(row)
    row["visitor_id"] = refs[row["visitor_id"]]
    row["time"] = row.pop("occurred_at")
    if "product_ref" in row:
        row["product"] = row.pop("product_ref")
    if "api" in row:
        row["placement"] = row.pop("api")
    return row


def _rename_visitor(row: dict) -> dict:
    row = dict(row)
    row["visitor_id"] = row.pop("visitor_ref")
    return row


def _orders_with_lines(rows: list[dict], subject: Subject) -> list[dict]:
    """Attach lines to a page of orders with one query.

    An anonymous order placed on the subject's device may carry someone else's e-mail:
    only the subject's own e-mail is shown.
    """
    own_email = subject.email
    lines: dict[int, list[dict]] = {}
    for line in (
        OrderLine.objects.filter(order_id__in=[r["pk"] for r in rows])
        .order_by("pk")
        .values("order_id", "product_ref", "quantity", "price")
    ):
        lines.setdefault(line["order_id"], []).append(
            {"product": line["product_ref"], "quantity": line["quantity"], "price": line["price"]}
        )
    return [
        {
            "order_id": r["order_ref"],
            "time": r["placed_at"],
            "total": r["total"],
            "email": r["email"] if r["email"] and r["email"].lower() == own_email else None,
            "customer_id": r["customer__customer_ref"],
            "visitor_id": r["visitor__visitor_ref"],
            "lines": lines.get(r["pk"], []),
        }
        for r in rows
    ]


def iter_section(name: str, subject: Subject) -> Iterator[dict]:
    """Rows of one list section, newest first, streamed from the database."""
    if name == "orders":
        batch: list[dict] = []
        for row in orders_query(subject).iterator(chunk_size=CHUNK):
            batch.append(row)
            if len(batch) == CHUNK:
                yield from _orders_with_lines(batch, subject)
                batch = []
        if batch:
            yield from _orders_with_lines(batch, subject)
        return
    if name == "visitors":
        for row in visitors_query(subject).iterator(chunk_size=CHUNK):
            yield _rename_visitor(row)
        return
    if name in SHAPED:
        for row in SECTIONS[name](subject).iterator(chunk_size=CHUNK):
            yield SHAPED[name](row, subject)
        return
    query = SECTIONS[name](subject)
    refs = _visitor_refs(subject)
    for row in query.iterator(chunk_size=CHUNK):
        yield _rename_event(row, refs)


def baskets_query(subject: Subject) -> QuerySet:
    """The baskets of the subject's own devices, and the basket of its e-mail alone."""
    q = Q(visitor_id__in=subject.visitor_ids) if subject.visitor_ids else Q(pk__in=[])
    if subject.email:
        q |= Q(visitor__isnull=True, email_lower=subject.email)
    return (
        Basket.objects.annotate(email_lower=Lower("email"))
        .filter(q)
        .order_by("-updated_at", "-pk")
        .values("visitor__visitor_ref", "email", "products", "updated_at")
    )


def subscriptions_query(subject: Subject) -> QuerySet:
    if not subject.email:
        return Subscriber.objects.none().values("email", "subscribed", "changed_at")
    return (
        Subscriber.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=subject.email)
        .order_by("-changed_at")
        .values("email", "subscribed", "changed_at")
    )


def _basket_row(row: dict, subject: Subject) -> dict:
    email = row["email"]
    return {
        "visitor_id": row["visitor__visitor_ref"],
        "email": email if email and email.lower() == subject.email else None,
        "products": row["products"],
        "time": row["updated_at"],
    }


def _subscription_row(row: dict, subject: Subject) -> dict:
    return {"email": row["email"], "subscribed": row["subscribed"], "time": row["changed_at"]}


# Sections whose rows are shaped one by one, not as events of a device.
SHAPED = {"baskets": _basket_row, "subscriptions": _subscription_row}

SECTIONS = {
    "visitors": visitors_query,
    "orders": orders_query,
    "clicks": clicks_query,
    "content_views": content_views_query,
    "page_views": page_views_query,
    "baskets": baskets_query,
    "subscriptions": subscriptions_query,
}
LIST_SECTIONS = tuple(SECTIONS)


def section_page(name: str, subject: Subject, *, offset: int, limit: int) -> list[dict]:
    """One page of a list section (for paginated API responses and profile lists)."""
    if name == "orders":
        return _orders_with_lines(list(orders_query(subject)[offset : offset + limit]), subject)
    if name == "visitors":
        return [_rename_visitor(r) for r in visitors_query(subject)[offset : offset + limit]]
    if name in SHAPED:
        rows = SECTIONS[name](subject)[offset : offset + limit]
        return [SHAPED[name](r, subject) for r in rows]
    query = SECTIONS[name](subject)
    if len(subject.visitor_ids) > 1:
        query = query.filter(pk__in=_newest_per_visitor(query.model, subject, offset + limit))
    refs = _visitor_refs(subject)
    return [_rename_event(r, refs) for r in query[offset : offset + limit]]


def _visitor_refs(subject: Subject) -> dict[int, str]:
    return dict(zip(subject.visitor_ids, subject.visitor_refs, strict=True))


def _newest_per_visitor(model, subject: Subject, n: int) -> RawSQL:
    """Ids of each visitor's ``n`` newest events: the only rows a page up to ``n`` can show.

    Without it, "newest first across several visitors" makes PostgreSQL read and sort every
    event of the subject for each page (50,000 for a heavy one); with it, each visitor's
    (visitor, time) index yields at most ``n`` rows.
    """
    # The table name is our model's; the values travel as parameters.
    return RawSQL(  # noqa: S611
        "SELECT e.id FROM unnest(%s::bigint[]) AS v(id) CROSS JOIN LATERAL "
        f"(SELECT id FROM {model._meta.db_table} WHERE visitor_id = v.id "
        "ORDER BY occurred_at DESC, id DESC LIMIT %s) AS e",
        [subject.visitor_ids, n],
    )


def header(subject: Subject, *, store_slug: str, generated_at: datetime) -> dict:
    return {
        "format": "clerkgdpr.subject-export",
        "version": FORMAT_VERSION,
        "store": store_slug,
        "generated_at": generated_at,
        "subject": {"kind": subject.kind, "value": subject.value},
        "customer": customer_section(subject),
        # Devices this customer shares with other customers: listed by id only, without
        # their browsing, which cannot be told apart by person.
        "shared_devices": list(subject.shared_visitor_refs),
    }


class ExportEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return str(o)
        return super().default(o)


def stream_document(subject: Subject, *, store_slug: str, generated_at: datetime) -> Iterator[str]:
    """The whole document as JSON text, chunk by chunk (for StreamingHttpResponse)."""
    head = json.dumps(
        header(subject, store_slug=store_slug, generated_at=generated_at),
        cls=ExportEncoder,
        indent=None,
    )
    yield head[:-1]  # without the closing brace
    for name in LIST_SECTIONS:
        yield f', "{name}": ['
        first = True
        for row in iter_section(name, subject):
            yield ("" if first else ",") + json.dumps(row, cls=ExportEncoder)
            first = False
        yield "]"
    yield "}\n"


def document(subject: Subject, *, store_slug: str, generated_at: datetime) -> dict:
    """The whole document as a dict (small subjects, tests)."""
    return json.loads(
        "".join(stream_document(subject, store_slug=store_slug, generated_at=generated_at))
    )
