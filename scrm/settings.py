"""Settings come from environment variables only; every one is listed in .env.example."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue


def env(name: str, default: str = "") -> str:
    # Empty means unset: `.env.example` lists every key, most of them blank, and Docker's --env-file and
    # systemd's EnvironmentFile pass a blank line through as an empty string.
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
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

# Celery: with no broker configured, tasks run inline so `make run` needs no Redis.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Redis redelivers an unacknowledged task after visibility_timeout: longer than the longest task
# (the nightly sync, 3 h) and the longest retry countdown, or a slow task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "socket_connect_timeout": 2, "visibility_timeout": 4 * 3600}
# A stuck WeCom call or query must not hold a worker for ever; long jobs set their own limits.
CELERY_TASK_SOFT_TIME_LIMIT = int(env("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_TIMEZONE = TIME_ZONE
# Queues by job, so a nightly sync or rollup never delays a callback: `fast` (callbacks, tag pushes,
# per-customer refreshes, hand-over sends, urgent pushes; seconds matter) and `slow` (sync, rollups,
# media, nightly sweeps, digests) and `welcome`: WeCom's WelcomeCode lives 20 seconds, so welcomes (and
# live-code user-list pushes) have their own threaded pool that never waits behind anything. A worker
# without -Q consumes all three (dev); production runs one pool each.
CELERY_TASK_DEFAULT_QUEUE = "fast"
CELERY_TASK_QUEUES = (Queue("fast"), Queue("slow"), Queue("welcome"))
CELERY_TASK_ROUTES = {
    "scrm.livecodes.tasks.send_welcome": {"queue": "welcome"},
    "scrm.livecodes.tasks.sync_code": {"queue": "welcome"},
    "scrm.wecom.tasks.wecom_sync": {"queue": "slow"},
    "scrm.analytics.tasks.*": {"queue": "slow"},
    "scrm.materials.tasks.*": {"queue": "slow"},
    "scrm.customers.tasks.refresh_all_figures": {"queue": "slow"},
    "scrm.today.tasks.refresh_all_reminders": {"queue": "slow"},
    "scrm.today.tasks.push_digests": {"queue": "slow"},
    "scrm.handover.tasks.poll_results": {"queue": "slow"},
    "scrm.org.tasks.clear_expired_sessions": {"queue": "slow"},
    # 企业群发 calls WeCom per guide and may upload attachments first.
    "scrm.taskcards.tasks.groupsend*": {"queue": "slow"},
}
# Our logging config (request ids, JSON) stays in force in the worker instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A worker's own Prometheus endpoint (WeCom calls are made there); bind it to an internal address.
CELERY_METRICS_PORT = int(env("CELERY_METRICS_PORT", "0"))
CELERY_METRICS_ADDR = env("CELERY_METRICS_ADDR", "127.0.0.1")
CELERY_BEAT_SCHEDULE = {
    "customers-refresh-figures-nightly": {
        "task": "scrm.customers.tasks.refresh_all_figures",
        "schedule": crontab(hour=3, minute=10),
    },
    # Console performance figures read daily rollups; keep yesterday and today fresh.
    "analytics-rollup-recent": {
        "task": "scrm.analytics.tasks.rollup_recent_days",
        # Every minute in dev (`make run`), so today's figures follow what one just did.
        "schedule": int(env("ANALYTICS_ROLLUP_SECONDS", "60" if DEBUG else "900")),
    },
    # Callbacks and tag pushes whose dispatch was lost (broker down) are picked up here.
    "wecom-sweep-callback-inbox": {"task": "scrm.wecom.tasks.sweep_callback_inbox", "schedule": 60.0},
    "wecom-sweep-tag-outbox": {"task": "scrm.wecom.tasks.sweep_tag_outbox", "schedule": 60.0},
    "wecom-sync-nightly": {"task": "scrm.wecom.tasks.wecom_sync", "schedule": crontab(hour=2, minute=30)},
    # Customer hand-over: transfer_result for waiting items (the transfer_fail callback is faster).
    "handover-poll-results": {
        "task": "scrm.handover.tasks.poll_results",
        # Every minute in dev, so a demo hand-over shows 已接替 soon after the simulator settles it.
        "schedule": int(env("HANDOVER_POLL_SECONDS", "60" if DEBUG else "600")),
    },
    # WeCom media_ids last 3 days: re-upload the cached ones after 2.5 days so sends never wait.
    "materials-refresh-media": {"task": "scrm.materials.tasks.refresh_expiring_media", "schedule": 1800.0},
    "materials-settle-sends": {"task": "scrm.materials.tasks.settle_material_sends", "schedule": 60.0},
    "wecom-pull-chat-archive": {"task": "scrm.wecom.tasks.pull_chat_archive", "schedule": 60.0},
    # Expired sessions would otherwise pile up in the database for ever.
    "org-clear-expired-sessions": {
        "task": "scrm.org.tasks.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=20),
    },
    # 今日: the nightly pass after the figures; the digest (sent once a guide a day, at the admin's hour)
    # and urgent pushes (carts waiting, deferred by quiet hours) are checked every few minutes.
    "today-refresh-nightly": {"task": "scrm.today.tasks.refresh_all_reminders", "schedule": crontab(hour=3, minute=40)},
    "today-push-digests": {"task": "scrm.today.tasks.push_digests", "schedule": 600.0},
    "today-push-urgent": {"task": "scrm.today.tasks.push_urgent", "schedule": 300.0},
    # 渠道活码: working hours start and end, caps reset at midnight; pushes a code's list only when it changes.
    "livecodes-sync-due": {"task": "scrm.livecodes.tasks.sync_due", "schedule": 60.0},
    # Saved segments: each one's size once a day, after the nightly figures, for its trend.
    "segments-snapshot-nightly": {
        "task": "scrm.segments.tasks.snapshot_segment_counts",
        "schedule": crontab(hour=4, minute=40),
    },
    # Batch tagging of segments whose worker died or whose dispatch was lost.
    "segments-resume-tag-batches": {
        "task": "scrm.segments.tasks.resume_tag_batches",
        "schedule": crontab(hour=5, minute=0),
    },
    # 任务卡: guides with items still to send get an app message before the deadline.
    "taskcards-remind-lagging": {"task": "scrm.taskcards.tasks.remind_lagging", "schedule": 900.0},
    # 企业群发: submit the ones whose start time came (and retry refused ones), then pull who sent them.
    "taskcards-groupsends-submit-due": {"task": "scrm.taskcards.tasks.groupsends_submit_due", "schedule": 60.0},
    "taskcards-groupsends-pull": {
        "task": "scrm.taskcards.tasks.groupsends_pull",
        "schedule": int(env("GROUPSEND_PULL_SECONDS", "60" if DEBUG else "900")),
    },
}

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

# WeCom. In dev the API base and OAuth page point at the bundled simulator; production sets
# WECOM_API_BASE=https://qyapi.weixin.qq.com/cgi-bin/ and the real OAuth URL.
# The simulator's caps on app messages (message/send) one member receives per minute and per day; WeCom
# documents 30 a minute per member and app, the daily cap depends on the corp's seats: keep both settings.
WECOM_SIM_APP_MSG_PER_MINUTE = int(env("WECOM_SIM_APP_MSG_PER_MINUTE", "30"))
WECOM_SIM_APP_MSG_PER_DAY = int(env("WECOM_SIM_APP_MSG_PER_DAY", "200"))
# 企业群发: how many brand group messages one customer may receive a month. WeCom's default is as many
# as the month has days (0 here); older corps had 4 a month. Both the product and the simulator use it.
GROUPSEND_MONTHLY_LIMIT = int(env("GROUPSEND_MONTHLY_LIMIT", "0"))
# add_msg_template takes up to 10,000 external_userid a call.
GROUPSEND_BATCH_SIZE = int(env("GROUPSEND_BATCH_SIZE", "10000"))
# The simulator completes a waiting customer transfer after this many seconds (WeCom: 24 hours).
WECOM_SIM_TRANSFER_SECONDS = int(env("WECOM_SIM_TRANSFER_SECONDS", "60"))
# Fault drills (bench/load/drill-wecom-faults): a JSON file of faults the simulator re-reads on every call.
WECOM_SIM_FAULTS_FILE = env("WECOM_SIM_FAULTS_FILE")
WECOM_CORP_ID = env("WECOM_CORP_ID", "ww_demo_corp")
WECOM_AGENT_ID = env("WECOM_AGENT_ID", "1000002")
WECOM_SECRET = env("WECOM_SECRET", "demo-app-secret")
WECOM_CONTACT_SECRET = env("WECOM_CONTACT_SECRET", "demo-contact-secret")
# The demo token and key are public (they are in this file): with DEBUG off they default to empty,
# and an unconfigured callback endpoint refuses everything rather than accept forged callbacks.
WECOM_CALLBACK_TOKEN = env("WECOM_CALLBACK_TOKEN", "demoCallbackToken" if DEBUG else "")
# 43 characters, as WeCom issues them.
WECOM_CALLBACK_AES_KEY = env("WECOM_CALLBACK_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" if DEBUG else "")
WECOM_API_BASE = env("WECOM_API_BASE", f"{SITE_URL}/_wecom/cgi-bin/")
WECOM_OAUTH_URL = env("WECOM_OAUTH_URL", f"{SITE_URL}/_wecom/connect/oauth2/authorize")
WECOM_TIMEOUT = float(env("WECOM_TIMEOUT", "5"))
# Chat archive (会话内容存档): chat messages reach the timeline only through WeCom's finance SDK. Off when
# empty; production: "scrm.wecom.finance_sdk.NativeFinanceSdk" with the library path, the archive secret and
# the RSA private key (PEM file) whose public half is set in WeCom's admin. The simulator ships a stand-in.
WECOM_CHAT_ARCHIVE_SDK = env(
    "WECOM_CHAT_ARCHIVE_SDK", "scrm.wecom.simulator.finance.SimFinanceSdk" if WECOM_SIMULATOR else ""
)
WECOM_CHAT_ARCHIVE_SDK_LIB = env("WECOM_CHAT_ARCHIVE_SDK_LIB", "libWeWorkFinanceSdk_C.so")
WECOM_CHAT_ARCHIVE_SECRET = env("WECOM_CHAT_ARCHIVE_SECRET")
WECOM_CHAT_ARCHIVE_KEY_FILE = env("WECOM_CHAT_ARCHIVE_KEY_FILE", str(VAR_DIR / "chat-archive-key.pem"))
# A CJK font for 渠道活码 posters (Pillow); empty = the first of the usual Debian fonts found
# (fonts-wqy-microhei, fonts-noto-cjk). Without any, posters print Latin letters only.
POSTER_FONT = env("POSTER_FONT", "")
# Static path of the JS-SDK the sidebar loads, in WeCom and in dev alike: the vendored @wecom/jssdk.
# With WECOM_SIMULATOR on, the shell also loads wecom/sim-jssdk.js, a stand-in for WeCom's native bridge.
WECOM_JSSDK_SCRIPT = env("WECOM_JSSDK_SCRIPT", "vendor/wecom-jssdk-2.4.4.global.prod.js")
# WeCom's domain verification files (WW_verify_<code>.txt), served at the root: drop them into this
# directory, or list them as WW_verify_<code>.txt:<content>,... in WECOM_VERIFY_FILES.
WECOM_VERIFY_DIR = env("WECOM_VERIFY_DIR", str(VAR_DIR / "wecom-verify"))
WECOM_VERIFY_FILES = dict(item.strip().split(":", 1) for item in env("WECOM_VERIFY_FILES").split(",") if ":" in item)

# Observability. /readyz answers 503 when a callback or a tag push has waited longer than these (seconds):
# the sweeps run every minute, so minutes of waiting mean no worker is consuming.
READYZ_INBOX_MAX_AGE = int(env("READYZ_INBOX_MAX_AGE", "600"))
# Tag pushes back off up to 10 minutes between attempts after a WeCom rate limit.
READYZ_OUTBOX_MAX_AGE = int(env("READYZ_OUTBOX_MAX_AGE", "3600"))
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
