from django.db import connection
from django.utils import translation

from clerkgdpr.middleware import is_api_path


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


class UserLanguageMiddleware:
    """A signed-in user reads the console in the language saved on their account.

    After ``LocaleMiddleware`` (cookie, then Accept-Language) and authentication: the
    saved choice wins, so it follows the user to every browser right from the login.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path):  # keys, not users: no session to read on the hot path
            return self.get_response(request)
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language and language != getattr(request, "LANGUAGE_CODE", None):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
