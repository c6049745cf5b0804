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

# Atoms gunicorn makes of numbers, the clock and the process: nothing to redact.
_NUMBERS = frozenset({"l", "t", "s", "b", "B", "T", "D", "M", "L", "p"})
# The atoms of gunicorn's default format, computed here as gunicorn computes them, without
# its dictionary of every header and environ value (most of a log line's cost).
_DEFAULT_FORMAT_ATOMS = frozenset({"h", "l", "u", "t", "r", "s", "b", "f", "a"})


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # Error log lines ("Invalid request from ...: <request line>") name paths too: each
        # is redacted whole. Access log lines are redacted atom by atom (atoms()).
        if not any(isinstance(f, RedactPersonalData) for f in self.error_log.filters):
            self.error_log.addFilter(RedactPersonalData())

    def atoms(self, resp, req, environ, request_time):
        names = _printed(self.cfg.access_log_format)
        if _DEFAULT_FORMAT_ATOMS.issuperset(names):
            source = self._default_format_atoms(resp, environ)
        else:
            source = super().atoms(resp, req, environ, request_time)
        # Only the atoms the log line prints, each redacted: paths, query strings, the
        # referrer, headers and environ values may all name a person or carry a key.
        atoms = {}
        for name in names:
            value = source.get(name)
            if value is None:
                continue
            if isinstance(value, str) and name not in _NUMBERS:
                # The bare query string (atom "q", the QUERY_STRING environ atom) has no "?".
                if name == "q" or "query_string" in name.lower():
                    value = "[redacted]" if value else value
                else:
                    value = redact(value)
            atoms[name] = value
        return atoms

    def _default_format_atoms(self, resp, environ) -> dict:
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",
            "t": self.now(),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status,
            "b": sent is not None and str(sent) or "-",
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
        }


@functools.cache
def _printed(log_format: str) -> tuple[str, ...]:
    """The atoms named in ``log_format`` (headers and environ keys as gunicorn keys them)."""
    names = re.findall(r"%\(([^)]+)\)", log_format)
    return tuple(n.lower() if n.startswith("{") else n for n in names)


logger_class = RedactingLogger
# gunicorn's sync worker, woken alone for each new connection (clerkgdpr/gunicorn_worker.py).
worker_class = "clerkgdpr.gunicorn_worker.ExclusiveSyncWorker"
timeout = 60
# Access log on stdout unless told otherwise (GUNICORN_ACCESS_LOG=/path, or "" for none).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# Sync workers: one request, one database connection each at a time, so the connection
# count is bounded by the number of workers whatever the load (README "Operations").
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
