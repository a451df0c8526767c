from django.urls import path

from sidebar import auth_views, identity_views, material_views, task_views, today_views, views

app_name = "sidebar"
urlpatterns = [
    # Sign-in, JS-SDK and the shell page (which works without the screens below).
    path("", auth_views.home, name="home"),
    path("login/", auth_views.login, name="login"),
    path("oauth/callback/", auth_views.oauth_callback, name="oauth_callback"),
    path("jssdk/config", auth_views.jssdk_config, name="jssdk_config"),
    # Customer screens.
    path("ping/", views.ping, name="ping"),
    path("c/<str:external_userid>/", views.portrait, name="portrait"),
    path("c/<str:external_userid>/tags/", views.tag_picker, name="tag_picker"),
    path("c/<str:external_userid>/tags/add/", views.tag_add, name="tag_add"),
    path("c/<str:external_userid>/tags/remove/", views.tag_remove, name="tag_remove"),
    path("c/<str:external_userid>/timeline/", views.timeline, name="timeline"),
    path("c/<str:external_userid>/notes/", views.note_add, name="note_add"),
    path("c/<str:external_userid>/notes/<int:note_id>/close/", views.note_close, name="note_close"),
    # 身份核对: merge suggestions and phone merges, decided by the guide in the chat.
    path(
        "c/<str:external_userid>/identity/suggestions/<int:suggestion_id>/confirm",
        identity_views.suggestion_confirm,
        name="suggestion_confirm",
    ),
    path(
        "c/<str:external_userid>/identity/suggestions/<int:suggestion_id>/reject",
        identity_views.suggestion_reject,
        name="suggestion_reject",
    ),
    path("c/<str:external_userid>/identity/merges/<int:merge_id>/undo", identity_views.merge_undo, name="merge_undo"),
    # The material tab.
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
    # 今日, the guide's workbench, and its banner on the portrait.
    path("today/", today_views.today, name="today"),
    path("today/<int:item_id>/snooze", today_views.today_snooze, name="today_snooze"),
    path("today/<int:item_id>/dismiss", today_views.today_dismiss, name="today_dismiss"),
    path("today/<int:item_id>/done", today_views.today_done, name="today_done"),
    path("c/<str:external_userid>/today/", today_views.today_banner, name="today_banner"),
    # 任务卡 on top of the portrait.
    path("c/<str:external_userid>/tasks/", task_views.task_card, name="task_card"),
    path("c/<str:external_userid>/tasks/<int:item_id>/prepare", task_views.task_prepare, name="task_prepare"),
    path(
        "c/<str:external_userid>/tasks/<int:item_id>/sends/<str:request_id>",
        task_views.task_send_report,
        name="task_send_report",
    ),
]
