"""Empty the query and form data axes stored with failed logins before it stopped storing them.

The login page's ``next`` carried whatever page was asked for, a shopper's profile
address (their e-mail) included; stores.auth.RequestDataFreeAxesHandler stores none now.
"""

from django.db import migrations

SWEEP_SQL = (
    "UPDATE axes_accessattempt SET get_data = '', post_data = '' "
    "WHERE get_data <> '' OR post_data <> ''"
)


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0005_spare_schemas"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunSQL(SWEEP_SQL, migrations.RunSQL.noop)]
