"""The account-wide search's directory of identifier digests, and the functions that keep it.

``stores_subjectdigest`` says which store schemas (by OID) hold a customer or visitor
with a given e-mail, customer id or visitor id digest. Each store schema's triggers
(``customers`` migration 0010) call the functions below: a row inserted notes its
digests, a row deleted (or a digest changed) drops the digests no row of the schema
holds any more.

Dropping deletes the entries. A visitor's entry is its own: visitor ids are unique in a
store and stripped of surrounding spaces on the way in (``customers/ingest/schemas.py``,
the only writer of visitors), and the digest is made of the stripped id, so no other
visitor holds it. Customers' e-mails are shared, so for them a statement of its own then
notes again the entries that a customer of the schema still holds. In READ COMMITTED each
statement of a function sees what committed before it started, so a customer with one of
these digests that committed while the delete waited for its entry is seen and its entry
comes back; an insert that comes later waits for the deleted entry (its ``ON CONFLICT DO
UPDATE … WHERE false`` locks an existing entry without writing it, and finds a deleted
one's transaction to wait for) and, once the delete has committed, inserts the entry
again. Digests are never empty in the directory (a customer without an e-mail holds an
empty one).

An expiry deletes visitors by the hundred thousand: its batches set
``clerkgdpr.directory_swept_later`` for their transactions, so the delete triggers leave
the entries, and the run sweeps the store's entries once at its end
(``stores.directory.store_sweep``): one pass over the store's range of the index (entries
are keyed by schema first) instead of 2,000 random entries per batch all over it.

Noting is written out in each trigger (no nested call, the plan cached): a new visitor on
a tracking call pays one index insert, about 15 µs. Customers are noted once per
statement, in digest order: e-mails are not unique, and two batches sharing e-mails
that took their entries' locks in row order could each wait for the other.
"""

from django.db import migrations, models

NOTE = """
        INSERT INTO public.stores_subjectdigest (digest, schema_oid)
        SELECT decode(h, 'hex'), quote_ident(TG_TABLE_SCHEMA)::regnamespace::oid::bigint
        FROM unnest({digests}) h WHERE h <> ''
        ON CONFLICT (schema_oid, digest) DO UPDATE SET schema_oid = EXCLUDED.schema_oid
            WHERE false;"""

FUNCTIONS = rf"""
CREATE FUNCTION public.clerk_subject_digests_drop(store_schema text, hexes text[], kind text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    holder bigint := to_regnamespace(quote_ident(store_schema))::oid::bigint;
    digests bytea[];
BEGIN
    SELECT array_agg(DISTINCT decode(h, 'hex')) INTO digests FROM unnest(hexes) h WHERE h <> '';
    IF holder IS NULL OR digests IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM public.stores_subjectdigest d WHERE d.schema_oid = holder AND d.digest = ANY (digests);
    IF kind = 'visitor' THEN
        RETURN;  -- a visitor's digest is its store's only one with that id (see above)
    END IF;
    EXECUTE format(
        'INSERT INTO public.stores_subjectdigest (digest, schema_oid) '
        'SELECT DISTINCT decode(held.h, ''hex''), $1 FROM ('
        'SELECT email_digest AS h FROM %1$I.customers_customer WHERE email_digest = ANY ($2) '
        'UNION ALL SELECT customer_digest FROM %1$I.customers_customer '
        'WHERE customer_digest = ANY ($2)) held WHERE held.h <> '''' ORDER BY 1 '
        'ON CONFLICT DO NOTHING',
        store_schema) USING holder, hexes;
END $$;

CREATE FUNCTION public.clerk_customer_digests_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.stores_subjectdigest (digest, schema_oid)
    SELECT DISTINCT decode(h, 'hex'), quote_ident(TG_TABLE_SCHEMA)::regnamespace::oid::bigint
    FROM (SELECT email_digest AS h FROM added UNION SELECT customer_digest FROM added) held
    WHERE h <> ''
    ORDER BY 1
    ON CONFLICT (schema_oid, digest) DO UPDATE SET schema_oid = EXCLUDED.schema_oid
        WHERE false;
    RETURN NULL;
END $$;

CREATE FUNCTION public.clerk_customer_digests_noted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{NOTE.format(digests="ARRAY[NEW.email_digest, NEW.customer_digest]")}
    IF TG_OP = 'UPDATE' THEN
        PERFORM public.clerk_subject_digests_drop(
            TG_TABLE_SCHEMA, ARRAY[OLD.email_digest, OLD.customer_digest], 'customer');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION public.clerk_visitor_digest_noted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{NOTE.format(digests="ARRAY[NEW.visitor_digest]")}
    IF TG_OP = 'UPDATE' THEN
        PERFORM public.clerk_subject_digests_drop(
            TG_TABLE_SCHEMA, ARRAY[OLD.visitor_digest], 'visitor');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION public.clerk_customer_digests_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('clerkgdpr.directory_swept_later', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM public.clerk_subject_digests_drop(TG_TABLE_SCHEMA,
        ARRAY(SELECT email_digest FROM gone UNION SELECT customer_digest FROM gone), 'customer');
    RETURN NULL;
END $$;

CREATE FUNCTION public.clerk_visitor_digests_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('clerkgdpr.directory_swept_later', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM public.clerk_subject_digests_drop(TG_TABLE_SCHEMA,
        ARRAY(SELECT visitor_digest FROM gone), 'visitor');
    RETURN NULL;
END $$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS public.clerk_visitor_digests_gone() CASCADE;
DROP FUNCTION IF EXISTS public.clerk_customer_digests_gone() CASCADE;
DROP FUNCTION IF EXISTS public.clerk_visitor_digest_noted() CASCADE;
DROP FUNCTION IF EXISTS public.clerk_customer_digests_noted() CASCADE;
DROP FUNCTION IF EXISTS public.clerk_customer_digests_added() CASCADE;
DROP FUNCTION IF EXISTS public.clerk_subject_digests_drop(text, text[], text);
"""


class Migration(migrations.Migration):
    dependencies = [("stores", "0008_search_functions")]

    operations = [
        migrations.CreateModel(
            name="SubjectDigest",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "schema_oid",
                        "digest",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("digest", models.BinaryField()),
                ("schema_oid", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
    ]
