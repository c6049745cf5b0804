"""Finding a data subject — the person a request is about — in the current store's schema.

A subject is named by one identifier: an e-mail, the shop's customer id or a
visitor id.  What belongs to the subject:

- e-mail or customer id: the customer row, all its visitors, and orders of the
  customer, of those visitors, or carrying that e-mail;
- visitor id: that visitor only (not a customer it may be linked to), and the
  orders made with that visitor id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from customers.models import Customer, Order, Visitor
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
    visitor_ids: list[int] = field(default_factory=list)
    visitor_refs: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return self.customer is not None or bool(self.visitor_ids) or self.orders().exists()

    def order_filter(self) -> Q:
        q = Q(visitor_id__in=self.visitor_ids) if self.visitor_ids else Q(pk__in=[])
        if self.customer is not None:
            q |= Q(customer_id=self.customer.pk)
        email = self.email
        if email:
            q |= Q(email_lower=email)
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
    if kind == "visitor":
        visitors = list(Visitor.objects.filter(visitor_ref=value).values_list("pk", "visitor_ref"))
    elif customer is not None:
        visitors = list(customer.visitors.values_list("pk", "visitor_ref"))
    else:
        visitors = []
    return Subject(
        kind=kind,
        value=value,
        customer=customer,
        visitor_ids=[pk for pk, _ in visitors],
        visitor_refs=[ref for _, ref in visitors],
    )
