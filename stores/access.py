"""Who may see what.  Every console view fetches its store or account through here.

A store page sets the connection to the store's schema only after the check
passed; an unknown store and one the user may not see are the same 404, so the
answer never tells which slugs exist.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BigIntegerField, BooleanField, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest
from django.utils import timezone

from stores.audit import audit_record
from stores.models import Account, Membership, Store, SupportGrant, User
from stores.roles import SUPPORT_GRANT_CAPABILITIES, Capability, role_can, roles_with

LAST_STORE_SESSION_KEY = "last_store"


@dataclass(frozen=True)
class StoreAccess:
    store: Store
    membership: Membership | None
    support_grant: SupportGrant | None

    def can(self, capability: Capability) -> bool:
        if self.membership is not None:
            return role_can(self.membership.role, capability)
        return self.support_grant is not None and capability in SUPPORT_GRANT_CAPABILITIES

    # For templates, which cannot pass an argument.
    @property
    def can_read_personal_data(self) -> bool:
        return self.can(Capability.READ_PERSONAL_DATA)

    @property
    def can_manage(self) -> bool:
        return self.can(Capability.MANAGE_STORE)

    @property
    def can_forget(self) -> bool:
        return self.can(Capability.FORGET)

    @property
    def can_lift_suppressions(self) -> bool:
        return self.can(Capability.LIFT_SUPPRESSION)


def stores_visible_to(user: User) -> QuerySet[Store]:
    """Stores the user is a member of (respecting store limits), by account then name."""
    if not user.is_authenticated:
        return Store.objects.none()
    return (
        Store.objects.filter(_member_of(user))
        .select_related("account")
        .order_by("account__name", "name")
    )


def _member_of(user: User, roles: list[str] | None = None) -> Q:
    """Stores the user's memberships (with one of ``roles``, or any) reach: every store of
    an account for a membership without store limits, the listed stores otherwise.

    As arrays of the user's own memberships' accounts and stores, so the stores are read
    through their account and primary-key indexes and the cost follows the user's stores,
    not every store of the platform (joins from the stores to every account's memberships
    grew with all of them; ``IN`` subqueries filtered every store row: 2.6 ms with 11,000
    stores, the arrays 0.5 ms). The two subqueries are SQL made once per process: built
    as querysets they cost more than the query runs (every console page reads through
    here, the header's store menu too)."""
    accounts, stores, _ = _membership_sql()
    role_any = [] if roles is None else list(roles)
    params = (user.pk, roles is None, role_any)
    # Fixed SQL (table names from the models), the user's id and roles as parameters.
    by_account = RawSQL(accounts, params)  # noqa: S611
    by_store = RawSQL(stores, params)  # noqa: S611
    return Q(_AnyOf(F("account_id"), by_account)) | Q(_AnyOf(F("pk"), by_store))


@functools.cache
def _membership_sql() -> tuple[str, str, str]:
    """(the accounts a user's unlimited memberships reach, the stores their limited ones
    list, a membership's own store limits for a query on memberships), as SQL arrays."""
    qn = connection.ops.quote_name
    membership = qn(Membership._meta.db_table)
    limits = qn(Membership.stores.through._meta.db_table)
    of_user = "m.user_id = %s AND (%s OR m.role = ANY(%s::text[]))"
    accounts = (
        f"ARRAY(SELECT m.account_id FROM {membership} m WHERE {of_user} AND NOT EXISTS "
        f"(SELECT 1 FROM {limits} l WHERE l.membership_id = m.id))"
    )
    stores = (
        f"ARRAY(SELECT l.store_id FROM {limits} l JOIN {membership} m ON m.id = "
        f"l.membership_id WHERE {of_user})"
    )
    own_limits = f"ARRAY(SELECT l.store_id FROM {limits} l WHERE l.membership_id = {membership}.id)"
    return accounts, stores, own_limits


class _AnyOf(Func):
    """``column = ANY(ARRAY(subquery))``: the subquery runs once and the column's index
    finds the rows."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        column, array = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        array_sql, array_params = compiler.compile(array)
        return f"{column_sql} = ANY({array_sql})", (*column_params, *array_params)


def stores_matching(user: User, query: str) -> QuerySet[Store]:
    """The user's visible stores whose name, address (slug) or account name holds ``query``."""
    stores = stores_visible_to(user)
    if query:
        stores = stores.filter(
            Q(name__icontains=query) | Q(slug__icontains=query) | Q(account__name__icontains=query)
        )
    return stores


def membership_for(user: User, store: Store) -> Membership | None:
    """The user's membership of the store's account, if it reaches the store (one query:
    the membership's store limits come along as an array)."""
    _, _, own_limits = _membership_sql()
    limited_to = RawSQL(own_limits, (), output_field=ArrayField(BigIntegerField()))  # noqa: S611
    membership = (
        Membership.objects.filter(user=user, account_id=store.account_id)
        .annotate(limited_to=limited_to)
        .first()
    )
    if membership is None:
        return None
    if membership.limited_to and store.pk not in membership.limited_to:
        return None
    return membership


def live_support_grant(user: User, store: Store) -> SupportGrant | None:
    if not user.is_staff:
        return None
    return (
        SupportGrant.objects.filter(
            staff_user=user, store=store, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )


def store_access_for(user: User, store: Store) -> StoreAccess | None:
    if not user.is_authenticated or not user.is_active:
        return None
    membership = membership_for(user, store)
    grant = None if membership else live_support_grant(user, store)
    if membership is None and grant is None:
        return None
    return StoreAccess(store=store, membership=membership, support_grant=grant)


def can(user: User, store: Store, capability: Capability) -> bool:
    """May ``user`` do ``capability`` in ``store``? (membership, store limit, support grant)"""
    access = store_access_for(user, store)
    return access is not None and access.can(capability)


def get_store_for_user(request: HttpRequest, slug: str, *, need: Capability) -> StoreAccess:
    """Fetch and authorise in one step, then switch the connection to the store's schema.

    Unknown store or no membership: 404.  Member without the needed role: 403.
    """
    store = Store.objects.select_related("account").filter(slug=slug).first()
    access = store_access_for(request.user, store) if store else None
    if access is None:
        raise Http404("No such store.")
    # The 403 page keeps the store's navigation (the links this role may open).
    request.store_access = access
    if not access.can(need):
        raise PermissionDenied("Your role does not allow this.")
    if access.membership is None and access.support_grant is not None:
        _support_access_record(request, access)
    connection.set_tenant(store)
    if request.session.get(LAST_STORE_SESSION_KEY) != store.slug:
        request.session[LAST_STORE_SESSION_KEY] = store.slug
    return access


def _support_access_record(request: HttpRequest, access: StoreAccess) -> None:
    """Every store page opened under a support grant lands in the account's access log.

    The URL name, not the path: a profile path holds an e-mail or visitor id, and
    the public schema keeps no identifiers.
    """
    match = getattr(request, "resolver_match", None)
    audit_record(
        action="support.access",
        store=access.store,
        actor=request.user,
        detail={
            "page": match.view_name if match else "",
            "method": request.method,
            "grant": access.support_grant.pk,
            "reason": access.support_grant.reason,
        },
    )


def get_account_for_user(request: HttpRequest, slug: str) -> tuple[Account, Membership | None]:
    """An account page (dashboard): members of any role; 404 for everyone else."""
    account = Account.objects.filter(slug=slug).first()
    membership = (
        Membership.objects.filter(user=request.user, account=account).first()
        if account and request.user.is_authenticated
        else None
    )
    if account is None or membership is None:
        raise Http404("No such account.")
    return account, membership


def last_store_for(request: HttpRequest) -> Store | None:
    """The store the user worked in last (for /store/... addresses), if still visible."""
    slug = request.session.get(LAST_STORE_SESSION_KEY)
    visible = stores_visible_to(request.user)
    return (visible.filter(slug=slug).first() if slug else None) or visible.first()


def stores_readable_by(user: User) -> QuerySet[Store]:
    """Stores whose shoppers' personal data the user may read (search scope), one query.

    The same rule as ``StoreAccess.can(Capability.READ_PERSONAL_DATA)`` in one query: a
    membership whose role may read (respecting store limits), or a live support grant.
    """
    readers = roles_with(Capability.READ_PERSONAL_DATA)
    if not user.is_authenticated or not user.is_active:
        return Store.objects.none()
    readable = _member_of(user, roles=readers)
    if user.is_staff:
        grants = SupportGrant.objects.filter(
            staff_user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        readable |= Q(pk__in=grants.values("store_id"))
    return (
        Store.objects.filter(readable).select_related("account").order_by("account__name", "name")
    )
