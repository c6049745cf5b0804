"""URL converter for shopper identifiers in console addresses."""

import re

from django.urls import register_converter

_ENCODED = re.compile(r"%(25|2[Ff]|2[Ee])")
_DECODED = {"25": "%", "2F": "/", "2f": "/", "2E": ".", "2e": "."}


class IdentifierConverter:
    """One path segment holding any identifier, whatever it contains.

    Identifiers are chosen by others (a visitor id by anyone with the public key), so
    one ending in ``/forget`` or ``/download`` must not reach another view. ``to_url``
    escapes ``%`` and ``/`` (and a ``.`` or ``..`` segment, which browsers resolve away);
    ``reverse()`` then percent-encodes the ``%`` once more, so the address carries
    ``%252F`` and the server's own decoding leaves ``%2F`` in the path, one segment,
    which ``to_python`` turns back into ``/``. Everything else (``?``, ``#``, spaces,
    quotes, unicode) ``reverse()`` encodes by itself. What the identifier may be is
    decided by ``customers.privacy.subjects.clean_identifier``.
    """

    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        return _ENCODED.sub(lambda m: _DECODED[m.group(1)], value)

    def to_url(self, value: str) -> str:
        value = str(value).replace("%", "%25").replace("/", "%2F")
        if value in (".", ".."):
            value = value.replace(".", "%2E")
        return value


# Registered on import; both URL modules import this module first.
register_converter(IdentifierConverter, "identifier")
