"""WeCom's callback endpoint (接收消息服务器): verify, store, answer `success`; work happens later."""

import logging

from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from scrm.wecom import services

logger = logging.getLogger(__name__)


@csrf_exempt
def callback(request):
    params = {
        "msg_signature": request.GET.get("msg_signature", ""),
        "timestamp": request.GET.get("timestamp", ""),
        "nonce": request.GET.get("nonce", ""),
    }
    try:
        if request.method == "GET":
            echo = services.callback_verify_url(**params, echostr=request.GET.get("echostr", ""))
            return HttpResponse(echo, content_type="text/plain; charset=utf-8")
        if request.method == "POST":
            services.callback_accept(**params, body=request.body)
            # WeCom wants this within 5 s; processing runs in Celery after commit.
            return HttpResponse("success", content_type="text/plain; charset=utf-8")
    except services.CallbackRejected as exc:
        logger.warning("wecom callback rejected: %s", exc.reason)
        return HttpResponseForbidden(exc.reason, content_type="text/plain; charset=utf-8")
    return HttpResponseNotAllowed(["GET", "POST"])
