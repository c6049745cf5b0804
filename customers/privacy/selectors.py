"""Reads for the privacy pages: the customer list, what a forget would delete, the store's
requests and suppressions."""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from customers.models import Click, ContentView, Customer, Order, PageView, Visitor, VisitorLink
from customers.privacy.subjects import Subject
from gdpr_dashboard.models import PrivacyRequest, RequestKind, Suppression
from stores.digests import identifier_digest
from stores.models import Store


def forget_preview(subject: Subject) -> dict[str, int]:
    """Rows a forget of the subject deletes, and orders it keeps (anonymised). Store schema set."""
    ids = subject.visitor_ids + subject.shared_visitor_ids  # browsing of both goes
    return {
        "customers": 1 if subject.customer else 0,
        "visitors": len(subject.visitor_ids),
        "shared_devices": len(subject.shared_visitor_ids),
        "page_views": PageView.objects.filter(visitor_id__in=ids).count(),
        "content_views": ContentView.objects.filter(visitor_id__in=ids).count(),
        "clicks": Click.objects.filter(visitor_id__in=ids).count(),
        "orders": subject.orders().count(),
    }


def forgotten_at_for(*, store: Store, kind: str, value: str):
    """When the subject named by this identifier was forgotten in the store (or None)."""
    from gdpr_dashboard.suppression import forgotten_on

    return forgotten_on(store=store, kind=kind, digest=identifier_digest(store.secret, kind, value))


def store_forget_requests(store: Store) -> QuerySet[PrivacyRequest]:
    return (
        PrivacyRequest.objects.filter(store=store, kind=RequestKind.FORGET)
        .select_related("requested_by", "api_key")
        .order_by("-received_at", "-pk")
    )


def store_suppressions(store: Store) -> QuerySet[Suppression]:
    return (
        Suppression.objects.filter(store=store)
        .select_related("lifted_by")
        .order_by("lifted_at", "-forgotten_at", "-pk")
    )


def customer_list(
    *, has_email: bool, has_orders: bool, ordering: tuple[str, ...]
) -> QuerySet[Customer]:
    """Data › Customers: the store's customers, filtered and sorted (paginate it)."""
    customers = Customer.objects.only(
        "pk", "customer_ref", "email", "name", "first_seen", "last_seen"
    )
    if has_email:
        customers = customers.exclude(email__isnull=True).exclude(email="")
    if has_orders:
        customers = customers.filter(Exists(Order.objects.filter(customer=OuterRef("pk"))))
    return customers.order_by(*ordering)


def order_counts(customer_ids: list[int]) -> dict[int, int]:
    """Orders per customer for one page of the list (one query), by the profile's rule:
    the customer's orders, anonymous orders with its e-mail, and anonymous orders without
    an e-mail on its own devices."""
    orders_t, links_t, customers_t, visitors_t = (
        m._meta.db_table for m in (Order, VisitorLink, Customer, Visitor)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, (SELECT count(*) FROM {orders_t} o WHERE o.customer_id = c.id "
            "OR (o.customer_id IS NULL AND ((c.email <> '' AND lower(o.email) = lower(c.email)) "
            "OR (coalesce(o.email, '') = '' AND o.visitor_id IN "
            f"(SELECT d.id FROM {visitors_t} d WHERE (d.customer_id = c.id "
            f"OR d.id IN (SELECT visitor_id FROM {links_t} WHERE customer_id = c.id)) "
            "AND (d.customer_id IS NULL OR d.customer_id = c.id) "
            f"AND NOT EXISTS (SELECT 1 FROM {links_t} x WHERE x.visitor_id = d.id "
            f"AND x.customer_id <> c.id)))))) FROM {customers_t} c WHERE c.id = ANY(%s)",
            [customer_ids],
        )
        return dict(cursor.fetchall())
