"""Reads for the account's GDPR dashboard and the public trust page.

Only public tables: the per-store inventory comes from ``InventorySnapshot``
(kept current by ``customers.tasks.inventory_refresh_soon``), never from a
store schema, so the page costs the same fixed number of queries for one
store or fifty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from gdpr_dashboard.data_types import data_types_for
from gdpr_dashboard.models import (
    Backup,
    PrivacyRequest,
    RequestStatus,
    RetentionRun,
    SubProcessor,
    SubProcessorChange,
)
from gdpr_dashboard.subject_labels import label_subjects
from stores.models import Account, AuditEvent, Membership, Store, SupportGrant

REQUEST_LOG_DAYS = 90
REQUEST_LOG_LIMIT = 200
ACCESS_LOG_LIMIT = 100
CHANGE_LOG_LIMIT = 30
OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.QUEUED, RequestStatus.RUNNING)

# Countries of the EU/EEA, as the first word of SubProcessor.country.
EEA_COUNTRIES = frozenset(
    [
        "Austria",
        "Belgium",
        "Bulgaria",
        "Croatia",
        "Cyprus",
        "Czechia",
        "Denmark",
        "Estonia",
        "Finland",
        "France",
        "Germany",
        "Greece",
        "Hungary",
        "Iceland",
        "Ireland",
        "Italy",
        "Latvia",
        "Liechtenstein",
        "Lithuania",
        "Luxembourg",
        "Malta",
        "Netherlands",
        "Norway",
        "Poland",
        "Portugal",
        "Romania",
        "Slovakia",
        "Slovenia",
        "Spain",
        "Sweden",
    ]
)


def in_eea(country: str) -> bool:
    return country.split(" ")[0].strip(",") in EEA_COUNTRIES


# --- sub-processors -------------------------------------------------------------------


@dataclass
class SubProcessorRow:
    subprocessor: SubProcessor
    product_names: list[str]
    reasons: list[str] = field(default_factory=list)

    @property
    def used(self) -> bool:
        return bool(self.reasons)


def active_subprocessors() -> QuerySet[SubProcessor]:
    return SubProcessor.objects.filter(removed_on__isnull=True).prefetch_related("products")


def subprocessor_rows(
    subprocessors: Iterable[SubProcessor], stores: Iterable[Store]
) -> list[SubProcessorRow]:
    """Each sub-processor with the reasons it processes these stores' data (empty: unused).

    Both arguments come with their products prefetched; this runs no query.
    """
    # Each store's products read once (a prefetched .all() still builds a queryset each
    # time: 20,000 of them for 20 sub-processors and 1,000 stores).
    store_products = [(store.name, list(store.products.all())) for store in stores]
    rows = []
    for sp in subprocessors:
        sp_products = {p.code: p.name for p in sp.products.all()}
        row = SubProcessorRow(subprocessor=sp, product_names=sorted(sp_products.values()))
        if sp.used_by_all:
            if store_products:
                row.reasons.append("used by every store (platform infrastructure)")
        else:
            by_product: dict[str, list[str]] = {}
            for store_name, products in store_products:
                for product in products:
                    if product.code in sp_products:
                        by_product.setdefault(product.name, []).append(store_name)
            for product_name, store_names in sorted(by_product.items()):
                row.reasons.append(_reason(product_name, store_names))
        rows.append(row)
    # Used ones first, then by name: the account sees what touches its data at the top.
    rows.sort(key=lambda r: (not r.used, r.subprocessor.name.lower()))
    return rows


REASON_STORES_SHOWN = 5


def _reason(product_name: str, store_names: list[str]) -> str:
    """'used by Search in store X', or a short list when many stores use the product."""
    if len(store_names) == 1:
        return _("used by %(product)s in store %(store)s") % {
            "product": product_name,
            "store": store_names[0],
        }
    values = {
        "product": product_name,
        "n": len(store_names),
        "shown": ", ".join(store_names[:REASON_STORES_SHOWN]),
        "more": len(store_names) - REASON_STORES_SHOWN,
    }
    if values["more"] > 0:
        return _("used by %(product)s in %(n)s stores: %(shown)s and %(more)s more") % values
    return _("used by %(product)s in %(n)s stores: %(shown)s") % values


@dataclass(frozen=True)
class ChangeRow:
    change: SubProcessorChange
    affects_account: bool
    upcoming: bool


# --- the whole dashboard --------------------------------------------------------------


@dataclass
class StoreRow:
    store: Store
    data_types: list[dict[str, str]]  # DataType.display() of each data type
    last_retention_run: RetentionRun | None
    last_backup: Backup | None

    @property
    def inventory_refreshed_at(self) -> datetime | None:
        snapshot = getattr(self.store, "inventory", None)
        return snapshot.refreshed_at if snapshot else None


@dataclass
class Dashboard:
    account: Account
    membership: Membership
    primary_region: str
    backup_region: str
    stores: list[StoreRow]
    subprocessors: list[SubProcessorRow]
    all_in_eea: bool
    changes: list[ChangeRow]
    requests: list[PrivacyRequest]
    access_log: list[AuditEvent]
    support_grants: list[SupportGrant]
    now: datetime
    # Every store shown to this member; ``stores`` holds the rows of ``store_page`` only
    # when the dashboard pages its per-store sections.
    all_stores: list[Store] = field(default_factory=list)
    store_page: Page | None = None

    @property
    def used_subprocessor_count(self) -> int:
        return sum(1 for r in self.subprocessors if r.used)


def dashboard_stores(account: Account, membership: Membership) -> list[Store]:
    """The account's stores this member may see, with products and inventory (two queries)."""
    qs = (
        Store.objects.filter(account=account)
        .select_related("inventory")
        .prefetch_related("products")
        .order_by("name")
    )
    limited_to = [s.pk for s in membership.stores.all()]
    if limited_to:
        qs = qs.filter(pk__in=limited_to)
    return list(qs)


def _latest_per_store(qs: QuerySet, store_ids: list[int], order_field: str) -> dict[int, object]:
    # DISTINCT ON (store_id): one query for any number of stores.
    rows = qs.filter(store_id__in=store_ids).order_by("store_id", f"-{order_field}")
    return {row.store_id: row for row in rows.distinct("store_id")}


def privacy_requests_for(store_ids: list[int], *, now: datetime) -> list[PrivacyRequest]:
    """The last 90 days' requests, open ones first (then newest first)."""
    open_first = Case(
        When(status__in=OPEN_STATUSES, then=Value(0)),
        When(status=RequestStatus.FAILED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(
        PrivacyRequest.objects.filter(
            store_id__in=store_ids, received_at__gte=now - timedelta(days=REQUEST_LOG_DAYS)
        )
        .select_related("store", "requested_by", "api_key")
        .defer("email_digest", "customer_digest", "visitor_digests")
        .annotate(open_rank=open_first)
        .order_by("open_rank", "-received_at")[:REQUEST_LOG_LIMIT]
    )


# Reading personal data and granting access to it; nightly jobs (backups, expiry) are not
# "access" and would bury these. Anything platform staff did is shown whatever it was.
ACCESS_ACTIONS = (
    "profile.view",
    "profile.download",
    "search",
    "forget.requested",
    "support.access",
    "support_grant.create",
    "support_grant.revoke",
    "suppression.lifted",
)


def access_log_for(account: Account, store_ids: list[int]) -> list[AuditEvent]:
    """Newest access events of the account: its stores' and account-wide ones."""
    return list(
        AuditEvent.objects.filter(account=account)
        .filter(Q(store_id__in=store_ids) | Q(store__isnull=True))
        .filter(
            Q(action__in=ACCESS_ACTIONS)
            # Catalogue announcements show under Sub-processors, not as access.
            | (Q(actor_is_platform_staff=True) & ~Q(action="subprocessor.change"))
        )
        .select_related("actor", "store", "api_key")
        # Only what the page prints: users and stores are wide rows.
        .only(
            "created_at",
            "action",
            "actor_is_platform_staff",
            "subject_kind",
            "subject_row_id",
            "detail",
            "actor__email",
            "store__name",
            "store__schema_name",
            "api_key__label",
        )
        .order_by("-created_at", "-id")[:ACCESS_LOG_LIMIT]
    )


def support_grants_for(store_ids: list[int], *, now: datetime) -> list[SupportGrant]:
    """Live grants and those of the last 30 days (the account sees every one)."""
    return list(
        SupportGrant.objects.filter(
            store_id__in=store_ids, created_at__gte=now - timedelta(days=30)
        )
        .select_related("store", "staff_user", "granted_by")
        .order_by("-created_at")
    )


def dashboard_for(
    *,
    account: Account,
    membership: Membership,
    per_page: int | None = None,
    page: str | int | None = None,
) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries.

    ``per_page``: the per-store sections (data types, retention and backups) show one page
    of the stores; sub-processors, requests, the access log and grants cover them all.
    """
    now = timezone.now()
    stores = dashboard_stores(account, membership)
    store_ids = [s.pk for s in stores]
    store_page = Paginator(stores, per_page).get_page(page) if per_page else None
    shown = list(store_page.object_list) if store_page else stores
    shown_ids = [s.pk for s in shown]
    runs = _latest_per_store(RetentionRun.objects.all(), shown_ids, "started_at")
    backups = _latest_per_store(
        Backup.objects.filter(purged_at__isnull=True), shown_ids, "created_at"
    )
    subprocessors = list(active_subprocessors())
    rows = subprocessor_rows(subprocessors, stores)
    used_ids = {r.subprocessor.pk for r in rows if r.used}
    changes = [
        ChangeRow(
            change=c,
            affects_account=c.subprocessor_id in used_ids,
            upcoming=c.changed_on > now.date(),
        )
        for c in SubProcessorChange.objects.select_related("subprocessor")[:CHANGE_LOG_LIMIT]
    ]
    access_log = access_log_for(account, store_ids)
    label_subjects(access_log, reads_personal_data=membership.reads_personal_data)
    return Dashboard(
        account=account,
        membership=membership,
        primary_region=settings.PRIMARY_REGION,
        backup_region=settings.BACKUP_REGION,
        stores=[
            StoreRow(
                store=s,
                data_types=[t.display() for t in data_types_for(s)],
                last_retention_run=runs.get(s.pk),
                last_backup=backups.get(s.pk),
            )
            for s in shown
        ],
        subprocessors=rows,
        all_in_eea=all(in_eea(sp.country) for sp in subprocessors),
        changes=changes,
        requests=privacy_requests_for(store_ids, now=now),
        access_log=access_log,
        support_grants=support_grants_for(store_ids, now=now),
        now=now,
        all_stores=stores,
        store_page=store_page,
    )


def trust_page_data() -> dict:
    subprocessors = list(active_subprocessors())
    return {
        "primary_region": settings.PRIMARY_REGION,
        "backup_region": settings.BACKUP_REGION,
        "backup_retention_days": settings.BACKUP_RETENTION_DAYS,
        "subprocessors": subprocessors,
        "all_in_eea": all(in_eea(sp.country) for sp in subprocessors),
        "changes": list(
            SubProcessorChange.objects.select_related("subprocessor")[:CHANGE_LOG_LIMIT]
        ),
        "today": date.today(),
    }
