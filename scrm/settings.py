"""Settings come from environment variables only; every one is listed in .env.example."""

import json
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-secret-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Key of the keyed hash that lets us match phone numbers without storing them in clear.
PHONE_HASH_KEY = env("PHONE_HASH_KEY", SECRET_KEY)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "scrm.org",
    "scrm.customers",
    "scrm.materials",
    "scrm.wecom",
    "scrm.wecom.simulator",
    "scrm.console",
    "scrm.analytics",
    "scrm.api",
    "scrm.handover",
    "sidebar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL; SQLite, the dev default, simply ignores the extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "scrm"),
        }
    }
else:
    # Without Redis the dev server is one process, so a local-memory cache is shared enough.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 7
# The sidebar lives in WeCom's webview and, in dev, in an iframe of /dev/chat/ on the same origin.
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LOGIN_URL = "/console/login/"

AUTHENTICATION_BACKENDS = ["scrm.org.backends.StaffModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
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
STATIC_ROOT = VAR_DIR / "static"
# collectstatic also writes .gz copies and WhiteNoise serves them: the sidebar's cold load (htmx and
# WeCom's JS-SDK) is about a third of its raw size on a guide's phone.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Django serves uploads itself unless a web server or object storage does (then SERVE_MEDIA=false).
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
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
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "socket_connect_timeout": 2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "customers-refresh-figures-nightly": {
        "task": "scrm.customers.tasks.refresh_all_figures",
        "schedule": crontab(hour=3, minute=10),
    },
    # Console performance figures read daily rollups; keep yesterday and today fresh.
    "analytics-rollup-recent": {
        "task": "scrm.analytics.tasks.rollup_recent_days",
        "schedule": int(env("ANALYTICS_ROLLUP_SECONDS", "900")),
    },
    # Callbacks and tag pushes whose dispatch was lost (broker down) are picked up here.
    "wecom-sweep-callback-inbox": {"task": "scrm.wecom.tasks.sweep_callback_inbox", "schedule": 60.0},
    "wecom-sweep-tag-outbox": {"task": "scrm.wecom.tasks.sweep_tag_outbox", "schedule": 60.0},
    "wecom-sync-nightly": {"task": "scrm.wecom.tasks.wecom_sync", "schedule": crontab(hour=2, minute=30)},
    # Customer hand-over: transfer_result for waiting items (the transfer_fail callback is faster).
    "handover-poll-results": {
        "task": "scrm.handover.tasks.poll_results",
        "schedule": int(env("HANDOVER_POLL_SECONDS", "600")),
    },
    # WeCom media_ids last 3 days: re-upload the cached ones after 2.5 days so sends never wait.
    "materials-refresh-media": {"task": "scrm.materials.tasks.refresh_expiring_media", "schedule": 1800.0},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Brand systems use API keys (read or write); admins their session or Basic auth.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scrm.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["scrm.api.auth.ApiKeyScope"],
    "DEFAULT_PARSER_CLASSES": ["scrm.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "scrm.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "导购侧边栏 SCRM API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
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
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
WECOM_SIMULATOR = env_bool("WECOM_SIMULATOR", DEBUG)
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
# Names of the brand's 活码 state codes shown in the portrait, a JSON object, e.g. {"spring": "春季快闪店"}.
WECOM_STATE_LABELS = json.loads(env("WECOM_STATE_LABELS", "") or "{}")
# Static path of the JS-SDK the sidebar loads, in WeCom and in dev alike: the vendored @wecom/jssdk.
# With WECOM_SIMULATOR on, the shell also loads wecom/sim-jssdk.js, a stand-in for WeCom's native bridge.
WECOM_JSSDK_SCRIPT = env("WECOM_JSSDK_SCRIPT", "vendor/wecom-jssdk-2.4.4.global.prod.js")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
