"""Store schemas from the template: the same as a migrated schema, made in one transaction,
rebuilt when the code has a new migration."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from bench.next_migration import COLUMN, INDEX, next_migration
from customers.models import Customer
from stores import schemas
from stores.models import Account, Domain, SchemaTemplate, SpareSchema, Store
from stores.schemas import on_citus
from stores.services import store_create

# Columns compare by their order, not ordinal_position: a migrated schema keeps the
# position of a column a migration dropped (a gap), a schema made from the DDL has none.
CATALOG = {
    "columns": """
        SELECT table_name, column_name,
               rank() OVER (PARTITION BY table_name ORDER BY ordinal_position),
               data_type, character_maximum_length,
               numeric_precision, replace(coalesce(column_default, ''), %(s)s, 'S'),
               is_nullable, is_identity, identity_generation, identity_start
        FROM information_schema.columns WHERE table_schema = %(s)s ORDER BY 1, 3""",
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, %(s)s, 'S')
        FROM pg_indexes WHERE schemaname = %(s)s ORDER BY 1, 2""",
    "constraints": """
        SELECT t.relname, c.conname, c.contype, replace(pg_get_constraintdef(c.oid), %(s)s, 'S'),
               c.condeferrable, c.condeferred
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %(s)s ORDER BY 1, 2""",
    "sequences": """
        SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences
        WHERE sequence_schema = %(s)s ORDER BY 1""",
    "triggers": """
        SELECT c.relname, t.tgname, replace(pg_get_triggerdef(t.oid), %(s)s, 'S')
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND NOT t.tgisinternal ORDER BY 1, 2""",
    "migrations": "SELECT app, name FROM {schema}.django_migrations ORDER BY id",
}


def catalog(schema_name: str) -> dict[str, list]:
    found = {}
    with connection.cursor() as cursor:
        for what, sql in CATALOG.items():
            cursor.execute(sql.format(schema=schema_name), {"s": schema_name})
            found[what] = cursor.fetchall()
    return found


def test_it_makes_the_same_schema_as_the_migrations(django_db_setup, django_db_blocker):
    tag = uuid.uuid4().hex[:8]
    migrated, cloned = f"store_cmp_migrated_{tag}", f"store_cmp_cloned_{tag}"
    with django_db_blocker.unblock():
        try:
            schemas.schema_create_by_migrations(migrated)
            schemas.schema_create_from_template(
                schema_name=cloned, template=schemas.template_current()
            )
            expected, got = catalog(migrated), catalog(cloned)
        finally:
            schemas.schema_drop(migrated)
            schemas.schema_drop(cloned)
    assert len(expected["columns"]) > 50 and len(expected["indexes"]) > 15
    assert len(expected["triggers"]) == (0 if on_citus() else 6)  # the search's directory
    for what in CATALOG:
        assert got[what] == expected[what], what


def test_a_spare_schema_renamed_into_a_store_is_the_same(django_db_setup, django_db_blocker):
    tag = uuid.uuid4().hex[:8]
    migrated, taken = f"store_cmp_migrated_{tag}", f"store_cmp_spare_{tag}"
    with django_db_blocker.unblock():
        try:
            schemas.schema_create_by_migrations(migrated)
            assert schemas.spare_schemas_fill(count=1) == 1
            assert schemas.spare_schemas_fill(count=1) == 0
            spare = SpareSchema.objects.get()
            with transaction.atomic():
                state = schemas.template_current().state
                assert schemas._spare_take(schema_name=taken, state=state)
            assert not SpareSchema.objects.exists() and not schema_exists(spare.schema_name)
            expected, got = catalog(migrated), catalog(taken)
        finally:
            schemas.schema_drop(migrated)
            schemas.schema_drop(taken)
            for left in SpareSchema.objects.all():
                schemas.schema_drop(left.schema_name)
                left.delete()
    for what in CATALOG:
        assert got[what] == expected[what], what


def test_it_creates_a_store_with_its_schema_and_migration_rows(db):
    account = Account.objects.get(slug="acme")
    store = store_create(account=account, slug="fresh-store", name="Fresh")
    template = schemas.template_current()
    assert store.schema_state == template.state == schemas.migration_state()[0]
    assert Store.objects.get(slug="fresh-store").schema_state == template.state
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM store_fresh_store.django_migrations ORDER BY id")
        assert [list(row) for row in cursor.fetchall()] == template.migrations
    connection.set_tenant(store)
    assert Customer.objects.count() == 0


def test_it_leaves_neither_row_nor_schema_when_creation_fails(db):
    account = Account.objects.get(slug="acme")
    other = Store.objects.get(slug="acme-outlet")
    # The domain the new store would get is taken: the last step fails.
    Domain.objects.create(domain="doomed-store.stores.local", tenant=other, is_primary=False)
    with pytest.raises(Exception, match="domain"):
        store_create(account=account, slug="doomed-store", name="Doomed")
    connection.set_schema_to_public()
    assert not Store.objects.filter(slug="doomed-store").exists()
    assert not schema_exists("store_doomed_store")


def test_it_refuses_a_schema_that_exists_and_keeps_it(db):
    account = Account.objects.get(slug="acme")
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA store_squatted; CREATE TABLE store_squatted.keep (id int)")
    with pytest.raises(Exception, match="exists"):
        store_create(account=account, slug="squatted", name="Squatted")
    connection.set_schema_to_public()
    assert not Store.objects.filter(slug="squatted").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM store_squatted.keep")
        assert cursor.fetchone() == (0,)


def test_it_rebuilds_the_template_for_a_new_migration(django_db_setup, django_db_blocker, tmp_path):
    with django_db_blocker.unblock():
        before = schemas.template_current()
        account = Account.objects.get(slug="acme")
        store = None
        with next_migration(tmp_path) as (app, name):
            try:
                store = store_create(account=account, slug=f"next-{uuid.uuid4().hex[:6]}", name="N")
                template = schemas.template_current()
                assert template.state != before.state
                assert [app, name] in template.migrations
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
                        "AND table_name = 'customers_click' AND column_name = %s",
                        [store.schema_name, COLUMN],
                    )
                    assert cursor.fetchone() == (1,)
                    cursor.execute(
                        "SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
                        [store.schema_name, INDEX],
                    )
                    assert cursor.fetchone() == (1,)
            finally:
                if store is not None:
                    store.delete(force_drop=True)
                SchemaTemplate.objects.exclude(state=before.state).delete()
        assert schemas.template_current().state == before.state


def test_every_identity_is_folded_into_its_create_table(db):
    """Citus refuses pg_dump's separate ``ALTER TABLE … ADD GENERATED … AS IDENTITY``: the
    template has none, including for a table with storage parameters (``WITH (…)``)."""
    import io
    import re

    from clerkgdpr.pgtools import dump_rewrite

    ddl = schemas.template_current().ddl
    assert "ADD GENERATED" not in ddl
    assert "fillfactor" in ddl  # the visitors table keeps its room for heap-only updates
    dump = (
        b"CREATE TABLE s.t (\n    id bigint NOT NULL,\n    n integer\n)\n"
        b"WITH (fillfactor='85');\n\n"
        b"ALTER TABLE s.t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (\n"
        b"    SEQUENCE NAME s.t_id_seq\n    START WITH 1\n    CACHE 1\n);\n"
        b"CREATE INDEX t_n ON s.t USING btree (n);\n"
    )
    out = io.BytesIO()
    dump_rewrite(io.BytesIO(dump).readlines(), out, re.compile(rb"\bs\."), b"x.")
    text = out.getvalue().decode()
    assert "ADD GENERATED" not in text
    assert "id bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY" in text
    assert "WITH (fillfactor='85');" in text and "CREATE INDEX t_n ON x.t" in text
