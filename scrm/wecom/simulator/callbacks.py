"""The simulator acting as WeCom towards us: signed, AES-encrypted callbacks, as WeCom sends them.

`callback_build` gives the query string and body of one POST; `callback_post` sends it to
settings.SITE_URL + "/wecom/callback/" (or a given URL); `echo_build` gives the query of the
GET that WeCom sends to verify the callback URL.
"""

import secrets
import time
from xml.sax.saxutils import escape

import requests
import xmltodict
from django.conf import settings
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

CALLBACK_PATH = "/wecom/callback/"


def _crypto(*, token: str | None = None, aes_key: str | None = None, corp_id: str | None = None) -> WeChatCrypto:
    return WeChatCrypto(
        token or settings.WECOM_CALLBACK_TOKEN,
        aes_key or settings.WECOM_CALLBACK_AES_KEY,
        corp_id or settings.WECOM_CORP_ID,
    )


def event_xml(event: dict) -> str:
    """The plain XML WeCom encrypts: <xml><ToUserName><![CDATA[…]]></ToUserName>…</xml>."""
    parts = []
    for name, value in event.items():
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def contact_event(change_type: str, *, userid: str, external_userid: str, create_time: int | None = None, **extra):
    """A change_external_contact event; extra fields such as State, WelcomeCode, FailReason."""
    event = {
        "ToUserName": settings.WECOM_CORP_ID,
        "FromUserName": "sys",
        "CreateTime": create_time or int(time.time()),
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": change_type,
        "UserID": userid,
        "ExternalUserID": external_userid,
    }
    event.update(extra)
    return event


def tag_event(change_type: str, *, tag_id: str, tag_type: str = "tag", create_time: int | None = None) -> dict:
    """A change_external_tag event (create / update / delete / shuffle)."""
    return {
        "ToUserName": settings.WECOM_CORP_ID,
        "FromUserName": "sys",
        "CreateTime": create_time or int(time.time()),
        "MsgType": "event",
        "Event": "change_external_tag",
        "Id": tag_id,
        "TagType": tag_type,
        "ChangeType": change_type,
    }


def callback_build(
    event: dict | str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    token: str | None = None,
    aes_key: str | None = None,
    corp_id: str | None = None,
) -> tuple[dict, bytes]:
    """(query params, body) of the POST WeCom would send for `event` (a dict or raw XML)."""
    plain = event if isinstance(event, str) else event_xml(event)
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    encrypted = _crypto(token=token, aes_key=aes_key, corp_id=corp_id).encrypt_message(plain, nonce, timestamp)
    parsed = xmltodict.parse(encrypted)["xml"]
    body = (
        "<xml>"
        f"<ToUserName><![CDATA[{escape(corp_id or settings.WECOM_CORP_ID)}]]></ToUserName>"
        f"<Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt>"
        f"<AgentID><![CDATA[{settings.WECOM_AGENT_ID}]]></AgentID>"
        "</xml>"
    )
    query = {"msg_signature": parsed["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
    return query, body.encode()


def echo_build(
    echo: str = "echo-ok", *, timestamp: int | None = None, nonce: str | None = None, token: str | None = None
) -> dict:
    """Query params of the GET WeCom sends to verify the URL; the answer must be `echo`."""
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    crypto = _crypto()
    echostr = PrpCrypto(crypto.key).encrypt(echo, settings.WECOM_CORP_ID).decode()
    signature = _get_signature(token or settings.WECOM_CALLBACK_TOKEN, timestamp, nonce, echostr)
    return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}


def callback_post(event: dict | str, *, url: str | None = None, timeout: float = 5.0) -> requests.Response:
    """Send one signed, encrypted callback the way WeCom does."""
    query, body = callback_build(event)
    url = url or settings.SITE_URL.rstrip("/") + CALLBACK_PATH
    return requests.post(url, params=query, data=body, headers={"Content-Type": "text/xml"}, timeout=timeout)
