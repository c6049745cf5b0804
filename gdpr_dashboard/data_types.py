"""The data types of a store, as the GDPR dashboard shows them (green checks, counts)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from stores.models import Store


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


@dataclass(frozen=True)
class DataType:
    """One data type (the help article's five, baskets, newsletter) of one store."""

    code: str
    label: str
    explanation: str
    held: bool  # the store holds data of this type (per the last inventory)
    count: int | None  # how many (customers, visitors, orders), None before the first refresh
    count_label: str
    collection: bool | None  # the store's switch; None: no switch, follows from other data
    collection_note: str = ""

    @property
    def checked(self) -> bool:
        """Green check: held, and (where there is a switch) collection is on."""
        return self.held and self.collection is not False

    @property
    def leftover(self) -> bool:
        """Collection switched off but data from before is still held."""
        return self.held and self.collection is False

    def display(self) -> dict[str, str]:
        """What the page prints, decided here once rather than in template conditionals."""
        if self.checked:
            state, mark, aria = "on", "✓", _("held")
        elif self.leftover:
            state, mark, aria = "leftover", "!", _("held, collection off")
        else:
            state, mark, aria = "off", "–", _("not held")
        if self.collection is None:
            collection = self.collection_note
        elif self.collection:
            collection = (
                _("collection on: %(note)s") % {"note": self.collection_note}
                if self.collection_note
                else _("collection on")
            )
        elif self.leftover:
            collection = _("collection off, older data still held")
        else:
            collection = _("collection off")
        count = "–" if self.count is None else self.count_label
        return {
            "code": self.code,
            "label": self.label,
            "state": state,
            "mark": mark,
            "aria": aria,
            "count": count,
            "collection": collection,
        }


def data_types_for(store: Store) -> list[DataType]:
    """The data types of a store from its inventory snapshot (no query: prefetched)."""
    snapshot = getattr(store, "inventory", None)
    counts = snapshot.counts if snapshot else {}
    known = snapshot is not None

    def n(key: str) -> int:
        return int(counts.get(key, 0))

    events = n("page_views") + n("content_views") + n("clicks")
    crm_fields = ", ".join(store.crm_fields or [])

    def counted(key: str, label: str) -> str:
        """``label``: the ngettext of the count (a literal call, so makemessages finds it)."""
        return label % {"n": _n(n(key))}

    return [
        DataType(
            code="browsing",
            label=_("Website browsing history"),
            explanation=_("Visitor ids are tracked and behaviour is attributed to the visitor."),
            held=n("visitors") > 0 and events > 0,
            count=n("visitors") if known else None,
            count_label=ngettext(
                "%(visitors)s visitors, %(events)s event",
                "%(visitors)s visitors, %(events)s events",
                events,
            )
            % {"visitors": _n(n("visitors")), "events": _n(events)},
            collection=store.track_browsing,
        ),
        DataType(
            code="preferences",
            label=_("Purchase preferences"),
            explanation=_(
                "Customers are identified and recommendations follow their clicks or orders."
            ),
            held=n("customers") > 0 and (n("clicks") > 0 or n("orders") > 0),
            count=n("customers") if known else None,
            count_label=counted(
                "customers",
                ngettext("%(n)s customer", "%(n)s customers", n("customers")),
            ),
            collection=None,
            collection_note=_("follows from clicks and orders"),
        ),
        DataType(
            code="email",
            label=_("E-mail addresses"),
            explanation=_("The store has access to its customers' e-mail addresses."),
            held=n("customers_with_email") > 0,
            count=n("customers_with_email") if known else None,
            count_label=counted(
                "customers_with_email",
                ngettext(
                    "%(n)s customer with an e-mail address",
                    "%(n)s customers with an e-mail address",
                    n("customers_with_email"),
                ),
            ),
            collection=store.collect_emails,
        ),
        DataType(
            code="orders",
            label=_("Order history"),
            explanation=_("Historic orders, whether or not their customers can be identified."),
            held=n("orders") > 0,
            count=n("orders") if known else None,
            count_label=counted(
                "orders",
                ngettext("%(n)s order", "%(n)s orders", n("orders")),
            ),
            collection=None,
            collection_note=_("always, orders stay anonymous after a forget"),
        ),
        DataType(
            code="crm",
            label=_("CRM"),
            explanation=_("Customer details such as age, gender or city."),
            held=n("customers_with_crm") > 0,
            count=n("customers_with_crm") if known else None,
            count_label=counted(
                "customers_with_crm",
                ngettext(
                    "%(n)s customer with CRM fields",
                    "%(n)s customers with CRM fields",
                    n("customers_with_crm"),
                ),
            ),
            collection=bool(store.crm_fields),
            collection_note=crm_fields,
        ),
        DataType(
            code="baskets",
            label=_("Shopping baskets"),
            explanation=_("The current basket of a visitor or an e-mail address."),
            held=n("baskets") > 0,
            count=n("baskets") if known else None,
            count_label=counted(
                "baskets",
                ngettext("%(n)s basket", "%(n)s baskets", n("baskets")),
            ),
            collection=store.track_browsing or store.collect_emails,
        ),
        DataType(
            code="newsletter",
            label=_("Newsletter subscriptions"),
            explanation=_("E-mail addresses subscribed to (or withdrawn from) the newsletter."),
            held=n("subscribers") > 0,
            count=n("subscribers") if known else None,
            count_label=counted(
                "subscribers",
                ngettext("%(n)s subscription", "%(n)s subscriptions", n("subscribers")),
            ),
            collection=store.collect_emails,
        ),
    ]
