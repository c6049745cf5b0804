"""The forget service: exact, idempotent, from digests alone, other data untouched."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from clerkgdpr.celery import app as celery_app
from customers.models import Customer, Order, Visitor
from customers.privacy.forget import forget_execute, forget_request_replay
from customers.privacy.forget_requests import (
    ForgetError,
    forget_request_create,
    forget_requests_create_bulk,
)
from customers.privacy.subjects import InvalidIdentifier
from gdpr_dashboard.models import PrivacyRequest, Suppression
from gdpr_dashboard.suppression import forgotten_on
from stores.digests import identifier_digest
from stores.models import AuditEvent
from tests.factories import CustomerFactory, PageViewFactory, VisitorFactory
from tests.forget_helpers import (
    find_anywhere,
    make_person,
    order_totals,
    schema_checksum,
)


def _exclusions(person_customer_pk: int) -> dict[str, str]:
    """SQL conditions selecting the subject's rows (taken before the forget, by id)."""
    visitor_ids = list(
        Visitor.objects.filter(customer_id=person_customer_pk).values_list("pk", flat=True)
    )
    order_ids = list(
        Order.objects.filter(customer_id=person_customer_pk).values_list("pk", flat=True)
    ) + list(Order.objects.filter(visitor_id__in=visitor_ids).values_list("pk", flat=True))
    email = Customer.objects.get(pk=person_customer_pk).email.lower()
    order_ids += list(Order.objects.filter(email__iexact=email).values_list("pk", flat=True))
    vids = ",".join(map(str, visitor_ids)) or "0"
    oids = ",".join(map(str, order_ids)) or "0"
    return {
        "customers_customer": f"id = {person_customer_pk}",
        "customers_visitor": f"id IN ({vids})",
        "customers_pageview": f"visitor_id IN ({vids})",
        "customers_contentview": f"visitor_id IN ({vids})",
        "customers_click": f"visitor_id IN ({vids})",
        "customers_order": f"id IN ({oids})",
    }


@pytest.mark.parametrize("kind", ["email", "customer"])
def test_it_leaves_no_trace_of_the_person_in_any_text_column(store, foreign_store, kind):
    with tenant_context(foreign_store):
        # The same person in another store must stay there.
        other_store_person = make_person("jane")
        foreign_before = schema_checksum(foreign_store.schema_name)
    with tenant_context(store):
        jane = make_person("jane", events_per_visitor=5)
        make_person("john")
        before_totals = order_totals()
        exclude = _exclusions(jane.customer_pk)
        others_before = schema_checksum(store.schema_name, exclude_where=exclude)
        assert find_anywhere(store.schema_name, jane.identifiers)  # the scan does find them

    value = jane.email.upper() if kind == "email" else jane.customer_ref
    request = forget_request_create(store=store, kind=kind, value=value, via="ui")
    counts = forget_execute(request=request)

    assert counts == {
        "shared_devices": 0,
        "baskets": 0,
        "subscribers": 0,
        "customers": 1,
        "visitors": 2,
        "page_views": 10,
        "content_views": 10,
        "clicks": 10,
        "orders_anonymised": 4,
    }
    with tenant_context(store):
        assert find_anywhere(store.schema_name, jane.identifiers) == []
        assert order_totals() == before_totals
        assert schema_checksum(store.schema_name, exclude_where=exclude) == others_before
        assert Customer.objects.filter(customer_ref="CUST-john").exists()
    with tenant_context(foreign_store):
        assert schema_checksum(foreign_store.schema_name) == foreign_before
        assert Customer.objects.filter(customer_ref=other_store_person.customer_ref).exists()
    connection.set_schema_to_public()
    request.refresh_from_db()
    assert request.status == "done"
    assert request.done_at is not None
    assert request.counts == counts


def test_the_public_schema_holds_digests_only(store):
    with tenant_context(store):
        jane = make_person("jane")
    request = forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    forget_execute(request=request)
    assert find_anywhere("public", jane.identifiers) == []
    assert request.email_digest == identifier_digest(store.secret, "email", jane.email)


def test_it_suppresses_every_identifier_of_the_subject(store):
    with tenant_context(store):
        jane = make_person("jane")
    request = forget_request_create(store=store, kind="customer", value=jane.customer_ref, via="ui")
    forget_execute(request=request)
    kinds = sorted(
        Suppression.objects.filter(store=store, request=request).values_list(
            "identifier_kind", flat=True
        )
    )
    assert kinds == ["customer", "email", "visitor", "visitor"]
    for kind, value in [("email", jane.email), ("visitor", jane.visitor_refs[1])]:
        assert forgotten_on(
            store=store, kind=kind, digest=identifier_digest(store.secret, kind, value)
        )


def test_a_visitor_forget_takes_that_visitor_only(store):
    with tenant_context(store):
        jane = make_person("jane")
    request = forget_request_create(
        store=store, kind="visitor", value=jane.visitor_refs[0], via="cli"
    )
    counts = forget_execute(request=request)
    assert counts["visitors"] == 1 and counts["customers"] == 0
    assert counts["page_views"] == 3
    with tenant_context(store):
        assert list(
            Visitor.objects.filter(customer_id=jane.customer_pk).values_list(
                "visitor_ref", flat=True
            )
        ) == [jane.visitor_refs[1]]
        assert Customer.objects.filter(pk=jane.customer_pk).exists()


def test_it_works_from_the_ledger_digests_alone(store):
    """A replay (after a restore) has no identifiers, only the original row's digests."""
    with tenant_context(store):
        jane = make_person("jane")
    original = forget_request_create(store=store, kind="email", value=jane.email, via="api")
    forget_execute(request=original)
    # The restore brings the person back (same identifiers, new rows).
    with tenant_context(store):
        make_person("jane")
    replay = forget_request_replay(original=original)
    assert replay.via == "replay" and replay.status == "done"
    assert replay.counts["customers"] == 1 and replay.counts["visitors"] == 2
    with tenant_context(store):
        assert find_anywhere(store.schema_name, jane.identifiers) == []


def test_running_it_twice_changes_nothing_more(store):
    with tenant_context(store):
        jane = make_person("jane")
        make_person("john")
    request = forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    first = forget_execute(request=request)
    with tenant_context(store):
        after_first = schema_checksum(store.schema_name)
    suppressions = list(Suppression.objects.filter(store=store).values_list("pk", "forgotten_at"))
    second = forget_execute(request=request)
    assert second == first
    with tenant_context(store):
        assert schema_checksum(store.schema_name) == after_first
    assert list(Suppression.objects.filter(store=store).values_list("pk", "forgotten_at")) == (
        suppressions
    )
    request.refresh_from_db()
    assert request.status == "done" and request.counts == first


def test_a_second_request_for_the_same_person_is_done_with_nothing_left(store):
    with tenant_context(store):
        jane = make_person("jane")
    forget_execute(
        request=forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    )
    again = forget_request_create(store=store, kind="customer", value=jane.customer_ref, via="ui")
    counts = forget_execute(request=again)
    assert set(counts.values()) == {0}
    again.refresh_from_db()
    assert again.status == "done"
    assert Suppression.objects.filter(store=store).count() == 4  # no duplicates


def test_an_unknown_subject_still_gets_a_done_request_and_a_suppression(store):
    request = forget_request_create(
        store=store, kind="email", value="nobody@example.com", via="api"
    )
    assert set(forget_execute(request=request).values()) == {0}
    assert Suppression.objects.filter(store=store, identifier_kind="email").count() == 1


def test_it_writes_the_ledger_and_audit_without_identifiers(store, alice):
    with tenant_context(store):
        jane = make_person("jane")
    request = forget_request_create(
        store=store, kind="email", value=jane.email, via="ui", actor=alice
    )
    assert request.status == "received"
    assert request.requested_by == alice
    assert request.customer_digest == identifier_digest(store.secret, "customer", jane.customer_ref)
    assert len(request.visitor_digests) == 2
    event = AuditEvent.objects.get(action="forget.requested", detail__request=request.pk)
    assert event.actor == alice and event.subject_row_id == jane.customer_pk
    forget_execute(request=request)
    assert AuditEvent.objects.filter(action="forget.done", detail__request=request.pk).exists()


def test_it_queues_the_job_on_commit(store, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(
        celery_app,
        "send_task",
        lambda name, args, **kw: sent.append((name, tuple(args), connection.schema_name)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        request = forget_request_create(store=store, kind="visitor", value="v-1", via="ui")
        assert sent == []  # nothing leaves before the row is committed
    assert sent == [("customers.tasks.forget_run", (store.pk, request.pk), store.schema_name)]
    request.refresh_from_db()
    assert request.status == "queued" and request.queued_at is not None


def test_it_keeps_the_request_received_when_the_broker_is_down(
    store, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        request = forget_request_create(store=store, kind="visitor", value="v-1", via="ui")
    request.refresh_from_db()
    assert request.status == "received"


def test_bulk_is_all_or_nothing(store):
    with pytest.raises(InvalidIdentifier):
        forget_requests_create_bulk(
            store=store, subjects=[("email", "a@example.com"), ("email", "no-at")], via="api"
        )
    assert not PrivacyRequest.objects.filter(store=store).exists()
    with pytest.raises(ForgetError):
        forget_requests_create_bulk(store=store, subjects=[("visitor", "v")] * 1001, via="api")


def test_bulk_resolves_like_one_by_one(store, django_assert_max_num_queries):
    with tenant_context(store):
        jane = make_person("jane")
        john = make_person("john")
    subjects = [("email", jane.email), ("customer", john.customer_ref), ("visitor", "v-x")]
    # Four resolving queries whatever the list length, two schema switches, the insert in a
    # savepoint, then one audit row per request (the access log lists them one by one).
    with django_assert_max_num_queries(9 + len(subjects)):
        requests = forget_requests_create_bulk(store=store, subjects=subjects, via="api")
    single = forget_request_create(store=store, kind="email", value=jane.email, via="api")
    assert requests[0].visitor_digests == single.visitor_digests
    assert requests[0].customer_digest == single.customer_digest
    assert requests[1].email_digest == identifier_digest(store.secret, "email", john.email)
    assert [r.subject_kind for r in requests] == ["email", "customer", "visitor"]


def test_a_visitor_linked_later_is_forgotten_and_recorded(store):
    """Data that arrives between the request and the job is found through the customer."""
    with tenant_context(store):
        jane = make_person("jane")
    request = forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    with tenant_context(store):
        late = VisitorFactory(customer_id=jane.customer_pk, visitor_ref="vis-late")
        PageViewFactory(visitor=late)
    counts = forget_execute(request=request)
    assert counts["visitors"] == 3
    request.refresh_from_db()
    assert identifier_digest(store.secret, "visitor", "vis-late") in request.visitor_digests


def test_other_customers_sharing_nothing_are_untouched(store):
    with tenant_context(store):
        jane = make_person("jane")
        bystander = CustomerFactory(email="by@example.com")
        VisitorFactory(customer=bystander)
    forget_execute(
        request=forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    )
    with tenant_context(store):
        assert Customer.objects.get(pk=bystander.pk).visitors.count() == 1


def test_many_requests_run_each_in_its_own_savepoint(store, monkeypatch):
    from django.db import DatabaseError

    import customers.privacy.forget as forget_module
    from customers.privacy.forget import forget_execute_many

    with tenant_context(store):
        people = [make_person(tag) for tag in ("ann", "ben", "cat")]
    requests = forget_requests_create_bulk(
        store=store, subjects=[("email", p.email) for p in people], via="api"
    )
    bad = requests[1].email_digest
    real = forget_module._delete_subject

    def flaky(*, emails, **kwargs):
        if bad in emails:
            raise DatabaseError("simulated")
        return real(emails=emails, **kwargs)

    monkeypatch.setattr(forget_module, "_delete_subject", flaky)
    done, failed = forget_execute_many(store=store, request_ids=[r.pk for r in requests])
    assert sorted(done) == [requests[0].pk, requests[2].pk]
    assert failed == {requests[1].pk: "DatabaseError"}
    assert done[requests[0].pk]["customers"] == 1
    with tenant_context(store):
        assert Customer.objects.filter(pk=people[1].customer_pk).exists()
        assert not Customer.objects.filter(pk=people[0].customer_pk).exists()
    statuses = dict(PrivacyRequest.objects.filter(store=store).values_list("pk", "status"))
    assert statuses[requests[1].pk] == "running"  # left open: retried, or swept
    assert PrivacyRequest.objects.get(pk=requests[1].pk).error == "DatabaseError"
    monkeypatch.setattr(forget_module, "_delete_subject", real)
    done, failed = forget_execute_many(store=store, request_ids=[r.pk for r in requests])
    assert failed == {} and done[requests[1].pk]["customers"] == 1
    assert done[requests[0].pk] == PrivacyRequest.objects.get(pk=requests[0].pk).counts


def test_a_bulk_call_travels_as_one_batch_message(
    store, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        celery_app,
        "send_task",
        lambda name, args, **kw: sent.append(
            (name, args[0], list(args[1]), connection.schema_name)
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        requests = forget_requests_create_bulk(
            store=store, subjects=[("visitor", f"v-{i}") for i in range(5)], via="api"
        )
    assert sent == [
        ("customers.tasks.forget_run_batch", store.pk, [r.pk for r in requests], store.schema_name)
    ]
    assert set(PrivacyRequest.objects.filter(store=store).values_list("status", flat=True)) == {
        "queued"
    }


def test_a_forget_that_deleted_something_asks_for_an_inventory_recount(store, monkeypatch):
    asked = []
    monkeypatch.setattr("customers.jobs.inventory_refresh_soon", lambda s: asked.append(s.pk))
    with tenant_context(store):
        jane = make_person("jane")
    forget_execute(
        request=forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    )
    assert asked == [store.pk]
    forget_execute(
        request=forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    )
    assert asked == [store.pk]  # nothing left to delete: nothing to recount


def test_the_sweeper_requeues_stuck_requests_once(store, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from customers.privacy.forget_requests import forget_requests_sweep

    sent = []
    monkeypatch.setattr(
        "customers.privacy.forget_requests.forget_requests_enqueue",
        lambda *, store, request_ids: sent.append(list(request_ids)) or len(request_ids),
    )
    old = timezone.now() - timedelta(minutes=10)
    stuck = forget_request_create(store=store, kind="visitor", value="v-1", via="ui")
    fresh = forget_request_create(store=store, kind="visitor", value="v-2", via="ui")
    done = forget_request_create(store=store, kind="visitor", value="v-3", via="ui")
    hopeless = forget_request_create(store=store, kind="visitor", value="v-4", via="ui")
    PrivacyRequest.objects.filter(pk__in=[stuck.pk, done.pk, hopeless.pk]).update(received_at=old)
    PrivacyRequest.objects.filter(pk=done.pk).update(status="done")
    PrivacyRequest.objects.filter(pk=hopeless.pk).update(attempts=10)
    assert forget_requests_sweep(stuck_after=timedelta(minutes=2)) == 1
    assert sent == [[stuck.pk]]
    assert PrivacyRequest.objects.get(pk=stuck.pk).status == "queued"
    assert PrivacyRequest.objects.get(pk=fresh.pk).status == "received"
    assert PrivacyRequest.objects.get(pk=hopeless.pk).status == "failed"
    # A second beat right after finds nothing stuck.
    assert forget_requests_sweep(stuck_after=timedelta(minutes=2)) == 0
    assert len(sent) == 1


def test_the_beat_schedule_runs_the_sweeper_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["forget-sweep"]
    assert entry["task"] == "customers.tasks.forget_sweep"
    assert entry["schedule"] == 60
