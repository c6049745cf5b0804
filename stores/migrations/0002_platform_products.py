from django.db import migrations

PRODUCTS = [
    ("search", "Search", "Product search and instant search on the store's site"),
    ("recommendations", "Recommendations", "Product recommendations on pages"),
    ("email", "E-mail recommendations", "Personalised products in newsletters"),
    ("audience", "Audience", "CRM segments built from behaviour and CRM fields"),
    ("chat", "Chat", "Shopping assistant chat"),
]


def add_products(apps, schema_editor):
    PlatformProduct = apps.get_model("stores", "PlatformProduct")
    for code, name, description in PRODUCTS:
        PlatformProduct.objects.update_or_create(
            code=code, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("stores", "0001_initial")]
    operations = [migrations.RunPython(add_products, migrations.RunPython.noop)]
