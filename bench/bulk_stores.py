"""Many dashboard-only stores at once, for the 50-store tests and the benchmark.

The stores are public rows only (``bulk_create`` skips django-tenants' save,
so no schema is created): the dashboard never reads a store schema, and 50
migrated schemas would cost ~25 s for nothing.  Never use this for a store
that holds shopper data.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from gdpr_dashboard.models import InventorySnapshot
from stores.models import Account, PlatformProduct, Store


def dashboard_stores_create(
    *, account: Account, n: int, slug_prefix: str, counts: Callable[[int], dict]
) -> list[Store]:
    """n stores with varied settings and products, each with an inventory ``counts(i)``."""
    stores = Store.objects.bulk_create(
        Store(
            account=account,
            slug=f"{slug_prefix}-{i}",
            name=f"{slug_prefix.replace('-', ' ').title()} store {i}",
            schema_name=f"store_{slug_prefix.replace('-', '_')}_{i}",
            collect_emails=i % 2 == 0,
            crm_fields=["age"] if i % 3 == 0 else [],
        )
        for i in range(n)
    )
    products = list(PlatformProduct.objects.all())
    through = Store.products.through
    through.objects.bulk_create(
        through(store=s, platformproduct=products[i % len(products)]) for i, s in enumerate(stores)
    )
    now = timezone.now()
    InventorySnapshot.objects.bulk_create(
        InventorySnapshot(store=s, counts=counts(i), refreshed_at=now) for i, s in enumerate(stores)
    )
    return stores
