"""The personal-data catalogue: every table of a store's schema, and what it means for a person.

One entry per personal table says how its rows belong to a subject, what a forget does
to them, where the export and the profile show them, which retention rule applies and
which data type of the GDPR dashboard they feed. Forget, expiry, the export and the
privacy API, the profile sections and the inventory counts take their tables from here;
``NOT_PERSONAL`` lists the tables that hold nothing about a person. A test fails when a
model of the store schema is in neither (``tests/test_catalogue.py``), so a new table is
decided here before it can hold data.

Whose a row is (README, "Whose is this row?") follows from ``belongs_by``:

- ``customer``: the customer row itself (customer id, e-mail, name, CRM attributes);
- ``device``: the visitor row itself (a device, by the shop's visitor id);
- ``link``: a (device, customer) pair: the customer's and the device's;
- ``device_browsing``: browsing rows of one device: the device's; a customer's when the
  device is linked to that customer only (a device shared by several customers: nobody's
  in an access request, deleted with any of them in a forget);
- ``order``: the customer's when it has one; else the e-mail's it carries; else the
  device's it was placed on;
- ``device_or_email``: a basket: its device's (as browsing), else its e-mail's;
- ``email``: a newsletter subscription: its e-mail's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from customers.models import (
    Basket,
    Click,
    ContentView,
    Customer,
    Order,
    OrderLine,
    PageView,
    Product,
    Subscriber,
    Visitor,
    VisitorLink,
)

DELETE = "delete"
ANONYMISE = "anonymise"


@dataclass(frozen=True)
class PersonalTable:
    model: type[models.Model]
    name: str  # the export's, profile's and inventory's name for these rows
    belongs_by: str
    forget: str  # DELETE, or ANONYMISE the columns in ``cleared``
    retention: str
    data_type: str  # the dashboard's data type these rows feed
    identifiers: tuple[str, ...] = ()  # columns that hold a person's identifiers
    cleared: tuple[str, ...] = ()
    exported: bool = True

    @property
    def table(self) -> str:
        return self.model._meta.db_table


PERSONAL: tuple[PersonalTable, ...] = (
    PersonalTable(
        Customer,
        "customers",
        belongs_by="customer",
        forget=DELETE,
        retention="while a device or an order of the customer is kept",
        data_type="crm",
        identifiers=("customer_ref", "email", "name"),
    ),
    PersonalTable(
        Visitor,
        "visitors",
        belongs_by="device",
        forget=DELETE,
        retention="the retention policy (visits, days, time on site)",
        data_type="browsing",
        identifiers=("visitor_ref",),
    ),
    PersonalTable(
        VisitorLink,
        "links",
        belongs_by="link",
        forget=DELETE,
        retention="with its device",
        data_type="browsing",
        exported=False,
    ),
    PersonalTable(
        PageView,
        "page_views",
        belongs_by="device_browsing",
        forget=DELETE,
        retention="the retention policy of its device",
        data_type="browsing",
    ),
    PersonalTable(
        ContentView,
        "content_views",
        belongs_by="device_browsing",
        forget=DELETE,
        retention="the retention policy of its device",
        data_type="browsing",
    ),
    PersonalTable(
        Click,
        "clicks",
        belongs_by="device_browsing",
        forget=DELETE,
        retention="the retention policy of its device",
        data_type="browsing",
    ),
    PersonalTable(
        Order,
        "orders",
        belongs_by="order",
        forget=ANONYMISE,
        retention="kept; loses its device when the device expires",
        data_type="orders",
        identifiers=("email",),
        cleared=("customer_id", "visitor_id", "email", "email_digest"),
    ),
)

PERSONAL += (
    PersonalTable(
        Basket,
        "baskets",
        belongs_by="device_or_email",
        forget=DELETE,
        retention="with its device; an e-mail's basket the store's longest retention",
        data_type="baskets",
        identifiers=("email",),
    ),
    PersonalTable(
        Subscriber,
        "subscribers",
        belongs_by="email",
        forget=DELETE,
        retention="while subscribed; a withdrawal the store's longest retention",
        data_type="newsletter",
        identifiers=("email",),
    ),
)

# Tables that hold nothing about a person: the catalogue of products, and order lines
# (product, quantity, price), which belong to their order and name nobody.
NOT_PERSONAL: tuple[type[models.Model], ...] = (Product, OrderLine)

BY_NAME = {entry.name: entry for entry in PERSONAL}


def browsing_tables() -> dict[str, type[models.Model]]:
    """The browsing tables of a device, by name (page_views, content_views, clicks)."""
    return {e.name: e.model for e in PERSONAL if e.belongs_by == "device_browsing"}


def counted_tables() -> dict[str, type[models.Model]]:
    """Tables whose rows the dashboard's inventory counts."""
    return {e.name: e.model for e in PERSONAL if e.exported}
