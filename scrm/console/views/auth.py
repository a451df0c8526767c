"""Console sign-in (password, or WeCom OAuth through the sidebar's flow), sign-out and the landing page."""

from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone

from scrm.analytics.days import local_day
from scrm.console.charts import cell
from scrm.console.forms.auth import ConsoleLoginForm
from scrm.console.permissions import CONSOLE_ROLES, console_required
from scrm.console.selectors import HEADLINE, store_attention
from scrm.materials.selectors import material_overview
from scrm.org.models import Staff


class ConsoleLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = ConsoleLoginForm
    next_page = reverse_lazy("console:home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = self.get_redirect_url() or str(self.next_page)
        context["wecom_next_query"] = urlencode({"next": next_url})
        return context


login = ConsoleLoginView.as_view()
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("console:login"))


@console_required(roles=CONSOLE_ROLES)
def home(request):
    # Content staff have one section only; send them straight to it.
    if request.staff.role == Staff.Role.CONTENT:
        return redirect("console:materials")
    # A manager sees their store first; an admin the brand. Then the material library's figures.
    store_id = request.staff.store_id if request.staff.role == Staff.Role.MANAGER else None
    attention = store_attention(store_id=store_id, today=local_day(timezone.now()))
    headline = [cell(attention.total, key) for key in HEADLINE]
    context = {
        "overview": material_overview(),
        "attention": attention,
        "headline": headline,
        "store_scoped": store_id is not None,
    }
    return render(request, "console/home.html", context)
