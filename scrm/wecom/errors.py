"""The one exception every WeCom call raises, whatever went wrong."""

import logging

from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

# Token problems are handled inside the client (drop, refresh once, retry once); if they
# still surface, the next attempt will fetch a fresh token, so they are worth retrying.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# Worth retrying later with backoff: rate limit, system busy, and our transport errors.
RETRYABLE_ERRCODES = frozenset({-1, 45009, 45033, 45035}) | TOKEN_ERRCODES
# Codes for transport failures that never reached WeCom's JSON (not WeCom errcodes).
TIMEOUT = -10
CONNECTION = -11
HTTP_STATUS = -12
BAD_RESPONSE = -13

# Why a permanent error happened, for the log line an operator reads.
PERMANENT_REASONS = {
    40003: "invalid userid",
    40029: "invalid oauth code",
    40068: "invalid tag id",
    40096: "invalid external_userid",
    48002: "api forbidden for this secret",
    60011: "no privilege to access this member/customer",
    60020: "caller ip not in the trusted list",
    84061: "customer is not a contact of that member",
    40071: "tag name already exists",
    41001: "missing access_token",
    40013: "invalid corpid",
    45001: "media too large",
    40007: "invalid media_id",
}


# Errors only an admin can fix, in the words shown wherever a WeCom failure reaches a person, instead of
# "please retry": retrying cannot help. 60020: WeCom only answers servers whose egress IP is in the
# app's 企业可信IP list (every self-built app created after 2022 needs one).
TRUSTED_IP = 60020
ADMIN_ACTIONS = {
    TRUSTED_IP: gettext_lazy(
        "企业微信拒绝了本系统服务器的访问（错误码 60020，IP 不在可信列表）。请管理员在企业微信管理后台"
        "「应用管理 → 本应用 → 企业可信IP」中添加服务器的出口 IP。"
    ),
}


def admin_action(errcode: int) -> str:
    """What an admin must do about `errcode`, or "" when retrying later is the right advice."""
    return str(ADMIN_ACTIONS.get(errcode, ""))


class WeComError(Exception):
    """A failed WeCom call. `retryable` tells Celery tasks whether to try again later."""

    def __init__(self, errcode: int, errmsg: str, retryable: bool | None = None, *, path: str = "") -> None:
        self.errcode = int(errcode)
        self.errmsg = errmsg or ""
        self.retryable = self.errcode in RETRYABLE_ERRCODES if retryable is None else retryable
        self.path = path
        super().__init__(f"WeCom {path or 'call'} failed: errcode={self.errcode} errmsg={self.errmsg}")

    @property
    def reason(self) -> str:
        return PERMANENT_REASONS.get(self.errcode, self.errmsg)

    def __repr__(self) -> str:
        return f"WeComError({self.errcode}, {self.errmsg!r}, retryable={self.retryable})"


def log_error(error: WeComError) -> None:
    # Permanent failures need a person (privilege, trusted IP, wrong ids); transient ones are noise.
    if error.retryable:
        logger.info("wecom %s transient error %s: %s", error.path, error.errcode, error.errmsg)
    else:
        logger.warning("wecom %s permanent error %s (%s): %s", error.path, error.errcode, error.reason, error.errmsg)
