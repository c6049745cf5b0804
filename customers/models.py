"""Store-schema data: everything tracked about one store's shoppers.

These tables live in each store's own schema.  No foreign key points to a
public table (staff are referred to by plain id), so a schema can be moved to
another database node as a unit.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Lower


class PriceField(models.DecimalField):
    """Money as shops keep it: 6 decimal places stored, read back without the padding.

    33.3333 reads as 33.3333 and 19.9 as 19.90 (never fewer than 2 places), so
    pages and exports show what the shop sent.
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        value = value.normalize()
        if value.as_tuple().exponent > -2:
            value = value.quantize(Decimal("0.01"))
        return value


class Customer(models.Model):
    customer_ref = models.CharField("customer id", max_length=255, null=True, blank=True)
    email = models.CharField(max_length=254, null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="CRM fields")
    # Keyed digests (HMAC-SHA256, store secret) of the normalised identifiers;
    # match ledger and suppression rows without keeping identifiers in public.
    email_digest = models.CharField(max_length=64, blank=True)
    customer_digest = models.CharField(max_length=64, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer_ref"], name="customer_ref_unique"),
        ]
        # Every index costs each insert and room in PostgreSQL's cache, which decides the
        # speed of tracking calls on a big store: no index twice (Django's automatic
        # foreign-key and ``varchar_pattern_ops`` ones are off where another covers them;
        # digests are only ever compared whole).
        indexes = [
            models.Index(fields=["email_digest"], name="customer_email_digest_idx"),
            models.Index(fields=["customer_digest"], name="customer_digest_idx"),
            # Exact and prefix search on the lowered e-mail (LIKE 'abc%').
            models.Index(
                OpClass(Lower("email"), name="text_pattern_ops"), name="customer_email_lower_idx"
            ),
            models.Index(
                OpClass(Lower("name"), name="text_pattern_ops"), name="customer_name_lower_idx"
            ),
            models.Index(fields=["-last_seen"], name="customer_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return f"Customer #{self.pk}"


class Visitor(models.Model):
    visitor_ref = models.CharField("visitor id", max_length=128)
    visitor_digest = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visitors",
        db_index=False,  # visitor_customer_idx
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    visit_count = models.PositiveIntegerField(default=1)
    visit_days = models.PositiveIntegerField(default=1)
    total_duration_seconds = models.PositiveIntegerField(default=0)
    # When the last activity ended: a page view ends its duration after its time. Time on
    # site counts from the first event of a visit to this end (null on rows from before:
    # last_seen stands in).
    active_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A constraint, not unique=True: the same index without a varchar_pattern_ops twin
            # (prefix search uses visitor_ref_lower_idx).
            models.UniqueConstraint(fields=["visitor_ref"], name="visitor_ref_unique"),
        ]
        indexes = [
            models.Index(fields=["visitor_digest"], name="visitor_digest_idx"),
            # Most visitors never log in: only linked ones are indexed. Not on last_seen:
            # every tracking call moves it, and an indexed column changed makes the update
            # write a new entry in every index of the table (no heap-only update).
            models.Index(
                fields=["customer"],
                name="visitor_customer_idx",
                condition=models.Q(customer__isnull=False),
            ),
            models.Index(
                OpClass(Lower("visitor_ref"), name="text_pattern_ops"), name="visitor_ref_lower_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Visitor #{self.pk}"


class LinkVia(models.TextChoices):
    SALE = "sale", "sale"
    EMAIL = "email", "e-mail logged"
    LOGIN = "login", "logged-in browsing"
    SYNC = "sync", "order sync"


class VisitorLink(models.Model):
    """A device (visitor id) seen with an identified customer: one row per pair.

    A device may be linked to several customers over time (a family computer). Calls
    with the public key add links and never move one; ``Visitor.customer`` is the
    device's first customer, re-assigned only by a private-key order sync. Whose rows
    are whose follows from these links (README, "Whose is this row?").
    """

    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.CASCADE,
        related_name="links",
        db_index=False,  # covered by the (visitor, customer) constraint
        db_constraint=False,  # see EVENT_TABLES_WITHOUT_FOREIGN_KEYS
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="links",
        db_index=False,  # visitorlink_customer_idx
        db_constraint=False,
    )
    via = models.CharField(max_length=10, choices=LinkVia.choices)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visitor", "customer"], name="visitorlink_unique"),
        ]
        indexes = [models.Index(fields=["customer"], name="visitorlink_customer_idx")]


# EVENT_TABLES_WITHOUT_FOREIGN_KEYS: page views, content views, clicks (and orders) point
# at their visitor without a database foreign key. PostgreSQL would check that key for
# every event written and, for every visitor deleted, look in each of those tables again
# at commit: about 40 us per expired visitor, more than half of a retention run. Every
# write path keeps the link exact instead: ingestion writes events and orders with the
# visitor ids its upsert just returned, in the same transaction; forget and expiry lock
# the visitor rows (FOR UPDATE), delete their events and detach their orders, then
# delete the visitors, in one transaction, so a concurrent upsert of the same visitor
# waits and then creates a new row. Deleting through the ORM still cascades (Django's
# collector). tests/test_event_links.py checks that nothing is left pointing nowhere.


class PageView(models.Model):
    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.CASCADE,
        related_name="page_views",
        db_index=False,  # covered by the (visitor, -occurred_at) index
        db_constraint=False,  # see EVENT_TABLES_WITHOUT_FOREIGN_KEYS
    )
    url = models.CharField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    category = models.CharField(max_length=255, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "-occurred_at"], name="pageview_visitor_idx"),
            models.Index(fields=["occurred_at"], name="pageview_occurred_idx"),
        ]


class ContentView(models.Model):
    """A product (or other content) the visitor saw through the platform."""

    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.CASCADE,
        related_name="content_views",
        db_index=False,  # covered by the (visitor, -occurred_at) index
        db_constraint=False,  # see EVENT_TABLES_WITHOUT_FOREIGN_KEYS
    )
    product_ref = models.CharField(max_length=128)
    api = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "-occurred_at"], name="contentview_visitor_idx"),
            models.Index(fields=["occurred_at"], name="contentview_occurred_idx"),
        ]


class Click(models.Model):
    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.CASCADE,
        related_name="clicks",
        db_index=False,  # covered by the (visitor, -occurred_at) index
        db_constraint=False,  # see EVENT_TABLES_WITHOUT_FOREIGN_KEYS
    )
    product_ref = models.CharField(max_length=128)
    api = models.CharField("placement", max_length=100, blank=True)
    position = models.PositiveIntegerField(null=True, blank=True)
    external = models.BooleanField(default=False)
    labels = models.JSONField(default=list, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "-occurred_at"], name="click_visitor_idx"),
            models.Index(fields=["occurred_at"], name="click_occurred_idx"),
        ]


class Product(models.Model):
    product_ref = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=500)
    # Prices as shops keep them: 4 decimals and more (unit prices of split lines).
    price = PriceField(max_digits=18, decimal_places=6, null=True, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    categories = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """Kept after a forget, with customer, visitor and e-mail cleared (anonymous order)."""

    order_ref = models.CharField(max_length=128, unique=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,  # order_customer_idx
    )
    visitor = models.ForeignKey(
        Visitor,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,  # order_visitor_idx
        db_constraint=False,  # see EVENT_TABLES_WITHOUT_FOREIGN_KEYS: the same holds here
    )
    email = models.CharField(max_length=254, null=True, blank=True)
    email_digest = models.CharField(max_length=64, blank=True)
    # Room for 500 lines of the largest price and quantity the API takes.
    total = PriceField(max_digits=28, decimal_places=6, default=0)
    placed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_idx"),
            models.Index(fields=["visitor", "-placed_at"], name="order_visitor_idx"),
            models.Index(Lower("email"), name="order_email_lower_idx"),
            models.Index(fields=["email_digest"], name="order_email_digest_idx"),
        ]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_ref = models.CharField(max_length=128)
    quantity = models.PositiveIntegerField(default=1)
    price = PriceField(max_digits=18, decimal_places=6, default=0)
    # How many of the line's items came back (/v2/log/returned); never more than quantity.
    returned_quantity = models.PositiveIntegerField(default=0, db_default=0)


class Basket(models.Model):
    """The current basket of a device or of an e-mail (``log/basket/set``), one row each.

    The e-mail is kept only where the store collects e-mail addresses. An empty basket
    is no row.
    """

    visitor = models.ForeignKey(
        Visitor,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="baskets",
        db_index=False,  # covered by basket_visitor_unique
        db_constraint=False,  # see EVENT_TABLES_WITHOUT_FOREIGN_KEYS
    )
    email = models.CharField(max_length=254, null=True, blank=True)
    email_digest = models.CharField(max_length=64, blank=True)
    products = models.JSONField(default=list)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor"],
                name="basket_visitor_unique",
                condition=models.Q(visitor__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["email_digest"],
                name="basket_email_unique",
                condition=models.Q(visitor__isnull=True),
            ),
        ]


class Subscriber(models.Model):
    """A newsletter subscription by e-mail (``subscriber/subscribe`` / ``unsubscribe``)."""

    email = models.CharField(max_length=254)
    email_digest = models.CharField(max_length=64, unique=True)
    subscribed = models.BooleanField(default=True)
    changed_at = models.DateTimeField()
