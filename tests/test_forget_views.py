"""The Forget confirmation page, the status page and the store's requests and suppressions."""

from __future__ import annotations

from django.urls import reverse
from django_tenants.utils import tenant_context

from customers.privacy.forget import forget_execute
from customers.privacy.forget_requests import forget_request_create
from gdpr_dashboard.models import PrivacyRequest, Suppression
from stores.models import AuditEvent
from tests.conftest import login
from tests.forget_helpers import make_person


def _confirm_url(store, ident):
    return reverse("customer_forget", args=[store.slug, ident])


def test_it_says_what_is_deleted_and_kept(client, alice, store):
    with tenant_context(store):
        jane = make_person("jane", events_per_visitor=4)
    response = login(client, alice).get(_confirm_url(store, jane.email))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>1</strong> customer record" in html
    assert "<strong>2</strong> visitor ids" in html
    assert "<strong>8</strong> page views" in html
    assert "<strong>4</strong> orders" in html  # kept, anonymised
    assert "every system that syncs" in html
    assert "Forget Customer</button>" in html


def test_it_makes_the_request_and_goes_to_its_status_page(client, alice, store):
    with tenant_context(store):
        jane = make_person("jane")
    response = login(client, alice).post(_confirm_url(store, jane.customer_ref))
    request = PrivacyRequest.objects.get(store=store)
    assert response.status_code == 302
    assert response.url == f"/s/{store.slug}/requests/{request.pk}/"
    assert request.via == "ui" and request.requested_by == alice
    assert request.subject_kind == "customer"


def test_the_visitor_page_forgets_a_visitor(client, alice, store):
    with tenant_context(store):
        jane = make_person("jane")
    url = reverse("visitor_forget", args=[store.slug, jane.visitor_refs[0]])
    assert "Forget Visitor" in login(client, alice).get(url).content.decode()
    client.post(url)
    assert PrivacyRequest.objects.get(store=store).subject_kind == "visitor"


def test_only_admins_and_owners_may_forget(client, bob, vera, charlie, adam, store):
    with tenant_context(store):
        jane = make_person("jane")
    url = _confirm_url(store, jane.email)
    assert login(client, bob).get(url).status_code == 403
    assert login(client, vera).post(url).status_code == 403
    assert login(client, charlie).get(url).status_code == 404
    assert login(client, adam).get(url).status_code == 404  # admin of the outlet only
    client.logout()
    assert client.get(url).status_code == 302
    assert not PrivacyRequest.objects.exists()


def test_the_status_page_polls_until_done_then_shows_counts(client, alice, store):
    with tenant_context(store):
        jane = make_person("jane")
    request = forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    url = reverse("privacy_request", args=[store.slug, request.pk])
    login(client, alice)
    page = client.get(url)
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert "remains in backups until they expire (30 days)" in page.content.decode()
    assert page["Vary"].count("HX-Request") == 1
    # Without JavaScript the page reloads itself; the polled fragment never carries that
    # refresh (htmx would insert it live and the page would reload every 2 s).
    assert '<meta http-equiv="refresh"' in page.content.decode()
    open_fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in open_fragment and "refresh" not in open_fragment
    forget_execute(request=request)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="request-status"')
    assert "hx-trigger" not in fragment  # done: polling stops
    assert "The person was forgotten" in fragment
    assert "<dt>Page views</dt><dd>6</dd>" in fragment


def test_a_forgotten_person_shows_when_they_were_forgotten(client, alice, store):
    with tenant_context(store):
        jane = make_person("jane")
    forget_execute(
        request=forget_request_create(store=store, kind="email", value=jane.email, via="ui")
    )
    response = login(client, alice).get(_confirm_url(store, jane.email))
    assert response.status_code == 200
    assert "This person was forgotten on" in response.content.decode()
    assert "Forget Customer</button>" not in response.content.decode()
    unknown = client.get(_confirm_url(store, "never@example.com"))
    assert unknown.status_code == 404
    assert "Nothing is held about this person" in unknown.content.decode()


def test_the_requests_list_shows_the_ledger_of_this_store_only(client, alice, store, foreign_store):
    mine = forget_request_create(store=store, kind="visitor", value="v-1", via="cli")
    theirs = forget_request_create(store=foreign_store, kind="visitor", value="v-1", via="cli")
    html = login(client, alice).get(reverse("privacy_requests", args=[store.slug])).content
    assert f"/requests/{mine.pk}/".encode() in html
    assert f"/requests/{theirs.pk}/".encode() not in html
    url = reverse("privacy_request", args=[store.slug, theirs.pk])
    assert client.get(url).status_code == 404


def test_an_owner_lifts_a_suppression_and_it_is_audited(client, alice, store):
    forget_execute(
        request=forget_request_create(store=store, kind="email", value="a@example.com", via="ui")
    )
    suppression = Suppression.objects.get(store=store)
    login(client, alice)
    assert b"Lift" in client.get(reverse("suppressions", args=[store.slug])).content
    response = client.post(reverse("suppression_lift", args=[store.slug, suppression.pk]))
    assert response.status_code == 302
    suppression.refresh_from_db()
    assert suppression.lifted_at is not None and suppression.lifted_by == alice
    assert AuditEvent.objects.filter(action="suppression.lifted", actor=alice).exists()


def test_an_admin_cannot_lift_a_suppression(client, adam, outlet):
    forget_execute(
        request=forget_request_create(store=outlet, kind="visitor", value="v-9", via="ui")
    )
    suppression = Suppression.objects.get(store=outlet)
    login(client, adam)
    assert b"Lift" not in client.get(reverse("suppressions", args=[outlet.slug])).content
    url = reverse("suppression_lift", args=[outlet.slug, suppression.pk])
    assert client.post(url).status_code == 403
    suppression.refresh_from_db()
    assert suppression.lifted_at is None


def test_the_profile_ends_with_the_forget_button_for_admins_and_owners_only(
    client, alice, bob, store
):
    with tenant_context(store):
        jane = make_person("jane")
    url = reverse("customer_profile", args=[store.slug, jane.customer_ref])
    forget_url = reverse("customer_forget", args=[store.slug, jane.customer_ref])
    owner_page = login(client, alice).get(url).content.decode()
    assert f'href="{forget_url}"' in owner_page
    assert owner_page.index('id="forget"') > owner_page.index("Download all data")
    analyst_page = login(client, bob).get(url).content.decode()
    assert forget_url not in analyst_page
    visitor_url = reverse("visitor_profile", args=[store.slug, jane.visitor_refs[0]])
    assert reverse("visitor_forget", args=[store.slug, jane.visitor_refs[0]]) in (
        login(client, alice).get(visitor_url).content.decode()
    )
