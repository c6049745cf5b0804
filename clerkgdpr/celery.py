"""The Celery app.

tenant-schemas-celery's CeleryApp stamps every task with the schema that was
active when it was sent, and the worker switches to that schema before running
it.  Privacy jobs also take the store id explicitly and check it (see
customers.tasks), because a task sent without the header silently runs in
``public``.  Configuration lives in settings (``CELERY_*``), read lazily.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clerkgdpr.settings")

app = CeleryApp("clerkgdpr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
