"""Writes to accounts, stores and staff.  Each function owns its transaction and audits."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction

from stores import schemas
from stores.audit import audit_record
from stores.models import (
    SLUG_VALIDATOR,
    Account,
    Domain,
    Membership,
    PlatformProduct,
    Role,
    Store,
    User,
)


def _validate_slug(slug: str, *, what: str) -> None:
    try:
        SLUG_VALIDATOR(slug)
    except ValidationError:
        raise ValidationError(
            f"Invalid {what} slug {slug!r}: use 3-40 lowercase letters, digits and hyphens, "
            "starting with a letter."
        ) from None


def account_create(*, slug: str, name: str) -> Account:
    _validate_slug(slug, what="account")
    if not name.strip():
        raise ValidationError("The account needs a name.")
    with transaction.atomic():
        if Account.objects.filter(slug=slug).exists():
            raise ValidationError(f"An account with slug {slug!r} already exists.")
        return Account.objects.create(slug=slug, name=name.strip())


def store_create(
    *,
    account: Account,
    slug: str,
    name: str,
    product_codes: Iterable[str] = (),
    collect_emails: bool = False,
    crm_fields: Iterable[str] = (),
    track_browsing: bool = True,
    actor: User | None = None,
) -> Store:
    """Create the store row and its schema (migrated); on any failure neither remains."""
    _validate_slug(slug, what="store")
    if not name.strip():
        raise ValidationError("The store needs a name.")
    if Store.objects.filter(slug=slug).exists():
        raise ValidationError(f"A store with slug {slug!r} already exists.")
    codes = list(product_codes)
    products = list(PlatformProduct.objects.filter(code__in=codes))
    unknown = set(codes) - {p.code for p in products}
    if unknown:
        raise ValidationError(f"Unknown products: {', '.join(sorted(unknown))}.")
    connection.set_schema_to_public()
    # Outside the transaction: a missing template is built through pg_dump, which reads
    # the scratch schema from its own connection.
    schemas.template_current()
    store = Store(
        account=account,
        slug=slug,
        name=name.strip(),
        schema_name="store_" + slug.replace("-", "_"),
        collect_emails=collect_emails,
        crm_fields=sorted(set(crm_fields)),
        track_browsing=track_browsing,
    )
    # One transaction: the row, its schema (one batch of DDL from the template, in
    # Store.create_schema), domain, products and audit row commit together or not at all.
    with transaction.atomic():
        store.save(verbosity=0)
        Domain.objects.create(domain=f"{slug}.stores.local", tenant=store, is_primary=True)
        store.products.set(products)
        audit_record(
            action="store.created",
            store=store,
            actor=actor,
            detail={"products": sorted(codes), "collect_emails": collect_emails},
        )
    return store


def staff_add(
    *,
    account: Account,
    email: str,
    role: str,
    password: str | None,
    actor: User | None = None,
) -> Membership:
    """Add a staff member to an account (creating the user if new)."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}: use one of {', '.join(Role.values)}.")
    email = User.objects.normalize_email(email.strip()).lower()
    validate_email(email)
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            if not password:
                raise ValidationError("A new staff member needs a password.")
            user = User.objects.create_user(email=email, password=password)
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        membership, created = Membership.objects.update_or_create(
            user=user, account=account, defaults={"role": role}
        )
        audit_record(
            action="staff.added" if created else "staff.role_changed",
            account=account,
            actor=actor,
            detail={"membership": membership.pk, "role": role},
        )
    return membership


def user_language_set(*, user: User, language: str, actor: User) -> None:
    """Save the console language a user chose in the header (one of ``settings.LANGUAGES``).

    A display preference, not an access to data: no audit row.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValidationError("Unknown language.")
    if actor.pk != user.pk:
        raise ValidationError("Users choose their own language.")
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
