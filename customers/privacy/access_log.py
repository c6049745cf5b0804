"""Access log writes of the console: who read whose personal data.

Rows name the subject by kind and store-schema row id only (never an e-mail
or visitor id), as ``stores.audit`` requires.
"""

from __future__ import annotations

from customers.console.search import StoreHits
from customers.privacy.subjects import Subject
from stores.audit import audit_event, audit_record, audit_records
from stores.models import Store, User


def subject_row(subject: Subject) -> tuple[str, int | None]:
    """(kind, row id) naming a subject in the access log."""
    if subject.kind == "visitor":
        return "visitor", (subject.visitor_ids[0] if subject.visitor_ids else None)
    if subject.customer is not None:
        return "customer", subject.customer.pk
    return subject.kind, None  # orders carrying an e-mail, no customer row


def subject_access_record(
    *, actor: User, store: Store, action: str, subject: Subject, detail: dict | None = None
) -> None:
    """One audit event for a profile view (page or one list's page) or download."""
    kind, row_id = subject_row(subject)
    # One INSERT: atomic by itself, no transaction block needed.
    audit_record(
        action=action,
        store=store,
        actor=actor,
        subject_kind=kind,
        subject_row_id=row_id,
        detail=detail,
    )


def search_access_record(*, actor: User, hits: list[StoreHits]) -> None:
    """One audit event per store whose search results showed personal data (row ids only),
    all in one INSERT."""
    shown = [store_hits for store_hits in hits if not store_hits.empty]
    if not shown:
        return
    audit_records(
        [
            audit_event(
                action="search",
                store=store_hits.store,
                actor=actor,
                detail={
                    "customer_ids": [row["pk"] for row in store_hits.customers],
                    "visitor_ids": [row["pk"] for row in store_hits.visitors],
                },
            )
            for store_hits in shown
        ]
    )
