from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

from scrm.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/sidebar/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("sidebar/", include("sidebar.urls")),
    path("console/", include("scrm.console.urls")),
    path("wecom/", include("scrm.wecom.urls")),
    path("api/v1/", include("scrm.api.urls")),
]

if settings.WECOM_SIMULATOR:
    # Dev and tests only: a stand-in for WeCom's servers and chat window.
    urlpatterns += [path("", include("scrm.wecom.simulator.urls"))]

if settings.SERVE_MEDIA:
    # Uploaded images must be reachable: cards sent to customers link to them. Behind a web server or
    # object storage, serve MEDIA_URL there and set SERVE_MEDIA=false.
    def media(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)  # read per request (tests move it)

    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", media)]
