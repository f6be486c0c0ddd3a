"""Settings for the OMS.

Complete for development (SQLite, DEBUG on). Production and CI differ only through
environment variables, all read in this one place:

DATABASE_URL   default sqlite:///<project>/db.sqlite3
SECRET_KEY     required when DEBUG is off
DEBUG          "1"/"true" to enable (default on for development)
ALLOWED_HOSTS  comma separated
Q_BROKER       "orm" (default) or a redis:// URL for django-q2
Q_SYNC         "1" runs django-q2 tasks synchronously (tests)
REDIS_URL      redis:// URL of the shared cache (API throttling); default: the database
NUM_PROXIES    proxies in front of the app that append to X-Forwarded-For (default 0:
               the client is REMOTE_ADDR); throttles and the login lockout key on it
OMS_API_DOCS_PUBLIC  "1" serves /api/schema/ and /api/docs/ without a login (default: DEBUG)
OMS_LOGIN_FAILURE_LIMIT / OMS_LOGIN_COOLOFF_MINUTES  staff and admin login lockout (5, 15)
OMS_MAX_UPLOAD_MB  largest CSV upload on the imports page (default 50)
MEDIA_ROOT     where uploaded files are kept (default <project>/media)
OMS_WEBHOOK_TIMEOUT_SECONDS / _MAX_ATTEMPTS / _BACKOFF_SECONDS  outgoing webhook delivery
OMS_PUBLIC_URL base URL shown with the channel intake URLs in the admin
EMAIL_HOST     SMTP server for customer e-mails (unset: printed to the console);
               EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
               EMAIL_USE_SSL, DEFAULT_FROM_EMAIL go with it
OMS_PUBLIC_URL base URL of the customer tracking links in e-mails
OMS_SERVICE_LEVEL  target service level of the safety stock (0.95); OMS_FORECAST_* and
               OMS_REPLENISHMENT_REVIEW_DAYS tune the forecast (see below)
"""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "dev-insecure-key-only-for-local-development" if DEBUG else ""
)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "oms.admin_apps.OmsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "import_export",
    "django_q",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Login lockout (staff login, admin login, API token login): failed attempts per
    # (username, address), a cooling-off period, and the attempts kept as an audit log.
    "axes",
    # Content-Security-Policy header (policy below).
    "csp",
    # The kernel below the apps (label "oms": its tables and migrations keep that name),
    # then the project itself (template tags, static files, commands; label "oms_site").
    "kernel",
    "oms",
    "inventory",
    "orders",
    "fulfillment",
    "returns",
    "intake",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "kernel.security.SecurityHeadersMiddleware",
    "kernel.security.BodyTooLargeMiddleware",
    "oms.middleware.DatabaseUnavailableMiddleware",
    # last, as django-axes asks: turns a locked-out login into its lockout page
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # refuses a locked-out (username, address) before the password is even checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oms.context_processors.layout",
                "kernel.roles.roles_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        # A persistent connection is checked before reuse, so a backend terminated
        # between requests costs a reconnect, not a failed request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "DB_SERVER_SIDE_BINDING", "1"
) not in ("0", ""):
    # Parameters travel apart from the statement text (server-side binding), so the
    # statements a request repeats (placement's reads and writes) are prepared once per
    # connection by psycopg after DB_PREPARE_THRESHOLD runs and planned once, not parsed
    # and planned anew on every call. DB_SERVER_SIDE_BINDING=0 goes back to Django's
    # default (values inlined by the client); needed behind a transaction-pooling
    # PgBouncer older than 1.21, which cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": int(os.environ.get("DB_PREPARE_THRESHOLD", "5")),
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the q2 cluster share the demo file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Staff pages and PDFs follow the user's browser (Accept-Language) among LANGUAGES, else
# LANGUAGE_CODE. One date format per language across pages, admin and imports
# (oms/formats/<lang>/formats.py); money as the language writes it (R$ 302,70 in pt-BR).
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["oms.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files from the app server (no separate file server needed);
# in production the hashed, compressed copies made by collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Development and tests run without collectstatic: serve from the app folders instead
# of warning about the missing STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")

# Production hardening (DEBUG off): HTTPS only, secure cookies, HSTS. Behind a proxy
# that terminates TLS, it must set X-Forwarded-Proto.
if not DEBUG:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/start/"  # managers land on the dashboard, floor staff at home

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oms.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_SCHEMA_CLASS": "kernel.schema.AutoSchema",
    "EXCEPTION_HANDLER": "kernel.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "20/min", "intake": "600/min"},
    # Throttles key on the client address the trusted proxy saw: with N proxies, the
    # N-th address from the right of X-Forwarded-For; with 0, REMOTE_ADDR (the header,
    # which any client can write, is then ignored). Same reading for the login lockout.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": "Orders, stock, fulfillment and returns. Token auth: "
    "`Authorization: Token <key>`. Natural keys in URLs (sku, warehouse code, numbers).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # A login is needed for the schema and the docs unless OMS_API_DOCS_PUBLIC is on.
    "SERVE_PERMISSIONS": ["kernel.security.ApiDocsPermission"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "ShipmentStatusEnum": "fulfillment.models.Shipment.Status",
        "ReturnStatusEnum": "returns.models.ReturnRequest.Status",
        "FinancialStatusEnum": "orders.models.Order.FinancialStatus",
        "PaymentKindEnum": "orders.models.Payment.Kind",
        "PlacementFinancialStatusEnum": ["pending", "authorized", "paid"],
    },
}

# Shared cache (API throttling counts): every gunicorn worker and host must see the same
# counters, so a per-process memory cache would multiply each limit by the number of
# processes. The database by default (table ``oms_cache``, created by the migrations and
# by ``manage.py createcachetable``); Redis when REDIS_URL is set. django-q2's cluster
# statistics stay in process memory ("q2").
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "oms_cache",
            # one row per client and scope; expired rows go when the table passes this
            # (Django's default, 300, would drop live counters of busy minutes)
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
CACHES["q2"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}

# Login lockout (django-axes): after OMS_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused for OMS_LOGIN_COOLOFF_MINUTES (429 and
# a page saying so). Keyed on the pair, so an attacker elsewhere cannot lock a manager
# out of their own address; the lock lifts by itself after the cool-off, or at once with
# ``manage.py axes_reset_username <name>``. Every failure is kept in the admin (Axes:
# access attempts, access failures) with the address and the user agent.
AXES_FAILURE_LIMIT = int(os.environ.get("OMS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("OMS_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "kernel.security.client_ip"
AXES_LOCKOUT_CALLABLE = "kernel.security.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False

# Content-Security-Policy (django-csp 4): scripts only from our own static files (htmx,
# floor.js, the admin's and the bundled Swagger UI's), no inline script, no eval;
# inline style attributes are allowed (the pages and Swagger UI use them; they cannot run
# code). Nothing may frame the pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

Q_BROKER = os.environ.get("Q_BROKER", "orm")
Q_CLUSTER = {
    "name": "oms",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    # A task whose worker died is handed out again after ``retry`` seconds.
    "timeout": int(os.environ.get("Q_TIMEOUT", "300")),
    "retry": int(os.environ.get("Q_RETRY", "360")),
    "max_attempts": 5,
    "queue_limit": 50,
    "bulk": 10,
    "sync": _env_bool("Q_SYNC", False),
    "catch_up": False,
    "cache": "q2",
}
if Q_BROKER.startswith("redis://"):
    Q_CLUSTER["redis"] = Q_BROKER
else:
    Q_CLUSTER["orm"] = "default"

# Channel sync (intake.sync): Shopify GraphQL Admin API version; HTTP seconds per
# attempt and attempts (timeouts and 5xx retried with backoff from OMS_CHANNEL_BACKOFF
# seconds); 429 / THROTTLED waits (each at most OMS_CHANNEL_MAX_WAIT seconds, at most
# OMS_CHANNEL_THROTTLE_RETRIES of them); a failed SKU or message is retried
# OMS_CHANNEL_RETRY_SECONDS * 2**(attempts-1) later, capped at OMS_CHANNEL_RETRY_MAX_SECONDS.
OMS_SHOPIFY_API_VERSION = os.environ.get("OMS_SHOPIFY_API_VERSION", "2026-04")
OMS_CHANNEL_TIMEOUT = float(os.environ.get("OMS_CHANNEL_TIMEOUT", "10"))
OMS_CHANNEL_ATTEMPTS = int(os.environ.get("OMS_CHANNEL_ATTEMPTS", "4"))
OMS_CHANNEL_BACKOFF = float(os.environ.get("OMS_CHANNEL_BACKOFF", "0.5"))
OMS_CHANNEL_MAX_WAIT = float(os.environ.get("OMS_CHANNEL_MAX_WAIT", "30"))
OMS_CHANNEL_THROTTLE_RETRIES = int(os.environ.get("OMS_CHANNEL_THROTTLE_RETRIES", "10"))
OMS_CHANNEL_RETRY_SECONDS = int(os.environ.get("OMS_CHANNEL_RETRY_SECONDS", "30"))
OMS_CHANNEL_RETRY_MAX_SECONDS = int(os.environ.get("OMS_CHANNEL_RETRY_MAX_SECONDS", "3600"))

# Routing strategy used when a channel does not name one.
OMS_DEFAULT_ROUTING_STRATEGY = os.environ.get("OMS_DEFAULT_ROUTING_STRATEGY", "priority")

# Exchange rates for comparing prices in one currency (routing's cost strategy, rate
# shopping): "USD/EUR=0.92,BRL/EUR=0.17" means 1 USD = 0.92 EUR (the reverse is
# implied). Without a rate, prices in another currency are not compared, and the
# routing event or the rate choice says so.
OMS_EXCHANGE_RATES: dict[str, str] = {
    pair.strip().upper(): rate.strip()
    for pair, _, rate in (
        item.partition("=") for item in os.environ.get("OMS_EXCHANGE_RATES", "").split(",")
    )
    if pair.strip() and rate.strip()
}

# Delay detection (orders.delays): an unshipped order with less than this many hours
# before its ship-by is at risk; a point that shipped nothing in 14 days is assumed to
# ship this many shipments per business day.
OMS_DEFAULT_SHIPMENTS_PER_DAY = float(os.environ.get("OMS_DEFAULT_SHIPMENTS_PER_DAY", "10"))
# Forecast and replenishment (inventory.forecasting, inventory.replenishment).
OMS_FORECAST_HISTORY_DAYS = int(os.environ.get("OMS_FORECAST_HISTORY_DAYS", "365"))
OMS_FORECAST_HOLDOUT_DAYS = int(os.environ.get("OMS_FORECAST_HOLDOUT_DAYS", "28"))
OMS_FORECAST_INTERMITTENT_ZERO_SHARE = float(
    os.environ.get("OMS_FORECAST_INTERMITTENT_ZERO_SHARE", "0.5")
)
OMS_SERVICE_LEVEL = float(os.environ.get("OMS_SERVICE_LEVEL", "0.95"))
OMS_REPLENISHMENT_REVIEW_DAYS = int(os.environ.get("OMS_REPLENISHMENT_REVIEW_DAYS", "14"))

# CSV imports: the largest file the staff imports page accepts, in MB; uploaded files
# are kept under MEDIA_ROOT/imports/ for the background job (and as a record).
OMS_MAX_UPLOAD_MB = int(os.environ.get("OMS_MAX_UPLOAD_MB", "50"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# Outgoing webhooks (kernel.webhooks): HTTP timeout per attempt, attempts before giving up,
# backoff base (attempt n waits base * 2**(n-1) seconds, capped); 0 retries at once.
OMS_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("OMS_WEBHOOK_TIMEOUT_SECONDS", "10"))
OMS_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("OMS_WEBHOOK_MAX_ATTEMPTS", "6"))
OMS_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("OMS_WEBHOOK_BACKOFF_SECONDS", "30"))
OMS_WEBHOOK_BACKOFF_MAX_SECONDS = 3600.0
# Channel intake (intake.inbound): the replaced secret stays valid this long after a
# rotation; the public base URL shown with the intake URLs in the admin.
OMS_INTAKE_SECRET_GRACE_HOURS = int(os.environ.get("OMS_INTAKE_SECRET_GRACE_HOURS", "24"))
OMS_PUBLIC_URL = os.environ.get("OMS_PUBLIC_URL", "").rstrip("/")
# The OpenAPI schema (/api/schema/) and its docs (/api/docs/) without a login.
OMS_API_DOCS_PUBLIC = _env_bool("OMS_API_DOCS_PUBLIC", DEBUG)

# Customer e-mails (shipped, delivered, return received, refund): the console by default,
# SMTP when EMAIL_HOST is set.
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", not _env_bool("EMAIL_USE_SSL", False))
    EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OMS Store <orders@example.com>")
OMS_PUBLIC_URL = os.environ.get("OMS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
OMS_COMPANY_NAME = os.environ.get("OMS_COMPANY_NAME", "OMS Store")
# The sender's phone on courier bookings that need one (EasyParcel).
OMS_COMPANY_PHONE = os.environ.get("OMS_COMPANY_PHONE", "")
# Where the demo's EasyParcel carrier finds the development fake ``make run`` starts.
OMS_DEMO_EASYPARCEL_URL = os.environ.get("OMS_DEMO_EASYPARCEL_URL", "http://127.0.0.1:8765")
# A cycle count this far from on_hand (both: units and percent) asks for confirmation and
# a reason code before it is written.
OMS_COUNT_CONFIRM_UNITS = int(os.environ.get("OMS_COUNT_CONFIRM_UNITS", "10"))
OMS_COUNT_CONFIRM_PERCENT = float(os.environ.get("OMS_COUNT_CONFIRM_PERCENT", "20"))
# Days after delivery a customer may send items back (packing slips and e-mails say so).
OMS_RETURN_DAYS = int(os.environ.get("OMS_RETURN_DAYS", "30"))
# A failed e-mail is tried again this many times in all, minutes apart (doubling).
OMS_NOTIFICATION_ATTEMPTS = 4
OMS_NOTIFICATION_RETRY_MINUTES = 5

# Carriers (fulfillment.carriers): HTTP timeout in seconds, attempts per call (timeouts,
# refused connections and 5xx are retried) and the first backoff in seconds (doubling).
OMS_CARRIER_TIMEOUT = float(os.environ.get("OMS_CARRIER_TIMEOUT", "5"))
OMS_CARRIER_ATTEMPTS = int(os.environ.get("OMS_CARRIER_ATTEMPTS", "3"))
OMS_CARRIER_BACKOFF = 0.5
# Rate shopping: the delivery promise is the order's ship_by plus this many business days
# for the channels named here; other channels promise the transit time of the cheapest
# service to the destination (what a checkout quoting "standard shipping" promises).
OMS_DELIVERY_PROMISE_DAYS: dict[str, int] = {}
# Documents: a batch of this many pages or more (a wave of packing slips) is rendered in
# this many processes and merged into one PDF.
OMS_DOCUMENT_PROCESSES = int(os.environ.get("OMS_DOCUMENT_PROCESSES", "2"))
OMS_DOCUMENT_PARALLEL_MIN_PAGES = 16

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
