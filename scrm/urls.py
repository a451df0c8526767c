from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

from scrm.api.exceptions import not_found as api_not_found
from scrm.health import healthz, readyz
from scrm.observe.metrics import metrics
from scrm.wecom.views import domain_verify

urlpatterns = [
    path("", RedirectView.as_view(url="/sidebar/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    # WeCom's domain verification file must sit at the root of the domain.
    re_path(r"^(?P<name>WW_verify_[A-Za-z0-9]+\.txt)$", domain_verify, name="wecom_domain_verify"),
    path("admin/", admin.site.urls),
    path("sidebar/", include("sidebar.urls")),
    path("console/", include("scrm.console.urls")),
    path("wecom/", include("scrm.wecom.urls")),
    path("api/v1/", include("scrm.api.urls")),
    # [\s\S]: a path with a newline in it is still an API path, answered in JSON.
    re_path(r"^api/(?P<path>[\s\S]*)$", api_not_found),
    # Public H5 page (no sign-in): the nearest store's 渠道活码.
    path("livecodes/", include("scrm.livecodes.urls")),
]
handler500 = "scrm.outage.server_error_or_outage"

if settings.WECOM_SIMULATOR:
    # Dev and tests only: a stand-in for WeCom's servers and chat window.
    urlpatterns += [path("", include("scrm.wecom.simulator.urls"))]

if settings.SERVE_MEDIA:
    # Uploaded images must be reachable: cards sent to customers link to them. Behind a web server or
    # object storage, serve MEDIA_URL there and set SERVE_MEDIA=false.
    def media(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)  # read per request (tests move it)

    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", media)]
