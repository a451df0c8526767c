"""Who sees which console pages. Views use these decorators; roles are never checked inline."""

from django.utils.translation import gettext_lazy

from scrm.org.auth import SignIn, staff_required
from scrm.org.models import Staff

# An expired session on an htmx request signs in again and returns to the page the browser shows.
CONSOLE_SIGN_IN = SignIn("console:login", None, gettext_lazy("登录已过期，请刷新页面后重新登录。"))

Role = Staff.Role
CONSOLE_ROLES = (Role.MANAGER, Role.CONTENT, Role.ADMIN)
# Content staff curate materials; managers and admins see everything, materials included.
MATERIAL_ROLES = (Role.CONTENT, Role.MANAGER, Role.ADMIN)
MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)
# Personal-data requests and the access log (PIPL) are brand-wide: admins only.
ADMIN_ROLES = (Role.ADMIN,)


def console_required(view=None, *, roles: tuple[str, ...] = CONSOLE_ROLES):
    """A console page for `roles`: others get 403, anonymous users the console login page."""

    def decorator(func):
        wrapped = staff_required(sign_in=CONSOLE_SIGN_IN, roles=roles)(func)
        # Lets tests walk the URLconf and check every page's audience.
        wrapped.console_roles = tuple(roles)
        return wrapped

    return decorator(view) if view else decorator
