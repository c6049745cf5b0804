"""Generated stores: a forget takes exactly its subject, an export shows exactly its person.

Each example builds a store with customers (with and without e-mail), devices shared
by up to three customers, identified and anonymous orders and browsing, forgets one
random subject and checks the whole schema and every other person's export. Fixed seed
and budget here; ``make test-deep`` runs many more examples.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Basket, Customer, Order, PageView, Subscriber, Visitor, VisitorLink
from customers.privacy import export
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from customers.privacy.subjects import resolve_subject
from stores.digests import identifier_digest
from stores.schemas import on_citus
from tests.directory_helpers import held, listed
from tests.forget_helpers import find_anywhere

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

NOW = timezone.now().replace(microsecond=0)


# Identifier texts that are never part of one another.
def customer_ref(i: int) -> str:
    return f"CUSTREF{i:02d}X"


def email(i: int) -> str:
    return f"mail{i:02d}x@example.com"


def device(j: int) -> str:
    return f"DEVICE{j:02d}X"


@dataclass
class World:
    customers: list[tuple[bool, bool]]  # (has e-mail, has customer id)
    devices: list[tuple[frozenset[int], int]]  # (linked customers, page views)
    orders: list[tuple[int | None, int | None, int | None]]  # (customer, device, e-mail of)
    subject: tuple[str, int]


@st.composite
def worlds(draw) -> World:
    n = draw(st.integers(1, 4))
    customers = []
    for _ in range(n):
        has_email = draw(st.booleans())
        customers.append((has_email, draw(st.booleans()) or not has_email))
    devices = [
        (draw(st.frozensets(st.integers(0, n - 1), max_size=3)), draw(st.integers(0, 3)))
        for _ in range(draw(st.integers(1, 5)))
    ]
    who = st.one_of(st.none(), st.integers(0, n - 1))
    orders = []
    for _ in range(draw(st.integers(0, 6))):
        customer = draw(who)
        dev = draw(st.one_of(st.none(), st.integers(0, len(devices) - 1)))
        # An anonymous order may carry a customer's e-mail; an identified one its own.
        mail = draw(who) if customer is None else customer
        orders.append((customer, dev, mail if mail is not None and customers[mail][0] else None))
    subject = draw(
        st.one_of(
            st.tuples(st.just("customer"), st.integers(0, n - 1)),
            st.tuples(st.just("visitor"), st.integers(0, len(devices) - 1)),
        )
    )
    return World(customers, devices, orders, subject)


def build(world: World, secret: str) -> tuple[list[Customer], list[Visitor]]:
    def digest(kind, value):
        return identifier_digest(secret, kind, value) if value else ""

    customers = []
    for i, (has_email, has_ref) in enumerate(world.customers):
        mail, ref = (email(i) if has_email else None), (customer_ref(i) if has_ref else None)
        customers.append(
            Customer.objects.create(
                customer_ref=ref,
                email=mail,
                name=f"Name{i:02d}X",
                email_digest=digest("email", mail),
                customer_digest=digest("customer", ref),
                first_seen=NOW - timedelta(days=9),
                last_seen=NOW,
            )
        )
    visitors = []
    for j, (linked, pages) in enumerate(world.devices):
        first = customers[min(linked)] if linked else None
        visitor = Visitor.objects.create(
            visitor_ref=device(j),
            visitor_digest=digest("visitor", device(j)),
            customer=first,
            first_seen=NOW - timedelta(days=5),
            last_seen=NOW - timedelta(minutes=j),
        )
        for i in sorted(linked):
            VisitorLink.objects.create(
                visitor=visitor, customer=customers[i], via="sale", first_seen=NOW, last_seen=NOW
            )
        for k in range(pages):
            PageView.objects.create(
                visitor=visitor, url=f"/d{j}p{k}", occurred_at=NOW - timedelta(hours=k + j)
            )
        visitors.append(visitor)
        if pages % 2:  # an open basket on some devices
            Basket.objects.create(visitor=visitor, products=[f"P{j}"], updated_at=NOW)
    for i, c in enumerate(customers):
        if c.email:  # every e-mail on the newsletter list; every other one with a basket
            Subscriber.objects.create(
                email=c.email, email_digest=c.email_digest, subscribed=True, changed_at=NOW
            )
            if i % 2 == 0:
                Basket.objects.create(
                    email=c.email, email_digest=c.email_digest, products=["P"], updated_at=NOW
                )
    for k, (customer, dev, mail) in enumerate(world.orders):
        Order.objects.create(
            order_ref=f"ORDER{k:02d}X",
            customer=customers[customer] if customer is not None else None,
            visitor=visitors[dev] if dev is not None else None,
            email=email(mail) if mail is not None else None,
            email_digest=digest("email", email(mail)) if mail is not None else "",
            total=Decimal("1.00"),
            placed_at=NOW - timedelta(days=k),
        )
    return customers, visitors


def name_of(c: Customer) -> tuple[str, str]:
    return ("email", c.email) if c.email else ("customer", c.customer_ref)


def doc(kind: str, value: str) -> dict:
    subject = resolve_subject(kind=kind, value=value)
    d = export.document(subject, store_slug="s", generated_at=NOW)
    d.pop("generated_at")
    return d


def identifiers(c: Customer) -> list[str]:
    return [x for x in (c.email, c.customer_ref, c.name) if x]


@pytest.mark.slow
def test_a_forget_takes_exactly_its_subject(in_store):
    store = in_store

    @settings(settings.get_profile(PROFILE))
    @given(world=worlds())
    def check(world: World):
        with transaction.atomic():
            connection.set_tenant(store)
            customers, visitors = build(world, store.secret)
            others = [c for i, c in enumerate(customers) if world.subject != ("customer", i)]
            before = {c.pk: doc(*name_of(c)) for c in others}
            kind, index = world.subject
            if kind == "customer":
                target = customers[index]
                subject = resolve_subject(kind=name_of(target)[0], value=name_of(target)[1])
                gone = [*identifiers(target), *subject.visitor_refs]
                forgotten_devices = set(subject.visitor_refs)
                value = name_of(target)[1]
                kind = name_of(target)[0]
            else:
                gone = [device(index)]
                forgotten_devices = {device(index)}
                value = device(index)
            with mock.patch("customers.privacy.forget_requests.forget_requests_enqueue"):
                request = forget_request_create(store=store, kind=kind, value=value, via="api")
            forget_execute(request=request)
            connection.set_tenant(store)

            # 1. Nothing of the subject is left anywhere in the store's schema, nor in the
            # search's directory of digests.
            assert find_anywhere(store.schema_name, gone) == []
            if not on_citus():
                assert listed(store) == held(store)

            # 2. Every other person is whole, but for devices that went.
            for c in others:
                after = doc(*name_of(c))
                was = before[c.pk]
                assert after["customer"] == was["customer"]
                # A device shared before may be this person's alone now: its anonymous orders
                # come with it (the shared-device rule); nothing else is new, nothing is lost.
                new = {o["order_id"] for o in after["orders"]} - {
                    o["order_id"] for o in was["orders"]
                }
                assert all(
                    o["visitor_id"] in was["shared_devices"]
                    for o in after["orders"]
                    if o["order_id"] in new
                )
                for o_before in was["orders"]:
                    gone_device = o_before["visitor_id"] in forgotten_devices
                    o_after = next(
                        (o for o in after["orders"] if o["order_id"] == o_before["order_id"]),
                        None,
                    )
                    if o_after is None:
                        # Only an anonymous order of a forgotten device goes with the device.
                        assert gone_device and o_before["customer_id"] is None
                        assert o_before["email"] is None
                        continue
                    if gone_device:
                        o_before = {**o_before, "visitor_id": None}
                    assert o_after == o_before
                kept = [v for v in was["visitors"] if v["visitor_id"] not in forgotten_devices]
                assert all(v in after["visitors"] for v in kept)
                pages = [p for p in was["page_views"] if p["visitor_id"] not in forgotten_devices]
                assert all(p in after["page_views"] for p in pages)
                assert after["subscriptions"] == was["subscriptions"]
                baskets = [b for b in was["baskets"] if b["visitor_id"] not in forgotten_devices]
                assert all(b in after["baskets"] for b in baskets)

            # 3. No export shows another identified person.
            people = list(Customer.objects.all())
            for c in people:
                text = json.dumps(doc(*name_of(c)))
                for other in people:
                    if other.pk != c.pk:
                        assert not any(x in text for x in identifiers(other))
            for v in Visitor.objects.all():
                text = json.dumps(doc("visitor", v.visitor_ref))
                assert not any(x in text for c in people for x in identifiers(c))
            transaction.set_rollback(True)

    check()
