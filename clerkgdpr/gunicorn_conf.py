"""gunicorn settings: ``gunicorn -c python:clerkgdpr.gunicorn_conf clerkgdpr.wsgi``.

Access log lines go through the same redaction as Django's request logs:
paths and query strings carry e-mails, visitor ids and private API keys.
"""

from gunicorn.glogging import Logger

from clerkgdpr.log_redaction import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms = {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
        # The bare query string (atom "q" and the QUERY_STRING environ atom) has no "?".
        for key in atoms:
            if (key == "q" or "query_string" in key.lower()) and atoms[key]:
                atoms[key] = "[redacted]"
        return atoms


logger_class = RedactingLogger
worker_class = "sync"
timeout = 60
