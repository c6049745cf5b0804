"""The audit writer: every action that touches personal data or settings leaves a row here.

Rows name the subject only by kind and store-schema row id, never by e-mail
or visitor id; the dashboard's access log reads them.
"""

from __future__ import annotations

from stores.models import Account, ApiKey, AuditEvent, Store, User


def audit_record(**fields) -> AuditEvent:
    """Write one audit event (public schema); ``fields`` as ``audit_event`` takes them."""
    event = audit_event(**fields)
    event.save(force_insert=True)
    return event


def audit_records(events: list[AuditEvent]) -> None:
    """Write events made by ``audit_event`` in one INSERT (a search with hits in many stores)."""
    AuditEvent.objects.bulk_create(events)


def audit_event(
    *,
    action: str,
    store: Store | None = None,
    account: Account | None = None,
    actor: User | None = None,
    api_key: ApiKey | None = None,
    subject_kind: str = "",
    subject_row_id: int | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """An audit event, not yet written. ``account`` defaults to the store's account."""
    if account is None:
        if store is None:
            raise ValueError("An audit event needs a store or an account.")
        account = store.account
    is_user = actor is not None and actor.is_authenticated
    return AuditEvent(
        account=account,
        store=store,
        actor=actor if is_user else None,
        api_key=api_key,
        actor_is_platform_staff=bool(is_user and actor.is_staff),
        action=action,
        subject_kind=subject_kind,
        subject_row_id=subject_row_id,
        detail=detail or {},
    )
