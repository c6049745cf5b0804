"""Reads for the forget pages: what a forget would delete, the store's requests and suppressions."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import Click, ContentView, PageView
from customers.subjects import Subject
from gdpr_dashboard.models import PrivacyRequest, RequestKind, Suppression
from stores.digests import identifier_digest
from stores.models import Store


def forget_preview(subject: Subject) -> dict[str, int]:
    """Rows a forget of the subject deletes, and orders it keeps (anonymised). Store schema set."""
    ids = subject.visitor_ids
    return {
        "customers": 1 if subject.customer else 0,
        "visitors": len(ids),
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
