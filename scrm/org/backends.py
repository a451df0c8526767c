from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffModelBackend(ModelBackend):
    """Loads the session's user together with its Staff row: every sidebar and console request
    needs both, so this saves a query on each of them."""

    def get_user(self, user_id):
        try:
            user = get_user_model()._default_manager.select_related("staff").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
