"""URL converter for shopper identifiers in console addresses."""

from django.urls import register_converter


class IdentifierConverter:
    """Any non-empty text, slashes and line breaks included (``path`` stops at a newline).

    What the identifier may be is decided by ``customers.privacy.subjects.clean_identifier``;
    the URL layer only has to hand it over, and ``reverse()`` must work for every
    identifier stored in a store, or a profile link could fail to render.
    """

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Registered on import; both URL modules import this module first.
register_converter(IdentifierConverter, "identifier")
