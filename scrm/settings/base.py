"""Core settings: security, apps, database, cache, storage, API, logging."""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from scrm.settings.env import env, env_bool

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-secret-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
# Our public base URL. Absolute links (the OAuth redirect_uri, card images, app-message links) are built
# from it, never from the request: behind a load balancer the request says http and an internal host.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_URL_IS_HTTPS = SITE_URL.startswith("https://")
_site = urlsplit(SITE_URL)
SITE_ORIGIN = f"{_site.scheme}://{_site.netloc}"
# A TLS-terminating load balancer not on loopback makes the browser's Origin https://host while Django
# sees http: trust our own public origin by default, so the console's login POST is not a 403.
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", SITE_ORIGIN).split(",") if o.strip()]
# The header the load balancer sets to say the client used https, e.g. X-Forwarded-Proto. Only set it
# when the proxy overwrites that header (clients could otherwise claim https); gunicorn's own
# FORWARDED_ALLOW_IPS says which proxies it believes.
_proxy_ssl_header = env("SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
# Redirect http to https only when we can tell (SITE_URL is https and the proxy says which it was);
# the probes answer before the redirect (scrm.health.probe_middleware), over plain http too.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SITE_URL_IS_HTTPS and bool(SECURE_PROXY_SSL_HEADER))
# Key of the keyed hash that lets us match phone numbers without storing them in clear.
PHONE_HASH_KEY = env("PHONE_HASH_KEY", SECRET_KEY)
# When a phone joins two records (scrm.customers.identity_keys): verified (default) | strict | merge.
IDENTITY_PHONE_POLICY = env("IDENTITY_PHONE_POLICY", "verified")

# The WeCom simulator (and demo logins through it) is for dev and tests: it signs anyone in as any
# member. With DEBUG off it refuses to start unless this loudly named override says otherwise.
WECOM_SIMULATOR = env_bool("WECOM_SIMULATOR", DEBUG)
SIMULATOR_OVERRIDE = "WECOM_SIMULATOR_UNSAFE_IN_PRODUCTION"
if WECOM_SIMULATOR and not DEBUG and env(SIMULATOR_OVERRIDE) != "yes-i-know":
    raise ImproperlyConfigured(
        f"WECOM_SIMULATOR is on while DEBUG is off: the simulator signs anyone in as any member. "
        f"Set WECOM_SIMULATOR=false, or {SIMULATOR_OVERRIDE}=yes-i-know for a throw-away demo server."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "scrm.org",
    "scrm.customers",
    "scrm.materials",
    "scrm.wecom",
    # Dev/test only: installed (tables, admin, URLs) only with the simulator on.
    *(["scrm.wecom.simulator"] if WECOM_SIMULATOR else []),
    # Dev only: the demo brand and seed_demo (public demo passwords) never exist in production.
    *(["scrm.devtools"] if DEBUG else []),
    "scrm.console",
    "scrm.analytics",
    "scrm.api",
    "scrm.handover",
    "scrm.products",
    "scrm.today",
    "scrm.privacy",
    "scrm.livecodes",
    "scrm.segments",
    "scrm.taskcards",
    "sidebar",
]

MIDDLEWARE = [
    # First: the request id is on every log line below, and the latency covers the whole stack.
    "scrm.observe.requestid.request_id_middleware",
    "scrm.observe.metrics.metrics_middleware",
    # Before the Host check: probes come by the node's address.
    "scrm.health.probe_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, which serves static files pre-compressed; this compresses HTML and JSON only.
    "scrm.compress.compress_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After XFrameOptionsMiddleware in this list, so it answers first: console DENY, sidebar by CSP.
    "scrm.security.AreaCSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # PostgreSQL unreachable: views answer 503 + Retry-After ("try again"), not the 500 page.
    "scrm.outage.DatabaseOutageMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "scrm.urls"
WSGI_APPLICATION = "scrm.wsgi.application"

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
            ],
            "libraries": {"money": "scrm.money"},
        },
    }
]

# Persistent connections: a new PostgreSQL connection costs 9–12 ms of a request, so a sidebar idle for
# a minute must not pay it again (#17). Health checks drop a connection the server closed before reuse.
# DB_CONN_MAX_AGE=<seconds> limits the age, 0 closes after each request (behind pgbouncer).
_conn_max_age = env("DB_CONN_MAX_AGE", "none").strip().lower()
DB_CONN_MAX_AGE = None if _conn_max_age in {"none", ""} else int(_conn_max_age)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=DB_CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the dev server and a worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Behind pgbouncer in transaction pooling, a connection is shared between transactions: no server-side
# cursors (QuerySet.iterator) and no prepared statements may outlive one. Set DB_CONN_MAX_AGE=0 as well.
PGBOUNCER_TRANSACTION_POOLING = env_bool("PGBOUNCER_TRANSACTION_POOLING", False)
# A streaming replica for the console's figures (the analytics rollups); writes and everything else stay
# on the primary (scrm.db_router).
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True
    )
    # Tests run against the primary's test database only.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["scrm.db_router.ReplicaRouter"]
for _database in DATABASES.values():
    if PGBOUNCER_TRANSACTION_POOLING and _database["ENGINE"].endswith("postgresql"):
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
        _database.setdefault("OPTIONS", {})["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL; SQLite, the dev default, simply ignores the extra columns.
SILENCED_SYSTEM_CHECKS = [
    "models.W040",
    # We lock by username on purpose (see AXES_LOCKOUT_PARAMETERS); rotating headers does not help there.
    "axes.W006",
    # `check --deploy` decisions, each on purpose: the sidebar must be framed by WeCom (frame-ancestors per
    # area in scrm.security; the console answers DENY), and HSTS stays on our host only, without the
    # preload list: the brand's other subdomains may still serve http, and preloading cannot be undone.
    "security.W019",
    "security.W005",
    "security.W021",
]

# The Celery broker. Production gives the cache its own database or instance (CACHE_REDIS_URL): the broker
# needs maxmemory-policy noeviction (an evicted task is lost), a cache wants allkeys-lru.
REDIS_URL = env("REDIS_URL")
CACHE_REDIS_URL = env("CACHE_REDIS_URL", REDIS_URL)
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            # A Redis outage degrades to no cache (sessions come from the database), never a 500.
            "BACKEND": "scrm.cache.ResilientRedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "scrm"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    # Without Redis the dev server is one process, so a local-memory cache is shared enough.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 7
# The sidebar lives in WeCom's webview and, in dev, in an iframe of /dev/chat/ on the same origin.
X_FRAME_OPTIONS = "SAMEORIGIN"
# A strict CSP: scripts only from our own static (no inline script, no eval); styles may be inline
# (templates carry small <style> blocks); avatars come from WeCom's image hosts over https.
# Framing is set per area in scrm.security (sidebar: WeCom's origins; console: never).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
WECOM_FRAME_ANCESTORS = env("WECOM_FRAME_ANCESTORS", "https://work.weixin.qq.com https://*.work.weixin.qq.com").split()
# HSTS once the site is served over https (browsers then refuse plain http for a year).
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if SITE_URL_IS_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LOGIN_URL = "/console/login/"

# The backend includes django-axes' check: a username is refused after AXES_FAILURE_LIMIT wrong
# passwords (console, admin and the API's Basic auth alike) until AXES_COOLOFF_TIME has passed.
# Locking by username, not IP, works behind a load balancer and against rotating addresses.
AUTHENTICATION_BACKENDS = ["scrm.org.backends.StaffModelBackend"]
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "zh-hans"
# Guides read Chinese whatever their phone's language: no Accept-Language negotiation
# (no LocaleMiddleware), so Django's own messages (form errors) are Chinese too.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The image collects static files at build time into its own STATIC_ROOT (outside the data volume).
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploads: on local disk (web and every worker must then share MEDIA_ROOT, e.g. one NFS/CFS mount or
# one host), or on S3-compatible object storage such as Tencent COS (STORAGE_BACKEND=s3).
STORAGE_BACKEND = env("STORAGE_BACKEND", "local")
if STORAGE_BACKEND not in {"local", "s3"}:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be local or s3, not {STORAGE_BACKEND!r}")
_media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if STORAGE_BACKEND == "s3":
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            # COS: https://cos.<region>.myqcloud.com
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "region_name": env("S3_REGION") or None,
            "access_key": env("S3_ACCESS_KEY_ID"),
            "secret_key": env("S3_SECRET_ACCESS_KEY"),
            # A CDN or the bucket's public domain; cards sent to customers link there.
            "custom_domain": env("S3_CUSTOM_DOMAIN") or None,
            # COS wants virtual-hosted addressing (bucket.cos.<region>.myqcloud.com).
            "addressing_style": "virtual",
            "querystring_auth": env_bool("S3_QUERYSTRING_AUTH", False),
            "file_overwrite": False,
            "location": env("S3_LOCATION", "media"),
        },
    }
# collectstatic also writes .gz copies and WhiteNoise serves them: the sidebar's cold load (htmx and
# WeCom's JS-SDK) is about a third of its raw size on a guide's phone. The manifest gives every file a
# content-hashed name, which WhiteNoise serves as cacheable for ever: a warm reopen of the sidebar
# asks for no static file at all, and a deploy changes the names (#17). Tests use the plain storage
# (tests/conftest.py) except where they run collectstatic themselves.
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Django serves uploads itself unless a web server or object storage does (then SERVE_MEDIA=false).
SERVE_MEDIA = env_bool("SERVE_MEDIA", STORAGE_BACKEND == "local")
# A form posted with a stale CSRF token gets the Chinese 403 page with a way back.
CSRF_FAILURE_VIEW = "scrm.org.views.csrf_failure"
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# HTTP Basic auth on /api/v1/ is a dev convenience for admins; production uses API keys only.
API_BASIC_AUTH = env_bool("API_BASIC_AUTH", DEBUG)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Brand systems use API keys (read or write); admins their session or Basic auth.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scrm.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "scrm.api.auth.DevBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["scrm.api.auth.ApiKeyScope"],
    "DEFAULT_PARSER_CLASSES": ["scrm.api.parsers.JSONParser"],
    # JSON only: every answer is what the schema documents (browse it at /api/v1/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "scrm.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    # Per API key (or staff member): a runaway client slows itself, not every other brand system.
    "DEFAULT_THROTTLE_CLASSES": ["scrm.api.auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE_LIMIT", "1200/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "导购侧边栏 SCRM API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "scrm.api.schema.error_responses",
        "scrm.api.docs.describe",
    ],
    # The schema and /api/v1/docs/ need an API key or an admin's login, unless API_DOCS_PUBLIC=true.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if env_bool("API_DOCS_PUBLIC", False) else "scrm.api.auth.ApiKeyScope"
    ],
    # The interactive docs load Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets shared by several fields get one stable name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "scrm.customers.events.Channel",
        "OrderStatusEnum": "scrm.customers.models.OrderStatus",
        "EventResultStatusEnum": ["created", "duplicate", "error"],
    },
}

# The sidebar's 推荐 list ranks from an in-memory snapshot of the library; popularity (send counts)
# in it is at most this many seconds old (edits and publishing show at once).
MATERIAL_RANKING_TTL = int(env("MATERIAL_RANKING_TTL", "60"))

# Observability. /readyz answers 503 when a callback or a tag push has waited longer than these (seconds):
# the sweeps run every minute, so minutes of waiting mean no worker is consuming.
READYZ_INBOX_MAX_AGE = int(env("READYZ_INBOX_MAX_AGE", "600"))
# Tag pushes back off up to 10 minutes between attempts after a WeCom rate limit.
READYZ_OUTBOX_MAX_AGE = int(env("READYZ_OUTBOX_MAX_AGE", "3600"))
# /readyz says WeCom is failing when, over the last READYZ_WECOM_WINDOW seconds, at least
# READYZ_WECOM_MIN_FAILURES calls failed (5xx, timeouts, rate limits, garbage) and no more succeeded.
READYZ_WECOM_WINDOW = int(env("READYZ_WECOM_WINDOW", "300"))
READYZ_WECOM_MIN_FAILURES = int(env("READYZ_WECOM_MIN_FAILURES", "5"))
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without a token it is a 404.
METRICS_TOKEN = env("METRICS_TOKEN")
# prometheus_client's multiprocess mode (gunicorn workers, Celery's pool): read by prometheus_client
# itself at import; read here to know which registry to serve.
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)  # every process writes its file there
# Errors to Sentry (often self-hosted) only when a DSN is given.
SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env("SENTRY_TRACES_SAMPLE_RATE", "0")),
        # Customers' names and phone numbers must not leave for a third party.
        send_default_pii=False,
    )

# Every line has time, level, logger and request id; LOG_FORMAT=json writes one JSON object per line
# (for CLS or any log service), text otherwise.
LOG_FORMAT = env("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "scrm.observe.requestid.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "scrm.observe.requestid.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
