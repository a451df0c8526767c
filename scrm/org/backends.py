from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


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
        try:
            user = get_user_model()._default_manager.select_related("staff").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
