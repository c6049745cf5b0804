"""Data › Customers: paginated, sorted by last activity, filtered by e-mail and orders."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from customers.privacy.profile_views import CUSTOMERS_PER_PAGE
from tests.conftest import login
from tests.factories import CustomerFactory, OrderFactory


@pytest.fixture
def customers(in_store):
    now = timezone.now()
    with_orders = CustomerFactory(
        customer_ref="C-ORD", email=None, last_seen=now - timedelta(days=5)
    )
    OrderFactory(customer=with_orders)
    OrderFactory(customer=with_orders)
    CustomerFactory(customer_ref="C-NEW", email="new@example.com", last_seen=now)
    CustomerFactory(
        customer_ref="C-OLD", email="old@example.com", last_seen=now - timedelta(days=90)
    )
    connection.set_schema_to_public()


def page(client, store, **params):
    response = client.get(f"/s/{store.slug}/customers/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_lists_customers_by_last_activity(client, bob, store, customers):
    html = page(login(client, bob), store)
    assert html.index("C-NEW") < html.index("C-ORD") < html.index("C-OLD")
    assert f'href="/s/{store.slug}/customer/C-NEW/"' in html
    html = page(client, store, sort="last_seen")
    assert html.index("C-OLD") < html.index("C-ORD") < html.index("C-NEW")


def test_it_filters_by_email_and_orders(client, bob, store, customers):
    login(client, bob)
    with_email = page(client, store, has_email="on")
    assert "C-NEW" in with_email and "C-OLD" in with_email and "C-ORD" not in with_email
    with_orders = page(client, store, has_orders="on")
    assert "C-ORD" in with_orders and "C-NEW" not in with_orders
    assert '<td class="num">2</td>' in with_orders


def test_it_paginates(client, bob, store, in_store):
    CustomerFactory.create_batch(CUSTOMERS_PER_PAGE + 3)
    connection.set_schema_to_public()
    login(client, bob)
    first = page(client, store)
    assert "page 1 of 2" in first and 'href="?page=2"' in first
    second = page(client, store, page=2)
    assert second.count("<tr><td>") == 3
    assert page(client, store, page="999") and page(client, store, page="-1'")


def test_it_ignores_unknown_sort_values(client, bob, store, customers):
    html = page(login(client, bob), store, sort="id; DROP TABLE customers_customer")
    assert html.index("C-NEW") < html.index("C-OLD")


def test_it_answers_htmx_with_the_table_only(client, bob, store, customers):
    response = login(client, bob).get(f"/s/{store.slug}/customers/", HTTP_HX_REQUEST="true")
    assert "C-NEW" in response.content.decode() and "<html" not in response.content.decode()
