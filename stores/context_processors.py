from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from stores.access import (
    LAST_STORE_SESSION_KEY,
    StoreAccess,
    store_access_for,
    stores_readable_by,
    stores_visible_to,
)
from stores.models import Account

# Pages that are about no store: the list of stores itself.
PAGES_WITHOUT_STORE = ("home",)
# The header's store menu lists this many stores; with more, it offers to find one by name
# (and the store list pages through all of them).
SWITCHER_STORES = 12


@dataclass(frozen=True)
class Switcher:
    stores: list  # the first SWITCHER_STORES, by account and name
    more: bool  # the user sees more stores than these


def console(request: HttpRequest) -> dict:
    """The header's store switcher, search, account menu and the store navigation.

    On a store page the store is the page's. Elsewhere (search, the GDPR dashboard, an
    error page) the header keeps the store used last (of the dashboard's account there),
    so the store navigation stays. The values are callables the template calls on first
    use: a page that renders no header costs no query.
    """
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    frame = _Frame(request, getattr(request, "store_access", None))
    return {
        "store_switcher": frame.switcher,
        "header_accounts": frame.accounts,
        "current_store": frame.store,
        "current_access": frame.access,
        "header_search": frame.can_search,
    }


class _Frame:
    def __init__(self, request: HttpRequest, access: StoreAccess | None) -> None:
        self.request = request
        self.visible = stores_visible_to(request.user)
        self._access, self._looked_up = access, access is not None
        self._can_search: bool | None = None
        self._switcher: Switcher | None = None

    def switcher(self) -> Switcher:
        """The header's store menu: one query with a LIMIT, whatever the number of stores."""
        if self._switcher is None:
            first = list(self.visible[: SWITCHER_STORES + 1])
            self._switcher = Switcher(first[:SWITCHER_STORES], len(first) > SWITCHER_STORES)
        return self._switcher

    def access(self) -> StoreAccess | None:
        if not self._looked_up:
            self._looked_up = True
            store = self._remembered_store()
            self._access = store_access_for(self.request.user, store) if store else None
        return self._access

    def store(self):
        access = self.access()
        return access.store if access else None

    def can_search(self) -> bool:
        """Viewers get no personal-data search box: it could never find anybody for them."""
        if self._can_search is None:
            access = self.access()
            self._can_search = bool(access and access.can_read_personal_data) or (
                stores_readable_by(self.request.user).exists()
            )
        return self._can_search

    def accounts(self) -> list:
        """The user's accounts by name, for the account menu's GDPR links (one query, so
        the menu names them all however many stores they hold)."""
        return list(
            Account.objects.filter(memberships__user=self.request.user).distinct().order_by("name")
        )

    def _remembered_store(self):
        match = getattr(self.request, "resolver_match", None)
        if match is not None and match.url_name in PAGES_WITHOUT_STORE:
            return None
        # The switcher's stores first (no query of its own); the full list only when the
        # store used last is not among them.
        account_slug = match.kwargs.get("account_slug") if match else None
        last = self.request.session.get(LAST_STORE_SESSION_KEY)
        switcher = self.switcher()
        listed = [s for s in switcher.stores if not account_slug or s.account.slug == account_slug]
        found = next((s for s in listed if s.slug == last), None)
        if found is not None or not switcher.more or (listed and not last):
            return found or (listed[0] if listed else None)
        visible = self.visible.filter(account__slug=account_slug) if account_slug else self.visible
        return (visible.filter(slug=last).first() if last else None) or visible.first()
