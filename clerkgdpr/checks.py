"""A deployment check Django skips for us: its CSRF cookie check looks for the middleware
by dotted path, and ours is a ``clerkgdpr.console_middleware`` subclass (so that a shop's
tracking call never sets a cookie on a shopper's browser). The session cookie checks
still run: Django also finds sessions by the installed app."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def csrf_cookie_secure(app_configs, **kwargs) -> list[Warning]:
    if settings.CSRF_COOKIE_SECURE:
        return []
    return [
        Warning(
            "CSRF_COOKIE_SECURE is not True: the console's CSRF cookie could travel "
            "over plain HTTP.",
            id="clerkgdpr.W016",
        )
    ]
