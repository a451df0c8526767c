"""API-key authentication and the read/write permission of /api/v1/.

Brand systems send `Authorization: Api-Key <key>`. Django admins keep using their session
(or Basic auth) and may do everything.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from scrm.api.models import ApiKey
from scrm.api.services import api_key_check

KEYWORD = "Api-Key"


class ApiKeyUser:
    """request.user of a key-authenticated request: a system, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.username = f"api-key:{key.prefix}"

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != KEYWORD.lower():
            return None  # not ours: session or Basic auth may apply
        key = api_key_check(raw=raw)
        if key is None:
            raise exceptions.AuthenticationFailed(_("API 密钥无效或已停用。"))
        return ApiKeyUser(key), key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials are sent.
        return KEYWORD


class ApiKeyScope(permissions.BasePermission):
    """Read keys may GET; write keys may also POST/PUT; Django staff may do everything."""

    message = _("此 API 密钥只有只读权限。")

    def has_permission(self, request, view) -> bool:
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is None:
            if request.user and request.user.is_authenticated and not request.user.is_staff:
                self.message = _("只有管理员或 API 密钥可以访问此接口。")
                return False
            return bool(request.user and request.user.is_staff)
        if request.method in permissions.SAFE_METHODS:
            return True
        return key.can_write


class DevBasicAuthentication(authentication.BasicAuthentication):
    """Basic auth only where settings.API_BASIC_AUTH allows it (dev): in production a stolen staff
    password must not open the API, and API keys have scopes."""

    def authenticate(self, request):
        if not settings.API_BASIC_AUTH:
            return None
        return super().authenticate(request)

    def authenticate_header(self, request):
        return super().authenticate_header(request) if settings.API_BASIC_AUTH else None


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """API_RATE_LIMIT requests per API key (staff: per person); 429 with Retry-After beyond it."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# Every ingestion view uses these; admins' session (and, in dev, Basic auth) keep working.
AUTHENTICATION_CLASSES = [
    ApiKeyAuthentication,
    authentication.SessionAuthentication,
    DevBasicAuthentication,
]
PERMISSION_CLASSES = [ApiKeyScope]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "scrm.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Authorization: Api-Key <key>（用 manage.py api_key_create 生成）",
        }


class DevBasicScheme(OpenApiAuthenticationExtension):
    target_class = "scrm.api.auth.DevBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": _("仅开发环境（API_BASIC_AUTH）")}
