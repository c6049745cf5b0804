"""The whole identifier segment is masked on every log line, whatever the identifier holds.

Each identifier of the corpus is wrapped in markers (``zqNNa…zqNNb``) so that a leak of
its first or its last part is seen. Django's request log (the "Not Found:" line too),
the development server's and gunicorn's logs and Celery's loggers are checked.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import sys
import time
from urllib.parse import quote

import pytest
from django.urls import reverse

from clerkgdpr.log_redaction import redact, redact_path
from clerkgdpr.processes import free_port, start_gunicorn, start_web, stop_process
from tests.conftest import BASE_DIR, database_url, login
from tests.identifier_corpus import IDENTIFIER_CORPUS

MARKED = [f"zq{n:02d}a{ident}zq{n:02d}b" for n, ident in enumerate(IDENTIFIER_CORPUS)]
MARKERS = [m for n in range(len(IDENTIFIER_CORPUS)) for m in (f"zq{n:02d}a", f"zq{n:02d}b")]


def _leaks(text: str) -> list[str]:
    return [m for m in MARKERS if m in text]


def _paths(ident: str) -> list[str]:
    """The addresses the console builds, and the same with the identifier as sent raw."""
    built = [
        reverse("customer_profile", args=["acme-main", ident]),
        reverse("visitor_forget", args=["acme-main", ident]),
        reverse("customer_download", args=["no-such-store", ident]),
        reverse("store_visitor", args=[ident]),
    ]
    raw = quote(ident, safe="/'")  # what a hand-typed address sends: slashes unescaped
    return built + [f"/s/acme-main/customer/{raw}/", f"/s/acme-main/visitor/{raw}/download/"]


def test_redaction_keeps_the_view_and_masks_the_identifier():
    assert redact_path("/s/x/customer/a/b c/forget/") == "/s/x/customer/…/forget/"
    assert redact_path("/s/x/visitor/john.doe.1985/") == "/s/x/visitor/…/"
    assert redact_path("/store/customer/O'Brien-4711") == "/store/customer/…"
    assert redact_path("/s/x/customers/") == "/s/x/customers/"
    line = '"GET /s/x/customer/Mueller 4711/ HTTP/1.1" 404 179'
    assert redact(line) == '"GET /s/x/customer/…/ HTTP/1.1" 404 179'


def test_redaction_takes_linear_time_on_a_long_value_without_an_address():
    """A header of any length is one log atom: 100,000 characters ending in "@" (an e-mail
    search that retried from every character took minutes on it) redact in milliseconds."""
    value = "Mozilla/5.0 " + "a" * 100_000 + "@"
    started = time.monotonic()
    assert redact(value) == value
    assert redact("x " + value + " ann@example.com") == "x " + value + " [email]"
    assert time.monotonic() - started < 1


def test_django_request_log_masks_every_identifier(client, alice, caplog):
    caplog.set_level(logging.INFO)
    login(client, alice)
    for ident in MARKED:
        for path in _paths(ident):
            response = client.get(path)
            assert response.status_code in (302, 404), (path, response.status_code)
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "Not Found: /s/acme-main/customer/…/" in text
    assert _leaks(text) == []


def test_celery_log_lines_are_masked():
    """Workers log through Django's LOGGING: the root handler redacts, nothing is hijacked."""
    from django.conf import settings

    from clerkgdpr.log_redaction import RedactPersonalData

    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False
    (console,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactPersonalData) for f in h.filters)
    ]
    out = io.StringIO()
    previous = console.setStream(out)
    try:
        for ident in MARKED:
            logging.getLogger("celery.app.trace").error(
                "Task customers.tasks.forget_run raised: page /s/acme-main/customer/%s/", ident
            )
    finally:
        console.setStream(previous)
    assert "/s/acme-main/customer/…/" in out.getvalue()
    assert _leaks(out.getvalue()) == []


def _request(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("server", ["runserver", "gunicorn"])
def test_server_logs_mask_every_identifier(django_db_setup, tmp_path, server):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    log_path = tmp_path / f"{server}.log"
    if server == "gunicorn":
        proc = start_gunicorn(port=port, env=env, log_path=log_path, workers=1)
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        proc = start_web(command, port=port, env=env, log_path=log_path)
    try:
        for ident in MARKED:
            for path in _paths(ident):
                assert _request(port, path) in (302, 404), path
    finally:
        stop_process(proc, timeout=10)
    text = log_path.read_text(errors="replace")
    assert "/customer/…/" in text  # the lines are there, masked
    assert _leaks(text) == [], text[-3000:]
    assert BASE_DIR  # the servers ran from the checkout
