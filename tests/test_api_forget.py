"""Forget over the API: v2 single call and v1 bulk, through the real forget pipeline."""

import json

from gdpr_dashboard.models import PrivacyRequest, RequestVia
from stores.digests import identifier_digest


def bearer(issued):
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.api_key.key}:{issued.private_key}"}


def test_it_answers_a_v2_forget_with_the_durable_request_id(client, api_key):
    response = client.post(
        "/v2/privacy/forget",
        data=json.dumps(
            {"key": api_key.api_key.key, "private_key": api_key.private_key, "customer": "C-1"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    row = PrivacyRequest.objects.get(pk=int(body["request"]))
    assert (row.via, row.api_key_id) == (RequestVia.API, api_key.api_key.pk)
    assert row.customer_digest == identifier_digest(api_key.api_key.store.secret, "customer", "C-1")


def test_it_takes_a_bulk_forget_and_answers_202(client, api_key):
    subjects = [{"email": f"s{i}@example.com"} for i in range(3)] + [{"visitor": "v-1"}]
    response = client.post(
        "/api/v1/privacy/forget",
        data=json.dumps({"subjects": subjects}),
        content_type="application/json",
        **bearer(api_key),
    )
    assert response.status_code == 202, response.content
    ids = response.json()["requests"]
    assert len(ids) == 4
    status = client.get(f"/api/v1/privacy/requests/{ids[-1]}", **bearer(api_key)).json()
    assert (status["kind"], status["subject_kind"], status["via"]) == ("forget", "visitor", "api")


def test_it_rejects_a_bulk_forget_with_one_bad_subject_entirely(client, api_key):
    subjects = [{"email": "a@example.com"}, {"email": "not-an-email"}]
    response = client.post(
        "/api/v1/privacy/forget",
        data=json.dumps({"subjects": subjects}),
        content_type="application/json",
        **bearer(api_key),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert not PrivacyRequest.objects.exists()


def test_it_records_a_real_forget_request(client, api_key):
    response = client.post(
        "/api/v1/privacy/forget",
        data=json.dumps({"subjects": [{"visitor": "v-1"}, {"customer": "C-2"}]}),
        content_type="application/json",
        **bearer(api_key),
    )
    assert response.status_code == 202, response.content
    rows = PrivacyRequest.objects.filter(pk__in=response.json()["requests"])
    assert rows.count() == 2
    assert {r.via for r in rows} == {RequestVia.API}


def test_it_blocks_resent_old_data_after_a_forget_but_takes_new_activity(client, store, api_key):
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from customers.models import Customer, PageView
    from customers.privacy.forget import forget_execute

    old = int((timezone.now() - timedelta(hours=2)).timestamp())
    batch = {
        "events": [
            {"kind": "page", "visitor": "v-7", "url": "/a", "customer": "C-7", "time": old},
            {"kind": "email", "visitor": "v-7", "email": "eve@example.com", "time": old},
        ]
    }

    def send(body):
        return client.post(
            "/api/v1/events",
            data=json.dumps(body),
            content_type="application/json",
            **bearer(api_key),
        ).json()

    send(batch)
    forgotten = client.post(
        "/api/v1/privacy/forget",
        data=json.dumps({"subjects": [{"email": "eve@example.com"}]}),
        content_type="application/json",
        **bearer(api_key),
    ).json()["requests"][0]
    forget_execute(request=PrivacyRequest.objects.get(pk=forgotten))

    # The shop re-sends the same old batch: nothing of it comes back.
    assert send(batch)["dropped"] == {"suppressed": 2}
    connection.set_tenant(store)
    assert not Customer.objects.exists() and not PageView.objects.exists()
    connection.set_schema_to_public()
    # Activity after the forget is new data and is kept; the forgotten device stays forgotten.
    now = int(timezone.now().timestamp()) + 1
    fresh = {"events": [{"kind": "page", "visitor": "v-8", "url": "/b", "customer": "C-7",
                         "time": now}]}  # fmt: skip
    assert send(fresh)["stored"] == {"page_views": 1}
    same_device = {"events": [{"kind": "page", "visitor": "v-7", "url": "/c", "time": now}]}
    assert send(same_device)["dropped"] == {"suppressed": 1}
