"""manage.py forget: the same service as the button; clear errors and non-zero exit."""

import pytest
from django.core.management import CommandError, call_command

from gdpr_dashboard.models import PrivacyRequest


def test_it_prints_the_request_id(store, capsys):
    call_command("forget", store.slug, email="Jane@Example.com")
    request = PrivacyRequest.objects.get(store=store)
    assert capsys.readouterr().out.strip() == f"request {request.pk}"
    assert request.via == "cli" and request.subject_kind == "email"


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        (["no-such-store"], {"email": "a@example.com"}, "No store"),
        (["acme-main"], {"email": "no-at-sign"}, "no @"),
        (["acme-main"], {"visitor": "   "}, "empty"),
    ],
)
def test_it_refuses_bad_input_without_writing(db, args, kwargs, message):
    with pytest.raises(CommandError, match=message):
        call_command("forget", *args, **kwargs)
    assert not PrivacyRequest.objects.exists()


def test_it_needs_exactly_one_identifier(db):
    with pytest.raises(CommandError):
        call_command("forget", "acme-main")
    with pytest.raises(CommandError):
        call_command("forget", "acme-main", "--email", "a@example.com", "--visitor", "v")


def test_waiting_without_a_worker_times_out_with_a_clear_message(store, monkeypatch):
    monkeypatch.setattr("customers.privacy.forget_requests.forget_requests_enqueue", lambda **kw: 0)
    with pytest.raises(CommandError, match="still received"):
        call_command("forget", store.slug, visitor="v-1", wait=True, timeout=0.3)
