"""The account-wide search's directory of identifier digests, and the functions that keep it.

``stores_subjectdigest`` says which store schemas (by OID) hold a customer or visitor
with a given e-mail, customer id or visitor id digest. Each store schema's triggers
(``customers`` migration 0010) call the functions below: a row inserted notes its
digests, a row deleted (or a digest changed) drops the digests no row of the schema
holds any more.

Dropping locks the entries first and looks for remaining holders in a statement of its
own: in READ COMMITTED each statement of a function sees what committed before it
started, so an insert of the same digest that committed while the lock was awaited is
seen and its entry kept; an insert that comes later waits for the lock (its ``ON
CONFLICT DO UPDATE … WHERE false`` locks an existing entry without writing it) and, once
the delete has committed, inserts the entry again. The recheck reads the indexes of the
deleted rows' own kind (a visitor's digest is never a customer's: the kind is part of the
digested text), one probe per entry: ``OFFSET 0`` keeps each ``NOT EXISTS`` a probe, where
the planner would otherwise make it an anti-join that reads the whole visitors table once
for every 2,000 visitors an expiry deletes.

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
        ON CONFLICT (digest, schema_oid) DO UPDATE SET schema_oid = EXCLUDED.schema_oid
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
    PERFORM 1 FROM public.stores_subjectdigest d
        WHERE d.schema_oid = holder AND d.digest = ANY (digests)
        ORDER BY d.digest FOR UPDATE;
    EXECUTE format($q$
        DELETE FROM public.stores_subjectdigest d WHERE d.schema_oid = $1 AND d.digest = ANY ($2)
        AND NOT EXISTS (%s)
    $q$, CASE kind
        WHEN 'visitor' THEN format(
            'SELECT 1 FROM %I.customers_visitor v '
            'WHERE v.visitor_digest = encode(d.digest, ''hex'') OFFSET 0', store_schema)
        ELSE format(
            'SELECT 1 FROM %1$I.customers_customer c '
            'WHERE c.email_digest = encode(d.digest, ''hex'') OFFSET 0 '
            ') AND NOT EXISTS (SELECT 1 FROM %1$I.customers_customer c '
            'WHERE c.customer_digest = encode(d.digest, ''hex'') OFFSET 0', store_schema)
    END) USING holder, digests;
END $$;

CREATE FUNCTION public.clerk_customer_digests_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.stores_subjectdigest (digest, schema_oid)
    SELECT DISTINCT decode(h, 'hex'), quote_ident(TG_TABLE_SCHEMA)::regnamespace::oid::bigint
    FROM (SELECT email_digest AS h FROM added UNION SELECT customer_digest FROM added) held
    WHERE h <> ''
    ORDER BY 1
    ON CONFLICT (digest, schema_oid) DO UPDATE SET schema_oid = EXCLUDED.schema_oid
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
    PERFORM public.clerk_subject_digests_drop(TG_TABLE_SCHEMA,
        ARRAY(SELECT email_digest FROM gone UNION SELECT customer_digest FROM gone), 'customer');
    RETURN NULL;
END $$;

CREATE FUNCTION public.clerk_visitor_digests_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
                        "digest",
                        "schema_oid",
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
