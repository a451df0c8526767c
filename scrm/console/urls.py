from django.urls import path

from scrm.console.views import (
    auth,
    customers,
    handover,
    identity,
    livecodes,
    materials,
    performance,
    privacy,
    sop,
    tasks,
    today,
)

app_name = "console"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    # Guide performance (managers, admins).
    path("performance/", performance.dashboard, name="performance"),
    path("performance/stores/<int:store_id>/", performance.store_detail, name="performance_store"),
    path("performance/guides/<int:staff_id>/", performance.guide_detail, name="performance_guide"),
    path(
        "performance/guides/<int:staff_id>/customers/<int:customer_id>/",
        performance.guide_customer,
        name="performance_guide_customer",
    ),
    # Customer hand-over, 离职继承 / 在职转接 (managers, admins).
    path("handover/", handover.handover_home, name="handover"),
    path("handover/guides/<int:staff_id>/", handover.handover_new, name="handover_new"),
    path("handover/guides/<int:staff_id>/depart/", handover.handover_depart, name="handover_depart"),
    path("handover/guides/<int:staff_id>/reinstate/", handover.handover_reinstate, name="handover_reinstate"),
    path("handover/batches/<int:pk>/", handover.handover_batch, name="handover_batch"),
    path("handover/batches/<int:pk>/retry/", handover.handover_retry, name="handover_retry"),
    # 渠道活码 (managers for their store, admins).
    path("livecodes/", livecodes.livecode_list, name="livecodes"),
    path("livecodes/new/", livecodes.livecode_create, name="livecode_create"),
    path("livecodes/report/", livecodes.livecode_report, name="livecode_report"),
    path("livecodes/welcome/", livecodes.store_welcome, name="livecode_store_welcome"),
    path("livecodes/<int:pk>/", livecodes.livecode_detail, name="livecode_detail"),
    path("livecodes/<int:pk>/edit/", livecodes.livecode_edit, name="livecode_edit"),
    path("livecodes/<int:pk>/delete/", livecodes.livecode_delete, name="livecode_delete"),
    path("livecodes/<int:pk>/qr.png", livecodes.livecode_qr, name="livecode_qr"),
    path("livecodes/<int:pk>/poster.png", livecodes.livecode_poster, name="livecode_poster"),
    # 客户 and saved segments (managers: their store; admins: all).
    path("customers/", customers.customer_list, name="customers"),
    path("customers/segments/", customers.segment_create, name="segment_create"),
    path("customers/segments/<int:segment_id>/", customers.segment_detail, name="segment_detail"),
    path("customers/segments/<int:segment_id>/tags/", customers.segment_tag, name="segment_tag"),
    # 任务卡 (managers, admins).
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/new/", tasks.task_create, name="task_create"),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/groupsend/refresh/", tasks.task_groupsend_refresh, name="task_groupsend_refresh"),
    path(
        "tasks/<int:task_id>/groupsend/<int:batch_id>/remind/",
        tasks.task_groupsend_remind,
        name="task_groupsend_remind",
    ),
    # 自动化任务: SOP rules that put customers in guides' 今日 (managers, admins).
    path("sop/", sop.sop_rules, name="sop_rules"),
    path("sop/<int:rule_id>/toggle/", sop.sop_rule_toggle, name="sop_rule_toggle"),
    # 今日 reminders: worked and selling? (managers, admins)
    path("today/", today.today_report, name="today"),
    # 个人信息 (admins): the access log, a customer's data export and erasure on request.
    path("privacy/", privacy.privacy_home, name="privacy"),
    path("privacy/customers/<int:customer_id>/export/", privacy.customer_export, name="privacy_export"),
    path("privacy/customers/<int:customer_id>/erase/", privacy.customer_erase_view, name="privacy_erase"),
    # 身份核对 (admins): merge suggestions, phone merges and identity conflicts, brand-wide.
    path("identity/", identity.identity_home, name="identity"),
    path("identity/suggestions/<int:suggestion_id>/confirm/", identity.suggestion_confirm, name="identity_confirm"),
    path("identity/suggestions/<int:suggestion_id>/reject/", identity.suggestion_reject, name="identity_reject"),
    path("identity/merges/<int:merge_id>/undo/", identity.merge_undo, name="identity_undo"),
    path("identity/conflicts/<int:conflict_id>/resolve/", identity.conflict_resolve, name="identity_resolve"),
    # Material library (content staff, managers, admins).
    path("materials/", materials.material_list, name="materials"),
    path("materials/new/<str:kind>/", materials.material_create, name="material_create"),
    path("materials/bulk/", materials.material_bulk_upload, name="material_bulk_upload"),
    path("materials/bulk/<int:batch_id>/", materials.material_bulk_status, name="material_bulk_status"),
    path("materials/categories/", materials.category_list, name="material_categories"),
    path("materials/categories/<int:pk>/rename/", materials.category_rename, name="material_category_rename"),
    path("materials/categories/move/", materials.category_move, name="material_category_move"),
    path("materials/<int:pk>/", materials.material_detail, name="material_detail"),
    path("materials/<int:pk>/edit/", materials.material_edit, name="material_edit"),
    path("materials/<int:pk>/publish/", materials.material_publish, name="material_publish"),
    path("materials/<int:pk>/unpublish/", materials.material_unpublish, name="material_unpublish"),
]
