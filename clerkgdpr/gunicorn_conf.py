"""gunicorn settings: ``gunicorn -c python:clerkgdpr.gunicorn_conf clerkgdpr.wsgi``.

Access and error log lines go through the same redaction as Django's logs:
paths and query strings carry e-mails, visitor ids and private API keys.
Static files are served by whitenoise inside the app (clerkgdpr/wsgi.py).
"""

import functools
import os
import re

from gunicorn.glogging import Logger

from clerkgdpr.log_redaction import RedactPersonalData, redact


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # Error log lines ("Invalid request from ...: <request line>") name paths too.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactPersonalData) for f in log.filters):
                log.addFilter(RedactPersonalData())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Only the atoms the log line prints, each redacted: a request's atoms hold every
        # header and environ value, and redacting them all cost more than a tracking
        # call's own work in Python.
        atoms = {
            k: redact(v) if isinstance(v, str) else v
            for k, v in ((k, atoms.get(k)) for k in _printed(self.cfg.access_log_format))
            if v is not None
        }
        # The bare query string (atom "q" and the QUERY_STRING environ atom) has no "?".
        for key in atoms:
            if (key == "q" or "query_string" in key.lower()) and atoms[key]:
                atoms[key] = "[redacted]"
        return atoms


@functools.cache
def _printed(log_format: str) -> tuple[str, ...]:
    """The atoms named in ``log_format`` (headers and environ keys as gunicorn keys them)."""
    names = re.findall(r"%\(([^)]+)\)", log_format)
    return tuple(n.lower() if n.startswith("{") else n for n in names)


logger_class = RedactingLogger
worker_class = "sync"
timeout = 60
# Access log on stdout unless told otherwise (GUNICORN_ACCESS_LOG=/path, or "" for none).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# Sync workers: one request, one database connection each at a time, so the connection
# count is bounded by the number of workers whatever the load (README "Operations").
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
