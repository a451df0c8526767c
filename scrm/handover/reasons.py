"""Why a hand-over item failed or still waits, in the words a manager reads on the batch page."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scrm.handover.models import HandoverItem
from scrm.wecom import errors
from scrm.wecom.errors import WeComError

State = HandoverItem.State

# Per-customer errcodes of transfer_customer and the calls' own failures, as a manager reads them.
ERRCODE_REASONS = {
    40129: gettext_lazy("客户正在转接中"),
    84061: gettext_lazy("不是原导购的客户"),
    40096: gettext_lazy("客户 ID 无效"),
    40003: gettext_lazy("企业微信成员不存在"),
    40098: gettext_lazy("接替导购不能是原导购"),
    # Mostly a guide marked departed here but still employed in WeCom; say what fixes it.
    40099: gettext_lazy("原导购在企业微信中仍在职：请先在企业微信管理后台办理离职，再点“重试失败项”"),
    60011: gettext_lazy("应用没有该成员或客户的权限"),
    84074: gettext_lazy("接替导购没有客户联系权限"),
    84076: gettext_lazy("接替导购的客户数已达上限"),
    errors.TRUSTED_IP: errors.ADMIN_ACTIONS[errors.TRUSTED_IP],
}
FAIL_REASONS = {
    "customer_refused": (State.REFUSED, gettext_lazy("客户拒绝转接")),
    "customer_limit_exceed": (State.FAILED, gettext_lazy("接替导购的客户数已达上限")),
}


# 40099 from an in-service transfer: the guide has left in WeCom but is still in service here.
IN_SERVICE_40099 = gettext_lazy("原导购已在企业微信中离职：请先在此处“标记离职”，再点“重试失败项”（将改走离职继承）")


# Why a send that will be retried did not go through, as a manager reads it (transport codes are ours).
RETRY_REASONS = {
    errors.TIMEOUT: gettext_lazy("连接企业微信超时"),
    errors.CONNECTION: gettext_lazy("无法连接企业微信"),
    errors.HTTP_STATUS: gettext_lazy("企业微信服务暂时不可用"),
    errors.BAD_RESPONSE: gettext_lazy("企业微信返回了无法识别的应答"),
    -1: gettext_lazy("企业微信系统繁忙"),
    45009: gettext_lazy("调用企业微信过于频繁"),
    45033: gettext_lazy("调用企业微信过于频繁"),
    45035: gettext_lazy("调用企业微信过于频繁"),
    40001: gettext_lazy("企业微信凭证（access_token）无效"),
    40014: gettext_lazy("企业微信凭证（access_token）无效"),
    42001: gettext_lazy("企业微信凭证（access_token）已过期"),
}


def send_error_reason(exc: WeComError) -> str:
    """The reason kept on items put back to pending, so the batch page can say why they still wait."""
    reason = RETRY_REASONS.get(exc.errcode) or exc.errmsg or _("企业微信错误 %(code)s") % {"code": exc.errcode}
    return str(reason)[:200]


def errcode_reason(errcode: int | None, errmsg: str = "", *, resigned: bool = True) -> str:
    if errcode is None:
        return errmsg
    if errcode == 40099 and not resigned:
        return str(IN_SERVICE_40099)
    return str(ERRCODE_REASONS.get(errcode) or errmsg or _("企业微信错误 %(code)s") % {"code": errcode})
