"""`make run` serves as production does; `make dev` keeps the autoreloading runserver.

With DEBUG off the CSS and htmx come from the app server itself (whitenoise): from the
apps' folders in development, from `collectstatic`'s output with hashed names under the
production settings.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys

import pytest

from clerkgdpr import launcher
from clerkgdpr.processes import free_port, start_gunicorn, stop_process
from tests.conftest import BASE_DIR, database_url
from tests.test_security import PRODUCTION_ENV

pytestmark = pytest.mark.slow


def test_make_run_serves_with_gunicorn_and_make_dev_with_the_autoreloader():
    run = launcher.web_command(dev=False)
    assert run[1:3] == ["-m", "gunicorn"] and "clerkgdpr.wsgi" in run
    assert "python:clerkgdpr.gunicorn_conf" in run
    dev = launcher.web_command(dev=True)
    assert "runserver" in dev and "--noreload" not in dev
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "clerkgdpr.launcher --dev" in makefile


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _assets_of_login_page(port: int, headers: dict) -> list[str]:
    status, _, body = _get(port, "/login/", headers)
    assert status == 200, body[:300]
    found = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', body)
    return [f.decode() for f in found]


def _check_assets(port: int, headers: dict) -> list[str]:
    assets = _assets_of_login_page(port, headers)
    assert any(a.endswith(".css") for a in assets), assets
    assert any("htmx" in a for a in assets), assets
    for asset in assets:
        status, response_headers, body = _get(port, asset, headers)
        assert status == 200, asset
        kind = response_headers["Content-Type"]
        assert ("css" if asset.endswith(".css") else "javascript") in kind, (asset, kind)
        assert body
    return assets


def test_gunicorn_with_debug_off_serves_css_and_htmx(django_db_setup, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    proc = start_gunicorn(port=port, env=env, log_path=tmp_path / "web.log", workers=1)
    try:
        _check_assets(port, {})
    finally:
        stop_process(proc, timeout=10)


def test_production_settings_serve_the_collected_static_files(django_db_setup, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        **PRODUCTION_ENV,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "clerkgdpr.settings_production",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collect.returncode == 0, collect.stderr
    proc = start_gunicorn(port=port, env=env, log_path=tmp_path / "web.log", workers=1)
    try:
        # Behind the TLS proxy (else the production settings redirect to https).
        assets = _check_assets(port, {"X-Forwarded-Proto": "https"})
        # Hashed names, cached for good.
        css = next(a for a in assets if a.endswith(".css"))
        assert re.search(r"\.[0-9a-f]{12}\.css$", css), css
        _, headers, _ = _get(port, css, {"X-Forwarded-Proto": "https"})
        assert "immutable" in headers.get("Cache-Control", "")
    finally:
        stop_process(proc, timeout=10)


def test_the_default_per_key_limit_is_below_the_measured_capacity():
    """bench.saturation: 230-330 calls/s before answers queue on 2 cores (README)."""
    from django.conf import settings

    per_second = settings.API_RATE_LIMIT_REQUESTS / settings.API_RATE_LIMIT_WINDOW
    assert 0 < per_second <= 200
