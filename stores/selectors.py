"""Reads of public store records."""

from __future__ import annotations

from django.db.models import QuerySet

from stores.models import Store, StoreNotice


def store_notices(*, store: Store, limit: int = 3) -> QuerySet[StoreNotice]:
    """The store's latest notices (restores from backup), newest first."""
    return StoreNotice.objects.filter(store=store).order_by("-created_at", "-id")[:limit]
