"""Every store schema keeps its entries of ``public.stores_subjectdigest`` up to date.

Triggers on the customers and visitors tables call the functions of ``stores``
migration 0009: a visitor inserted notes its digest (a row-level trigger, so a returning
visitor's upsert, which updates, fires nothing); customers inserted by one statement
note theirs together (from the statement's transition table, in digest order); a
changed digest is noted and the old one dropped when no row holds it any more; a
``DELETE`` statement drops the digests of its rows no row holds any more (one call per
statement, from its transition table).
Existing rows are noted here. On Citus the directory is not kept (a store's tables live
on a worker, the directory on the coordinator): the search reads every store instead.
"""

from django.db import migrations

TRIGGERS = """
CREATE TRIGGER customer_digests_inserted AFTER INSERT ON customers_customer
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION public.clerk_customer_digests_added();
CREATE TRIGGER customer_digests_changed AFTER UPDATE OF email_digest, customer_digest
    ON customers_customer FOR EACH ROW
    WHEN (OLD.email_digest IS DISTINCT FROM NEW.email_digest
          OR OLD.customer_digest IS DISTINCT FROM NEW.customer_digest)
    EXECUTE FUNCTION public.clerk_customer_digests_noted();
CREATE TRIGGER customer_digests_deleted AFTER DELETE ON customers_customer
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION public.clerk_customer_digests_gone();
CREATE TRIGGER visitor_digest_inserted AFTER INSERT ON customers_visitor
    FOR EACH ROW EXECUTE FUNCTION public.clerk_visitor_digest_noted();
CREATE TRIGGER visitor_digest_changed AFTER UPDATE OF visitor_digest
    ON customers_visitor FOR EACH ROW
    WHEN (OLD.visitor_digest IS DISTINCT FROM NEW.visitor_digest)
    EXECUTE FUNCTION public.clerk_visitor_digest_noted();
CREATE TRIGGER visitor_digests_deleted AFTER DELETE ON customers_visitor
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION public.clerk_visitor_digests_gone();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS customer_digests_inserted ON customers_customer;
DROP TRIGGER IF EXISTS customer_digests_changed ON customers_customer;
DROP TRIGGER IF EXISTS customer_digests_deleted ON customers_customer;
DROP TRIGGER IF EXISTS visitor_digest_inserted ON customers_visitor;
DROP TRIGGER IF EXISTS visitor_digest_changed ON customers_visitor;
DROP TRIGGER IF EXISTS visitor_digests_deleted ON customers_visitor;
"""

# The schema's existing rows, noted once.
NOTE_EXISTING = """
INSERT INTO public.stores_subjectdigest (digest, schema_oid)
SELECT DISTINCT decode(held.digest, 'hex'), quote_ident(current_schema())::regnamespace::oid
FROM (
    SELECT email_digest AS digest FROM customers_customer
    UNION ALL SELECT customer_digest FROM customers_customer
    UNION ALL SELECT visitor_digest FROM customers_visitor
) held
WHERE held.digest <> ''
ON CONFLICT DO NOTHING
"""


def _on_citus(cursor) -> bool:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
    return cursor.fetchone()[0]


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if _on_citus(cursor):
            return
        cursor.execute(TRIGGERS)
        cursor.execute(NOTE_EXISTING)


def drop(apps, schema_editor):
    schema_editor.execute(DROP_TRIGGERS)


class Migration(migrations.Migration):
    # The functions are in public, made by ``stores`` 0009 when public migrates, which
    # comes before any store schema does.
    dependencies = [("customers", "0009_visitor_updates_heap_only")]
    operations = [migrations.RunPython(create, drop)]
