"""Every URL pattern, walked as every kind of visitor: who gets in, who is refused, and how.

The URL list comes from the resolver, so pages added later are walked too.
``EXPECTED`` says, per URL name, what each visitor gets; a URL missing from it
fails ``test_every_url_is_in_the_table`` with the list of what to add.  Store
URLs are walked on Acme Main with a real customer, visitor and request, so a
404 means "refused", not "nothing there".

Visitors: anonymous; Charlie (owner of another account); Adam (admin limited
to the outlet: Acme Main is not his); Vera (viewer); Bob (analyst); Sam
(platform staff, no support grant); Alice (owner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from gdpr_dashboard.models import PrivacyRequest, RequestKind, RequestVia, Suppression
from stores.models import ApiKey, SupportGrant, User
from tests.factories import CustomerFactory, OrderFactory, VisitorFactory
from tests.urlwalk import WalkedUrl, build_path, url_patterns

ACTORS = ("anonymous", "other_account", "limited_admin", "viewer", "analyst", "staff", "owner")
# Who may never see a shopper of Acme Main, on any page.
NO_ACME_DATA = ("anonymous", "other_account", "limited_admin", "viewer", "staff")
LOGIN = "login"  # 302 to /login/?next=...
ADMIN_LOGIN = "admin-login"  # 302 to /admin/login/?next=...
ADMIN_HOME = "admin-home"  # 302 to /admin/ (admin refuses a missing object or a non-staff logout)


@dataclass(frozen=True)
class Expect:
    """What each visitor gets: a status code or a named redirect (a tuple: any of them)."""

    anonymous: int | str
    other_account: int | str
    limited_admin: int | str
    viewer: int | str
    analyst: int | str
    staff: int | str
    owner: int | str


PUBLIC = Expect(200, 200, 200, 200, 200, 200, 200)
SIGNED_IN = Expect(LOGIN, 200, 200, 200, 200, 200, 200)
# Store pages (stores.access.Need): a store of another account, or one outside a
# limited membership, or platform staff without a grant: the same 404 as an unknown store.
STORE_DASHBOARD = Expect(LOGIN, 404, 404, 200, 200, 404, 200)
STORE_PERSONAL_DATA = Expect(LOGIN, 404, 404, 403, 200, 404, 200)
STORE_MANAGE = Expect(LOGIN, 404, 404, 403, 403, 404, 200)
POST_ONLY = Expect(405, 405, 405, 405, 405, 405, 405)
SIGNED_IN_POST_ONLY = Expect(LOGIN, 405, 405, 405, 405, 405, 405)
ACCOUNT_MEMBER = Expect(LOGIN, 404, 200, 200, 200, 404, 200)
API_KEY = Expect(401, 401, 401, 401, 401, 401, 401)
API_WRITE_ONLY = Expect(405, 405, 405, 405, 405, 405, 405)
# Django admin: only platform staff; Sam is staff without model permissions.
ADMIN_PAGE = Expect(
    ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, ADMIN_LOGIN
)
ADMIN_STAFF_PAGE = Expect(
    ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, ADMIN_LOGIN
)

EXPECTED: dict[str, Expect] = {
    "home": SIGNED_IN,
    "healthz": PUBLIC,
    "login": PUBLIC,
    "logout": POST_ONLY,
    "set_language": POST_ONLY,  # the header's language buttons, for everybody
    "store_home": STORE_DASHBOARD,
    # Staff console: customer list, profiles, downloads
    "search": SIGNED_IN,  # everybody may search; results only from stores they may read
    "customer_list": STORE_PERSONAL_DATA,
    "customer_profile": STORE_PERSONAL_DATA,
    "customer_download": STORE_PERSONAL_DATA,
    "visitor_profile": STORE_PERSONAL_DATA,
    "visitor_download": STORE_PERSONAL_DATA,
    # The article's addresses redirect to the profile in the user's current store (followed
    # here: see FOLLOW): Charlie's and Adam's current stores do not hold the subject, Sam has
    # no store at all.
    "store_customer": Expect(LOGIN, 404, 404, 403, 200, 404, 200),
    "store_visitor": Expect(LOGIN, 404, 404, 403, 200, 404, 200),
    # Forget: the confirmation page and the ledger; lifting a suppression is POST only.
    "customer_forget": STORE_MANAGE,
    "visitor_forget": STORE_MANAGE,
    "privacy_requests": STORE_PERSONAL_DATA,
    "privacy_request": STORE_PERSONAL_DATA,
    "suppressions": STORE_MANAGE,
    "suppression_lift": SIGNED_IN_POST_ONLY,
    # Store settings and API keys
    "store_settings": STORE_MANAGE,
    # Retention bounds
    "retention_settings": STORE_MANAGE,
    "api_keys": STORE_MANAGE,
    "api_key_revoke": SIGNED_IN_POST_ONLY,
    # GDPR dashboard: every member of the account (no shopper data on it), the
    # trust page for everybody; support grants are POST only.
    "account_gdpr": ACCOUNT_MEMBER,
    "account_gdpr_print": ACCOUNT_MEMBER,
    "account_gdpr_dpa": ACCOUNT_MEMBER,
    "account_support_grant_create": SIGNED_IN_POST_ONLY,
    "account_support_grant_revoke": SIGNED_IN_POST_ONLY,
    "trust": PUBLIC,
    # Store API: API keys only, no session; every refusal is the JSON error.
    "v2_log_product": API_KEY,
    "v2_log_click": API_KEY,
    "v2_log_category": API_KEY,
    "v2_log_email": API_KEY,
    "v2_log_sale": API_KEY,
    "v2_log_sale_shopify": API_WRITE_ONLY,
    "v2_log_returned": API_KEY,
    "v2_log_basket_set": API_KEY,
    "v2_log_debug": API_KEY,
    "v2_subscriber_subscribe": API_KEY,
    "v2_subscriber_unsubscribe": API_KEY,
    "v2_product_add": API_WRITE_ONLY,
    "v2_product_remove": API_KEY,
    "v2_customers": API_WRITE_ONLY,
    "v2_orders": API_WRITE_ONLY,
    "v2_products": API_WRITE_ONLY,
    "v2_privacy_info": API_KEY,
    "v2_privacy_forget": API_KEY,
    "api-v1:openapi-json": PUBLIC,
    "api-v1:openapi-view": PUBLIC,
    "api-v1:privacy_subject": API_KEY,
    "api-v1:privacy_forget": API_WRITE_ONLY,
    "api-v1:privacy_request": API_KEY,
    "api-v1:privacy_requests": API_KEY,
    "api-v1:events": API_WRITE_ONLY,
    # Sync: POST and DELETE on one path each, so a GET is not allowed.
    "api-v1:customers_sync": API_WRITE_ONLY,
    "api-v1:customers_delete": API_WRITE_ONLY,
    "api-v1:orders_sync": API_WRITE_ONLY,
    "api-v1:orders_delete": API_WRITE_ONLY,
    "api-v1:products_sync": API_WRITE_ONLY,
    "api-v1:products_delete": API_WRITE_ONLY,
    "api-v1:api-root": Expect(404, 404, 404, 404, 404, 404, 404),
    "admin:login": Expect(200, 200, 200, 200, 200, ADMIN_HOME, 200),
    "admin:index": ADMIN_STAFF_PAGE,
    "admin:logout": Expect(ADMIN_HOME, *[ADMIN_HOME] * 4, 405, ADMIN_HOME),
    "admin:password_change": ADMIN_STAFF_PAGE,
    "admin:password_change_done": ADMIN_STAFF_PAGE,
    "admin:jsi18n": ADMIN_STAFF_PAGE,
    # Staff without permissions: the autocomplete refuses the (empty) query.
    "admin:autocomplete": Expect(ADMIN_LOGIN, *[ADMIN_LOGIN] * 4, 403, ADMIN_LOGIN),
    "admin:view_on_site": Expect(ADMIN_LOGIN, *[ADMIN_LOGIN] * 4, 404, ADMIN_LOGIN),
    "admin:app_list": Expect(ADMIN_LOGIN, *[ADMIN_LOGIN] * 4, 404, ADMIN_LOGIN),
    "admin/(?P<url>.*)$": Expect(ADMIN_LOGIN, *[ADMIN_LOGIN] * 4, 404, ADMIN_LOGIN),
}
# Every ModelAdmin page (changelist, add, change, delete, history and the bare
# object URL) of every registered model: staff only, and Sam has no model permissions.
ADMIN_MODEL_PAGE = re.compile(
    r"^(admin:\w+_(changelist|add|change|delete|history|password_change)"
    r"|admin/\w+/\w+/<path:object_id>/)$"
)
# Staff without permissions: refused, or sent home when the object does not exist.
ADMIN_MODEL_EXPECT = Expect(*[ADMIN_LOGIN] * 5, (403, ADMIN_HOME), ADMIN_LOGIN)
# The bare object URL: login first, then a redirect to the object's change page.
ADMIN_OBJECT_REDIRECT = Expect(*[ADMIN_LOGIN] * 5, 302, ADMIN_LOGIN)


# URLs that redirect to another page by design; the walk checks where the redirect lands.
FOLLOW = {"store_customer", "store_visitor"}


def expectation_for(url: WalkedUrl) -> Expect | None:
    if url.key in EXPECTED:
        return EXPECTED[url.key]
    if url.key.startswith("admin/") and url.key.endswith("<path:object_id>/"):
        return ADMIN_OBJECT_REDIRECT
    if ADMIN_MODEL_PAGE.match(url.key):
        return ADMIN_MODEL_EXPECT
    return None


# --- the data the walk fills the URLs with ---------------------------------------------

SUBJECT_EMAIL = "walk.subject@example.com"
SUBJECT_CUSTOMER = "C-WALK-0001"
SUBJECT_VISITOR = "v-walk-0001"
SUBJECT_NAME = "Walkena Subjectsson"  # never part of a URL


@pytest.fixture
def url_values(store) -> dict[str, str]:
    """Real slugs and ids of Acme Main, by argument name (add a name when a URL needs it)."""
    connection.set_tenant(store)
    customer = CustomerFactory(
        email=SUBJECT_EMAIL, customer_ref=SUBJECT_CUSTOMER, name=SUBJECT_NAME
    )
    visitor = VisitorFactory(visitor_ref=SUBJECT_VISITOR, customer=customer)
    order = OrderFactory(customer=customer, visitor=visitor, email=SUBJECT_EMAIL)
    connection.set_schema_to_public()
    request = PrivacyRequest.objects.create(
        store=store, kind=RequestKind.FORGET, via=RequestVia.UI, subject_kind="email"
    )
    api_key = ApiKey.objects.create(store=store, key="walk-public-key", private_key_hash="x")
    # A grant for another platform staff member: Sam himself stays without one.
    support = User.objects.create_user(email="support@platform.example", is_staff=True)
    grant = SupportGrant.objects.create(
        store=store,
        staff_user=support,
        reason="Ticket 1: walk",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    suppression = Suppression.objects.create(
        store=store,
        identifier_kind="email",
        digest="0" * 64,
        forgotten_at=timezone.now(),
        request=request,
    )
    return {
        "store_slug": store.slug,
        "store": store.slug,
        "slug": store.slug,
        "account_slug": store.account.slug,
        "account": store.account.slug,
        "email_or_id": SUBJECT_EMAIL,
        "identifier": SUBJECT_EMAIL,
        "ident": SUBJECT_EMAIL,
        "customer": SUBJECT_CUSTOMER,
        "customer_ref": SUBJECT_CUSTOMER,
        "visitor": SUBJECT_VISITOR,
        "visitor_id": SUBJECT_VISITOR,
        "visitor_ref": SUBJECT_VISITOR,
        "order_id": str(order.pk),
        "request_id": str(request.pk),
        "pk": str(request.pk),
        "key_id": str(api_key.pk),
        "api_key_id": str(api_key.pk),
        "grant_id": str(grant.pk),
        "suppression_id": str(suppression.pk),
        # Django admin
        "object_id": str(store.pk),
        "id": str(User.objects.get(email="alice@acme.example").pk),
        "content_type_id": "1",
        "app_label": "stores",
        "url": "no-such-admin-page/",
    }


@pytest.fixture
def clients(alice, bob, vera, adam, charlie, sam) -> dict[str, Client]:
    users = {
        "other_account": charlie,
        "limited_admin": adam,
        "viewer": vera,
        "analyst": bob,
        "staff": sam,
        "owner": alice,
    }
    made = {"anonymous": Client()}
    for actor, user in users.items():
        client = Client()
        client.force_login(user)
        made[actor] = client
    return made


def test_every_url_is_in_the_table():
    missing = sorted(u.key for u in url_patterns() if expectation_for(u) is None)
    assert not missing, (
        "URLs without an expected outcome per visitor; add them to EXPECTED in "
        f"tests/test_security_urls.py: {missing}"
    )


def test_every_url_argument_has_a_real_value(url_values):
    gaps = {
        f"{u.key}: {name}" for u in url_patterns() for name in u.kwargs if name not in url_values
    }
    assert not gaps, f"add a real value for these URL arguments to url_values: {sorted(gaps)}"


def _outcome(response) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        if location == "/admin/":
            return ADMIN_HOME
        if location.startswith("/login/"):
            return LOGIN
    return response.status_code


def test_every_url_answers_each_visitor_as_the_table_says(clients, url_values):
    wrong = []
    for url in url_patterns():
        expect = expectation_for(url)
        if expect is None or any(name not in url_values for name in url.kwargs):
            continue  # reported by the two tests above
        path = build_path(url, url_values)
        for actor in ACTORS:
            response = clients[actor].get(path, follow=url.key in FOLLOW and actor != "anonymous")
            got, wanted = _outcome(response), getattr(expect, actor)
            if got not in (wanted if isinstance(wanted, tuple) else (wanted,)):
                wrong.append(f"{url.key} {path} as {actor}: got {got}, expected {wanted}")
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if got in (403, 404, 405, LOGIN, ADMIN_LOGIN, ADMIN_HOME) or actor in NO_ACME_DATA:
                # A refusal, or a page for somebody who may not read Acme Main's shoppers,
                # never shows the subject (a not-found page may echo what was asked for).
                asked = path + "".join(u for u, _ in getattr(response, "redirect_chain", []))
                secrets = [x for x in (SUBJECT_EMAIL, SUBJECT_CUSTOMER, SUBJECT_VISITOR)]
                for secret in [x for x in secrets if x not in asked] + [SUBJECT_NAME]:
                    if secret.encode() in body:
                        wrong.append(f"{url.key} as {actor}: shows {secret}")
            if response.get("Content-Type", "").startswith("text/html") and body:
                for script in re.findall(rb"<script\b[^>]*>", body):
                    if b"src=" not in script and b'type="application/json"' not in script:
                        wrong.append(f"{url.key} as {actor}: inline <script> (CSP forbids it)")
    assert not wrong, "\n".join(wrong)


def test_platform_staff_with_a_live_grant_reads_the_store(client, sam, store, url_values):
    SupportGrant.objects.create(
        store=store,
        staff_user=sam,
        reason="Ticket 4711: merchant cannot find a shopper",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client.force_login(sam)
    assert client.get(f"/s/{store.slug}/").status_code == 200


# What POST-only URLs answer to a POST (an empty one: a refusal comes before any validation).
POST_EXPECTED: dict[str, Expect] = {
    "suppression_lift": Expect(LOGIN, 404, 404, 403, 403, 404, 302),
    "api_key_revoke": Expect(LOGIN, 404, 404, 403, 403, 404, 302),
    "account_support_grant_create": Expect(LOGIN, 404, 403, 403, 403, 404, 400),
    "account_support_grant_revoke": Expect(LOGIN, 404, 403, 403, 403, 404, 302),
}
REFUSALS = (LOGIN, ADMIN_LOGIN, 401, 403, 404)


def test_every_console_post_is_refused_to_who_may_not_use_the_page(clients, url_values):
    """POST-only URLs answer as POST_EXPECTED says; on every other page a POST from somebody
    the GET refuses gets the same refusal, and nobody gets a 5xx."""
    wrong = []
    for url in url_patterns():
        if url.namespace in ("admin", "api-v1") or url.key.startswith(("admin/", "v2_")):
            continue  # Django's admin; the APIs authenticate by key (test_store_api_*)
        if url.key in ("logout", "login") or any(n not in url_values for n in url.kwargs):
            continue
        path = build_path(url, url_values)
        get_expect = expectation_for(url)
        if get_expect is None:
            continue  # reported by test_every_url_is_in_the_table
        for actor in ACTORS:  # the owner last: a POST may change what the others would see
            response = clients[actor].post(path, {})
            got = _outcome(response)
            if url.key in POST_EXPECTED:
                wanted = getattr(POST_EXPECTED[url.key], actor)
                if got != wanted:
                    wrong.append(f"POST {url.key} as {actor}: got {got}, expected {wanted}")
            elif getattr(get_expect, actor) in REFUSALS and got not in (
                getattr(get_expect, actor),
                405,
            ):
                wrong.append(
                    f"POST {url.key} as {actor}: got {got}, GET is refused with "
                    f"{getattr(get_expect, actor)}"
                )
            elif isinstance(got, int) and got >= 500:
                wrong.append(f"POST {url.key} as {actor}: {got}")
    missing = [
        k for k, e in EXPECTED.items() if e == SIGNED_IN_POST_ONLY and k not in POST_EXPECTED
    ]
    assert not missing, f"add POST outcomes to POST_EXPECTED for {missing}"
    assert not wrong, "\n".join(wrong)


def test_api_refusals_are_json_in_the_documented_shape(client, url_values):
    for url in url_patterns():
        path = build_path(url, url_values) if all(n in url_values for n in url.kwargs) else ""
        if not path.startswith(("/v2/", "/api/v1/")) or path.endswith(("openapi.json", "/docs")):
            continue
        for response in (client.get(path), client.post(path, "{}", "application/json")):
            assert response.status_code in (400, 401, 403, 404, 405), (path, response.status_code)
            assert response["Content-Type"].startswith("application/json"), path
            body = response.json()
            if path.startswith("/v2/"):
                assert body["status"] == "error" and body["type"] and "message" in body, body
            else:
                assert body, path


# --- CSRF ---------------------------------------------------------------------------------

# Views exempt from CSRF must authenticate by API key (no cookies) and live under these.
CSRF_EXEMPT_PREFIXES = ("/v2/", "/api/")


def test_only_key_authenticated_api_views_are_csrf_exempt(url_values):
    exempt = [
        u.key
        for u in url_patterns()
        if getattr(u.callback, "csrf_exempt", False)
        and not build_path(u, url_values).startswith(CSRF_EXEMPT_PREFIXES)
    ]
    assert not exempt, f"CSRF-exempt views outside the API: {exempt}"


@pytest.mark.parametrize("actor", ["anonymous", "owner"])
def test_every_post_without_a_token_is_refused(actor, alice, url_values):
    client = Client(enforce_csrf_checks=True)
    if actor == "owner":
        client.force_login(alice)
    accepted = []
    for url in url_patterns():
        if any(name not in url_values for name in url.kwargs):
            continue
        path = build_path(url, url_values)
        if path.startswith(CSRF_EXEMPT_PREFIXES):
            continue
        response = client.post(path, {"q": "x", "confirm": "1"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append(f"{url.key} {path}: {response.status_code}")
    assert not accepted, "POST without CSRF token not refused:\n" + "\n".join(accepted)


def test_a_post_with_the_token_gets_through(alice):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/login/",
        {
            "username": alice.email,
            "password": "correct-horse-battery",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
