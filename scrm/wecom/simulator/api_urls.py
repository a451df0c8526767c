from django.urls import path

from scrm.wecom.simulator import api_views

# Mounted under /_wecom/ by scrm/wecom/simulator/urls.py (simulator mode only).
urlpatterns = [
    path("cgi-bin/<path:endpoint>", api_views.api, name="wecom_sim_api"),
    path("connect/oauth2/authorize", api_views.oauth_authorize, name="wecom_sim_oauth_authorize"),
    path("qr/<str:config_id>.png", api_views.qr_code, name="wecom_sim_qr_code"),
]
