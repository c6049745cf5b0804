"""Baskets and newsletter subscriptions: personal data the storefront sends with the public key.

Both go through the same checks as every other write: e-mails only where the store
collects them, devices only where it tracks browsing, nothing about a forgotten e-mail
or visitor id from before its forget (a forgotten visitor id never again).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from customers.ingest.common import IngestResult, Suppressed, store_schema
from customers.models import Basket, Subscriber, Visitor
from stores.models import Store


def basket_set(
    *, store: Store, visitor: str | None, email: str | None, products: list[str], at: datetime
) -> IngestResult:
    """Replace the basket of the device (or, without one, of the e-mail); empty clears it."""
    result = IngestResult()
    if email and not store.collect_emails:
        result.dropped["emails_not_collected"] += 1
        email = None
    if visitor and not store.track_browsing:
        result.dropped["not_collected"] += 1
        visitor = None
    if not visitor and not email:
        return result
    with store_schema(store):
        suppressed = Suppressed(store, emails=[email], visitors=[visitor])
        with transaction.atomic():
            blocked = suppressed.blocks(at, visitor=visitor, email=email)
            suppressed.record()
            if blocked:
                result.dropped["suppressed"] += 1
                return result
            key = {"visitor": _device(visitor, suppressed, at)} if visitor else {}
            if not key:
                key = {"visitor": None, "email_digest": suppressed.digest("email", email)}
            if not products:
                Basket.objects.filter(**key).delete()
            else:
                Basket.objects.update_or_create(
                    **key,
                    defaults={
                        "email": email,
                        "email_digest": suppressed.digest("email", email),
                        "products": list(products),
                        "updated_at": at,
                    },
                )
    result.stored["baskets"] += 1
    return result


def _device(ref: str, suppressed: Suppressed, at: datetime) -> Visitor:
    visitor, _ = Visitor.objects.get_or_create(
        visitor_ref=ref,
        defaults={
            "visitor_digest": suppressed.digest("visitor", ref),
            "first_seen": at,
            "last_seen": at,
        },
    )
    return visitor


def subscriber_set(*, store: Store, email: str, subscribed: bool, at: datetime) -> IngestResult:
    """Record a newsletter subscription or its withdrawal for the e-mail."""
    result = IngestResult()
    if not store.collect_emails:
        result.dropped["emails_not_collected"] += 1
        return result
    with store_schema(store):
        suppressed = Suppressed(store, emails=[email])
        with transaction.atomic():
            blocked = suppressed.blocks(at, email=email)
            suppressed.record()
            if blocked:
                result.dropped["suppressed"] += 1
                return result
            Subscriber.objects.update_or_create(
                email_digest=suppressed.digest("email", email),
                defaults={"email": email, "subscribed": subscribed, "changed_at": at},
            )
    result.stored["subscribers"] += 1
    return result
