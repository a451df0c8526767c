"""Guide performance routes, included by scrm.console.urls under performance/ (namespace console)."""

from django.urls import path

from scrm.console import performance

urlpatterns = [
    path("", performance.dashboard, name="performance"),
    path("stores/<int:store_id>/", performance.store_detail, name="performance_store"),
    path("guides/<int:staff_id>/", performance.guide_detail, name="performance_guide"),
    path(
        "guides/<int:staff_id>/customers/<int:customer_id>/",
        performance.guide_customer,
        name="performance_guide_customer",
    ),
]
