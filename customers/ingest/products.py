"""The product catalogue synced by the shop (not personal data)."""

from __future__ import annotations

from django.db import transaction

from customers.ingest.common import (
    IngestResult,
    store_schema,
)
from customers.ingest.schemas import (
    ProductIn,
)
from customers.models import (
    Product,
)
from stores.models import Store


def products_sync(*, store: Store, products: list[ProductIn]) -> IngestResult:
    """Create or update catalogue entries by product id (no personal data).

    Also the platform's ``product/add``: a product sent again replaces its entry.
    """
    result = IngestResult()
    records = list({p.id: p for p in products}.values())
    with store_schema(store), transaction.atomic():
        Product.objects.bulk_create(
            [
                Product(
                    product_ref=p.id,
                    name=p.name,
                    price=p.price,
                    url=p.url,
                    categories=p.categories,
                )
                for p in records
            ],
            update_conflicts=True,
            unique_fields=["product_ref"],
            update_fields=["name", "price", "url", "categories"],
            batch_size=5000,
        )
    result.stored["products"] = len(records)
    return result


def products_delete(*, store: Store, refs: list[str]) -> IngestResult:
    """Remove catalogue entries (``product/remove``); orders keep their lines' product ids."""
    result = IngestResult()
    with store_schema(store), transaction.atomic():
        _, by_model = Product.objects.filter(product_ref__in=refs).delete()
    result.stored["products_deleted"] = by_model.get(Product._meta.label, 0)
    return result
