from django.urls import path

from scrm.livecodes import views

app_name = "livecodes"

urlpatterns = [
    path("stores/", views.store_codes, name="store_codes"),
]
