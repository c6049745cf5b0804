"""The backend's table list names the same tables as Django's own, reading one schema's only."""

from __future__ import annotations

from django.db import connection
from django.db.backends.postgresql.introspection import (
    DatabaseIntrospection as DjangoIntrospection,
)
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import CaptureQueriesContext
from django_tenants.postgresql_backend.introspection import (
    DatabaseSchemaIntrospectionSearchPathContext,
)


def _django_table_list(cursor):
    with DatabaseSchemaIntrospectionSearchPathContext(cursor=cursor, connection=connection):
        return DjangoIntrospection.get_table_list(connection.introspection, cursor)


def _both():
    with connection.cursor() as cursor:
        ours = connection.introspection.get_table_list(cursor)
        django = _django_table_list(cursor)
    return sorted(ours), sorted(django)


def test_a_store_schema_lists_the_same_tables_as_django_does(store):
    connection.set_tenant(store)
    with connection.cursor() as cursor:
        cursor.execute("CREATE VIEW introspected_view AS SELECT 1 AS one")
        cursor.execute("CREATE MATERIALIZED VIEW introspected_matview AS SELECT 1 AS one")
        cursor.execute("CREATE TABLE introspected_parted (n int) PARTITION BY RANGE (n)")
        cursor.execute(
            "CREATE TABLE introspected_part PARTITION OF introspected_parted "
            "FOR VALUES FROM (0) TO (10)"
        )
        cursor.execute("COMMENT ON TABLE introspected_part IS 'a comment'")
    ours, django = _both()
    connection.set_schema_to_public()
    names = {table.name: table for table in ours}
    assert ours == django
    assert "customers_visitor" in names and "django_migrations" in names
    assert names["introspected_view"].type == "v"
    assert names["introspected_matview"].type == "v"
    assert names["introspected_part"].type == "p"
    assert names["introspected_part"].comment == "a comment"
    assert "stores_store" not in names  # public's tables are not in a store's list


def test_the_public_schema_lists_the_same_tables_as_django_does(db):
    connection.set_schema_to_public()
    ours, django = _both()
    assert ours == django
    assert {"stores_store", "django_migrations"} <= {table.name for table in ours}
    assert "customers_visitor" not in {table.name for table in ours}


def test_the_table_list_reads_relations_by_namespace_not_every_relation(store):
    connection.set_tenant(store)
    with CaptureQueriesContext(connection) as queries:
        assert MigrationRecorder(connection).has_table()
    connection.set_schema_to_public()
    listing = [q["sql"] for q in queries.captured_queries if "pg_class" in q["sql"]]
    assert len(listing) == 1
    assert "pg_depend" in listing[0]
