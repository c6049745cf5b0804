"""Forget: delete every piece of personal data about one subject in one store.

``forget_execute`` (the worker) deletes in the store's schema, working from the
ledger row's digests alone, so a restore can replay old rows without the
identifiers. One transaction, a handful of set-based statements, the ledger row
locked: running it again, or twice at once, changes nothing more. Orders stay as
anonymous orders; a suppression per identifier keeps later syncs of old data out.
The ledger rows and their jobs are ``customers.privacy.forget_requests``.

No identifier ever reaches a log line, an exception message or the public schema.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from customers import jobs
from customers.catalogue import browsing_tables
from customers.locks import LOCK_FORGET, store_xact_lock
from customers.models import Basket, Customer, Order, Subscriber, Visitor, VisitorLink
from customers.privacy.forget_requests import (
    OPEN_STATUSES,
    forget_request_note_error,
    replay_row_create,
)
from customers.privacy.subjects import SUBJECT_KINDS
from gdpr_dashboard.models import (
    PrivacyRequest,
    RequestKind,
    RequestStatus,
    RequestVia,
    Suppression,
)
from stores.audit import audit_record
from stores.models import Store, User

log = logging.getLogger(__name__)

COUNT_KINDS = (
    "customers",
    "visitors",
    "page_views",
    "content_views",
    "clicks",
    "orders_anonymised",
    "baskets",
    "subscribers",
    "shared_devices",
)
# Browsing tables and their count names (the personal-data catalogue's).
BROWSING = {model: name for name, model in browsing_tables().items()}


def forget_request_replay(*, original: PrivacyRequest, actor: User | None = None) -> PrivacyRequest:
    """A new ledger row (via replay) with the original's digests, executed at once.

    For restores: the raw identifiers are long gone; the digests are all we need.
    """
    with transaction.atomic():
        replay = replay_row_create(original=original, actor=actor)
    forget_execute(request=replay)
    replay.refresh_from_db()
    return replay


# --- executing ----------------------------------------------------------------------------


def forget_execute(*, request: PrivacyRequest, schema: str | None = None) -> dict:
    """Delete the subject's personal data in its store; returns counts per kind.

    Works from the row's digests alone. A request already done is not run
    again (its counts are returned), so duplicate deliveries are harmless.
    Errors propagate (the task retries); the transaction leaves nothing half-done.

    ``schema`` deletes in that schema instead of the store's live one: a
    restore's scratch copy, before it is swapped in (``customers.retention.restore``).
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
            device_is_subject=locked.subject_kind == "visitor",
        )
    now = timezone.now()
    # Record every identifier actually found, so a replay and the suppression cover them.
    # A device shared with another customer stays theirs: neither recorded nor suppressed.
    locked.visitor_digests = sorted(
        (set(locked.visitor_digests) - found.pop("shared")) | found["visitor"]
    )
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
        jobs.inventory_refresh_soon(
            store
        )  # the dashboard's data checks follow (debounced, on commit)
    log.info("forget: request %s of store %s done %s", locked.pk, store.pk, counts)
    return counts


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _delete_subject(
    *, emails: list[str], customers: list[str], visitors: list[str], device_is_subject: bool
) -> tuple[dict, dict[str, set[str]]]:
    """The deletion proper, in the current (store) schema. Set-based: one statement per table.

    Who loses what (README, "Whose is this row?"): the subject's customer rows and their
    links; the devices named or linked, with all their browsing. A device also linked to
    another customer (shared) keeps its row and the other links, loses its browsing (it
    cannot be told apart by person) and is not suppressed. Orders of the subject's
    customers, anonymous orders with its e-mail and anonymous orders without an e-mail on
    its own devices lose every identifier; anyone else's order placed on a forgotten
    device stays theirs, without the device.
    ``device_is_subject``: the request names a device, which goes even when shared.

    Customer and visitor rows are locked first (FOR UPDATE): a concurrent insert that
    refers to them (a new page view, a new link) waits for this transaction.
    """
    T = {
        m: _table(m) for m in (Customer, Visitor, VisitorLink, Order, Basket, Subscriber, *BROWSING)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, email_digest, customer_digest FROM {T[Customer]} "
            "WHERE (email_digest <> '' AND email_digest = ANY(%s)) "
            "OR (customer_digest <> '' AND customer_digest = ANY(%s)) ORDER BY id FOR UPDATE",
            [emails, customers],
        )
        customer_rows = cursor.fetchall()
        customer_ids = [row[0] for row in customer_rows]
        # One indexed lookup per way a device belongs (a UNION: an OR across them would
        # read the whole table, half a second on 900,000 visitors).
        cursor.execute(
            f"SELECT id, visitor_digest FROM {T[Visitor]} WHERE id IN ("
            f"SELECT id FROM {T[Visitor]} WHERE visitor_digest <> '' AND visitor_digest = ANY(%s) "
            f"UNION SELECT visitor_id FROM {T[VisitorLink]} WHERE customer_id = ANY(%s) "
            f"UNION SELECT id FROM {T[Visitor]} WHERE customer_id = ANY(%s::bigint[])"
            ") ORDER BY id FOR UPDATE",
            [visitors, customer_ids, customer_ids],
        )
        device_rows = cursor.fetchall()
        devices = [row[0] for row in device_rows]
        shared: set[int] = set()
        if not device_is_subject and devices:
            cursor.execute(
                f"SELECT v.id FROM {T[Visitor]} v WHERE v.id = ANY(%s) AND ("
                "(v.customer_id IS NOT NULL AND NOT v.customer_id = ANY(%s::bigint[])) "
                f"OR EXISTS (SELECT 1 FROM {T[VisitorLink]} l WHERE l.visitor_id = v.id "
                "AND NOT l.customer_id = ANY(%s::bigint[])))",
                [devices, customer_ids, customer_ids],
            )
            shared = {row[0] for row in cursor.fetchall()}
        own = [pk for pk in devices if pk not in shared]
        found = {
            "email": {row[1] for row in customer_rows if row[1]},
            "customer": {row[2] for row in customer_rows if row[2]},
            "visitor": {row[1] for row in device_rows if row[1] and row[0] not in shared},
            "shared": {row[1] for row in device_rows if row[1] and row[0] in shared},
        }
        counts = {}
        for model in BROWSING:
            cursor.execute(
                f"DELETE FROM {T[model]} WHERE visitor_id = ANY(%s::bigint[])", [devices]
            )
            counts[BROWSING[model]] = cursor.rowcount
        # Orders stay (totals, products, dates) as anonymous orders.
        cursor.execute(
            f"UPDATE {T[Order]} SET customer_id = NULL, visitor_id = NULL, email = NULL, "
            "email_digest = '' WHERE customer_id = ANY(%s::bigint[]) OR (customer_id IS NULL AND "
            "((email_digest = '' AND visitor_id = ANY(%s::bigint[])) "
            "OR (email_digest <> '' AND email_digest = ANY(%s))))",
            [customer_ids, own, sorted(set(emails) | found["email"])],
        )
        counts["orders_anonymised"] = cursor.rowcount
        cursor.execute(
            f"UPDATE {T[Order]} SET visitor_id = NULL WHERE visitor_id = ANY(%s::bigint[])", [own]
        )
        every_email = sorted(set(emails) | found["email"])
        cursor.execute(
            f"DELETE FROM {T[Basket]} WHERE visitor_id = ANY(%s::bigint[]) "
            "OR (email_digest <> '' AND email_digest = ANY(%s))",
            [devices, every_email],
        )
        counts["baskets"] = cursor.rowcount
        cursor.execute(f"DELETE FROM {T[Subscriber]} WHERE email_digest = ANY(%s)", [every_email])
        counts["subscribers"] = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {T[VisitorLink]} "
            "WHERE customer_id = ANY(%s::bigint[]) OR visitor_id = ANY(%s::bigint[])",
            [customer_ids, own],
        )
        # A shared device whose first customer goes passes to its earliest remaining link.
        cursor.execute(
            f"UPDATE {T[Visitor]} v SET customer_id = (SELECT l.customer_id "
            f"FROM {T[VisitorLink]} l WHERE l.visitor_id = v.id ORDER BY l.first_seen, l.id "
            "LIMIT 1) WHERE v.customer_id = ANY(%s::bigint[]) AND NOT v.id = ANY(%s::bigint[])",
            [customer_ids, own],
        )
        cursor.execute(f"DELETE FROM {T[Visitor]} WHERE id = ANY(%s::bigint[])", [own])
        counts["visitors"] = cursor.rowcount
        cursor.execute(f"DELETE FROM {T[Customer]} WHERE id = ANY(%s::bigint[])", [customer_ids])
        counts["customers"] = cursor.rowcount
        counts["shared_devices"] = len(shared)
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
