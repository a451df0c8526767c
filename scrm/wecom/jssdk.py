"""JS-SDK signatures: wx.config signs with the corp jsapi ticket, wx.agentConfig with the agent ticket."""

import hashlib
import secrets
import time

from django.conf import settings

from scrm.wecom import api

# What the sidebar calls through wx.invoke; the same list goes into both configs.
JS_API_LIST = ["getContext", "getCurExternalContact", "sendChatMessage"]


def jssdk_signature(*, ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """sha1 of the four fields in WeCom's fixed order; the page URL is signed without its #fragment."""
    page_url = url.split("#", 1)[0]
    raw = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page_url}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def jssdk_config_for_url(*, url: str) -> dict:
    """Everything the page passes to wx.config and wx.agentConfig for `url`.

    Tickets come from the shared cache (api.get_*_ticket); only an expired ticket calls WeCom.
    Raises WeComError when a ticket cannot be had.
    """
    jsapi_ticket = api.get_jsapi_ticket()
    agent_ticket = api.get_agent_ticket()
    timestamp = int(time.time())
    config_nonce = secrets.token_hex(8)
    agent_nonce = secrets.token_hex(8)
    return {
        "config": {
            "beta": True,  # WeCom requires beta for wx.invoke
            "appId": settings.WECOM_CORP_ID,
            "timestamp": timestamp,
            "nonceStr": config_nonce,
            "signature": jssdk_signature(ticket=jsapi_ticket, noncestr=config_nonce, timestamp=timestamp, url=url),
            "jsApiList": JS_API_LIST,
        },
        "agentConfig": {
            "corpid": settings.WECOM_CORP_ID,
            "agentid": str(settings.WECOM_AGENT_ID),
            "timestamp": timestamp,
            "nonceStr": agent_nonce,
            "signature": jssdk_signature(ticket=agent_ticket, noncestr=agent_nonce, timestamp=timestamp, url=url),
            "jsApiList": JS_API_LIST,
        },
    }
