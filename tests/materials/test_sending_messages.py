"""What a guide reads after a send: Chinese explanations, never WeCom's raw English errMsg alone."""

import pytest

from scrm.materials.models import MaterialSend
from sidebar import send_outcomes
from tests.factories import MaterialSendFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("sendChatMessage:fail text.content too long", "话术太长，企业微信无法发送，请复制后分段发送。"),
        (
            "sendChatMessage:fail invalid media_id",
            "素材在企业微信已失效，请再点一次发送；仍失败请联系内容运营重新上传。",
        ),
        ("sendChatMessage:fail no permission", "企业微信没有授权发送，请联系管理员检查应用权限。"),
        ("sendChatMessage:fail sdk not ready", "企业微信还没准备好，请关闭侧边栏后重新打开再发送。"),
        ("sendChatMessage:fail something new", "企业微信未能发送（原因：sendChatMessage:fail something new）"),
        (
            "请在企业微信的聊天侧边栏中发送（当前页面没有连接企业微信）。",
            "发送失败：请在企业微信的聊天侧边栏中发送（当前页面没有连接企业微信）。",
        ),
        ("", "发送失败，请稍后重试。"),
    ],
)
def test_a_failed_send_is_explained_in_chinese(error, message):
    send = MaterialSendFactory(status=MaterialSend.Status.FAILED, error=error)

    assert send_outcomes.send_outcome_message(send) == message


def test_the_raw_reason_is_kept_as_detail_only_under_an_explanation_that_does_not_quote_it():
    too_long = MaterialSendFactory(
        status=MaterialSend.Status.FAILED, error="sendChatMessage:fail text.content too long"
    )
    unknown = MaterialSendFactory(status=MaterialSend.Status.FAILED, error="sendChatMessage:fail something new")
    ours = MaterialSendFactory(status=MaterialSend.Status.FAILED, error="请在企业微信的聊天侧边栏中发送。")
    sent = MaterialSendFactory(status=MaterialSend.Status.SENT, error="")

    assert send_outcomes.send_outcome_detail(too_long) == "sendChatMessage:fail text.content too long"
    assert send_outcomes.send_outcome_detail(unknown) == ""  # already in the message
    assert send_outcomes.send_outcome_detail(ours) == ""
    assert send_outcomes.send_outcome_detail(sent) == ""
