"""Migrating many store schemas: find the ones behind in one query, migrate only those.

Each store row notes the migration state its schema is known to be at
(``Store.schema_state``, the digest of ``stores.schemas.migration_state``). A store
made from the template, or migrated here, gets the state it reached. So "which
stores lack migrations" is one query on the public table, whatever the store count,
and the templates (one per state, ``SchemaTemplate.migrations``) say which migrations
each of them lacks. ``stores_verify`` reads every schema's own ``django_migrations``
instead (for stores migrated by other means), a few hundred schemas per query.

Stores are migrated by a pool of processes, each store on its own connection with a
``lock_timeout``, so a table busy with live traffic makes that store fail fast instead
of queueing every other statement behind the migration's lock. A failed store is
reported and the others go on; its state stays behind, so running again resumes with
exactly the stores still lacking something.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.management import call_command
from django.db import connection, connections
from django_tenants.utils import get_public_schema_name

from stores import schemas
from stores.models import Store

# Schemas read per verification query: each one takes a lock on its django_migrations
# table until the query ends, and the server's lock table is shared by every session.
VERIFY_CHUNK = 400


@dataclass
class Lacking:
    store_id: int
    slug: str
    schema_name: str
    # The migrations the schema lacks; None when its noted state is unknown here.
    missing: list[tuple[str, str]] | None


@dataclass
class MigrateResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _stores(slugs: Iterable[str] | None):
    stores = Store.objects.exclude(schema_name=get_public_schema_name())
    return stores.filter(slug__in=list(slugs)) if slugs is not None else stores


def stores_lacking(*, slugs: Iterable[str] | None = None) -> list[Lacking]:
    """Stores whose schema is not at the code's migration state: one query on public
    (plus one per distinct older state, to name what each lacks)."""
    state, nodes = schemas.migration_state()
    rows = list(
        _stores(slugs)
        .exclude(schema_state=state)
        .order_by("pk")
        .values_list("pk", "slug", "schema_name", "schema_state")
    )
    wanted = list(nodes)
    known: dict[str, set[tuple[str, str]] | None] = {}
    for old in {row[3] for row in rows if row[3]}:
        known[old] = schemas.template_migrations(old)
    lacking = []
    for pk, slug, schema_name, old in rows:
        have = known.get(old)
        missing = None if have is None else [m for m in wanted if m not in have]
        lacking.append(Lacking(pk, slug, schema_name, missing))
    return lacking


def stores_verify(*, slugs: Iterable[str] | None = None) -> list[Lacking]:
    """Read every store schema's own django_migrations and note the state of the stores
    that have everything; returns the others (a missing schema lacks everything)."""
    state, nodes = schemas.migration_state()
    wanted = list(nodes)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.slug, s.schema_name, n.oid IS NOT NULL FROM stores_store s "
            "LEFT JOIN pg_namespace n ON n.nspname = s.schema_name "
            "WHERE s.schema_name <> %s AND (%s OR s.slug = ANY(%s)) ORDER BY s.id",
            [get_public_schema_name(), slugs is None, list(slugs or [])],
        )
        stores = cursor.fetchall()
    lacking = [Lacking(pk, slug, name, wanted) for pk, slug, name, exists in stores if not exists]
    present = [(pk, slug, name) for pk, slug, name, exists in stores if exists]
    for start in range(0, len(present), VERIFY_CHUNK):
        chunk = present[start : start + VERIFY_CHUNK]
        union = " UNION ALL ".join(
            f'SELECT {int(pk)} AS store_id, app, name FROM "{name}".django_migrations'
            for pk, _slug, name in chunk
        )
        with connection.cursor() as cursor:
            cursor.execute(union)
            applied: dict[int, set[tuple[str, str]]] = {}
            for store_id, app, name in cursor.fetchall():
                applied.setdefault(store_id, set()).add((app, name))
        complete = []
        for pk, slug, name in chunk:
            missing = [m for m in wanted if m not in applied.get(pk, set())]
            if missing:
                lacking.append(Lacking(pk, slug, name, missing))
            else:
                complete.append(pk)
        Store.objects.filter(pk__in=complete).exclude(schema_state=state).update(schema_state=state)
    return sorted(lacking, key=lambda item: item.store_id)


# The parent's connections as a forked child found them: kept (never used, never closed,
# never collected) so that nothing of the child's ever touches the parent's sessions.
_parents: list = []


def _leave_parent_connections() -> None:
    """In a forked pool process: open connections of its own. ``close_all`` in the parent
    leaves a connection open inside a transaction (a caller's, a test's); its socket is the
    parent's, and two processes on one socket read each other's answers."""
    for conn in connections.all(initialized_only=True):
        _parents.append(conn.connection)
        conn.connection = None
        conn.in_atomic_block = False
        conn.savepoint_ids = []
        conn.needs_rollback = False
        conn.closed_in_transaction = False
        conn.run_on_commit = []


def _migrate_one(job: tuple[int, str, str, str, str]) -> tuple[str, str | None]:
    """In a pool process: migrate one schema, note its new state; (slug, error or None)."""
    store_id, slug, schema_name, state, lock_timeout = job
    try:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [lock_timeout])
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=schema_name,
            interactive=False,
            verbosity=0,
        )
        connection.set_schema_to_public()
        Store.objects.filter(pk=store_id).update(schema_state=state)
    except Exception as exc:  # reported per store; the pool goes on with the others
        connections.close_all()  # a broken connection must not serve the next store
        # The first line only: a DETAIL line could quote row values.
        message = (str(exc).strip().splitlines() or [""])[0][:300]
        return slug, f"{type(exc).__name__}: {message}"
    return slug, None


def stores_migrate(
    *,
    lacking: list[Lacking],
    workers: int = 2,
    lock_timeout: str = "5s",
    progress: Callable[[str, str | None], None] | None = None,
) -> MigrateResult:
    """Migrate the schemas of ``lacking`` in ``workers`` processes (forked, each with its
    own connection); one store's failure is reported and does not stop the others."""
    state, _ = schemas.migration_state()
    schemas.template_current()  # new stores are cloned at the new state from now on
    jobs = [(item.store_id, item.slug, item.schema_name, state, lock_timeout) for item in lacking]
    result = MigrateResult()
    if not jobs:
        return result
    connections.close_all()  # forked children must not share the parent's socket
    context = multiprocessing.get_context("fork")
    processes = max(1, min(workers, len(jobs)))
    with context.Pool(processes=processes, initializer=_leave_parent_connections) as pool:
        for slug, error in pool.imap_unordered(_migrate_one, jobs):
            if error is None:
                result.done.append(slug)
            else:
                result.failed[slug] = error
            if progress:
                progress(slug, error)
    return result
