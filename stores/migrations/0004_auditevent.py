import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Takes over the audit table from gdpr_dashboard (state only), then renames it."""

    dependencies = [
        ("stores", "0003_store_notice_and_retention_bounds"),
        ("gdpr_dashboard", "0003_auditevent_to_stores"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("actor_is_platform_staff", models.BooleanField(default=False)),
                        ("action", models.CharField(max_length=50)),
                        ("subject_kind", models.CharField(blank=True, max_length=10)),
                        ("subject_row_id", models.BigIntegerField(blank=True, null=True)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="audit_events", to="stores.account")),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                        ("api_key", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="stores.apikey")),
                        ("store", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="stores.store")),
                    ],
                    options={
                        "db_table": "gdpr_dashboard_auditevent",
                        "indexes": [models.Index(fields=["account", "-created_at"], name="audit_account_recent_idx")],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="auditevent", table=None),
    ]
