from django.urls import path

from sidebar import material_views

# The material tab; included by sidebar/urls.py under the "sidebar" namespace.
urlpatterns = [
    path("c/<str:external_userid>/materials/", material_views.materials, name="materials"),
    path(
        "c/<str:external_userid>/materials/<int:material_id>/prepare",
        material_views.material_prepare,
        name="material_prepare",
    ),
    path(
        "c/<str:external_userid>/materials/<int:material_id>/favourite",
        material_views.material_favourite,
        name="material_favourite",
    ),
    path(
        "c/<str:external_userid>/materials/sends/<str:request_id>",
        material_views.material_send_report,
        name="material_send_report",
    ),
]
