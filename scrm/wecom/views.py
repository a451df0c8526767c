"""WeCom's callback endpoint (接收消息服务器): verify, store, answer `success`; work happens later."""

import logging
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from scrm.wecom import callbacks

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
            echo = callbacks.callback_verify_url(**params, echostr=request.GET.get("echostr", ""))
            return HttpResponse(echo, content_type="text/plain; charset=utf-8")
        if request.method == "POST":
            callbacks.callback_accept(**params, body=request.body)
            # WeCom wants this within 5 s; processing runs in Celery after commit.
            return HttpResponse("success", content_type="text/plain; charset=utf-8")
    except callbacks.CallbackRejected as exc:
        logger.warning("wecom callback rejected: %s", exc.reason)
        return HttpResponseForbidden(exc.reason, content_type="text/plain; charset=utf-8")
    return HttpResponseNotAllowed(["GET", "POST"])


@require_GET
def domain_verify(request, name: str):
    """WeCom's domain check (可信域名): `WW_verify_<code>.txt` at our root, its content the code.

    The admin downloads the file in WeCom's admin and drops it into WECOM_VERIFY_DIR, or sets
    WECOM_VERIFY_FILES=WW_verify_<code>.txt:<content> — no code change, no web-server rule.
    """
    content = settings.WECOM_VERIFY_FILES.get(name)
    if content is None and settings.WECOM_VERIFY_DIR:
        path = Path(settings.WECOM_VERIFY_DIR) / name  # name is [A-Za-z0-9]-only by the URL pattern
        if path.is_file():
            content = path.read_text(encoding="utf-8").strip()
    if content is None:
        raise Http404
    return HttpResponse(content, content_type="text/plain; charset=utf-8")
