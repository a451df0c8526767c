from django.urls import path

from scrm.wecom.simulator import chat_views, groupmsg

# Mounted under /dev/ by scrm/wecom/simulator/urls.py (simulator mode only).
urlpatterns = [
    path("chat/", chat_views.chat, name="sim_chat"),
    path("chat/api/conversation", chat_views.conversation, name="sim_chat_conversation"),
    path("chat/api/receive", chat_views.receive, name="sim_chat_receive"),
    path("chat/api/send", chat_views.send, name="sim_chat_send"),
    path("chat/member/depart", chat_views.member_depart, name="sim_member_depart"),
    path("chat/transfer/refuse", chat_views.transfer_refuse, name="sim_transfer_refuse"),
    path("chat/scan", chat_views.scan, name="sim_chat_scan"),
    path("scan/<str:config_id>/", chat_views.scan_page, name="sim_scan_page"),
    path("chat/groupmsg/<str:msgid>/confirm", groupmsg.confirm, name="sim_groupmsg_confirm"),
    path("chat/groupmsg/<str:msgid>/ignore", groupmsg.ignore, name="sim_groupmsg_ignore"),
    path("chat/api/verify-signature", chat_views.verify_signature, name="sim_chat_verify_signature"),
]
