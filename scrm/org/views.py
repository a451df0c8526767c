"""Error views shared by the sidebar and the console."""

from django.utils.translation import gettext as _

from scrm.org.auth import forbidden


def csrf_failure(request, reason: str = ""):
    """A form posted with a stale CSRF token (the page was open too long, or signed in elsewhere)."""
    return forbidden(request, _("页面已过期或来源无法确认，请刷新页面后再提交一次。"))
