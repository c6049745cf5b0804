"""Visitor updates stay on their heap page: no index on a column a tracking call moves.

Every tracking call updates its visitor's ``last_seen`` (and visit counts). With
``last_seen`` in ``visitor_customer_idx`` each such update wrote a new entry in all five
visitor indexes; without it, and with room left on each page (``fillfactor`` 85), the
update is heap-only (HOT) and touches no index. The index is built concurrently (no
lock on a big table), so the migration runs outside a transaction.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

FILLFACTOR = 85


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0008_visitor_active_until")]

    # The new index is built beside the old one, then takes its name: a store is never
    # without an index on its devices' customer (a forget looks devices up by it).
    operations = [
        AddIndexConcurrently(
            model_name="visitor",
            index=models.Index(
                condition=models.Q(customer__isnull=False),
                fields=["customer"],
                name="visitor_customer_new_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="visitor", name="visitor_customer_idx"),
        migrations.RenameIndex(
            model_name="visitor",
            new_name="visitor_customer_idx",
            old_name="visitor_customer_new_idx",
        ),
        migrations.RunSQL(
            f"ALTER TABLE customers_visitor SET (fillfactor = {FILLFACTOR})",
            "ALTER TABLE customers_visitor RESET (fillfactor)",
        ),
    ]
