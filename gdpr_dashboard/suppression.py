"""Suppression reads: which identifier digests of a store are blocked, and since when.

Every ingestion path asks here before writing: a record whose e-mail,
customer id or visitor id digest is suppressed and whose event time is before
the forget is dropped; newer activity is let through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F

from gdpr_dashboard.models import Suppression
from stores.models import Store


def active_suppressions(*, store: Store, kind: str, digests: Iterable[str]) -> dict[str, datetime]:
    """{digest: forgotten_at} for the given digests that are suppressed (not lifted)."""
    wanted = {d for d in digests if d}
    if not wanted:
        return {}
    return dict(
        Suppression.objects.filter(
            store=store, identifier_kind=kind, digest__in=wanted, lifted_at__isnull=True
        ).values_list("digest", "forgotten_at")
    )


def count_blocked(*, store: Store, kind: str, blocked: dict[str, int]) -> None:
    """Add to the per-suppression counters of dropped records (shown per store)."""
    for digest, n in blocked.items():
        Suppression.objects.filter(store=store, identifier_kind=kind, digest=digest).update(
            blocked_count=F("blocked_count") + n
        )


def forgotten_on(*, store: Store, kind: str, digest: str) -> datetime | None:
    """When a subject with this identifier digest was forgotten in the store, if ever."""
    return (
        Suppression.objects.filter(store=store, identifier_kind=kind, digest=digest)
        .order_by("-forgotten_at")
        .values_list("forgotten_at", flat=True)
        .first()
    )
