from django.urls import path

from scrm.wecom.simulator import chat_views

# Mounted under /dev/ by scrm/wecom/simulator/urls.py (simulator mode only).
urlpatterns = [
    path("chat/", chat_views.chat, name="sim_chat"),
    path("chat/api/conversation", chat_views.conversation, name="sim_chat_conversation"),
    path("chat/api/receive", chat_views.receive, name="sim_chat_receive"),
    path("chat/api/send", chat_views.send, name="sim_chat_send"),
    path("chat/api/verify-signature", chat_views.verify_signature, name="sim_chat_verify_signature"),
]
