"""migrate_stores: finds the stores behind, migrates them in parallel, reports a failed
store without stopping the others, and resumes with what is left."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench.next_migration import COLUMN, INDEX, next_migration
from stores import schemas
from stores.models import Account, SchemaTemplate, Store
from stores.schema_migrations import stores_lacking, stores_migrate, stores_verify
from stores.services import store_create


def _has_column_and_valid_index(schema_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'customers_click' AND column_name = %s",
            [schema_name, COLUMN],
        )
        column = cursor.fetchone()[0]
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            [schema_name, INDEX],
        )
        index = cursor.fetchone()
    return column == 1 and index == (True,)


@pytest.fixture
def three_stores(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        account = Account.objects.get(slug="acme")
        tag = uuid.uuid4().hex[:6]
        stores = [store_create(account=account, slug=f"mig-{tag}-{i}", name="M") for i in range(3)]
        kept = set(SchemaTemplate.objects.values_list("state", flat=True))
        yield stores
        connection.set_schema_to_public()
        for store in stores:
            store.delete(force_drop=True)
        SchemaTemplate.objects.exclude(state__in=kept).delete()


def test_it_migrates_only_the_stores_behind_and_reports_a_failure(
    three_stores, django_db_blocker, tmp_path
):
    slugs = [s.slug for s in three_stores]
    broken = three_stores[1]
    with django_db_blocker.unblock():
        assert stores_lacking(slugs=slugs) == []
        with next_migration(tmp_path) as (app, name):
            lacking = stores_lacking(slugs=slugs)
            assert [item.slug for item in lacking] == slugs
            assert all(item.missing == [(app, name)] for item in lacking)
            call_command("migrate_stores", "--dry-run", *[f"--store={s}" for s in slugs])

            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {broken.schema_name}.customers_click")
            # Generous: the two workers' migrations wait for each other on a busy machine.
            result = stores_migrate(lacking=lacking, workers=2, lock_timeout="30s")
            assert sorted(result.done) == sorted(set(slugs) - {broken.slug}), result.failed
            assert list(result.failed) == [broken.slug]
            assert "customers_click" in result.failed[broken.slug]
            for store in three_stores:
                ok = _has_column_and_valid_index(store.schema_name)
                assert ok is (store != broken)

            # Run again: only the failed store is left; once repaired it is migrated.
            assert [item.slug for item in stores_lacking(slugs=slugs)] == [broken.slug]
            schemas.schema_drop(broken.schema_name)
            schemas.schema_create_from_template(
                schema_name=broken.schema_name,
                template=_template_without_last(app, name),
            )
            with pytest.raises(CommandError, match="workers"):
                call_command("migrate_stores", "--workers=0")
            call_command("migrate_stores", f"--store={broken.slug}", "--workers=1")
            assert _has_column_and_valid_index(broken.schema_name)
            assert stores_lacking(slugs=slugs) == []
            assert stores_verify(slugs=slugs) == []
            state = schemas.migration_state()[0]
        assert set(Store.objects.filter(slug__in=slugs).values_list("schema_state", flat=True)) == {
            state
        }


def _template_without_last(app: str, name: str) -> schemas.Template:
    """The previous state's template (the state before the new migration)."""
    old = SchemaTemplate.objects.exclude(migrations__contains=[[app, name]]).latest("created_at")
    return schemas.Template(state=old.state, migrations=old.migrations, ddl=old.ddl)


def test_verify_reads_the_schemas_and_notes_their_state(three_stores, django_db_blocker):
    slugs = [s.slug for s in three_stores]
    with django_db_blocker.unblock():
        Store.objects.filter(slug__in=slugs).update(schema_state="")
        assert len(stores_lacking(slugs=slugs)) == 3  # unknown state: to be migrated
        assert stores_lacking(slugs=slugs)[0].missing is None
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {three_stores[0].schema_name}.django_migrations "
                "WHERE app = 'customers' AND name LIKE '0003%%'"
            )
        lacking = stores_verify(slugs=slugs)
        assert [(item.slug, [m[1][:4] for m in item.missing]) for item in lacking] == [
            (three_stores[0].slug, ["0003"])
        ]
        assert [item.slug for item in stores_lacking(slugs=slugs)] == [three_stores[0].slug]
