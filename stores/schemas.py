"""Store schemas made in one step from the current migration state.

A store schema at one migration state is always the same DDL, so it is made once per
state: a scratch schema is migrated the ordinary way, dumped with ``pg_dump
--schema-only`` and its name replaced by a placeholder. That text and the scratch
schema's ``django_migrations`` rows are kept in ``SchemaTemplate`` (public) and in the
process's memory. A new store then costs one batch of DDL and one INSERT of its
migration rows, in the caller's transaction (so a failure leaves no schema behind).

The state is a digest of every migration the code has (all apps: django-tenants
records each app's migrations in every schema). A new migration is a new state, so
its template is built on first use (``migrate_stores`` builds it before it starts).
A migration edited in place keeps its name and is not noticed: never edit an applied
migration.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import secrets
import subprocess
from dataclasses import dataclass

from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.postgresql_backend.base import _check_schema_name

from clerkgdpr.pgtools import dump_rewrite, pg_env, pg_tool

PLACEHOLDER = "__clerkgdpr_store_schema__"
SCRATCH_PREFIX = "clerkgdpr_tpl_"
# Session settings and psql meta-commands of the dump: the batch must not change the
# connection's search_path or anything else beyond the statement.
_SESSION_LINE = re.compile(r"^(SET |SELECT pg_catalog\.set_config\(|\\|--)")


@dataclass(frozen=True)
class Template:
    state: str
    migrations: list[list[str]]
    ddl: str


# {state digest: Template}, per process: a template never changes once made.
_templates: dict[str, Template] = {}


@functools.cache
def migration_state() -> tuple[str, tuple[tuple[str, str], ...]]:
    """(digest, every (app, name) migration of the code), computed once per process."""
    nodes = tuple(sorted(MigrationLoader(None, ignore_no_migrations=True).graph.nodes))
    digest = hashlib.sha256("\n".join(f"{a}.{n}" for a, n in nodes).encode()).hexdigest()
    return digest, nodes


def forget_cached_state() -> None:
    """Read the migrations and templates afresh (after MIGRATION_MODULES changed)."""
    migration_state.cache_clear()
    _templates.clear()


def _model():
    return apps.get_model("stores", "SchemaTemplate")


def template_current(*, build: bool = True) -> Template | None:
    """The template of the code's migration state; built if missing (never inside a
    transaction: pg_dump reads the scratch schema from its own connection)."""
    state, _ = migration_state()
    if state in _templates:
        return _templates[state]
    row = _model().objects.filter(state=state).values("state", "migrations", "ddl").first()
    if row is None:
        if not build or connection.in_atomic_block:
            return None
        row = _build(state)
    _templates[state] = Template(**row)
    return _templates[state]


def template_migrations(state: str) -> set[tuple[str, str]] | None:
    """The migrations a schema at ``state`` has, if that state's template is known."""
    row = _model().objects.filter(state=state).values_list("migrations", flat=True).first()
    return None if row is None else {(app, name) for app, name in row}


def _build(state: str) -> dict:
    # A random scratch name: two processes building at once do not collide, and the
    # unique state column keeps the first template (both are the same DDL).
    scratch = f"{SCRATCH_PREFIX}{state[:12]}_{secrets.token_hex(4)}"
    schema_create_by_migrations(scratch)
    try:
        ddl = _dump(scratch)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT app, name FROM "{scratch}".django_migrations ORDER BY id')
            migrations = [list(row) for row in cursor.fetchall()]
    finally:
        schema_drop(scratch)
    _model().objects.get_or_create(state=state, defaults={"migrations": migrations, "ddl": ddl})
    return _model().objects.filter(state=state).values("state", "migrations", "ddl").get()


def _dump(schema_name: str) -> str:
    result = subprocess.run(
        [
            pg_tool("pg_dump"),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema_name}",
        ],
        env=pg_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise RuntimeError(f"pg_dump of the template schema failed: {first}")
    # Identity columns folded into their CREATE TABLE (Citus refuses pg_dump's separate
    # ALTER ... ADD GENERATED); the scratch name, random hex, occurs nowhere but as the schema.
    folded = io.BytesIO()
    source = io.BytesIO(result.stdout.encode()).readlines()
    dump_rewrite(source, folded, re.compile(re.escape(schema_name.encode())), PLACEHOLDER.encode())
    text = folded.getvalue().decode()
    lines = [line for line in text.splitlines() if not _SESSION_LINE.match(line)]
    return "\n".join(line for line in lines if line.strip())


def schema_create_by_migrations(schema_name: str) -> None:
    """Create ``schema_name`` and run every migration into it (the slow, ordinary way)."""
    _check_schema_name(schema_name)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0
    )
    connection.set_schema_to_public()


def schema_drop(schema_name: str) -> None:
    _check_schema_name(schema_name)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')


def schema_create_from_template(*, schema_name: str, template: Template) -> None:
    """One batch of DDL and one INSERT of the migration rows, atomically."""
    _check_schema_name(schema_name)
    apps_, names = zip(*template.migrations, strict=True) if template.migrations else ((), ())
    ddl = template.ddl.replace(PLACEHOLDER, schema_name)
    with transaction.atomic(), connection.cursor() as cursor:
        # Citus sends DDL on to the worker as one prepared statement each: there, one by one.
        for statement in _statements(ddl) if on_citus() else [ddl]:
            cursor.execute(statement)
        cursor.execute(
            f'INSERT INTO "{schema_name}".django_migrations (app, name, applied) '
            "SELECT a, n, now() FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS m(a, n, i) "
            "ORDER BY i",
            [list(apps_), list(names)],
        )


def _statements(ddl: str) -> list[str]:
    """pg_dump's schema-only DDL split into statements (each ends a line with ";")."""
    statements, current = [], []
    for line in ddl.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current))
            current = []
    if current and "".join(current).strip():
        statements.append("\n".join(current))
    return statements


def on_citus() -> bool:
    """Asked once per process and database, not per store created."""
    settings_dict = connection.settings_dict
    return _citus_in(settings_dict["HOST"], settings_dict["PORT"], settings_dict["NAME"])


@functools.cache
def _citus_in(host: str, port: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
        return cursor.fetchone()[0]


# --- spare schemas: made ahead, renamed into a store in one catalog update ------------
#
# Replaying the DDL costs one fsync per index PostgreSQL builds (about 35 here), so a
# schema takes 100-200 ms on this machine whatever the DDL looks like. Spare schemas
# are made ahead by ``spare_schemas_fill`` (beat, every minute) and a new store takes
# one: ``ALTER SCHEMA ... RENAME`` changes a single pg_namespace row, every table, index,
# sequence and constraint refers to the schema by oid. A spare of an older state is
# never used and is dropped by the next fill. No spare ready: the DDL is replayed.


def _spare_model():
    return apps.get_model("stores", "SpareSchema")


def spare_schemas_fill(*, count: int) -> int:
    """Make spares up to ``count`` at the current state, drop stale ones; returns how many
    were made (each in its own transaction, so a store can take one meanwhile)."""
    template = template_current()
    stale = list(_spare_model().objects.exclude(state=template.state).values_list("pk", flat=True))
    for pk in stale:
        with transaction.atomic():
            spare = _spare_model().objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if spare:
                schema_drop(spare.schema_name)
                spare.delete()
    made = 0
    while _spare_model().objects.filter(state=template.state).count() < count:
        name = f"clerkgdpr_spare_{secrets.token_hex(6)}"
        with transaction.atomic():
            schema_create_from_template(schema_name=name, template=template)
            _spare_model().objects.create(schema_name=name, state=template.state)
        made += 1
    return made


def _spare_take(*, schema_name: str, state: str) -> bool:
    """Rename a ready spare to ``schema_name`` in the caller's transaction (False: none)."""
    spare = (
        _spare_model()
        .objects.select_for_update(skip_locked=True)
        .filter(state=state)
        .order_by("pk")
        .first()
    )
    if spare is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{spare.schema_name}" RENAME TO "{schema_name}"')
    spare.delete()
    return True


def store_schema_create(*, store) -> bool:
    """Make ``store``'s schema (a spare renamed, else the template's DDL) and note its state
    on the row; False when no template is at hand inside a transaction (the caller then
    migrates the slow way)."""
    template = template_current()
    if template is None:
        return False
    _check_schema_name(store.schema_name)
    with transaction.atomic():
        if not _spare_take(schema_name=store.schema_name, state=template.state):
            schema_create_from_template(schema_name=store.schema_name, template=template)
        type(store).objects.filter(pk=store.pk).update(schema_state=template.state)
    store.schema_state = template.state
    connection.set_schema_to_public()
    return True
