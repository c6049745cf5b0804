"""The one table of who may do what: role → capabilities.

Every check asks this table, through ``stores.access.can`` (a user, a store, a
capability) or ``StoreAccess.can`` once the store is fetched; the search scope's
query asks ``roles_with``. Platform staff hold no role: a live support grant gives
them ``SUPPORT_GRANT_CAPABILITIES`` in that one store.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    ANALYST = "analyst", _("Analyst")
    VIEWER = "viewer", _("Viewer")


class Capability(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"  # store home and the GDPR dashboard: no personal data
    READ_PERSONAL_DATA = "read_personal_data"  # profiles, downloads, search, request log
    FORGET = "forget"  # forget a customer or visitor
    MANAGE_STORE = "manage_store"  # collection and retention settings, API keys, suppressions
    LIFT_SUPPRESSION = "lift_suppression"  # let a forgotten person's old data sync again
    MANAGE_SUPPORT_ACCESS = "manage_support_access"  # grant and revoke platform staff access


_READER = {Capability.VIEW_DASHBOARD, Capability.READ_PERSONAL_DATA}
_ADMIN = _READER | {Capability.FORGET, Capability.MANAGE_STORE}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.ADMIN: frozenset(_ADMIN),
    Role.ANALYST: frozenset(_READER),
    Role.VIEWER: frozenset({Capability.VIEW_DASHBOARD}),
}
SUPPORT_GRANT_CAPABILITIES = frozenset(_READER)


def role_can(role: str, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())


def roles_with(capability: Capability) -> list[str]:
    """The roles that hold ``capability`` (for queries over memberships)."""
    return [role for role, held in ROLE_CAPABILITIES.items() if capability in held]
