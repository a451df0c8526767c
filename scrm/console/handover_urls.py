"""Customer hand-over routes, included by scrm.console.urls under handover/ (namespace console)."""

from django.urls import path

from scrm.console import handover

urlpatterns = [
    path("", handover.handover_home, name="handover"),
    path("guides/<int:staff_id>/", handover.handover_new, name="handover_new"),
    path("guides/<int:staff_id>/depart/", handover.handover_depart, name="handover_depart"),
    path("guides/<int:staff_id>/reinstate/", handover.handover_reinstate, name="handover_reinstate"),
    path("batches/<int:pk>/", handover.handover_batch, name="handover_batch"),
    path("batches/<int:pk>/retry/", handover.handover_retry, name="handover_retry"),
]
