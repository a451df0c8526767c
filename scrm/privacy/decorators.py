"""Views whose downloads of personal data are logged (PIPL), without each export remembering to."""

import functools
import re
from urllib.parse import unquote

from scrm.privacy.models import AccessLog
from scrm.privacy.services import access_record

_UTF8_NAME = re.compile(r"filename\*=UTF-8''([^;]+)")


def exports_logged(view):
    """Record every CSV the view answers (who, which file, from where) in the access log."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.get("Content-Type", "").startswith("text/csv"):
            found = _UTF8_NAME.search(response.get("Content-Disposition", ""))
            subject = unquote(found.group(1)) if found else request.get_full_path()
            access_record(
                staff=getattr(request, "staff", None),
                action=AccessLog.Action.EXPORT_LIST,
                subject=subject,
                request=request,
            )
        return response

    return wrapped
