"""The personal-data catalogue covers every table of a store's schema."""

from django.apps import apps

from customers import catalogue


def test_every_store_model_is_in_the_catalogue_or_declared_not_personal():
    models = set(apps.get_app_config("customers").get_models())
    registered = {entry.model for entry in catalogue.PERSONAL} | set(catalogue.NOT_PERSONAL)
    missing = sorted(m.__name__ for m in models - registered)
    assert missing == [], (
        f"decide in customers/catalogue.py how these tables belong to a person: {missing}"
    )


def test_each_table_is_decided_once_and_its_columns_exist():
    personal = [entry.model for entry in catalogue.PERSONAL]
    assert len(personal) == len(set(personal))
    assert not set(personal) & set(catalogue.NOT_PERSONAL)
    for entry in catalogue.PERSONAL:
        columns = {f.column for f in entry.model._meta.concrete_fields}
        assert set(entry.identifiers) <= columns, entry.name
        assert set(entry.cleared) <= columns, entry.name
        assert (entry.forget == catalogue.ANONYMISE) == bool(entry.cleared), entry.name
