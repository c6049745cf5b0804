"""Production hardening, security headers, CSP, login throttling and secrets kept out of logs."""

from __future__ import annotations

import importlib
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from clerkgdpr.settings import BASE_DIR
from customers.privacy.export import stream_document
from customers.privacy.subjects import resolve_subject
from stores.audit import audit_record
from stores.digests import identifier_digest
from tests.conftest import PASSWORD
from tests.factories import ClickFactory, CustomerFactory, OrderFactory, VisitorFactory

STRONG_KEY = secrets.token_urlsafe(64)
PRODUCTION_ENV = {"DJANGO_SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "console.example.com"}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "clerkgdpr.settings_production",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_check_deploy_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_the_development_secret_key():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "dev-only-insecure-key-change-me-in-production"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.fixture
def production(settings, monkeypatch):
    """The production settings applied to this test's settings (hosts: testserver)."""
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    module = importlib.import_module("clerkgdpr.settings_production")
    module = importlib.reload(module)
    for name in dir(module):
        if name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_")) or name in (
            "DEBUG",
            "X_FRAME_OPTIONS",
        ):
            setattr(settings, name, getattr(module, name))
    settings.ALLOWED_HOSTS = ["testserver"]
    return settings


def test_it_redirects_plain_http_to_https_in_production(production, client):
    response = client.get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


def test_it_answers_health_checks_over_plain_http(production, client):
    assert client.get("/healthz").status_code == 200


def test_it_sends_the_security_headers_in_production(production, client):
    response = client.get("/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_its_cookies_are_secure_and_http_only_in_production(production, alice):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/", secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    response = client.post(
        "/login/",
        {"username": alice.email, "password": PASSWORD, "csrfmiddlewaretoken": token.decode()},
        secure=True,
        HTTP_REFERER="https://testserver/login/",
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_the_page_loads_htmx_from_our_static_files(client, alice):
    client.force_login(alice)
    response = client.get("/")
    scripts = re.findall(rb"<script\b[^>]*>", response.content)
    assert scripts, "htmx is loaded"
    assert all(b'src="/static/' in s for s in scripts)
    assert "script-src 'self'" in response["Content-Security-Policy"]


TEMPLATE_DIRS = [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
INLINE_CODE = [
    (
        re.compile(r"<script\b(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "inline <style>"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "event handler attribute"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on handler (needs eval)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_inline_script_or_style():
    """The CSP allows scripts and styles from our static files only; templates keep to it."""
    found = []
    for template in sorted(p for d in TEMPLATE_DIRS for p in Path(d).rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE_CODE:
            if pattern.search(text):
                found.append(f"{template.relative_to(BASE_DIR)}: {what}")
    assert not found, "move these into static/ files:\n" + "\n".join(found)


# --- login throttling (django-axes) ---------------------------------------------------


def test_five_failed_logins_lock_the_account_even_for_the_right_password(client, alice):
    for _ in range(5):
        response = client.post("/login/", {"username": alice.email, "password": "wrong"})
        assert response.status_code in (200, 429)
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert b"try again" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still logged out


def test_four_failed_logins_do_not_lock(client, alice):
    for _ in range(4):
        assert client.post("/login/", {"username": alice.email, "password": "x"}).status_code == 200
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302


def test_a_lock_is_per_account_not_for_everybody(client, alice, bob):
    for _ in range(6):
        client.post("/login/", {"username": alice.email, "password": "wrong"})
    response = client.post("/login/", {"username": bob.email, "password": PASSWORD})
    assert response.status_code == 302


# --- secrets and personal data stay out of logs -----------------------------------------


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _assert_not_in_logs(caplog, *needles: str) -> None:
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for needle in needles:
        assert needle not in text, f"{needle!r} appears in the logs"


def test_no_personal_data_in_logs_while_reading_and_exporting_a_subject(
    all_logs, client, alice, store
):
    connection.set_tenant(store)
    customer = CustomerFactory(email="log.probe@example.com", customer_ref="C-LOGPROBE")
    visitor = VisitorFactory(visitor_ref="v-logprobe-77", customer=customer)
    ClickFactory(visitor=visitor)
    OrderFactory(customer=customer, email="log.probe@example.com")
    subject = resolve_subject(kind="email", value="log.probe@example.com")
    document = "".join(
        stream_document(subject, store_slug=store.slug, generated_at=customer.last_seen)
    )
    assert "v-logprobe-77" in document
    connection.set_schema_to_public()
    audit_record(action="profile_view", store=store, actor=alice, subject_kind="customer")
    client.force_login(alice)
    for path in (
        f"/s/{store.slug}/customer/log.probe@example.com/",
        f"/s/{store.slug}/visitor/v-logprobe-77/",
        "/search?q=log.probe@example.com",
        "/store/customer/C-LOGPROBE",
        f"/s/{store.slug}/customer/log.probe@example.com/download/",
        f"/s/{store.slug}/customer/no.such.person@example.com/",  # the not-found page (404)
    ):
        response = client.get(path, follow=True)
        assert response.status_code in (200, 404), path
    # And the forget of that person, through the console and the job.
    from customers.privacy.forget import forget_execute
    from customers.privacy.forget_requests import forget_request_create

    with mock.patch("customers.privacy.forget_requests.forget_requests_enqueue"):
        request = forget_request_create(
            store=store, kind="email", value="log.probe@example.com", via="ui", actor=alice
        )
    forget_execute(request=request)
    connection.set_schema_to_public()
    client.post(f"/s/{store.slug}/customer/C-LOGPROBE/forget/", {"confirm": "1"}, follow=True)
    assert all_logs.records, "the walk above logged something (at least the 404)"
    _assert_not_in_logs(
        all_logs, "log.probe@example.com", "no.such.person", "C-LOGPROBE", "v-logprobe-77"
    )


def test_store_secrets_are_never_logged(all_logs, client, alice, store):
    identifier_digest(store.secret, "email", "someone@example.com")
    client.force_login(alice)
    client.get(f"/s/{store.slug}/")
    client.get(f"/s/{store.slug}/no-such-page/")
    _assert_not_in_logs(all_logs, store.secret)


def test_log_redaction_hides_identifiers_and_keys_in_paths():
    from clerkgdpr.log_redaction import redact

    line = (
        '"GET /s/acme-main/customer/Ann.Lee+x@example.com/ HTTP/1.1" 200 | '
        "GET /v2/privacy/info?key=pub&private_key=SECRET123&visitor=v-1 | "
        "/store/visitor/v-abc-123 | Bearer pub:SECRET456 | mail to bo@shop.example"
    )
    redacted = redact(line)
    for secret in ("Ann.Lee", "SECRET123", "SECRET456", "v-abc-123", "bo@shop.example", "v-1"):
        assert secret not in redacted
    assert "/s/acme-main/customer/…/" in redacted


def test_gunicorn_access_log_is_redacted():
    from types import SimpleNamespace

    from gunicorn.config import Config

    from clerkgdpr.gunicorn_conf import RedactingLogger

    logger = RedactingLogger(Config())
    request = SimpleNamespace(
        method="GET",
        path="/s/acme-main/customer/who@example.com/",
        query="private_key=SECRET789",
        uri="/s/acme-main/customer/who@example.com/?private_key=SECRET789",
        version=(1, 1),
        headers=[],
    )
    response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    environ = {"REMOTE_ADDR": "127.0.0.1", "RAW_URI": request.uri, "REQUEST_METHOD": "GET"}
    environ.update(SERVER_PROTOCOL="HTTP/1.1", PATH_INFO=request.path, QUERY_STRING=request.query)
    from datetime import timedelta

    atoms = logger.atoms(response, request, environ, timedelta(seconds=0.01))
    text = " ".join(str(v) for v in atoms.values())
    assert "who@example.com" not in text and "SECRET789" not in text


def test_a_lock_counts_the_email_whatever_its_case(client, alice):
    for n in range(5):
        name = alice.email.upper() if n % 2 else alice.email
        client.post("/login/", {"username": name, "password": "wrong"})
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429


def test_a_huge_username_or_user_agent_is_a_failed_login_not_an_error(client, db):
    response = client.post(
        "/login/",
        {"username": "x" * 10_000 + "@example.com", "password": "y"},
        HTTP_USER_AGENT="z" * 5_000,
    )
    assert response.status_code == 200
    assert b"correct" in response.content.lower() or b"error" in response.content.lower()
