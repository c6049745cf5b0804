"""The WSGI application (gunicorn, clerkgdpr/gunicorn_conf.py).

Everything loaded until here (Django, the apps, URLconf, templates' modules) lives as long
as the process: ``gc.freeze()`` moves it out of the cyclic garbage collector's sight, so a
full collection in the middle of a request walks only what requests made (a page over a
thousand stores paid 50-70 ms for each one that walked everything).
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clerkgdpr.settings")
application = get_wsgi_application()
gc.freeze()
