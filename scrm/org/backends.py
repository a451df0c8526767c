from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from scrm.org.compiled import ID, compiled_rows


class StaffModelBackend(AxesStandaloneBackend, ModelBackend):
    """The one authentication backend: django-axes' lockout check, then Django's password check.

    One backend (not axes' beside ours) so WeCom OAuth's `login()` needs no backend argument. It loads
    the session's user together with its Staff row: every sidebar and console request needs both.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:  # management commands check passwords without a request
            AxesStandaloneBackend.authenticate(self, request, username=username, password=password, **kwargs)
        return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        # Every signed-in request asks this: compiled once per connection (#17), it costs a query, not an ORM build.
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        query = compiled_rows(("session_user",), _session_user_query)
        user = next(iter(query.all({ID: user_id})), None)
        return user if user is not None and self.user_can_authenticate(user) else None


def _session_user_query():
    return get_user_model()._default_manager.select_related("staff").filter(pk=ID)
