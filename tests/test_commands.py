"""Ops commands: clear errors, non-zero exit, nothing half-created."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from stores.models import Account, Membership, Store, User
from tests.conftest import BASE_DIR


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def test_it_creates_an_account_and_a_store_with_its_schema(db):
    call_command("create_account", "newco", name="New Co")
    call_command(
        "create_store",
        "newco",
        "newco-shop",
        name="New Co Shop",
        products="search",
        collect_emails=True,
    )
    store = Store.objects.get(slug="newco-shop")
    assert store.account.slug == "newco"
    assert store.collect_emails is True
    assert [p.code for p in store.products.all()] == ["search"]
    assert schema_exists("store_newco_shop")


@pytest.mark.parametrize(
    "slug", ["X", "has space", "1starts-with-digit", "a", "trailing-", "x" * 41]
)
def test_it_rejects_an_invalid_store_slug(db, slug):
    with pytest.raises(CommandError, match="Invalid store slug"):
        call_command("create_store", "acme", slug, name="Bad")
    assert not Store.objects.filter(name="Bad").exists()


def test_it_rejects_a_duplicate_store_slug(db):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_store", "acme", "acme-main", name="Again")
    assert Store.objects.filter(slug="acme-main").count() == 1


def test_it_rejects_an_unknown_account(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("create_store", "nope", "nope-shop", name="Nope")
    assert not schema_exists("store_nope_shop")


def test_it_rejects_unknown_products_without_creating_anything(db):
    with pytest.raises(CommandError, match="Unknown products"):
        call_command("create_store", "acme", "acme-new", name="New", products="teleport")
    assert not Store.objects.filter(slug="acme-new").exists()
    assert not schema_exists("store_acme_new")


def test_it_rejects_a_duplicate_account(db):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_account", "acme", name="Again")
    assert Account.objects.filter(slug="acme").count() == 1


def test_it_adds_staff_with_the_password_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "a-long-password-1")
    call_command("add_staff", "acme", "New.Person@Acme.example", role="analyst")
    user = User.objects.get(email="new.person@acme.example")
    assert user.check_password("a-long-password-1")
    assert Membership.objects.get(user=user).role == "analyst"


def test_it_refuses_a_new_staff_member_without_a_password(db, monkeypatch):
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="needs a password"):
        call_command("add_staff", "acme", "nopass@acme.example", role="viewer")
    assert not User.objects.filter(email="nopass@acme.example").exists()


def test_it_rejects_an_invalid_email_for_staff(db, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "a-long-password-1")
    with pytest.raises(CommandError):
        call_command("add_staff", "acme", "not-an-email", role="viewer")


def run(args, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_it_names_an_unreachable_database_in_one_line():
    result = run(
        ["manage.py", "migrate_schemas"], DATABASE_URL="postgresql://postgres@127.0.0.1:1/nope"
    )
    assert result.returncode != 0
    assert "DATABASE_URL=postgresql://postgres@127.0.0.1:1/nope" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_launcher_names_an_unreachable_redis_in_one_line():
    result = run(["-m", "clerkgdpr.launcher"], REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert "REDIS_URL=redis://127.0.0.1:1/0" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_launcher_rejects_a_non_postgres_database_url():
    result = run(["-m", "clerkgdpr.launcher"], DATABASE_URL="mysql://root@127.0.0.1/x")
    assert result.returncode == 2
    assert "DATABASE_URL must be a postgresql:// URL" in result.stderr
