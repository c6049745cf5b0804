"""Customers synced from the shop's CRM: name, e-mail and the store's chosen attributes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from customers.ingest.common import (
    IngestResult,
    Suppressed,
    store_schema,
)
from customers.ingest.schemas import (
    CustomerIn,
)
from customers.models import (
    Customer,
    Order,
    Visitor,
    VisitorLink,
)
from stores.models import Store


def customers_sync(
    *, store: Store, customers: list[CustomerIn], partial: bool = False
) -> IngestResult:
    """Create or update CRM records by customer id.

    ``partial`` (PATCH): only the given fields change and attributes are merged;
    otherwise (POST) name, e-mail and attributes are replaced by the record's.
    """
    result = IngestResult()
    now = timezone.now()
    records = list({c.id: c for c in customers}.values())
    allowed = set(store.crm_fields)
    with store_schema(store):
        suppressed = Suppressed(
            store,
            emails=[c.email for c in records if store.collect_emails],
            customers=[c.id for c in records],
        )
        with transaction.atomic():
            existing = {
                c.customer_ref: c
                for c in Customer.objects.select_for_update().filter(
                    customer_ref__in=[c.id for c in records]
                )
            }
            rows = []
            for c in records:
                email = c.email if store.collect_emails else None
                if c.email and not store.collect_emails:
                    result.dropped["emails_not_collected"] += 1
                attributes = {k: v for k, v in c.attributes.items() if k in allowed}
                result.dropped["attributes_not_collected"] += len(c.attributes) - len(attributes)
                if suppressed.blocks(c.time, customer=c.id, email=email):
                    result.dropped["suppressed"] += 1
                    continue
                old = existing.get(c.id)
                if partial and old is not None:
                    attributes = {**old.attributes, **attributes}
                    email = email if "email" in c.model_fields_set else old.email
                    name = c.name if c.name is not None else old.name
                else:
                    name = c.name or ""
                seen = c.time or now
                rows.append(
                    Customer(
                        customer_ref=c.id,
                        email=email or None,
                        name=name,
                        attributes=attributes,
                        email_digest=suppressed.digest("email", email),
                        customer_digest=suppressed.digest("customer", c.id),
                        first_seen=min(old.first_seen, seen) if old else seen,
                        last_seen=max(old.last_seen, seen) if old else seen,
                    )
                )
            if rows:
                Customer.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["customer_ref"],
                    update_fields=[
                        "email",
                        "name",
                        "attributes",
                        "email_digest",
                        "customer_digest",
                        "first_seen",
                        "last_seen",
                    ],
                )
            suppressed.record()
    result.stored["customers"] += len(rows)
    return result


def customers_delete(*, store: Store, refs: list[str]) -> IngestResult:
    """Remove the CRM records (name, e-mail, attributes) of these customer ids.

    Not a forget: nothing is suppressed, and the customer may be synced again.
    A customer nothing points at is deleted. One that visitors or orders still
    point at stays as a bare row, its id and keyed digests only, like a
    customer known from tracking alone: deleting it would unlink them, and a
    later forget by the customer id or e-mail, which finds a customer's
    visitors and orders through this row, would leave them behind. The bare
    row then goes the way of any customer row (a forget, or retention expiry
    with its last visitor). ``customers_deleted`` counts the CRM records removed.
    """
    result = IngestResult()
    with store_schema(store), transaction.atomic():
        rows = list(
            Customer.objects.select_for_update()
            .filter(customer_ref__in=refs)
            .order_by("pk")
            .values_list("pk", "email", "name", "attributes")
        )
        ids = [pk for pk, *_ in rows]
        linked = (
            set(Visitor.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
            | set(
                VisitorLink.objects.filter(customer_id__in=ids).values_list(
                    "customer_id", flat=True
                )
            )
            | set(Order.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
        )
        cleared = [
            pk
            for pk, email, name, attributes in rows
            if pk in linked and (email or name or attributes)
        ]
        Customer.objects.filter(pk__in=cleared).update(email=None, name="", attributes={})
        _, by_model = Customer.objects.filter(pk__in=set(ids) - linked).delete()
    result.stored["customers_deleted"] = by_model.get(Customer._meta.label, 0) + len(cleared)
    return result
