from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from scrm.api import ingest, materials

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("materials/", materials.material_list, name="api-material-list"),
    path("materials/<int:pk>/", materials.material_detail, name="api-material-detail"),
    # Ingestion from the brand's systems (scrm.api.ingest).
    path("customers/identify", ingest.customer_identify, name="api-customer-identify"),
    path("customers/<int:customer_id>", ingest.customer_detail, name="api-customer-detail"),
    path("events", ingest.event_batch, name="api-event-batch"),
    path("orders/<str:channel>/<str:order_no>", ingest.order_upsert, name="api-order-upsert"),
]
