"""What the collection API accepts: one validated shape per event and per synced record.

The v1 and v2 endpoints (events, customer, order and product sync) all
validate through these models, so a value refused by one is refused by the other.
Strings are bounded and may not carry control characters; ids may be given as
strings or integers (the v2 API documents ``products=[123,456]``) and are kept as
text; prices are numbers or numeric strings, kept exactly to 6 decimal places; times
are Unix seconds or ISO 8601 (with any offset) and may lie up to ``FUTURE_SLACK``
ahead (shops' clocks and time zones are off by hours; stored as sent).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

MAX_BATCH = 1000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Shops send local times labelled as UTC and clocks drift: a shop in UTC+14 sends fresh
# orders 14 hours "ahead". Up to a day ahead is taken (stored as sent; retention counts
# such a time as now); more is a bug in the shop.
FUTURE_SLACK = timedelta(hours=24)
# Prices are kept exactly to this many decimal places (shops keep 4; unit prices
# computed as line total / quantity have more and are rounded half-even here).
PRICE_PLACES = 6


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _id_to_str(value: Any) -> Any:
    # bool is an int subclass: True is not an id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _id_or_text(value: Any) -> Any:
    # A category or other label given as a number by some plugins (PrestaShop's ids).
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _price(value: Any) -> Any:
    # Numbers and numeric strings ("49.9900"); floats through their shortest repr, so
    # 33.3333 stays 33.3333 and not 33.33329999999999...
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        value = repr(value)
    if isinstance(value, str | int):
        try:
            value = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValueError("must be a number or a numeric string") from None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if value.adjusted() > 12:  # no quantize beyond the decimal context's precision
            raise ValueError("must be at most 999999999999")
        return value.quantize(Decimal(1).scaleb(-PRICE_PLACES), rounding=ROUND_HALF_EVEN)
    return value


def _whole_number(value: Any) -> Any:
    # Magento counts quantities as decimals ("2.0000", 2.0): a whole number is taken.
    if isinstance(value, bool):
        return value
    if isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            return value
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return value


def _valid_email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError("is not a valid e-mail address") from None
    return value.lower()


def _aware_time(value: datetime) -> datetime:
    # UTC throughout: visit days are UTC days.
    try:
        value = value.replace(tzinfo=UTC) if timezone.is_naive(value) else value.astimezone(UTC)
    except OverflowError:  # an offset that moves it past year 1 or 9999
        raise ValueError("is before the year 2000") from None
    if value < EARLIEST:
        raise ValueError("is before the year 2000")
    if value > timezone.now() + FUTURE_SLACK:
        raise ValueError("is in the future")
    return value


def _not_auto(value: str) -> str:
    if value == "auto":
        raise ValueError("'auto' is only accepted by the v2 single-event calls")
    return value


def Text(max_length: int):  # noqa: N802 - reads like a type in the models below
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length),
        AfterValidator(_no_control_characters),
    ]


def Label(max_length: int):  # noqa: N802
    """Text that plugins may also send as a number (a category id): kept as text."""
    return Annotated[Text(max_length), BeforeValidator(_id_or_text)]


Ref = Annotated[
    str,
    BeforeValidator(_id_to_str),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    AfterValidator(_no_control_characters),
]
VisitorRef = Annotated[Ref, AfterValidator(_not_auto)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
    AfterValidator(_no_control_characters),
    AfterValidator(_valid_email),
]
Time = Annotated[datetime, AfterValidator(_aware_time)]
Money = Annotated[
    Decimal,
    BeforeValidator(_price),
    Field(ge=0, le=Decimal("999999999999"), decimal_places=PRICE_PLACES),
]
Quantity = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=1_000_000)]


class _In(BaseModel):
    # Extra keys are ignored (v2 clients send more than we keep), never stored.
    model_config = ConfigDict(extra="ignore", str_max_length=10_000)


class _EventIn(_In):
    visitor: VisitorRef
    time: Time
    # The shop's customer id when the visitor is logged in: links the visitor.
    customer: Ref | None = None


class PageEvent(_EventIn):
    kind: Literal["page"]
    url: Text(2000)
    title: Text(500) = ""
    category: Text(255) = ""
    duration: int = Field(default=0, ge=0, le=86_400, description="seconds on the page")


class CategoryEvent(_EventIn):
    kind: Literal["category"]
    category: Annotated[Label(255), StringConstraints(min_length=1)]
    url: Text(2000) = ""


class ProductEvent(_EventIn):
    kind: Literal["product"]
    product: Ref
    api: Text(100) = ""


class ClickEvent(_EventIn):
    kind: Literal["click"]
    product: Ref
    api: Text(100) = Field(default="", description="the API call that produced the result")
    n: int | None = Field(default=None, ge=0, le=10_000, description="0-based position")
    external: bool = False
    labels: list[Label(100)] = Field(default_factory=list, max_length=50)


class EmailEvent(_EventIn):
    kind: Literal["email"]
    email: Email


class SaleLine(_In):
    id: Ref
    quantity: Quantity = 1
    price: Money | None = None


def _lines(value: Any) -> Any:
    # `products` may list bare ids (quantity 1, catalogue price) or line objects.
    if isinstance(value, list):
        return [
            {"id": v} if isinstance(v, str | int) and not isinstance(v, bool) else v for v in value
        ]
    return value


Lines = Annotated[list[SaleLine], BeforeValidator(_lines), Field(max_length=500)]


class SaleEvent(_In):
    kind: Literal["sale"]
    sale: Ref
    products: Annotated[Lines, Field(min_length=1)]
    time: Time
    visitor: VisitorRef | None = None
    customer: Ref | None = None
    email: Email | None = None


Event = Annotated[
    PageEvent | CategoryEvent | ProductEvent | ClickEvent | EmailEvent | SaleEvent,
    Field(discriminator="kind"),
]


class EventBatch(_In):
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)


CRM_VALUE_MAX = 255


class CustomerIn(_In):
    """A CRM record: ``id`` plus any attributes; only the store's allowed ones are kept."""

    model_config = ConfigDict(extra="allow", str_max_length=10_000)

    id: Ref
    name: Text(255) | None = None
    email: Email | None = None
    time: Time | None = Field(
        default=None, description="when the record last changed; needed to re-sync after a forget"
    )

    @model_validator(mode="after")
    def _attributes_are_scalars(self) -> CustomerIn:
        extra = self.model_extra or {}
        if len(extra) > 100:
            raise ValueError("too many attributes (at most 100)")
        for name, value in extra.items():
            if len(name) > 64 or _has_control(name) or not _encodable(name):
                raise ValueError("attribute names are at most 64 plain characters")
            if isinstance(value, list):
                # A list of scalars (a WooCommerce customer's roles), never nested.
                if len(value) > CRM_LIST_MAX:
                    raise ValueError(f"attribute {name!r} lists at most {CRM_LIST_MAX} values")
                for item in value:
                    if isinstance(item, list | dict):
                        raise ValueError(f"attribute {name!r} must list plain values only")
                    _check_scalar(name, item)
            else:
                _check_scalar(name, value)
        return self

    @property
    def attributes(self) -> dict:
        return dict(self.model_extra or {})


CRM_LIST_MAX = 50


def _check_scalar(name: str, value: Any) -> None:
    if isinstance(value, str):
        if len(value) > CRM_VALUE_MAX or _has_control(value) or not _encodable(value):
            raise ValueError(f"attribute {name!r} must be at most {CRM_VALUE_MAX} plain characters")
    elif isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity; PostgreSQL's jsonb refuses them.
        raise ValueError(f"attribute {name!r} must be a finite number")
    elif value is not None and not isinstance(value, int | float | bool):
        raise ValueError(
            f"attribute {name!r} must be a string, number, boolean, null or a list of those"
        )


def _has_control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def _encodable(value: str) -> bool:
    # A lone surrogate ("\ud800" in JSON) is valid JSON but no UTF-8 text: the typed
    # fields refuse it in pydantic, the free-form attributes here.
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class OrderIn(_In):
    id: Ref
    products: Lines
    time: Time
    customer: Ref | None = None
    email: Email | None = None
    visitor: VisitorRef | None = None


class ProductIn(_In):
    id: Ref
    name: Text(500) = ""
    price: Money | None = None
    url: Text(2000) = ""
    categories: list[Label(255)] = Field(default_factory=list, max_length=50)


class CustomersIn(_In):
    customers: list[CustomerIn] = Field(min_length=1, max_length=MAX_BATCH)


class OrdersIn(_In):
    orders: list[OrderIn] = Field(min_length=1, max_length=MAX_BATCH)


class ProductsIn(_In):
    products: list[ProductIn] = Field(min_length=1, max_length=MAX_BATCH)


# DELETE bodies: a list of ids under the collection's name.
Refs = Annotated[list[Ref], Field(min_length=1, max_length=MAX_BATCH)]


class CustomerRefsIn(_In):
    customers: Refs


class OrderRefsIn(_In):
    orders: Refs


class ProductRefsIn(_In):
    products: Refs


def _id_list(value: Any) -> Any:
    # PrestaShop removes a product with ``products=123,`` (a comma-separated string);
    # the others send a list, or a JSON-encoded one.
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return value


class ProductRemoveIn(_In):
    products: Annotated[Refs, BeforeValidator(_id_list)]


class OrderLineReturnIn(_In):
    """``log/returned``: items of one product in one order came back."""

    order: Ref
    product: Ref
    quantity: Quantity = 1


class BasketIn(_In):
    """``log/basket/set``: the current basket of a visitor or an e-mail (may be empty)."""

    products: Annotated[list[Ref], BeforeValidator(_id_list), Field(max_length=500)] = Field(
        default_factory=list
    )
    email: Email | None = None
    visitor: VisitorRef | None = None


class SubscriberIn(_In):
    """``subscriber/subscribe`` and ``subscriber/unsubscribe``: one e-mail address."""

    email: Email


class ShopifySaleIn(_In):
    """``log/sale/shopify`` from Shopify's web pixel: the order id only."""

    sale: Ref
