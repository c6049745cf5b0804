"""Forget over the API: v2 single call and v1 bulk, wired to customers.forget.

The pipeline itself (customers.forget) is built separately; these tests use a
stand-in with its interface, plus the real module once it is deployed.
"""

import importlib.util
import json
import sys
import types

import pytest

from gdpr_dashboard.models import PrivacyRequest, RequestKind, RequestVia
from stores.digests import identifier_digest

FORGET_DEPLOYED = importlib.util.find_spec("customers.forget") is not None


@pytest.fixture
def stand_in_forget(monkeypatch):
    calls = []

    def forget_request_create(*, store, kind, value, via, actor=None, api_key=None):
        calls.append((kind, value, via, api_key))
        return PrivacyRequest.objects.create(
            store=store,
            kind=RequestKind.FORGET,
            via=via,
            subject_kind=kind,
            api_key=api_key,
            **{f"{kind}_digest": identifier_digest(store.secret, kind, value)}
            if kind != "visitor"
            else {},
        )

    def forget_requests_create_bulk(*, store, subjects, via, api_key=None, actor=None):
        return [
            forget_request_create(store=store, kind=k, value=v, via=via, api_key=api_key)
            for k, v in subjects
        ]

    module = types.ModuleType("customers.forget")
    module.forget_request_create = forget_request_create
    module.forget_requests_create_bulk = forget_requests_create_bulk
    monkeypatch.setitem(sys.modules, "customers.forget", module)
    return calls


def bearer(issued):
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.api_key.key}:{issued.private_key}"}


def test_it_answers_a_v2_forget_with_the_durable_request_id(client, api_key, stand_in_forget):
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
    assert stand_in_forget == [("customer", "C-1", RequestVia.API, api_key.api_key)]


def test_it_takes_a_bulk_forget_and_answers_202(client, api_key, stand_in_forget):
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


def test_it_rejects_a_bulk_forget_with_one_bad_subject_entirely(client, api_key, stand_in_forget):
    subjects = [{"email": "a@example.com"}, {"email": "not-an-email"}]
    response = client.post(
        "/api/v1/privacy/forget",
        data=json.dumps({"subjects": subjects}),
        content_type="application/json",
        **bearer(api_key),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert stand_in_forget == [] and not PrivacyRequest.objects.exists()


@pytest.mark.skipif(FORGET_DEPLOYED, reason="the forget pipeline is deployed")
def test_it_answers_503_until_the_forget_pipeline_is_deployed(client, api_key):
    response = client.get(
        "/v2/privacy/forget",
        {"key": api_key.api_key.key, "private_key": api_key.private_key, "visitor": "v"},
    )
    assert response.status_code == 503
    assert response.json()["type"] == "ForgetUnavailable" and response["Retry-After"] == "60"
    assert not PrivacyRequest.objects.exists()


@pytest.mark.skipif(not FORGET_DEPLOYED, reason="the forget pipeline is not deployed yet")
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
