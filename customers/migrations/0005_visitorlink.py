import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
INSERT INTO customers_visitorlink (visitor_id, customer_id, via, first_seen, last_seen)
SELECT v.id, v.customer_id, 'login', v.first_seen, v.last_seen
FROM customers_visitor v WHERE v.customer_id IS NOT NULL
UNION ALL
SELECT o.visitor_id, o.customer_id, 'sale', min(o.placed_at), max(o.placed_at)
FROM customers_order o JOIN customers_visitor v ON v.id = o.visitor_id
WHERE o.customer_id IS NOT NULL GROUP BY o.visitor_id, o.customer_id
ON CONFLICT (visitor_id, customer_id) DO NOTHING
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_prices_six_places_line_returns"),
    ]

    operations = [
        migrations.CreateModel(
            name="VisitorLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("via", models.CharField(choices=[("sale", "sale"), ("email", "e-mail logged"), ("login", "logged-in browsing"), ("sync", "order sync")], max_length=10)),
                ("first_seen", models.DateTimeField()),
                ("last_seen", models.DateTimeField()),
                ("customer", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="links", to="customers.customer")),
                ("visitor", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="links", to="customers.visitor")),
            ],
            options={
                "indexes": [models.Index(fields=["customer"], name="visitorlink_customer_idx")],
                "constraints": [models.UniqueConstraint(fields=("visitor", "customer"), name="visitorlink_unique")],
            },
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
