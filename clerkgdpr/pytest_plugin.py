"""Loaded by pytest before Django (``-p clerkgdpr.pytest_plugin`` in pyproject).

Without DATABASE_URL / REDIS_URL the test run starts the embedded servers
itself and owns them until it ends, exactly like ``make run``.  Each run gets
its own Celery key prefix, so a run never consumes another run's tasks on a
shared Redis.
"""

import os
import uuid

from clerkgdpr.runtime import ensure_services

ensure_services()
os.environ.setdefault("CELERY_KEY_PREFIX", f"clerkgdpr-test-{uuid.uuid4().hex[:8]}")
# Playwright's sync API keeps an event loop running in the test thread; Django
# would refuse ORM calls there. Tests only: the app itself never runs async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
