"""Orders synced by the shop (and sales from tracking calls), with their lines."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction

from customers.ingest.common import (
    IngestResult,
    Suppressed,
    customers_ensure,
    insert_rows,
    links_touch,
    store_schema,
)
from customers.ingest.schemas import (
    OrderIn,
)
from customers.models import (
    Order,
    OrderLine,
    Product,
    Visitor,
)
from stores.models import Store


def orders_sync(*, store: Store, orders: list[OrderIn]) -> IngestResult:
    """Create or replace orders (by order id) with their lines."""
    result = IngestResult()
    orders = list({o.id: o for o in orders}.values())  # the last record of an id wins
    with store_schema(store):
        suppressed = Suppressed(
            store,
            emails=[o.email for o in orders if store.collect_emails],
            customers=[o.customer for o in orders],
            visitors=[o.visitor for o in orders if store.track_browsing],
        )
        with transaction.atomic():
            customer_times = {
                o.customer: o.time
                for o in orders
                if o.customer and not suppressed.would_block(o.time, customer=o.customer)
            }
            customer_ids = (
                customers_ensure(store, customer_times, suppressed) if customer_times else {}
            )
            visitor_ids = {}
            if store.track_browsing:
                refs = {o.visitor for o in orders if o.visitor}
                visitor_ids = dict(
                    Visitor.objects.filter(visitor_ref__in=refs).values_list("visitor_ref", "pk")
                )
            stored = orders_write(
                store,
                orders,
                customer_ids=customer_ids,
                visitor_ids=visitor_ids,
                suppressed=suppressed,
                result=result,
            )
            suppressed.record()
    result.stored["orders"] += stored
    return result


def orders_write(
    store,
    orders,
    *,
    customer_ids,
    visitor_ids,
    suppressed,
    result: IngestResult | None = None,
    replace: bool = True,
) -> int:
    """Write the orders with their lines; link each order's device to its customer.

    ``replace`` (private-key sync): an order id already stored is replaced and the
    device passes to the order's customer. Without it (a sale from a tracking call)
    an order id already stored is left as it is: a public key never re-assigns an order.
    """
    if not replace:
        known = set(
            Order.objects.filter(order_ref__in={o.id for o in orders}).values_list(
                "order_ref", flat=True
            )
        )
        if known and result is not None:
            result.dropped["orders_already_stored"] += len(known)
        orders = [o for o in orders if o.id not in known]
    prices = dict(
        Product.objects.filter(
            product_ref__in={line.id for o in orders for line in o.products}
        ).values_list("product_ref", "price")
    )
    rows: dict[str, tuple] = {}
    lines: dict[str, list[tuple]] = {}
    for o in orders:
        email = o.email if store.collect_emails else None
        if o.email and not store.collect_emails and result is not None:
            result.dropped["emails_not_collected"] += 1
        visitor = o.visitor if store.track_browsing else None
        customer = o.customer
        if suppressed.blocks(o.time, email=email, customer=customer, visitor=visitor):
            # A forgotten person's old order comes back as what a forget leaves:
            # the order and its lines, with no customer, visitor or e-mail.
            if result is not None:
                result.dropped["suppressed_links"] += 1
            email = visitor = customer = None
        order_lines = [
            (
                line.id,
                line.quantity,
                line.price if line.price is not None else (prices.get(line.id) or Decimal(0)),
            )
            for line in o.products
        ]
        rows[o.id] = (
            o.id,
            customer_ids.get(customer) if customer else None,
            visitor_ids.get(visitor) if visitor else None,
            email,
            suppressed.digest("email", email),
            sum((price * quantity for _, quantity, price in order_lines), Decimal(0)),
            o.time,
        )
        lines[o.id] = order_lines
    if not rows:
        return 0
    refs = sorted(rows)
    order_table = Order._meta.db_table
    line_table = OrderLine._meta.db_table
    with connection.cursor() as cursor:
        # Returns recorded against the lines being replaced carry over to the new lines.
        cursor.execute(
            f"DELETE FROM {line_table} WHERE order_id IN "
            f"(SELECT id FROM {order_table} WHERE order_ref = ANY(%s)) "
            "RETURNING order_id, product_ref, returned_quantity",
            [refs],
        )
        returned = [row for row in cursor.fetchall() if row[2]]
        cursor.execute(
            f"INSERT INTO {order_table} "
            "(order_ref, customer_id, visitor_id, email, email_digest, total, placed_at) "
            "SELECT * FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[], %s::varchar[], "
            "%s::varchar[], %s::numeric[], %s::timestamptz[]) ORDER BY 1 "
            "ON CONFLICT (order_ref) DO UPDATE SET customer_id = EXCLUDED.customer_id, "
            "visitor_id = EXCLUDED.visitor_id, email = EXCLUDED.email, "
            "email_digest = EXCLUDED.email_digest, total = EXCLUDED.total, "
            "placed_at = EXCLUDED.placed_at RETURNING order_ref, id",
            [list(col) for col in zip(*(rows[r] for r in refs), strict=True)],
        )
        ids = dict(cursor.fetchall())
    links_touch(
        {
            (row[2], row[1]): ("sync" if replace else "sale", row[6], row[6])
            for row in rows.values()
            if row[1] and row[2]
        },
        reassign=replace,
    )
    all_lines = [(ids[ref], *line) for ref in refs for line in lines[ref]]
    if all_lines:
        insert_rows(OrderLine, ORDER_LINE_COLUMNS, all_lines)
    for order_id, product_ref, quantity in returned:
        _return_items(order_id=order_id, product_ref=product_ref, quantity=quantity)
    if result is not None:
        result.stored["order_lines"] += len(all_lines)
    return len(rows)


ORDER_LINE_COLUMNS = (
    ("order_id", "bigint"),
    ("product_ref", "varchar"),
    ("quantity", "integer"),
    ("price", "numeric"),
)


def orders_delete(*, store: Store, refs: list[str]) -> IngestResult:
    result = IngestResult()
    with store_schema(store), transaction.atomic():
        deleted, by_model = Order.objects.filter(order_ref__in=refs).delete()
    result.stored["orders_deleted"] = by_model.get(Order._meta.label, 0)
    return result


def order_placed(*, store: Store, order_ref: str, at) -> IngestResult:
    """A sale known by its order id alone (Shopify's pixel): an order without lines.

    Nothing about a person; the lines, total and customer come with the order's
    sync (``/v2/orders``), which replaces this row. An order already known is
    left as it is.
    """
    result = IngestResult()
    with store_schema(store), transaction.atomic():
        _, created = Order.objects.get_or_create(order_ref=order_ref, defaults={"placed_at": at})
    result.stored["orders"] += int(created)
    if not created:
        result.dropped["order_known"] += 1
    return result


def order_line_return(
    *, store: Store, order_ref: str, product_ref: str, quantity: int
) -> IngestResult:
    """Record that ``quantity`` items of a product in an order came back.

    Order data only (which line, how many): no person is named. Counted on the
    order's lines of that product, never beyond what was bought; an order or
    line not known yet is counted as dropped (the shop syncs orders on its own
    schedule and the platform answers such a call with success too).
    """
    result = IngestResult()
    with store_schema(store), transaction.atomic():
        order_id = Order.objects.filter(order_ref=order_ref).values_list("pk", flat=True).first()
        taken = 0
        if order_id is not None:
            taken = _return_items(order_id=order_id, product_ref=product_ref, quantity=quantity)
        else:
            result.dropped["unknown_order"] += 1
    if taken:
        result.stored["returned_items"] += taken
    if order_id is not None and taken < quantity:
        result.dropped["returned_items_not_bought"] += quantity - taken
    return result


def _return_items(*, order_id: int, product_ref: str, quantity: int) -> int:
    lines = OrderLine.objects.select_for_update().filter(order_id=order_id, product_ref=product_ref)
    taken = 0
    for line in lines.order_by("pk"):
        take = min(quantity - taken, line.quantity - line.returned_quantity)
        if take > 0:
            line.returned_quantity += take
            line.save(update_fields=["returned_quantity"])
            taken += take
    return taken
