"""渠道活码 routes, included by scrm.console.urls under livecodes/ (namespace console)."""

from django.urls import path

from scrm.console import livecodes

urlpatterns = [
    path("", livecodes.livecode_list, name="livecodes"),
    path("new/", livecodes.livecode_create, name="livecode_create"),
    path("report/", livecodes.livecode_report, name="livecode_report"),
    path("welcome/", livecodes.store_welcome, name="livecode_store_welcome"),
    path("<int:pk>/", livecodes.livecode_detail, name="livecode_detail"),
    path("<int:pk>/edit/", livecodes.livecode_edit, name="livecode_edit"),
    path("<int:pk>/delete/", livecodes.livecode_delete, name="livecode_delete"),
    path("<int:pk>/qr.png", livecodes.livecode_qr, name="livecode_qr"),
    path("<int:pk>/poster.png", livecodes.livecode_poster, name="livecode_poster"),
]
