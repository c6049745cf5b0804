"""The console search's folding function and its PostgreSQL extensions, once per database.

Extensions and functions live once per database, in ``public``; the store schemas (whose
``customers`` migrations index with them) reference them schema-qualified. ``pg_trgm``
(trigram indexes for substring matches) and ``unaccent`` come with PostgreSQL's contrib
package; a server without them (the embedded pgserver of ``make run``) still gets the
function, folding accents with ``translate`` instead, and searches without the indexes.
"""

from django.db import migrations

# ü, ue and u match each other (and ä/ae/a, ö/oe/o, å/aa/a, æ/ae/a): "mueller" finds "Müller".
FOLD_DIGRAPHS = "replace(replace(replace(replace({}, 'ae', 'a'), 'oe', 'o'), 'ue', 'u'), 'aa', 'a')"
ACCENTED = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįłñńňòóôõöøōőřśšťùúûüūůűųýÿźżžæœß"
PLAIN = "aaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorsstuuuuuuuuyyzzzaos"
assert len(ACCENTED) == len(PLAIN)


def _available(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name])
    return cursor.fetchone() is not None


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if _available(cursor, "pg_trgm"):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        if _available(cursor, "unaccent"):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
            folded = "lower(public.unaccent('public.unaccent'::regdictionary, value))"
        else:
            folded = f"translate(lower(value), '{ACCENTED}', '{PLAIN}')"
        # IMMUTABLE (unaccent itself is only STABLE): the index expressions need it, and
        # the planner folds the searched text to a constant, which trigram indexes need.
        cursor.execute(
            "CREATE OR REPLACE FUNCTION public.clerk_search_fold(value text) RETURNS text "
            "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
            f"AS $$ SELECT {FOLD_DIGRAPHS.format(folded)} $$"
        )


def drop(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS public.clerk_search_fold(text) CASCADE")


class Migration(migrations.Migration):
    dependencies = [("stores", "0007_user_language")]
    operations = [migrations.RunPython(create, drop)]
