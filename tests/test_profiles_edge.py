"""Profiles of people with little data: nothing to count must not break the page."""

from tests.conftest import login
from tests.factories import CustomerFactory, OrderFactory


def test_it_shows_a_customer_without_visitors_or_orders(client, alice, in_store):
    CustomerFactory(customer_ref="C-LONELY", email="lonely@example.com")
    response = login(client, alice).get(f"/s/{in_store.slug}/customer/C-LONELY/")
    assert response.status_code == 200
    assert b"lonely@example.com" in response.content


def test_it_shows_a_customer_with_orders_but_no_visitors(client, alice, in_store):
    customer = CustomerFactory(customer_ref="C-BUYER")
    OrderFactory(customer=customer, order_ref="O-ONLY")
    response = login(client, alice).get(f"/s/{in_store.slug}/customer/C-BUYER/")
    assert response.status_code == 200
    assert b"O-ONLY" in response.content


def test_it_shows_how_long_each_visitor_is_kept_on_the_customer_profile(client, alice, in_store):
    from datetime import timedelta

    from tests.factories import VisitorFactory

    customer = CustomerFactory(customer_ref="C-KEPT")
    visitor = VisitorFactory(customer=customer, visit_count=1, visit_days=1)
    response = login(client, alice).get(f"/s/{in_store.slug}/customer/C-KEPT/")
    kept_until = (visitor.last_seen + timedelta(days=30)).date().isoformat()
    assert response.status_code == 200
    assert kept_until.encode() in response.content
    assert b"30 days after the last visit" in response.content


def test_pages_across_several_visitors_are_exactly_newest_first(in_store):
    """Each page reads only each visitor's newest rows (``export._newest_per_visitor``);
    every page must still be the slice of the whole list sorted newest first."""
    from datetime import timedelta

    from django.utils import timezone

    from customers.privacy import export
    from customers.privacy.subjects import resolve_subject
    from tests.factories import ClickFactory, VisitorFactory

    customer = CustomerFactory(email="many@example.com")
    start = timezone.now() - timedelta(days=3)
    for v in range(3):
        visitor = VisitorFactory(customer=customer)
        for k in range(25):  # interleaved in time across the visitors, some at the same instant
            ClickFactory(visitor=visitor, occurred_at=start + timedelta(minutes=k * 3 + v % 2))
    subject = resolve_subject(kind="email", value="many@example.com")
    everything = list(export.iter_section("clicks", subject))
    assert len(everything) == 75
    for offset in (0, 20, 40, 60):
        page = export.section_page("clicks", subject, offset=offset, limit=20)
        assert page == everything[offset : offset + 20]
