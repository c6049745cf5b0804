"""Keeps shopper identifiers and API keys out of log lines.

Request logs name the path, and our paths can carry personal data: console
addresses name the person (``/s/<store>/customer/<e-mail>/``,
``/store/visitor/<id>``, ``/search?q=<e-mail>``), v2 API calls carry
identifiers and the private key in the query string.  Django's request log
("Not Found: <path>"), the development server's and gunicorn's access logs
and error logs, and Celery's (through the root handler) would write them out.
This filter rewrites each record before any handler sees it.

An identifier may hold anything (slashes, spaces, quotes, ``?``, ``#``, unicode, a
line break), so the identifier segment is not "up to the next /": everything after
``/customer/`` or ``/visitor/`` up to the end of the path goes, keeping only the
view's own tail (``/download/``, ``/forget/``, ``/``). Where the path ends is known
exactly for Django's request records (the record carries the request); in other
lines it is the last `` HTTP/`` of a request line, else the end of the line.
"""

from __future__ import annotations

import logging
import re

MASK = "…"
_SUBJECT = re.compile(r"/(?:customer|visitor)/")
_TAIL = re.compile(r"(?:/(?:download|forget))?/?\Z")
_REQUEST_LINE_END = re.compile(r" HTTP/\d(?:\.\d)?")

_REDACTIONS = [
    # Everything after "?" up to whitespace or a quote: search terms, identifiers, keys.
    (re.compile(r"\?[^\s\"']*"), "?…"),
    # Any e-mail address anywhere else. A match starts only where a run of the local part's
    # characters starts (the look-behind), which finds what any start inside the run would
    # and keeps the search linear: without it, a long header value with no address in it
    # (a User-Agent of 8,000 characters ending in "@") cost a third of a second.
    (
        re.compile(r"(?<![^\s/@\"'<>(),;:])[^\s/@\"'<>(),;:]+@[^\s/@\"'<>(),;:]+\.[A-Za-z]{2,}"),
        "[email]",
    ),
    # Authorization: Bearer <key>:<private_key>
    (re.compile(r"(Bearer\s+)\S+", re.I), r"\1…"),
]


def redact_path(path: str) -> str:
    """A whole path with the identifier segment masked, whatever it contains."""
    match = _SUBJECT.search(path)
    if match is None:
        return path
    rest = path[match.end() :]
    tail = _TAIL.search(rest).group(0) if rest else ""
    if rest == tail:  # nothing but the tail: /customers/ and the like hold no identifier
        return path
    return path[: match.end()] + MASK + tail


def _redact_line(line: str) -> str:
    out, start = [], 0
    while (match := _SUBJECT.search(line, start)) is not None:
        request_line_end = _REQUEST_LINE_END.search(line, match.end())
        end = request_line_end.start() if request_line_end else len(line)
        out.append(line[start : match.start()] + redact_path(line[match.start() : end]))
        start = end
    return "".join(out) + line[start:]


def redact(text: str) -> str:
    if "\n" in text:
        text = "\n".join(_redact_line(line) for line in text.split("\n"))
    else:
        text = _redact_line(text)
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let it through unchanged
            return True
        # Django's request log carries the request: its path is known to the character,
        # line breaks in an identifier included.
        path = getattr(getattr(record, "request", None), "path", None)
        redacted = message
        if isinstance(path, str) and path and path in redacted:
            redacted = redacted.replace(path, redact_path(path))
        redacted = redact(redacted)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


# The name the console branch introduced; one filter for both.
RedactSubjectIdentifiers = RedactPersonalData
