"""Who sees which console pages. Views use these decorators; roles are never checked inline."""

from scrm.org.auth import staff_required
from scrm.org.models import Staff

Role = Staff.Role
CONSOLE_ROLES = (Role.MANAGER, Role.CONTENT, Role.ADMIN)
# Content staff curate materials; managers and admins see everything, materials included.
MATERIAL_ROLES = (Role.CONTENT, Role.MANAGER, Role.ADMIN)
MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)


def console_required(view=None, *, roles: tuple[str, ...] = CONSOLE_ROLES):
    """A console page for `roles`: others get 403, anonymous users the console login page."""

    def decorator(func):
        wrapped = staff_required(roles=roles, login_url_name="console:login")(func)
        # Lets tests walk the URLconf and check every page's audience.
        wrapped.console_roles = tuple(roles)
        return wrapped

    return decorator(view) if view else decorator
