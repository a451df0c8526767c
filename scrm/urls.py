from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

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

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
