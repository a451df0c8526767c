"""How the sidebar signs guides in: WeCom OAuth from its login page, restarting at the shell."""

from django.utils.translation import gettext_lazy

from scrm.org.auth import SignIn, staff_required

# An expired session restarts at the shell (/sidebar/), the page that loads WeCom's JS-SDK.
SIDEBAR_SIGN_IN = SignIn("sidebar:login", "sidebar:home", gettext_lazy("登录已过期，请关闭侧边栏后重新打开。"))
sidebar_staff_required = staff_required(sign_in=SIDEBAR_SIGN_IN)
