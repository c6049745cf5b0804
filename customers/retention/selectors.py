"""Reads of the retention policy on the store's visitors: when each one's data goes, and why."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from customers.models import Visitor
from customers.retention import policy
from stores.models import Store


def visitors_with_retention(*, store: Store, visitors: QuerySet[Visitor] | None = None):
    """Visitors annotated with ``kept_days`` and ``kept_until`` (the retention policy, in SQL).

    The "why" sentence comes from :func:`visitor_retention` on the same row, no query.
    """
    visitors = Visitor.objects.all() if visitors is None else visitors
    bounds = [store.retention_min_days, store.retention_max_days]
    table = Visitor._meta.db_table
    # The SQL is our own policy text (no input in it); the bounds are parameters.
    return visitors.annotate(
        kept_days=RawSQL(policy.kept_days_sql(table), bounds),  # noqa: S611
        kept_until=RawSQL(policy.expires_at_sql(table), bounds),  # noqa: S611
    )


def visitor_retention(*, store: Store, visitor: Visitor) -> policy.Retention:
    return policy.kept_days(
        visit_count=visitor.visit_count,
        visit_days=visitor.visit_days,
        total_duration_seconds=visitor.total_duration_seconds,
        min_days=store.retention_min_days,
        max_days=store.retention_max_days,
    )
