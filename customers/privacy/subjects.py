"""Finding a data subject — the person a request is about — in the current store's schema.

A subject is named by one identifier: an e-mail, the shop's customer id or a
visitor id. Whose rows are whose (the README's "Whose is this row?"):

- e-mail or customer id: the customer row; its own devices (visitors linked to
  this customer only) with their browsing; its shared devices (linked to other
  customers too) by id only, never their browsing or the other people; the
  customer's orders, anonymous orders with its e-mail, and anonymous orders without an
  e-mail placed on its own devices;
- visitor id: that device and its browsing, and the anonymous orders without an e-mail
  placed on it; never a customer it is linked to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from customers.models import Basket, Customer, Order, Subscriber, Visitor, VisitorLink
from stores.digests import identifier_digest, normalise_identifier

SubjectKind = Literal["email", "customer", "visitor"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("email", "customer", "visitor")
MAX_IDENTIFIER_LENGTH = 254


class InvalidIdentifier(ValueError):
    """The identifier cannot name anybody (empty, too long, control characters)."""


def clean_identifier(kind: str, value: str) -> str:
    if kind not in SUBJECT_KINDS:
        raise InvalidIdentifier(
            f"Unknown identifier kind {kind!r}; use email, customer or visitor."
        )
    if not isinstance(value, str):
        raise InvalidIdentifier(f"The {kind} must be a string.")
    value = normalise_identifier(kind, value)  # type: ignore[arg-type]
    if not value:
        raise InvalidIdentifier(f"The {kind} is empty.")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifier(f"The {kind} is longer than {MAX_IDENTIFIER_LENGTH} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidIdentifier(f"The {kind} contains control characters.")
    if kind == "email" and "@" not in value:
        raise InvalidIdentifier("The e-mail address has no @.")
    return value


def identifier_kind_for_path(raw: str) -> SubjectKind:
    """/customer/<email-or-id>/: anything with an @ is an e-mail, else a customer id."""
    return "email" if "@" in raw else "customer"


@dataclass
class Subject:
    kind: SubjectKind
    value: str
    customer: Customer | None
    # Own devices: their browsing is the subject's.
    visitor_ids: list[int] = field(default_factory=list)
    visitor_refs: list[str] = field(default_factory=list)
    # Devices linked to this customer and to other customers too.
    shared_visitor_ids: list[int] = field(default_factory=list)
    shared_visitor_refs: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return (
            self.customer is not None
            or bool(self.visitor_ids or self.shared_visitor_ids)
            or self.orders().exists()
            or self._held_by_email()
        )

    def _held_by_email(self) -> bool:
        """An e-mail alone may have a basket or a newsletter subscription."""
        email = self.email
        if not email:
            return False
        by_email = {"email_lower": email}
        return (
            Basket.objects.annotate(email_lower=Lower("email"))
            .filter(visitor__isnull=True, **by_email)
            .exists()
            or Subscriber.objects.annotate(email_lower=Lower("email")).filter(**by_email).exists()
        )

    def order_filter(self) -> Q:
        """An order is its customer's when it has one; else its e-mail's; else its device's."""
        anonymous = (
            Q(visitor_id__in=self.visitor_ids) & (Q(email__isnull=True) | Q(email=""))
            if self.visitor_ids
            else Q(pk__in=[])
        )
        email = self.email
        if email:
            anonymous |= Q(email_lower=email)
        q = Q(customer_id__isnull=True) & anonymous
        if self.customer is not None:
            q |= Q(customer_id=self.customer.pk)
        return q

    def orders(self) -> QuerySet[Order]:
        return Order.objects.annotate(email_lower=Lower("email")).filter(self.order_filter())

    @property
    def email(self) -> str | None:
        if self.kind == "email":
            return self.value
        if self.customer is not None and self.customer.email:
            return normalise_identifier("email", self.customer.email)
        return None

    def digests(self, secret: str) -> dict:
        """Keyed digests of every identifier of the subject (for the ledger and suppression)."""
        customer_ref = self.customer.customer_ref if self.customer else None
        if self.kind == "customer":
            customer_ref = self.value
        return {
            "email_digest": identifier_digest(secret, "email", self.email) if self.email else "",
            "customer_digest": (
                identifier_digest(secret, "customer", customer_ref) if customer_ref else ""
            ),
            # Own devices only: a shared device stays with the other customers.
            "visitor_digests": sorted(
                {identifier_digest(secret, "visitor", ref) for ref in self.visitor_refs}
                | (
                    {identifier_digest(secret, "visitor", self.value)}
                    if self.kind == "visitor"
                    else set()
                )
            ),
        }


def resolve_subject(*, kind: SubjectKind, value: str) -> Subject:
    """Find what the current store holds about the subject (maybe nothing: check ``exists``)."""
    value = clean_identifier(kind, value)
    customer = None
    if kind == "email":
        customer = (
            Customer.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower=value)
            .order_by("-last_seen")
            .first()
        )
    elif kind == "customer":
        customer = Customer.objects.filter(customer_ref=value).first()
    own: list[tuple[int, str]] = []
    shared: list[tuple[int, str]] = []
    if kind == "visitor":
        own = list(Visitor.objects.filter(visitor_ref=value).values_list("pk", "visitor_ref"))
    elif customer is not None:
        own, shared = customer_devices([customer.pk])[customer.pk]
    return subject_with_devices(kind=kind, value=value, customer=customer, own=own, shared=shared)


def subject_with_devices(
    *,
    kind: SubjectKind,
    value: str,
    customer: Customer | None,
    own: list[tuple[int, str]],
    shared: list[tuple[int, str]] = (),
) -> Subject:
    """A subject from its devices as (visitor pk, visitor id) pairs."""
    return Subject(
        kind=kind,
        value=value,
        customer=customer,
        visitor_ids=[pk for pk, _ in own],
        visitor_refs=[ref for _, ref in own],
        shared_visitor_ids=[pk for pk, _ in shared],
        shared_visitor_refs=[ref for _, ref in shared],
    )


def customer_devices(
    customer_ids: list[int],
) -> dict[int, tuple[list[tuple[int, str]], list[tuple[int, str]]]]:
    """Per customer: (own devices, shared devices) as (visitor pk, visitor id), newest first.

    A device is a customer's through a link or as its first customer; it is shared when
    another customer is linked to it or is its first customer.
    """
    devices: dict[int, tuple[list, list]] = {pk: ([], []) for pk in customer_ids}
    if not customer_ids:
        return devices
    links, visitors = VisitorLink._meta.db_table, Visitor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT mine.c, v.id, v.visitor_ref, EXISTS (SELECT 1 FROM {links} l "
            "WHERE l.visitor_id = v.id AND l.customer_id <> mine.c) "
            "OR (v.customer_id IS NOT NULL AND v.customer_id <> mine.c) "
            f"FROM (SELECT visitor_id AS v, customer_id AS c FROM {links} "
            "WHERE customer_id = ANY(%s) "
            f"UNION SELECT id, customer_id FROM {visitors} WHERE customer_id = ANY(%s)) mine "
            f"JOIN {visitors} v ON v.id = mine.v ORDER BY v.last_seen DESC, v.id",
            [customer_ids, customer_ids],
        )
        for customer_id, visitor_id, ref, is_shared in cursor.fetchall():
            devices[customer_id][1 if is_shared else 0].append((visitor_id, ref))
    return devices
