"""Login throttling helpers (django-axes)."""

from __future__ import annotations

from django.http import HttpRequest

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
