"""django-tenants' PostgreSQL backend, without sending a search path the session already has.

django-tenants forgets the session's search path whenever a schema is selected, so every
API call (each request starts and ends on the public schema, then selects its key's store)
sends the same ``SET search_path`` again: one round trip in four on a tracking call. Here
the path last sent stays known until the connection closes or a rollback may have undone
it (a transaction's or a savepoint's: ``SET`` is transactional in PostgreSQL).

``prepared_cursor()``: a cursor whose statements the server prepares, for the hot path.
"""

from __future__ import annotations

import psycopg
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._search_path_sent = None

    # Each resets the path it knows after the work is done (the rollback's own cursor would
    # otherwise record the path again).
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
        super()._handle_search_path(cursor)
        self._search_path_sent = self.search_path_set_schemas

    def prepared_cursor(self):
        """A cursor whose statements PostgreSQL prepares once they repeat (psycopg's
        ``prepare_threshold``, server-side parameters): planned once per connection, values
        sent apart from the SQL. For the few statements every tracking call runs; Django's
        cursor wrapper stays around it (error translation, query logging and counting).
        """
        self.close_if_health_check_failed()
        self.ensure_connection()
        self._handle_search_path()
        with self.wrap_database_errors:
            return self._prepare_cursor(psycopg.Cursor(self.connection))

    def connect(self):
        super().connect()
        self._search_path_sent = None

    def close(self):
        super().close()
        self._search_path_sent = None

    def rollback(self):
        super().rollback()
        self._search_path_sent = None

    def _savepoint_rollback(self, sid):
        super()._savepoint_rollback(sid)
        self._search_path_sent = None
