"""Seed the sub-processor catalogue (editable afterwards in the admin)."""

import datetime

from django.db import migrations

ALL_SHOPPER_DATA = [
    "visitor ids",
    "browsing history",
    "clicks and content views",
    "order history",
    "e-mail addresses (if the store collects them)",
    "CRM fields (if the store collects them)",
]

# (name, legal entity, purpose, country, data categories, products, used by all, added on)
CATALOGUE = [
    (
        "AWS Frankfurt",
        "Amazon Web Services EMEA SARL, Luxembourg",
        "Cloud hosting: application servers, PostgreSQL (one schema per store), Redis queue",
        "Germany (Frankfurt, eu-central-1)",
        ALL_SHOPPER_DATA,
        [],
        True,
        datetime.date(2018, 3, 1),
    ),
    (
        "AWS Ireland backups",
        "Amazon Web Services EMEA SARL, Luxembourg",
        "Encrypted nightly backups, replicated to a second region, kept 30 days",
        "Ireland (Dublin, eu-west-1)",
        ALL_SHOPPER_DATA,
        [],
        True,
        datetime.date(2018, 3, 1),
    ),
    (
        "Sentry (EU region)",
        "Functional Software, Inc., with EU data residency",
        "Error monitoring of the platform; events are scrubbed of shopper identifiers",
        "Germany (Frankfurt)",
        ["technical error data", "console user ids"],
        [],
        True,
        datetime.date(2019, 6, 1),
    ),
    (
        "Grafana Cloud (EU)",
        "Raintank, Inc. (Grafana Labs), with EU data residency",
        "Operational metrics and uptime monitoring; no shopper data",
        "Germany (Frankfurt)",
        ["aggregated operational metrics"],
        [],
        True,
        datetime.date(2020, 2, 1),
    ),
    (
        "Mailjet",
        "Mailjet SAS, Paris",
        "Transactional e-mail to console users (notices, sub-processor changes)",
        "France",
        ["console users' e-mail addresses"],
        [],
        True,
        datetime.date(2018, 3, 1),
    ),
    (
        "Stripe",
        "Stripe Payments Europe, Limited, Dublin",
        "Payment of the platform's invoices by merchants",
        "Ireland",
        ["merchant billing contacts", "payment details of the merchant"],
        [],
        True,
        datetime.date(2018, 3, 1),
    ),
    (
        "Scaleway GPU compute",
        "Scaleway SAS, Paris",
        "Training and serving the search ranking and recommendation models",
        "France (Paris, fr-par)",
        ["pseudonymous visitor ids", "clicks and content views", "order history"],
        ["search", "recommendations"],
        False,
        datetime.date(2021, 9, 1),
    ),
    (
        "Brevo",
        "Sendinblue SAS (Brevo), Paris",
        "Delivery of personalised product e-mails for the e-mail product",
        "France",
        ["e-mail addresses", "recommended products per recipient"],
        ["email"],
        False,
        datetime.date(2019, 1, 15),
    ),
    (
        "Aiven",
        "Aiven Oy, Helsinki",
        "Managed analytics database for audience segments",
        "Finland (Helsinki)",
        ["CRM fields", "order history", "pseudonymous visitor ids"],
        ["audience"],
        False,
        datetime.date(2022, 4, 1),
    ),
    (
        "Mistral AI",
        "Mistral AI SAS, Paris",
        "Language model for the shopping assistant chat, hosted in the EU",
        "France",
        ["chat messages", "products viewed in the chat session"],
        ["chat"],
        False,
        datetime.date(2024, 5, 1),
    ),
]


def seed(apps, schema_editor):
    SubProcessor = apps.get_model("gdpr_dashboard", "SubProcessor")
    SubProcessorChange = apps.get_model("gdpr_dashboard", "SubProcessorChange")
    PlatformProduct = apps.get_model("stores", "PlatformProduct")
    products = {p.code: p for p in PlatformProduct.objects.all()}
    for name, entity, purpose, country, categories, codes, by_all, added in CATALOGUE:
        sp, created = SubProcessor.objects.get_or_create(
            name=name,
            defaults={
                "legal_entity": entity,
                "purpose": purpose,
                "country": country,
                "data_categories": categories,
                "used_by_all": by_all,
                "added_on": added,
            },
        )
        if created:
            sp.products.set([products[c] for c in codes if c in products])
            SubProcessorChange.objects.create(
                subprocessor=sp, changed_on=added, description=f"Added: {purpose}."
            )


def unseed(apps, schema_editor):
    SubProcessor = apps.get_model("gdpr_dashboard", "SubProcessor")
    SubProcessor.objects.filter(name__in=[row[0] for row in CATALOGUE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("gdpr_dashboard", "0001_initial"),
        ("stores", "0002_platform_products"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
