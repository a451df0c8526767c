from django.urls import path

from scrm.wecom.simulator import api_views, groupmsg

# Mounted under /_wecom/ by scrm/wecom/simulator/urls.py (simulator mode only).
urlpatterns = [
    # 企业群发 (scrm/wecom/simulator/groupmsg.py), ahead of the catch-all below.
    *[path(f"cgi-bin/externalcontact/{name}", groupmsg.api, {"name": name}) for name in groupmsg.HANDLERS],
    path("cgi-bin/<path:endpoint>", api_views.api, name="wecom_sim_api"),
    path("connect/oauth2/authorize", api_views.oauth_authorize, name="wecom_sim_oauth_authorize"),
    path("qr/<str:config_id>.png", api_views.qr_code, name="wecom_sim_qr_code"),
]
