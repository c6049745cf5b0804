"""Suppression reads: which identifier digests of a store are blocked, and since when.

Every ingestion path asks here before writing: a record whose e-mail,
customer id or visitor id digest is suppressed and whose event time is before
the forget is dropped; newer activity is let through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import F

from gdpr_dashboard.models import Suppression
from stores.models import Store


def active_suppressions(
    *, store: Store, digests: dict[str, Iterable[str]]
) -> dict[str, dict[str, datetime]]:
    """{kind: {digest: forgotten_at}} for the given digests per kind that are suppressed.

    One indexed query for all kinds (raw SQL: it runs on every tracking call), none when
    an API call's key lookup already answered in its own statement: with
    ``suppressions_in_force`` False (nothing in force in the store), or with
    ``suppressions_checked`` (the pairs it asked about, and which of them are suppressed
    since when) covering every pair asked here.
    """
    pairs = sorted({(kind, d) for kind, values in digests.items() for d in values if d})
    active: dict[str, dict[str, datetime]] = {kind: {} for kind in SuppressionFilter.KINDS}
    if not pairs or getattr(store, "suppressions_in_force", True) is False:
        return active
    asked, found = getattr(store, "suppressions_checked", (set(), {}))
    if asked.issuperset(pairs):  # checked by the key lookup of this very call
        for (kind, digest), at in found.items():
            if (kind, digest) in pairs:
                active.setdefault(kind, {})[digest] = at
        return active
    table = connection.ops.quote_name(Suppression._meta.db_table)
    with connection.prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT s.identifier_kind, s.digest, s.forgotten_at FROM {table} s "
            "JOIN unnest(%s::text[], %s::text[]) AS w(kind, digest) "
            "ON s.identifier_kind = w.kind AND s.digest = w.digest "
            "WHERE s.store_id = %s AND s.lifted_at IS NULL",
            [[k for k, _ in pairs], [d for _, d in pairs], store.pk],
        )
        for kind, digest, at in cursor.fetchall():
            active.setdefault(kind, {})[digest] = at
    return active


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


# --- the rule, in one place (forget pipeline) --------------------------------------


def suppression_blocks(
    forgotten_at: datetime | None, record_time: datetime | None, *, kind: str = ""
) -> bool:
    """Whether a record about a suppressed identifier is dropped.

    A forgotten visitor id (a device) stays forgotten: everything naming it is
    dropped, whatever its time, since the shop's cookie outlives the forget. For
    e-mails and customer ids, records from before the forget are the forgotten
    person's old data coming back through a sync: dropped; activity after the
    forget passes. A record without a time of its own (a bare CRM sync) counts as
    old while the suppression is active. An owner can lift a suppression.
    """
    if forgotten_at is None:
        return False
    if kind == "visitor":
        return True
    return record_time is None or record_time < forgotten_at


class SuppressionFilter:
    """Suppressions of one store loaded once for a batch of records; counts what it drops.

    ``digests`` limits the lookup to those digests per kind (``{"email": [...], ...}``);
    without it every active suppression of the store is loaded (small stores, the demo seeder).
    Call ``save_counts()`` after the batch is written.
    """

    KINDS = ("email", "customer", "visitor")

    def __init__(self, *, store: Store, digests: dict[str, Iterable[str]] | None = None):
        self.store = store
        if digests is None:
            self.active: dict[str, dict[str, datetime]] = {k: {} for k in self.KINDS}
            for kind, digest, at in Suppression.objects.filter(
                store=store, lifted_at__isnull=True
            ).values_list("identifier_kind", "digest", "forgotten_at"):
                self.active.setdefault(kind, {})[digest] = at
        else:
            self.active = active_suppressions(store=store, digests=digests)
        self.blocked: dict[str, dict[str, int]] = {k: {} for k in self.KINDS}

    def __bool__(self) -> bool:
        return any(self.active.values())

    def blocks(self, *, kind: str, digest: str, at: datetime | None) -> bool:
        if not digest or not suppression_blocks(
            self.active.get(kind, {}).get(digest), at, kind=kind
        ):
            return False
        self.blocked[kind][digest] = self.blocked[kind].get(digest, 0) + 1
        return True

    def save_counts(self) -> None:
        for kind, counts in self.blocked.items():
            if counts:
                count_blocked(store=self.store, kind=kind, blocked=counts)
