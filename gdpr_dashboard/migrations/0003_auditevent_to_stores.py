from django.db import migrations


class Migration(migrations.Migration):
    """The audit log belongs to the tenancy layer (stores): the model moves there, its table
    stays (state only here; stores.0004 takes it over and renames it)."""

    dependencies = [
        ("gdpr_dashboard", "0002_seed_subprocessors"),
        ("stores", "0003_store_notice_and_retention_bounds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
