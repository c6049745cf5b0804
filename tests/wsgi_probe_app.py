"""A WSGI app that answers with the serving process's id (``/slow``: after 0.3 s), for the
tests of the gunicorn worker class (tests/test_gunicorn_worker.py)."""

import os
import time


def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.3)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
