from django.urls import include, path

from scrm.console.views import auth, materials

app_name = "console"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    # Guide performance (managers, admins): scrm/console/performance_urls.py.
    path("performance/", include("scrm.console.performance_urls")),
    # Customer hand-over, 离职继承 / 在职转接 (managers, admins): scrm/console/handover_urls.py.
    path("handover/", include("scrm.console.handover_urls")),
    # Material library (content staff, managers, admins).
    path("materials/", materials.material_list, name="materials"),
    path("materials/new/<str:kind>/", materials.material_create, name="material_create"),
    path("materials/bulk/", materials.material_bulk_upload, name="material_bulk_upload"),
    path("materials/categories/", materials.category_list, name="material_categories"),
    path("materials/categories/<int:pk>/rename/", materials.category_rename, name="material_category_rename"),
    path("materials/categories/move/", materials.category_move, name="material_category_move"),
    path("materials/<int:pk>/", materials.material_detail, name="material_detail"),
    path("materials/<int:pk>/edit/", materials.material_edit, name="material_edit"),
    path("materials/<int:pk>/publish/", materials.material_publish, name="material_publish"),
    path("materials/<int:pk>/unpublish/", materials.material_unpublish, name="material_unpublish"),
]
