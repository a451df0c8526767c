from django.urls import include, path

# The simulated WeCom server API, OAuth page and callback sender live under /_wecom/;
# the fake chat window that hosts the sidebar lives under /dev/.
urlpatterns = [
    path("_wecom/", include("scrm.wecom.simulator.api_urls")),
    path("dev/", include("scrm.wecom.simulator.chat_urls")),
]
