"""django-tenants' schema introspection, with a table list that does not read every relation.

Django lists the tables of the search path by testing ``pg_table_is_visible`` on every row
of ``pg_class``. With ten thousand store schemas that is 810,000 relations, 0.3 s a call,
and a store's migration asks several times (the migration recorder, each time it checks
for ``django_migrations``). Here the schemas of the search path name their relations
through ``pg_depend`` (every table, view and sequence-owning relation records a
dependency on its namespace; ``pg_depend_reference_index`` finds them by namespace), so a
call reads the relations of those schemas only. The result is the same list
(``tests/test_introspection.py`` compares both on the public schema and a store's).
"""

from __future__ import annotations

from django.db.backends.postgresql.introspection import TableInfo
from django_tenants.postgresql_backend.introspection import (
    DatabaseSchemaIntrospection,
    DatabaseSchemaIntrospectionSearchPathContext,
)

TABLE_LIST = """
    SELECT
        c.relname,
        CASE
            WHEN c.relispartition THEN 'p'
            WHEN c.relkind IN ('m', 'v') THEN 'v'
            ELSE 't'
        END,
        obj_description(c.oid, 'pg_class')
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class c ON c.oid = d.objid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass
        AND d.refobjid = ANY (
            SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY (current_schemas(true))
        )
        AND d.classid = 'pg_catalog.pg_class'::regclass
        AND d.objsubid = 0
        AND c.relkind IN ('f', 'm', 'p', 'r', 'v')
        AND n.nspname NOT IN ('pg_catalog', 'pg_toast')
        AND pg_catalog.pg_table_is_visible(c.oid)
"""


class DatabaseIntrospection(DatabaseSchemaIntrospection):
    def get_table_list(self, cursor):
        with DatabaseSchemaIntrospectionSearchPathContext(cursor, self.connection):
            cursor.execute(TABLE_LIST)
            rows = cursor.fetchall()
        return [TableInfo(*row) for row in rows if row[0] not in self.ignored_tables]
