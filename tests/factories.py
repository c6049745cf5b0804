"""factory_boy factories for store-schema rows.  Use inside a store's schema (``in_store``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.db import connection
from django.utils import timezone

from customers.models import (
    Click,
    ContentView,
    Customer,
    Order,
    OrderLine,
    PageView,
    Product,
    Visitor,
)
from stores.digests import identifier_digest


def _digest(kind, value):
    return identifier_digest(connection.tenant.secret, kind, value) if value else ""


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    customer_ref = factory.Sequence(lambda n: f"C-{n:05d}")
    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    name = factory.Faker("name")
    attributes = factory.LazyFunction(dict)
    first_seen = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    last_seen = factory.LazyFunction(timezone.now)
    email_digest = factory.LazyAttribute(lambda o: _digest("email", o.email))
    customer_digest = factory.LazyAttribute(lambda o: _digest("customer", o.customer_ref))


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor

    visitor_ref = factory.Sequence(lambda n: f"visitor-{n:06d}")
    visitor_digest = factory.LazyAttribute(lambda o: _digest("visitor", o.visitor_ref))
    customer = None
    first_seen = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    last_seen = factory.LazyFunction(timezone.now)


class PageViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PageView

    visitor = factory.SubFactory(VisitorFactory)
    url = factory.Sequence(lambda n: f"/page/{n}")
    title = "A page"
    occurred_at = factory.LazyFunction(timezone.now)


class ContentViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentView

    visitor = factory.SubFactory(VisitorFactory)
    product_ref = "1001"
    api = "recommendations/popular"
    occurred_at = factory.LazyFunction(timezone.now)


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    visitor = factory.SubFactory(VisitorFactory)
    product_ref = "1001"
    api = "search/search"
    position = 0
    occurred_at = factory.LazyFunction(timezone.now)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    product_ref = factory.Sequence(lambda n: str(1000 + n))
    name = factory.Faker("word")
    price = Decimal("19.90")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    order_ref = factory.Sequence(lambda n: f"O-{n:06d}")
    email = None
    email_digest = factory.LazyAttribute(lambda o: _digest("email", o.email))
    total = Decimal("39.80")
    placed_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product_ref = "1001"
    quantity = 2
    price = Decimal("19.90")
