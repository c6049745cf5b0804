"""Suppression: forgotten people's old data does not come back; new activity does."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from customers.demo import Volume, seed_store
from customers.models import Customer, Order
from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from gdpr_dashboard.models import Suppression
from gdpr_dashboard.suppression import SuppressionFilter, suppression_blocks
from stores.digests import identifier_digest

SMALL = Volume(customers=10, visitors=20, events=200, orders=30, products=10)


def test_the_rule_drops_old_records_and_passes_new_ones():
    forgotten = timezone.now()
    assert suppression_blocks(forgotten, forgotten - timedelta(seconds=1))
    assert not suppression_blocks(forgotten, forgotten + timedelta(seconds=1))
    assert suppression_blocks(forgotten, None)  # no time of its own: old
    assert not suppression_blocks(None, forgotten)


def test_the_demo_loader_does_not_bring_a_forgotten_customer_back(store):
    forget_execute(
        request=forget_request_create(store=store, kind="customer", value="C10003", via="cli")
    )
    seed_store(store, volume=SMALL, seed=1)
    connection.set_tenant(store)
    refs = set(Customer.objects.values_list("customer_ref", flat=True))
    assert "C10003" not in refs and "C10004" in refs
    assert Order.objects.count() == 30  # orders are kept, never dropped
    connection.set_schema_to_public()
    suppression = Suppression.objects.get(store=store, identifier_kind="customer")
    # The CRM record and the one demo order that named C10003 (kept, without the link).
    assert suppression.blocked_count == 2


def test_activity_after_the_forget_passes_and_a_lifted_suppression_blocks_nothing(store):
    long_ago = timezone.now() - timedelta(days=400)
    digest = identifier_digest(store.secret, "customer", "C10001")
    Suppression.objects.create(
        store=store, identifier_kind="customer", digest=digest, forgotten_at=long_ago
    )
    lifted = identifier_digest(store.secret, "customer", "C10002")
    Suppression.objects.create(
        store=store,
        identifier_kind="customer",
        digest=lifted,
        forgotten_at=timezone.now(),
        lifted_at=timezone.now(),
    )
    seed_store(store, volume=SMALL, seed=1)
    connection.set_tenant(store)
    assert Customer.objects.filter(customer_ref__in=["C10001", "C10002"]).count() == 2


def test_a_filter_for_given_digests_counts_what_it_drops(store):
    digest = identifier_digest(store.secret, "email", "gone@example.com")
    Suppression.objects.create(
        store=store, identifier_kind="email", digest=digest, forgotten_at=timezone.now()
    )
    check = SuppressionFilter(store=store, digests={"email": [digest, "other"]})
    yesterday = timezone.now() - timedelta(days=1)
    assert check.blocks(kind="email", digest=digest, at=yesterday)
    assert not check.blocks(kind="email", digest="other", at=yesterday)
    assert not check.blocks(kind="visitor", digest=digest, at=yesterday)
    check.save_counts()
    assert Suppression.objects.get(digest=digest).blocked_count == 1


def test_a_tracking_call_checks_its_identifiers_in_the_key_lookup(client, store):
    """The key lookup says whether the store has any suppression in force and, once the
    process knows the key's store, whether the call's own identifiers are suppressed: no
    query of its own for either. A forgotten device stays blocked on every path."""
    from django.test.utils import CaptureQueriesContext

    from customers.api import auth
    from customers.api.keys import api_key_create
    from customers.models import Click

    key = api_key_create(store=store, label="tests").api_key.key

    def click(visitor: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            args = {"key": key, "product": 1, "visitor": visitor}
            assert client.get("/v2/log/click", args).status_code == 200
        return sum("suppression" in (q["sql"] or "") for q in queries.captured_queries)

    click("v-warm")  # the key's first use is recorded
    assert click("v-free") == 1  # the key lookup only
    Suppression.objects.create(
        store=store,
        identifier_kind="visitor",
        digest=identifier_digest(store.secret, "visitor", "v-gone"),
        forgotten_at=timezone.now(),
    )
    assert click("v-gone") == 2  # the key lookup, the blocked count
    assert click("v-other") == 1  # suppressions in force, none of this call's
    auth._key_store.pop(key)  # a process that has not seen the key: a query of its own
    assert click("v-gone") == 3
    connection.set_tenant(store)
    assert not Click.objects.filter(visitor__visitor_ref="v-gone").exists()
    assert Click.objects.filter(visitor__visitor_ref="v-free").exists()
    assert Click.objects.filter(visitor__visitor_ref="v-other").exists()
    connection.set_schema_to_public()
    assert Suppression.objects.get(store=store).blocked_count == 2


def test_an_integer_visitor_id_is_checked_in_the_key_lookup_as_its_text(client, store):
    """Plugins send ids as numbers or strings: the key lookup digests the text, as the
    ingestion does, so a forgotten numeric device id stays blocked without a query."""
    import json

    from django.test.utils import CaptureQueriesContext

    from customers.api.keys import api_key_create
    from customers.models import Click

    key = api_key_create(store=store, label="tests").api_key.key
    Suppression.objects.create(
        store=store,
        identifier_kind="visitor",
        digest=identifier_digest(store.secret, "visitor", "12345"),
        forgotten_at=timezone.now(),
    )
    body = {"key": key, "product": 1, "visitor": 12345}
    client.post("/v2/log/click", json.dumps(body), content_type="application/json")  # warm
    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/v2/log/click", json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    asked = [q for q in queries.captured_queries if "suppression" in (q["sql"] or "")]
    assert len(asked) == 2  # the key lookup, the blocked count: no query of its own
    connection.set_tenant(store)
    assert not Click.objects.filter(visitor__visitor_ref="12345").exists()
