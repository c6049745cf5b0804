"""Settings for clerkgdpr.

Everything that differs between machines comes from the environment; see the
README's Configuration section for the full list.
"""

import hashlib
import os
from pathlib import Path

from clerkgdpr.runtime import database_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]

SHARED_APPS = [
    "django_tenants",
    "stores",
    "gdpr_dashboard",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "axes",
    # Serves the API docs' Swagger UI from our static files (CSP: no CDN, no inline script).
    "ninja",
]
TENANT_APPS = ["customers"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "stores.Store"
TENANT_DOMAIN_MODEL = "stores.Domain"
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

# The console's middleware. The store API's /v2/ calls (keys, not sessions; JSON, not
# pages) take a shorter list of their own, STORE_API_MIDDLEWARE below
# (clerkgdpr/store_api_lane.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (CSS, htmx) from the app server itself, DEBUG on or off (whitenoise).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Resets the connection to the public schema for every request; store
    # pages switch to the store's schema only after the membership check.
    "stores.middleware.PublicSchemaMiddleware",
    # The language saved on the signed-in user wins over cookie and Accept-Language.
    "stores.middleware.UserLanguageMiddleware",
    "axes.middleware.AxesMiddleware",
    # Content-Security-Policy on every response (dev and tests too, so a page
    # that needs an inline script fails in the browser tests, not in production).
    "csp.middleware.CSPMiddleware",
    # A database that is down or restarting answers 503 + Retry-After, not 500.
    "clerkgdpr.middleware.DatabaseUnavailableMiddleware",
    # The product's 404 page even with DEBUG on (clerkgdpr/error_pages.py); innermost, so
    # sessions, the user, the language and the CSP header are all there for it.
    "clerkgdpr.error_pages.ProductErrorPagesMiddleware",
]

ROOT_URLCONF = "clerkgdpr.urls"
WSGI_APPLICATION = "clerkgdpr.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stores.context_processors.console",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/clerkgdpr")
DATABASES = {"default": database_settings(DATABASE_URL)}
# One test database per checkout, so two work trees can test at once on one server.
# TEST_DATABASE_NAME names a database made beforehand (on Citus by `cluster.sh createdb`,
# since a plain CREATE DATABASE carries no Citus): the tests then use it as it is and
# leave it in place (tests/conftest.py).
TEST_DATABASE_NAME = os.environ.get("TEST_DATABASE_NAME", "")
DATABASES["default"]["TEST"] = {
    "NAME": TEST_DATABASE_NAME
    or "test_clerkgdpr_" + hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "stores.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Login throttling: five failures lock the e-mail + client address pair for 15 minutes
# (that user from that address; the same user elsewhere and others there log in).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_USERNAME_CALLABLE = "stores.auth.axes_username"
# The address a failure counts against. Behind a reverse proxy (BEHIND_PROXY, on in the
# production settings) every request comes from the proxy: the client is the right-most
# X-Forwarded-For entry, the one the proxy appended (entries to its left are whatever the
# client sent, so a forged header gains nothing). Without a proxy the header is the
# client's own invention and only REMOTE_ADDR counts. Read by django-ipware through axes.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if BEHIND_PROXY else ("REMOTE_ADDR",)
)
# A failed attempt is stored without its query and form data: `next` names the page asked
# for, a shopper's profile address included (stores/auth.py). The masked names are a
# second line, should the handler ever be swapped back.
AXES_HANDLER = "stores.auth.RequestDataFreeAxesHandler"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next", "q", "email", "customer", "visitor"]

# English, German and Danish: the user's saved choice (stores.middleware.UserLanguageMiddleware),
# else the language cookie set by the header's switcher, else Accept-Language.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("da", "Dansk")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Numbers as the language writes them: 1,234 in English, 1.234 in German and Danish.
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["clerkgdpr.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
# Development and tests serve straight from the apps' static folders; production serves
# what `manage.py collectstatic` gathered in STATIC_ROOT (clerkgdpr/settings_production.py).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

# Scripts and styles only from our own static files (htmx comes from django-htmx's
# static file): no inline scripts, no inline styles, no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Separates one checkout's (or one test run's) queues from another's on a shared Redis.
CELERY_KEY_PREFIX = os.environ.get("CELERY_KEY_PREFIX", "clerkgdpr")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Shared by every process (Redis): the API's per-key rate limit and the inventory
    # recount's debounce. Short timeouts: both fail open rather than hold a request up.
    # Keys hold store and key ids only, never a shopper's identifier.
    "shared": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # kombu's redis+socket:// is redis-py's unix://
        "LOCATION": REDIS_URL.replace("redis+socket://", "unix://", 1),
        "KEY_PREFIX": CELERY_KEY_PREFIX,
        "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "privacy@clerkgdpr.example")

# Where the data lives, as shown on the dashboard and the trust page.
PRIMARY_REGION = os.environ.get("PRIMARY_REGION", "Frankfurt, Germany (eu-central)")
BACKUP_REGION = os.environ.get("BACKUP_REGION", "Dublin, Ireland (eu-west)")
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", BASE_DIR / "var" / "backups"))
BACKUP_RETENTION_DAYS = 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Paths and query strings carry e-mails, visitor ids and API keys: see clerkgdpr/log_redaction.
    "filters": {"redact": {"()": "clerkgdpr.log_redaction.RedactPersonalData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # A logger's own filter runs before the record reaches any handler, Django's
        # default ones included (the "django" logger keeps its own console handler).
        "django.request": {"level": "WARNING", "filters": ["redact"]},
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "filters": ["redact"],
            "propagate": False,
        },
        "django.security.csrf": {"filters": ["redact"]},
    },
}

# Celery (clerkgdpr/celery.py reads every CELERY_* setting).
# The longest task (backup of a big store, expiry of millions of events) stays
# well under two hours; the visibility timeout must exceed it or Redis hands an
# unacknowledged task to a second worker.
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 60 * 60,
    "global_keyprefix": f"{CELERY_KEY_PREFIX}:",
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_ROUTES = {"customers.tasks.forget_*": {"queue": "forget"}}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Periodic work; every task here is idempotent and takes an advisory lock,
# so a second beat process does no harm.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Forget pipeline ---------------------------------------------------------------
# The sweeper re-queues forget requests stuck in received / queued / running
# (lost broker message, killed worker) for longer than this.
FORGET_STUCK_AFTER_SECONDS = float(os.environ.get("FORGET_STUCK_AFTER_SECONDS", "120"))
FORGET_SWEEP_INTERVAL_SECONDS = float(os.environ.get("FORGET_SWEEP_INTERVAL_SECONDS", "60"))
CELERY_BEAT_SCHEDULE["forget-sweep"] = {
    "task": "customers.tasks.forget_sweep",
    "schedule": FORGET_SWEEP_INTERVAL_SECONDS,
}

# --- Store API ---
# JSON errors, 413 and a last-resort error answer on /v2/ and /api/; outermost,
# so it also covers failures in the other middleware.
MIDDLEWARE.insert(0, "customers.api.middleware.ApiGuardMiddleware")
# Cache-Control: no-store, private on everything that may show a person (outermost).
MIDDLEWARE.insert(0, "clerkgdpr.middleware.PrivateResponsesMiddleware")
# What a /v2/ call goes through, in MIDDLEWARE's order: the guard, Cache-Control, the
# security headers, the host check, X-Frame-Options, the public schema and the
# database-down 503; none of the console's (static files, sessions, languages, CSRF,
# users, messages, htmx, login lockouts, CSP), so a tracking call never sets a cookie on
# a shopper's browser. StoreApiLane (outermost) hands /v2/ requests to it.
STORE_API_MIDDLEWARE = [
    "clerkgdpr.middleware.PrivateResponsesMiddleware",
    "customers.api.middleware.ApiGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "stores.middleware.PublicSchemaMiddleware",
    "clerkgdpr.middleware.DatabaseUnavailableMiddleware",
]
MIDDLEWARE.insert(0, "clerkgdpr.store_api_lane.StoreApiLane")
API_MAX_BODY_BYTES = 1024 * 1024
# Per-key fixed window in Redis: at most this many calls per window (0 = off). 200 calls/s,
# below what one 2-core host served before answers queued (230-330/s with gunicorn, 3 sync
# workers; the development server answered 503 from about 360/s): `python -m bench.saturation`.
API_RATE_LIMIT_REQUESTS = int(os.environ.get("API_RATE_LIMIT_REQUESTS", "2000"))
API_RATE_LIMIT_WINDOW = int(os.environ.get("API_RATE_LIMIT_WINDOW", "10"))

# --- GDPR dashboard ---
# Seconds within which inventory_refresh_soon() calls for one store collapse into one recount.
INVENTORY_REFRESH_DELAY = int(os.environ.get("INVENTORY_REFRESH_DELAY", "30"))
# Hourly catch-up of store inventories nobody asked to recount (store created in
# the admin, a missed inventory_refresh_soon call, a lost message).
CELERY_BEAT_SCHEDULE["inventory-refresh-stale"] = {
    "task": "customers.tasks.inventory_refresh_stale",
    "schedule": 60 * 60,
}

# --- Store schemas ---
# Store schemas made ahead (stores/schemas.py): a new store takes one in a catalog update
# instead of replaying the DDL (~35 index builds, one fsync each).
SPARE_SCHEMAS = int(os.environ.get("SPARE_SCHEMAS", "20"))
CELERY_BEAT_SCHEDULE["spare-schemas-fill"] = {
    "task": "customers.tasks.spare_schemas_fill",
    "schedule": 60,
    "options": {"queue": "maintenance"},
}

# --- Retention expiry and backups ------------------------------------------
# After each expiry batch, pause for this share of the batch's time (1.5: a batch of
# 100 ms is followed by 150 ms of rest), so ingestion keeps its cores during expiry.
RETENTION_PAUSE_RATIO = float(os.environ.get("RETENTION_PAUSE_RATIO", "1.5"))
# Nightly per-store work is spread over this many seconds, NIGHTLY_CHUNK stores per step;
# a step waits while more than NIGHTLY_MAX_QUEUED messages wait on the queue.
NIGHTLY_WINDOW_SECONDS = float(os.environ.get("NIGHTLY_WINDOW_SECONDS", "3600"))
NIGHTLY_CHUNK = int(os.environ.get("NIGHTLY_CHUNK", "20"))
NIGHTLY_MAX_QUEUED = int(os.environ.get("NIGHTLY_MAX_QUEUED", "100"))
# Nightly, staggered: expiry first (so backups hold less), then backups, then the
# purge of backups past BACKUP_RETENTION_DAYS. Each per-store task takes an advisory lock.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE.update(
    {
        "retention-expire-all": {
            "task": "customers.tasks.retention_expire_all",
            "schedule": crontab(hour=2, minute=15),
            "options": {"queue": "maintenance"},
        },
        "backup-all": {
            "task": "customers.tasks.backup_all",
            "schedule": crontab(hour=3, minute=30),
            "options": {"queue": "maintenance"},
        },
        "backup-purge": {
            "task": "customers.tasks.backup_purge",
            "schedule": crontab(hour=5, minute=0),
            "options": {"queue": "maintenance"},
        },
    }
)
