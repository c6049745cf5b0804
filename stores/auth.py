"""Login throttling helpers (django-axes)."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.http import HttpRequest, QueryDict

# axes stores the username in a 255-character column; an e-mail is at most 254.
MAX_USERNAME = 254


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The name axes counts failures against: the e-mail as the user would type it, normalised.

    Lowercased so that "Alice@…" and "alice@…" share one counter (the user model
    stores e-mails lowercased), and cut to the column's size so that a
    10,000-character "e-mail" is a failed login, not a database error.
    """
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()[:MAX_USERNAME]


class RequestDataFreeAxesHandler(AxesDatabaseHandler):
    """axes' database handler without the failed request's query and form data.

    axes copies ``request.GET`` and ``request.POST`` into ``axes_accessattempt``
    (public schema, shown in the admin). The login page's ``next`` names whatever
    page was asked for, a shopper's profile address with their e-mail included, and
    nothing about a shopper may sit in the public schema in clear, out of a forget's
    reach. The attempt is recorded with empty query and form data instead; the
    username and address it is counted against are kept.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        query, form = request.GET, request.POST
        request.GET, request.POST = QueryDict(), QueryDict()
        try:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        finally:
            request.GET, request.POST = query, form
