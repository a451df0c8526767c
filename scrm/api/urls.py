from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from scrm.api import coupons, customer_detail, docs, events, identify, materials, orders, orders_bulk, products

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from our own static files (drf-spectacular-sidecar); its script is a file, not inline (CSP).
    path("docs/", docs.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("materials/", materials.material_list, name="api-material-list"),
    path("materials/<int:pk>/", materials.material_detail, name="api-material-detail"),
    # Ingestion from the brand's systems (scrm.api.identify, customer_detail, events, orders).
    path("customers/identify", identify.customer_identify, name="api-customer-identify"),
    path("customers/<int:customer_id>", customer_detail.customer_detail, name="api-customer-detail"),
    path("events", events.event_batch, name="api-event-batch"),
    path("orders", orders_bulk.order_batch, name="api-order-batch"),
    path("orders/<str:channel>/<str:order_no>", orders.order_upsert, name="api-order-upsert"),
    path("products/<str:sku>", products.product_upsert_view, name="api-product-upsert"),
    # 任务卡 coupons used at the till or online (scrm.api.coupons).
    path("coupons/redeem", coupons.coupon_redeem_view, name="api-coupon-redeem"),
]
