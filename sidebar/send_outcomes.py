"""What the guide reads under a material card after a send: always Chinese, WeCom's raw errMsg
only as a small detail under an explanation that does not already quote it."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from scrm.materials.models import MaterialSend

_CJK = re.compile(r"[\u4e00-\u9fff]")
# WeCom's sendChatMessage errMsg is English ("sendChatMessage:fail text.content too long"): what each
# kind of failure means for the guide, matched on lower-cased fragments of it.
_FAILURE_HINTS = (
    (("too long", "exceed", "length"), _lazy("话术太长，企业微信无法发送，请复制后分段发送。")),
    (("media",), _lazy("素材在企业微信已失效，请再点一次发送；仍失败请联系内容运营重新上传。")),
    (
        ("permission", "no auth", "not allow", "forbidden", "unauthorized"),
        _lazy("企业微信没有授权发送，请联系管理员检查应用权限。"),
    ),
    (("not ready", "sdk", "config"), _lazy("企业微信还没准备好，请关闭侧边栏后重新打开再发送。")),
    (("network", "timeout", "timed out"), _lazy("网络异常，企业微信未能发送，请稍后重试。")),
)


def _failure_hint(error: str) -> str:
    lowered = error.lower()
    for fragments, hint in _FAILURE_HINTS:
        if any(fragment in lowered for fragment in fragments):
            return str(hint)
    return ""


def send_outcome_message(send: MaterialSend) -> str:
    """What the guide reads under the card after a send: always Chinese, never WeCom's raw errMsg alone."""
    if send.status == MaterialSend.Status.SENT:
        return _("已发送")
    if send.status == MaterialSend.Status.CANCELLED:
        return _("已取消")
    if send.status == MaterialSend.Status.PENDING:
        return _("发送中…")
    error = send.error.strip()
    if not error:
        return _("发送失败，请稍后重试。")
    if _CJK.search(error):
        # Our own page's words (e.g. no JS-SDK on this page): already written for the guide.
        return _("发送失败：%(reason)s") % {"reason": error}
    return _failure_hint(error) or _("企业微信未能发送（原因：%(reason)s）") % {"reason": error}


def send_outcome_detail(send: MaterialSend) -> str:
    """WeCom's raw errMsg, shown small under an explanation that does not already quote it."""
    if send.status != MaterialSend.Status.FAILED or _CJK.search(send.error) or not _failure_hint(send.error):
        return ""
    return send.error
