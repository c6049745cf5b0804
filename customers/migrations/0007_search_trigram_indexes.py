"""Trigram indexes for the console search's substring matches, in every store schema.

``public.clerk_search_fold`` (lower case, accents and ue/ae/oe/aa folded) comes from
``stores.0008_search_functions``; the operator class from ``pg_trgm`` in ``public``.
A server without ``pg_trgm`` gets no index here and searches by scanning.
"""

from django.db import migrations

INDEXES = {
    "customer_email_trgm_idx": "email",
    "customer_name_trgm_idx": "name",
}


def _has_trigrams(cursor) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm' "
        "AND to_regprocedure('public.clerk_search_fold(text)') IS NOT NULL"
    )
    return cursor.fetchone() is not None


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if not _has_trigrams(cursor):
            return
        for name, column in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer USING gin "
                f"(public.clerk_search_fold({column}) public.gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    # No dependency on stores 0005: the shared (public) migrations always run before any
    # store schema's, and a restore may migrate a scratch schema whose recorded history
    # predates stores 0005; without the function or pg_trgm no index is made.
    dependencies = [("customers", "0006_baskets_subscribers")]
    operations = [migrations.RunPython(create, drop)]
