from django.core.management import call_command
from django.db import connection

from customers.models import Customer, Order, PageView, Visitor
from stores.models import Store


def test_it_seeds_three_differing_stores_and_a_second_account(db):
    call_command("seed_demo", scale=0.01, seed=7)
    demo = Store.objects.filter(account__slug="demo-retail").order_by("slug")
    assert [s.slug for s in demo] == ["nordic-outdoor", "tea-house", "urban-shoes"]
    assert Store.objects.filter(account__slug="other-brand").count() == 1

    nordic, tea, urban = demo
    connection.set_tenant(nordic)
    assert Customer.objects.exclude(email=None).count() == Customer.objects.count() == 20
    assert Customer.objects.exclude(attributes={}).exists()
    assert PageView.objects.exists() and Order.objects.count() == 100
    connection.set_tenant(urban)
    assert Customer.objects.exclude(email=None).exists()
    assert not Customer.objects.exclude(attributes={}).exists()
    connection.set_tenant(tea)
    assert not Customer.objects.exclude(email=None).exists()
    assert not Order.objects.exclude(email=None).exists()
    assert Visitor.objects.count() == 50


def test_it_is_deterministic(db):
    call_command("seed_demo", scale=0.01, seed=7)
    connection.set_tenant(Store.objects.get(slug="urban-shoes"))
    first = list(Customer.objects.order_by("customer_ref").values_list("email", "name")[:5])
    assert first[0][0].endswith("0@example.com")
    assert len(set(first)) == 5
