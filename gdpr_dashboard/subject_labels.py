"""What the access log names a person by: their customer id or visitor id, read at render time.

The public schema keeps no identifiers (an audit row holds the subject's kind and row id
only), so the dashboard reads the ids from each store's own schema when it shows the log,
for members who may read personal data; everybody else sees the kind alone. One query
for the whole log (a UNION ALL over the stores in it); a person forgotten or expired since
has no row any more and shows as such.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import DatabaseError, connection, transaction

from stores.models import AuditEvent

log = logging.getLogger(__name__)

# The store tables (customers app) the ids are read from, by the audit row's subject kind.
SUBJECT_TABLES = {
    "customer": ("customers_customer", "coalesce(customer_ref, email)"),
    "visitor": ("customers_visitor", "visitor_ref"),
}


def label_subjects(events: list[AuditEvent], *, reads_personal_data: bool) -> None:
    """Set ``subject_label`` on each event: the id, "" (no subject) or None (gone or hidden)."""
    wanted: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    for event in events:
        event.subject_label = "" if not event.subject_kind else None
        store = event.store
        readable = event.subject_row_id and event.subject_kind in SUBJECT_TABLES
        if reads_personal_data and readable and store is not None:
            wanted[(store.schema_name, event.subject_kind, store.pk)].add(event.subject_row_id)
    if not wanted:
        return
    branches, params = [], []
    for (schema, kind, store_id), ids in wanted.items():
        table, label = SUBJECT_TABLES[kind]
        branches.append(
            f"SELECT %s::bigint, %s::text, id, {label}::text "
            f"FROM {connection.ops.quote_name(schema)}.{table} WHERE id = ANY(%s)"
        )
        params += [store_id, kind, sorted(ids)]
    try:
        # A savepoint: a store schema dropped meanwhile must not break the dashboard.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(branches), params)
            rows = cursor.fetchall()
    except DatabaseError:
        log.warning("access log: a store schema could not be read; ids not shown")
        return
    found = {(store_id, kind, pk): label for store_id, kind, pk, label in rows}
    for event in events:
        if event.subject_label is None and event.subject_row_id and event.store_id:
            event.subject_label = found.get(
                (event.store_id, event.subject_kind, event.subject_row_id)
            )
