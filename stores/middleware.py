from django.db import connection


class PublicSchemaMiddleware:
    """Every request starts (and ends) on the public schema.

    A store page switches to its store's schema only through
    ``stores.access.get_store_for_user``, after the membership check, so a
    connection reused from a previous request never carries a store along.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection.set_schema_to_public()
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()
