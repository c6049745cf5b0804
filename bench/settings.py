"""The benchmark's web settings: the product's, plus the floor view's URLconf (bench/urls.py).

Only the benchmark's gunicorn runs with these; production never mounts the floor view.
"""

from clerkgdpr.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
