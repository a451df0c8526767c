from django.urls import path

from sidebar import views

# Customer screens of the sidebar; included by sidebar/urls.py under the "sidebar" namespace.
urlpatterns = [
    path("ping/", views.ping, name="ping"),
    path("c/<str:external_userid>/", views.portrait, name="portrait"),
    path("c/<str:external_userid>/tags/add/", views.tag_add, name="tag_add"),
    path("c/<str:external_userid>/tags/remove/", views.tag_remove, name="tag_remove"),
    path("c/<str:external_userid>/timeline/", views.timeline, name="timeline"),
    path("c/<str:external_userid>/notes/", views.note_add, name="note_add"),
]
