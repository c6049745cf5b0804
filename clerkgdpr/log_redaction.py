"""Keep shoppers' identifiers out of request logs.

Console addresses name the person (``/s/<store>/customer/<e-mail>/``,
``/search?q=<e-mail>``); Django's request log ("Not Found: <path>") and the
development server's access log would write them out. This filter replaces
the identifier part with ``…`` before any handler sees the record.
"""

from __future__ import annotations

import logging
import re

_SUBJECT_PATH = re.compile(r"(/(?:customer|visitor)/)[^\s?#\"']+")
_QUERY = re.compile(r"([?&]q=)[^\s&#\"']*")


def redact(text: str) -> str:
    return _QUERY.sub(r"\1…", _SUBJECT_PATH.sub(r"\1…", text))


class RedactSubjectIdentifiers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let it through unchanged
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
