"""Who may see what.  Every console view fetches its store or account through here.

A store page sets the connection to the store's schema only after the check
passed; an unknown store and one the user may not see are the same 404, so the
answer never tells which slugs exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from stores.models import Account, Membership, Role, Store, SupportGrant, User
from stores.signals import support_access_used

LAST_STORE_SESSION_KEY = "last_store"


class Need(IntEnum):
    """What a page needs, in increasing order."""

    DASHBOARD = 0  # any member, viewers included: no personal data
    PERSONAL_DATA = 1  # analysts and up, platform staff with a live support grant
    MANAGE = 2  # admins and owners: forget, settings, API keys


@dataclass(frozen=True)
class StoreAccess:
    store: Store
    membership: Membership | None
    support_grant: SupportGrant | None

    @property
    def level(self) -> Need:
        if self.membership is None:
            return Need.PERSONAL_DATA if self.support_grant else Need.DASHBOARD
        if self.membership.role in (Role.OWNER, Role.ADMIN):
            return Need.MANAGE
        if self.membership.role == Role.ANALYST:
            return Need.PERSONAL_DATA
        return Need.DASHBOARD

    @property
    def can_read_personal_data(self) -> bool:
        return self.level >= Need.PERSONAL_DATA

    @property
    def can_manage(self) -> bool:
        return self.level >= Need.MANAGE


def stores_visible_to(user: User) -> QuerySet[Store]:
    """Stores the user is a member of (respecting store limits), by account then name."""
    if not user.is_authenticated:
        return Store.objects.none()
    unlimited = Q(account__memberships__user=user, account__memberships__stores__isnull=True)
    limited = Q(limited_memberships__user=user)
    return (
        Store.objects.filter(unlimited | limited)
        .select_related("account")
        .distinct()
        .order_by("account__name", "name")
    )


def membership_for(user: User, store: Store) -> Membership | None:
    membership = (
        Membership.objects.filter(user=user, account_id=store.account_id)
        .prefetch_related("stores")
        .first()
    )
    if membership is None:
        return None
    limited_to = {s.pk for s in membership.stores.all()}
    if limited_to and store.pk not in limited_to:
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


def get_store_for_user(request: HttpRequest, slug: str, *, need: Need) -> StoreAccess:
    """Fetch and authorise in one step, then switch the connection to the store's schema.

    Unknown store or no membership: 404.  Member without the needed role: 403.
    """
    store = Store.objects.select_related("account").filter(slug=slug).first()
    access = store_access_for(request.user, store) if store else None
    if access is None:
        raise Http404("No such store.")
    if access.level < need:
        raise PermissionDenied("Your role does not allow this.")
    if access.membership is None and access.support_grant is not None:
        # Every use of a support grant lands in the account's access log.
        support_access_used.send(sender=StoreAccess, request=request, access=access)
    connection.set_tenant(store)
    request.store_access = access
    if request.session.get(LAST_STORE_SESSION_KEY) != store.slug:
        request.session[LAST_STORE_SESSION_KEY] = store.slug
    return access


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


READER_ROLES = (Role.OWNER, Role.ADMIN, Role.ANALYST)


def stores_readable_by(user: User) -> QuerySet[Store]:
    """Stores whose shoppers' personal data the user may read (search scope), one query.

    The same rule as ``StoreAccess.level >= Need.PERSONAL_DATA``: an analyst,
    admin or owner membership (respecting store limits), or a live support grant.
    """
    if not user.is_authenticated or not user.is_active:
        return Store.objects.none()
    unlimited = Q(
        account__memberships__user=user,
        account__memberships__stores__isnull=True,
        account__memberships__role__in=READER_ROLES,
    )
    limited = Q(
        limited_memberships__user=user,
        limited_memberships__role__in=READER_ROLES,
    )
    readable = unlimited | limited
    if user.is_staff:
        readable |= Q(
            support_grants__staff_user=user,
            support_grants__revoked_at__isnull=True,
            support_grants__expires_at__gt=timezone.now(),
        )
    return (
        Store.objects.filter(readable)
        .select_related("account")
        .distinct()
        .order_by("account__name", "name")
    )
