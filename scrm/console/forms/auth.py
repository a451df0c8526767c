"""The console sign-in form: staff of the console roles only, in Chinese."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from scrm.console.permissions import CONSOLE_ROLES


class ConsoleLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。"),
        "inactive": _("此账号已停用。"),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        staff = getattr(user, "staff", None)
        if staff is None or not staff.is_active:
            raise forms.ValidationError(_("此账号没有关联在职员工，不能登录管理后台。"), code="no_staff")
        if staff.role not in CONSOLE_ROLES:
            raise forms.ValidationError(_("导购请在企业微信聊天侧边栏中使用，不能登录管理后台。"), code="guide")
