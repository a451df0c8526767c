from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from scrm.api import materials

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("materials/", materials.material_list, name="api-material-list"),
    path("materials/<int:pk>/", materials.material_detail, name="api-material-detail"),
]
