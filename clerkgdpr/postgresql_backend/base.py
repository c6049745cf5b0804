"""django-tenants' PostgreSQL backend, without sending a search path the session already has.

django-tenants forgets the session's search path whenever a schema is selected, so every
API call (each request starts and ends on the public schema, then selects its key's store)
sends the same ``SET search_path`` again: one round trip in four on a tracking call. Here
the path last sent stays known until the connection closes or a rollback may have undone
it (a transaction's or a savepoint's: ``SET`` is transactional in PostgreSQL).

``prepared_cursor()``: a cursor whose statements the server prepares, for the hot path.

``is_usable()`` (Django's per-request health check) looks at the socket before it asks
the server: an idle PostgreSQL session sends nothing unprompted except on its way out (a
FATAL error, then end of file, at a restart or a terminated backend). A socket with
nothing to read is a live session, without the ``SELECT 1`` round trip Django sends;
anything to read gets that ``SELECT 1``. A session whose peer vanished without closing
(a host crash, a dropped NAT entry) looks alive until its first statement fails: that
request answers 503 and Django drops the connection at its end.

``introspection``: the table list reads the search path's schemas only
(``introspection.py``), not every relation of every store.
"""

from __future__ import annotations

import select

import psycopg
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from psycopg.pq import TransactionStatus

from clerkgdpr.postgresql_backend.introspection import DatabaseIntrospection


class DatabaseWrapper(TenantDatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._search_path_sent = None
        self.introspection = DatabaseIntrospection(self)

    def _handle_search_path(self, cursor=None):
        if (
            not self._setting_search_path
            and not self.search_path_set_schemas
            and self.schema_name
            and self._search_path_sent is not None
            and self._get_cursor_search_paths() == self._search_path_sent
        ):
            self.search_path_set_schemas = self._search_path_sent
            return
        # Unknown until the SET has gone through (an exception half-way leaves it unknown).
        self._search_path_sent = None
        super()._handle_search_path(cursor)
        self._search_path_sent = self.search_path_set_schemas

    def prepared_cursor(self):
        """A cursor whose statements PostgreSQL prepares once they repeat: server-side
        parameters, and psycopg prepares a statement on its ``prepare_threshold``-th run
        (``clerkgdpr/runtime.py``), so it is planned once per connection. Django's own
        cursors bind on the client and are never prepared. For the few statements every
        tracking call runs; Django's cursor wrapper stays around it (error translation,
        query logging and counting).
        """
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:  # a lost connection is Django's OperationalError
            cursor = psycopg.Cursor(self.connection)
            self._handle_search_path(cursor)
        return self._prepare_cursor(cursor)

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poll = select.poll()
            poll.register(connection.fileno(), select.POLLIN)
            readable = poll.poll(0)
        except (OSError, ValueError):
            return super().is_usable()
        return not readable or super().is_usable()

    def connect(self):
        # A new session has no path of ours, whatever the flags of an old one say (a
        # forked process drops its parent's connection without close()).
        self._search_path_sent = None
        self.search_path_set_schemas = None
        super().connect()

    # Each forgets the path after its work, even a failed one (a rollback's own cursor would
    # otherwise record the path again).
    def close(self):
        try:
            super().close()
        finally:
            self._search_path_sent = None

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._search_path_sent = None

    def _savepoint_rollback(self, sid):
        try:
            super()._savepoint_rollback(sid)
        finally:
            self._search_path_sent = None
