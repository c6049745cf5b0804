"""Keeps shopper identifiers and API keys out of log lines.

Request logs name the path, and our paths can carry personal data: profile
URLs hold an e-mail, customer id or visitor id (``/s/<store>/customer/<id>/``,
``/store/visitor/<id>``), search and v2 API calls carry identifiers and the
private key in the query string.  This filter rewrites each record's message
and arguments before any handler sees it.
"""

from __future__ import annotations

import logging
import re

_REDACTIONS = [
    # Everything after "?" up to whitespace or a quote: search terms, identifiers, keys.
    (re.compile(r"\?[^\s\"']*"), "?[redacted]"),
    # The identifier segment of profile addresses.
    (re.compile(r"(/(?:customer|visitor)s?/)[^/\s\"'?]+"), r"\1[redacted]"),
    # Any e-mail address anywhere else.
    (re.compile(r"[^\s/@\"'<>(),;:]+@[^\s/@\"'<>(),;:]+\.[A-Za-z]{2,}"), "[email]"),
    # Authorization: Bearer <key>:<private_key>
    (re.compile(r"(Bearer\s+)\S+", re.I), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True
