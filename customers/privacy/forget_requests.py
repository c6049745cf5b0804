"""Forget requests: the ledger rows, their jobs, the sweeper and lifting a suppression.

``forget_request_create`` (UI, API, CLI) resolves the subject to the keyed digests
of all its identifiers, writes the ledger row (status received) and its audit event
in one transaction, and queues the job on commit. If the broker is down the row
stays ``received``; ``forget_requests_sweep`` (beat, every minute) queues it later,
so a forget is never lost once the row is written. The deletion itself is
``customers.privacy.forget``.

No identifier ever reaches a log line, an exception message or the public schema.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.utils import tenant_context

from customers import jobs
from customers.models import Customer, Visitor
from customers.privacy.subjects import (
    Subject,
    SubjectKind,
    clean_identifier,
    customer_devices,
    subject_with_devices,
)
from gdpr_dashboard.models import (
    PrivacyRequest,
    RequestKind,
    RequestStatus,
    RequestVia,
    Suppression,
)
from stores.audit import audit_record
from stores.models import ApiKey, Store, User

log = logging.getLogger(__name__)

MAX_BULK = 1000
SWEEP_LOCK_KEY = 0x46_47_53_57  # "FGSW"
# A request that has failed this many times is marked failed instead of re-queued.
MAX_ATTEMPTS = 10
OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.QUEUED, RequestStatus.RUNNING)


class ForgetError(ValueError):
    """A forget request cannot be made (bad identifier, too many subjects)."""


# --- creating requests ------------------------------------------------------------------


def forget_request_create(
    *,
    store: Store,
    kind: str,
    value: str,
    via: str,
    actor: User | None = None,
    api_key: ApiKey | None = None,
) -> PrivacyRequest:
    """Write the ledger row (received) and queue the job once it is committed.

    Raises ``subjects.InvalidIdentifier`` for an identifier that cannot name anybody.
    """
    return forget_requests_create_bulk(
        store=store, subjects=[(kind, value)], via=via, actor=actor, api_key=api_key
    )[0]


def forget_requests_create_bulk(
    *,
    store: Store,
    subjects: list[tuple[str, str]],
    via: str,
    api_key: ApiKey | None = None,
    actor: User | None = None,
) -> list[PrivacyRequest]:
    """One ledger row per subject, all or nothing: one bad identifier rejects the whole list."""
    if not subjects:
        raise ForgetError("No subjects given.")
    if len(subjects) > MAX_BULK:
        raise ForgetError(f"At most {MAX_BULK:,} subjects per call.")
    if via not in RequestVia.values:
        raise ForgetError(f"Unknown channel {via!r}.")
    cleaned = [(kind, clean_identifier(kind, value)) for kind, value in subjects]
    with tenant_context(store):
        resolved = _resolve_many(cleaned)
    with transaction.atomic():
        requests = PrivacyRequest.objects.bulk_create(
            [
                PrivacyRequest(
                    store=store,
                    kind=RequestKind.FORGET,
                    status=RequestStatus.RECEIVED,
                    via=via,
                    subject_kind=subject.kind,
                    requested_by=actor if actor is not None and actor.is_authenticated else None,
                    api_key=api_key,
                    **subject.digests(store.secret),
                )
                for subject in resolved
            ]
        )
        for request, subject in zip(requests, resolved, strict=True):
            audit_record(
                action="forget.requested",
                store=store,
                actor=actor,
                api_key=api_key,
                subject_kind=subject.kind,
                subject_row_id=subject.customer.pk if subject.customer else None,
                detail={"request": request.pk, "via": via},
            )
        ids = [r.pk for r in requests]
        transaction.on_commit(lambda: forget_requests_enqueue(store=store, request_ids=ids))
    return requests


def _resolve_many(cleaned: list[tuple[SubjectKind, str]]) -> list[Subject]:
    """Subjects for many identifiers with a fixed number of queries (same result as
    ``customers.privacy.subjects.resolve_subject`` one by one). Runs in the store's schema."""
    emails = {v for k, v in cleaned if k == "email"}
    refs = {v for k, v in cleaned if k == "customer"}
    by_email: dict[str, Customer] = {}
    if emails:
        # Newest first, so the first one kept per e-mail is the most recent, as resolve_subject.
        for c in (
            Customer.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=emails)
            .order_by("-last_seen")
        ):
            by_email.setdefault(c.email_lower, c)
    by_ref = {c.customer_ref: c for c in Customer.objects.filter(customer_ref__in=refs)}
    customers = {c.pk for c in (*by_email.values(), *by_ref.values())}
    devices = customer_devices(sorted(customers))
    named_visitors = dict(
        Visitor.objects.filter(
            visitor_ref__in={v for k, v in cleaned if k == "visitor"}
        ).values_list("visitor_ref", "pk")
    )
    subjects = []
    for kind, value in cleaned:
        if kind == "visitor":
            pk = named_visitors.get(value)
            subjects.append(
                Subject(
                    kind=kind,
                    value=value,
                    customer=None,
                    visitor_ids=[pk] if pk else [],
                    visitor_refs=[value] if pk else [],
                )
            )
            continue
        customer = by_email.get(value) if kind == "email" else by_ref.get(value)
        own, shared = devices[customer.pk] if customer else ([], [])
        subjects.append(
            subject_with_devices(kind=kind, value=value, customer=customer, own=own, shared=shared)
        )
    return subjects


def forget_requests_enqueue(*, store: Store, request_ids: list[int]) -> int:
    """Send the jobs; on success mark the rows queued. Returns how many were sent.

    A broker that is down is not an error here: the rows stay ``received``
    (durable in PostgreSQL) and the sweeper sends them when it can.
    """
    sent: list[int] = []
    # One message per request; many requests at once (bulk API, sweep) travel as one batch
    # message, so a thousand small forgets cost one delivery, not a thousand.
    groups = (
        [request_ids]
        if len(request_ids) == 1
        else [request_ids[i : i + MAX_BULK] for i in range(0, len(request_ids), MAX_BULK)]
    )
    options = {
        "retry": True,
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
    }
    try:
        for group in groups:
            if len(group) == 1:
                jobs.send("forget_run", store=store, args=[store.pk, group[0]], **options)
            else:
                jobs.send("forget_run_batch", store=store, args=[store.pk, group], **options)
            sent.extend(group)
    except Exception as exc:  # the broker's errors vary by transport; all mean "not sent"
        log.warning(
            "forget: broker unreachable (%s); %d request(s) of store %s left for the sweeper",
            type(exc).__name__,
            len(request_ids) - len(sent),
            store.pk,
        )
    if sent:
        PrivacyRequest.objects.filter(pk__in=sent, status=RequestStatus.RECEIVED).update(
            status=RequestStatus.QUEUED, queued_at=timezone.now()
        )
    return len(sent)


def replay_row_create(*, original: PrivacyRequest, actor: User | None = None) -> PrivacyRequest:
    """The ledger row of a replay of ``original`` (status received), not yet executed."""
    return PrivacyRequest.objects.create(
        store_id=original.store_id,
        kind=RequestKind.FORGET,
        via=RequestVia.REPLAY,
        subject_kind=original.subject_kind,
        email_digest=original.email_digest,
        customer_digest=original.customer_digest,
        visitor_digests=list(original.visitor_digests),
        requested_by=actor if actor is not None and actor.is_authenticated else None,
        replay_of=original,
    )


def forget_request_fail(*, request_id: int, error: str) -> None:
    """Give up on a request (retries exhausted). ``error`` must hold no personal data."""
    PrivacyRequest.objects.filter(pk=request_id).exclude(status=RequestStatus.DONE).update(
        status=RequestStatus.FAILED, failed_at=timezone.now(), error=error[:500]
    )


def forget_request_note_error(*, request_id: int, error: str) -> None:
    PrivacyRequest.objects.filter(pk=request_id).exclude(status=RequestStatus.DONE).update(
        error=error[:500]
    )


# --- the sweeper --------------------------------------------------------------------------


def forget_requests_sweep(*, stuck_after: timedelta | None = None) -> int:
    """Re-queue forget requests stuck in received / queued / running; returns how many.

    Rows locked by a running job are skipped (SKIP LOCKED): a job that is alive
    holds its ledger row, a killed worker's transaction has released it. The
    advisory lock makes a second beat's sweep a no-op.
    """
    if stuck_after is None:
        stuck_after = timedelta(seconds=settings.FORGET_STUCK_AFTER_SECONDS)
    cutoff = timezone.now() - stuck_after
    requeued: dict[int, list[int]] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return 0
        stuck = (
            PrivacyRequest.objects.select_for_update(skip_locked=True)
            .filter(kind=RequestKind.FORGET)
            .filter(
                Q(status=RequestStatus.RECEIVED, received_at__lt=cutoff)
                | Q(status=RequestStatus.QUEUED, queued_at__lt=cutoff)
                | Q(status=RequestStatus.RUNNING, started_at__lt=cutoff)
            )
            .order_by("received_at")
            .values_list("pk", "store_id", "attempts")[:1000]
        )
        give_up = []
        for pk, store_id, attempts in stuck:
            if attempts >= MAX_ATTEMPTS:
                give_up.append(pk)
            else:
                requeued.setdefault(store_id, []).append(pk)
        if give_up:
            PrivacyRequest.objects.filter(pk__in=give_up).update(
                status=RequestStatus.FAILED,
                failed_at=timezone.now(),
                error=f"Gave up after {MAX_ATTEMPTS} attempts.",
            )
        ids = [pk for pks in requeued.values() for pk in pks]
        # Marked queued (now) before the lock goes: a second beat's sweep right after this
        # one does not find them stuck again. If the send below fails, they are stuck
        # "queued" and the next sweep past the timeout tries again.
        PrivacyRequest.objects.filter(pk__in=ids).update(
            status=RequestStatus.QUEUED, queued_at=timezone.now()
        )
    sent = 0
    for store in Store.objects.filter(pk__in=requeued):
        sent += forget_requests_enqueue(store=store, request_ids=requeued[store.pk])
    if ids:
        log.info("forget sweep: %d stuck request(s), %d re-queued", len(ids), sent)
    return sent


# --- suppressions -------------------------------------------------------------------------


def suppression_lift(*, suppression: Suppression, actor: User) -> Suppression:
    """Let the subject's old data be synced again (owner's decision, audited)."""
    with transaction.atomic():
        locked = Suppression.objects.select_for_update().get(pk=suppression.pk)
        if locked.lifted_at is None:
            locked.lifted_at = timezone.now()
            locked.lifted_by = actor
            locked.save(update_fields=["lifted_at", "lifted_by"])
            audit_record(
                action="suppression.lifted",
                store=locked.store,
                actor=actor,
                subject_kind=locked.identifier_kind,
                detail={"suppression": locked.pk, "request": locked.request_id},
            )
    return locked
