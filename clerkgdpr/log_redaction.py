"""Keeps shopper identifiers and API keys out of log lines.

Request logs name the path, and our paths can carry personal data: console
addresses name the person (``/s/<store>/customer/<e-mail>/``,
``/store/visitor/<id>``, ``/search?q=<e-mail>``), v2 API calls carry
identifiers and the private key in the query string.  Django's request log
("Not Found: <path>"), the development server's and gunicorn's access logs
would write them out.  This filter rewrites each record before any handler
sees it.
"""

from __future__ import annotations

import logging
import re

_REDACTIONS = [
    # Everything after "?" up to whitespace or a quote: search terms, identifiers, keys.
    (re.compile(r"\?[^\s\"']*"), "?…"),
    # The identifier segment of profile addresses.
    (re.compile(r"(/(?:customer|visitor)s?/)[^/\s\"'?#]+"), r"\1…"),
    # Any e-mail address anywhere else.
    (re.compile(r"[^\s/@\"'<>(),;:]+@[^\s/@\"'<>(),;:]+\.[A-Za-z]{2,}"), "[email]"),
    # Authorization: Bearer <key>:<private_key>
    (re.compile(r"(Bearer\s+)\S+", re.I), r"\1…"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let it through unchanged
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


# The name the console branch introduced; one filter for both.
RedactSubjectIdentifiers = RedactPersonalData
