"""Forget: delete every piece of personal data about one subject in one store.

The pipeline, in the order things happen:

1. ``forget_request_create`` (UI, API, CLI) resolves the subject to the keyed
   digests of all its identifiers, writes the ledger row (status received)
   and its audit event in one transaction, and queues ``forget_run`` on
   commit. If the broker is down the row stays ``received``; the sweeper
   queues it later, so a forget is never lost once the row is written.
2. ``forget_execute`` (the worker) deletes in the store's schema, working
   from the ledger row's digests alone, so a restore can replay old rows
   without the identifiers. One transaction, a handful of set-based
   statements, the ledger row locked: running it again, or twice at once,
   changes nothing more.
3. ``forget_requests_sweep`` (beat, every minute) re-queues requests stuck
   in received / queued / running past a timeout.

No identifier ever reaches a log line, an exception message or the public schema.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from customers.locks import LOCK_FORGET, store_xact_lock
from customers.models import Click, ContentView, Customer, Order, PageView, Visitor
from customers.subjects import SUBJECT_KINDS, Subject, SubjectKind, clean_identifier
from gdpr_dashboard.audit import audit_record
from gdpr_dashboard.models import (
    PrivacyRequest,
    RequestKind,
    RequestStatus,
    RequestVia,
    Suppression,
)
from stores.models import ApiKey, Store, User

log = logging.getLogger(__name__)

MAX_BULK = 1000
# pg_advisory_xact_lock(namespace, key): forgets of one store run one at a time,
# which rules out deadlocks between two forgets touching the same rows.
FORGET_LOCK_NAMESPACE = LOCK_FORGET
SWEEP_LOCK_KEY = 0x46_47_53_57  # "FGSW"
# A request that has failed this many times is marked failed instead of re-queued.
MAX_ATTEMPTS = 10
OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.QUEUED, RequestStatus.RUNNING)
COUNT_KINDS = (
    "customers",
    "visitors",
    "page_views",
    "content_views",
    "clicks",
    "orders_anonymised",
)


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

    Raises ``customers.subjects.InvalidIdentifier`` for an identifier that cannot name anybody.
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
    ``customers.subjects.resolve_subject`` one by one). Runs in the store's schema."""
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
    visitors_of: dict[int, list[tuple[int, str]]] = {}
    for pk, ref, customer_id in Visitor.objects.filter(customer_id__in=customers).values_list(
        "pk", "visitor_ref", "customer_id"
    ):
        visitors_of.setdefault(customer_id, []).append((pk, ref))
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
        visitors = visitors_of.get(customer.pk, []) if customer else []
        subjects.append(
            Subject(
                kind=kind,
                value=value,
                customer=customer,
                visitor_ids=[pk for pk, _ in visitors],
                visitor_refs=[ref for _, ref in visitors],
            )
        )
    return subjects


def forget_requests_enqueue(*, store: Store, request_ids: list[int]) -> int:
    """Send the jobs; on success mark the rows queued. Returns how many were sent.

    A broker that is down is not an error here: the rows stay ``received``
    (durable in PostgreSQL) and the sweeper sends them when it can.
    """
    from customers.tasks import forget_run, forget_run_batch

    sent: list[int] = []
    # One message per request; many requests at once (bulk API, sweep) travel as one batch
    # message, so a thousand small forgets cost one delivery, not a thousand.
    groups = (
        [request_ids]
        if len(request_ids) == 1
        else [request_ids[i : i + MAX_BULK] for i in range(0, len(request_ids), MAX_BULK)]
    )
    retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
    try:
        # Sent from the store's schema so tenant-schemas-celery stamps it on the message.
        with tenant_context(store):
            for group in groups:
                if len(group) == 1:
                    forget_run.apply_async(
                        args=[store.pk, group[0]], retry=True, retry_policy=retry_policy
                    )
                else:
                    forget_run_batch.apply_async(
                        args=[store.pk, group], retry=True, retry_policy=retry_policy
                    )
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


def forget_request_replay(*, original: PrivacyRequest, actor: User | None = None) -> PrivacyRequest:
    """A new ledger row (via replay) with the original's digests, executed at once.

    For restores: the raw identifiers are long gone; the digests are all we need.
    """
    with transaction.atomic():
        replay = replay_row_create(original=original, actor=actor)
    forget_execute(request=replay)
    replay.refresh_from_db()
    return replay


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


# --- executing ----------------------------------------------------------------------------


def forget_execute(*, request: PrivacyRequest, schema: str | None = None) -> dict:
    """Delete the subject's personal data in its store; returns counts per kind.

    Works from the row's digests alone. A request already done is not run
    again (its counts are returned), so duplicate deliveries are harmless.
    Errors propagate (the task retries); the transaction leaves nothing half-done.

    ``schema`` deletes in that schema instead of the store's live one: a
    restore's scratch copy, before it is swapped in (``customers.restore``).
    The ledger row, suppressions and audit event are written as for any
    forget; inside a caller's transaction they commit (or not) with it.
    """
    store = Store.objects.select_related("account").get(pk=request.store_id)
    _mark_running([request.pk])
    with transaction.atomic():
        # The row lock makes a second run of the same request wait here, then see "done".
        locked = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status == RequestStatus.DONE:
            return locked.counts
        _lock_store(store)
        return _forget_locked(store=store, locked=locked, schema=schema)


def forget_execute_many(
    *, store: Store, request_ids: list[int], chunk: int = 100
) -> tuple[dict[int, dict], dict[int, str]]:
    """Many requests of one store (a bulk API call, a sweep): ``({id: counts}, {id: error})``.

    Each request runs in its own savepoint, so one failing request does not
    stop the others and the counts stay exact per request; ``chunk`` requests
    share one commit, which is what makes 1,000 small forgets fast.
    """
    done: dict[int, dict] = {}
    failed: dict[int, str] = {}
    ids = sorted(set(request_ids))
    _mark_running(ids)
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            rows = list(
                PrivacyRequest.objects.select_for_update()
                .filter(pk__in=ids[start : start + chunk], store=store, kind=RequestKind.FORGET)
                .order_by("pk")  # one lock order: two batches never deadlock
            )
            _lock_store(store)
            for locked in rows:
                if locked.status == RequestStatus.DONE:
                    done[locked.pk] = locked.counts
                    continue
                try:
                    with transaction.atomic():
                        done[locked.pk] = _forget_locked(store=store, locked=locked)
                except DatabaseError as exc:
                    # The class name only: a database error's text can quote row values.
                    failed[locked.pk] = type(exc).__name__
    for pk, error in failed.items():
        forget_request_note_error(request_id=pk, error=error)
    return done, failed


def _mark_running(ids: list[int]) -> None:
    """State only (the sweeper and the status page read it): committed without waiting for
    the disk when we are not inside a caller's transaction, since losing it is harmless."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # never relax the durability of a caller's transaction
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        PrivacyRequest.objects.filter(
            pk__in=ids, status__in=(*OPEN_STATUSES, RequestStatus.FAILED)
        ).update(
            status=RequestStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
        )


def _lock_store(store: Store) -> None:
    # Forgets of one store run one at a time: no deadlocks between two forgets of one person.
    store_xact_lock(job=LOCK_FORGET, store_id=store.pk)


def _forget_locked(*, store: Store, locked: PrivacyRequest, schema: str | None = None) -> dict:
    """The forget of one locked ledger row, inside the caller's transaction."""
    with tenant_context(store) if schema is None else schema_context(schema):
        counts, found = _delete_subject(
            emails=[locked.email_digest] if locked.email_digest else [],
            customers=[locked.customer_digest] if locked.customer_digest else [],
            visitors=[d for d in locked.visitor_digests if d],
        )
    now = timezone.now()
    # Record every identifier actually found, so a replay and the suppression cover them.
    locked.visitor_digests = sorted(set(locked.visitor_digests) | found["visitor"])
    if not locked.email_digest and found["email"]:
        locked.email_digest = sorted(found["email"])[0]
    if not locked.customer_digest and found["customer"]:
        locked.customer_digest = sorted(found["customer"])[0]
    found["visitor"] = set(locked.visitor_digests)
    found["email"] |= {locked.email_digest} - {""}
    found["customer"] |= {locked.customer_digest} - {""}
    suppressed = _suppress(store=store, request=locked, found=found, now=now)
    locked.status = RequestStatus.DONE
    locked.done_at = now
    locked.error = ""
    locked.counts = counts
    locked.save(
        update_fields=[
            "status",
            "done_at",
            "error",
            "counts",
            "visitor_digests",
            "email_digest",
            "customer_digest",
        ]
    )
    audit_record(
        action="forget.done",
        store=store,
        subject_kind=locked.subject_kind,
        detail={"request": locked.pk, "counts": counts, "suppressions": suppressed},
    )
    if any(counts.values()):
        from customers.tasks import inventory_refresh_soon

        inventory_refresh_soon(store)  # the dashboard's data checks follow (debounced, on commit)
    log.info("forget: request %s of store %s done %s", locked.pk, store.pk, counts)
    return counts


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _delete_subject(
    *, emails: list[str], customers: list[str], visitors: list[str]
) -> tuple[dict, dict[str, set[str]]]:
    """The deletion proper, in the current (store) schema. Set-based: one statement per table.

    Customer and visitor rows are locked first (FOR UPDATE): a concurrent
    insert that refers to them (a new page view, a visitor linked to the
    customer) waits for this transaction, then finds them gone.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, email_digest, customer_digest FROM {_table(Customer)} "
            "WHERE (email_digest <> '' AND email_digest = ANY(%s)) "
            "OR (customer_digest <> '' AND customer_digest = ANY(%s)) FOR UPDATE",
            [emails, customers],
        )
        customer_rows = cursor.fetchall()
        customer_ids = [row[0] for row in customer_rows]
        cursor.execute(
            f"SELECT id, visitor_digest FROM {_table(Visitor)} "
            "WHERE (visitor_digest <> '' AND visitor_digest = ANY(%s)) "
            "OR customer_id = ANY(%s::bigint[]) FOR UPDATE",
            [visitors, customer_ids],
        )
        visitor_rows = cursor.fetchall()
        visitor_ids = [row[0] for row in visitor_rows]
        found = {
            "email": {row[1] for row in customer_rows if row[1]},
            "customer": {row[2] for row in customer_rows if row[2]},
            "visitor": {row[1] for row in visitor_rows if row[1]},
        }
        counts = {}
        for name, model in (
            ("page_views", PageView),
            ("content_views", ContentView),
            ("clicks", Click),
        ):
            cursor.execute(
                f"DELETE FROM {_table(model)} WHERE visitor_id = ANY(%s::bigint[])", [visitor_ids]
            )
            counts[name] = cursor.rowcount
        # Orders stay (totals, products, dates) as anonymous orders.
        cursor.execute(
            f"UPDATE {_table(Order)} SET customer_id = NULL, visitor_id = NULL, email = NULL, "
            "email_digest = '' WHERE customer_id = ANY(%s::bigint[]) "
            "OR visitor_id = ANY(%s::bigint[]) "
            "OR (email_digest <> '' AND email_digest = ANY(%s))",
            [customer_ids, visitor_ids, sorted(set(emails) | found["email"])],
        )
        counts["orders_anonymised"] = cursor.rowcount
        cursor.execute(f"DELETE FROM {_table(Visitor)} WHERE id = ANY(%s::bigint[])", [visitor_ids])
        counts["visitors"] = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {_table(Customer)} WHERE id = ANY(%s::bigint[])", [customer_ids]
        )
        counts["customers"] = cursor.rowcount
    return {k: counts[k] for k in COUNT_KINDS}, found


def _suppress(*, store: Store, request: PrivacyRequest, found: dict[str, set[str]], now) -> int:
    """One suppression per digest. A later forget moves ``forgotten_at`` forward and re-activates
    a lifted one; a replay after a restore keeps the original time and respects a lift."""
    pairs = [(kind, digest) for kind in SUBJECT_KINDS for digest in sorted(found[kind]) if digest]
    if not pairs:
        return 0
    if request.via == RequestVia.REPLAY:
        original = request.replay_of.done_at if request.replay_of_id else None
        on_conflict = "DO NOTHING"
        forgotten_at = original or now
    else:
        on_conflict = (
            "DO UPDATE SET forgotten_at = GREATEST(s.forgotten_at, EXCLUDED.forgotten_at), "
            "request_id = EXCLUDED.request_id, lifted_at = NULL, lifted_by_id = NULL"
        )
        forgotten_at = now
    table = connection.ops.quote_name(Suppression._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS s (store_id, identifier_kind, digest, forgotten_at, "
            "request_id, blocked_count) "
            "SELECT %s, k, d, %s, %s, 0 FROM unnest(%s::text[], %s::text[]) AS t(k, d) "
            f"ON CONFLICT (store_id, identifier_kind, digest) {on_conflict}",
            [
                store.pk,
                forgotten_at,
                request.pk,
                [k for k, _ in pairs],
                [d for _, d in pairs],
            ],
        )
    return len(pairs)


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
