from django.urls import path

from scrm.console.views import tasks

# 任务卡; included by scrm/console/urls.py under "tasks/".
urlpatterns = [
    path("", tasks.task_list, name="tasks"),
    path("new/", tasks.task_create, name="task_create"),
    path("<int:task_id>/", tasks.task_detail, name="task_detail"),
    path("<int:task_id>/groupsend/refresh/", tasks.task_groupsend_refresh, name="task_groupsend_refresh"),
    path("<int:task_id>/groupsend/<int:batch_id>/remind/", tasks.task_groupsend_remind, name="task_groupsend_remind"),
]
