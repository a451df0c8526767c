"""Console sign-in (password; WeCom sign-in comes later), sign-out and the landing page."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from scrm.console.forms import ConsoleLoginForm
from scrm.console.permissions import CONSOLE_ROLES, console_required
from scrm.materials.selectors import material_overview
from scrm.org.models import Staff


class ConsoleLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = ConsoleLoginForm
    next_page = reverse_lazy("console:home")


login = ConsoleLoginView.as_view()
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("console:login"))


@console_required(roles=CONSOLE_ROLES)
def home(request):
    # Content staff have one section only; send them straight to it.
    if request.staff.role == Staff.Role.CONTENT:
        return redirect("console:materials")
    return render(request, "console/home.html", {"overview": material_overview()})
