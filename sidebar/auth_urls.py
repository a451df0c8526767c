from django.urls import path

from sidebar import auth_views

urlpatterns = [
    path("", auth_views.home, name="home"),
    path("login/", auth_views.login, name="login"),
    path("oauth/callback/", auth_views.oauth_callback, name="oauth_callback"),
    path("jssdk/config", auth_views.jssdk_config, name="jssdk_config"),
]
