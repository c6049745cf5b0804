"""Imported first by the harness's programs: Django set up as ``manage.py`` does it.

Settings ``clerkgdpr.settings``; without DATABASE_URL / REDIS_URL the embedded servers
(owned by this process while it runs), else one readable line if PostgreSQL cannot be
reached. Under pytest Django is ready already and this does nothing.
"""

import os

import django
from django.apps import apps

from clerkgdpr.runtime import check_database, ensure_services

if not apps.ready:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clerkgdpr.settings")
    ensure_services()
    check_database(os.environ["DATABASE_URL"])
    django.setup()
