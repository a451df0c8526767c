"""Reads: tasks a console user may see, their progress per store and guide, and a guide's open items.

Group sends (企业群发) are done in WeCom, so their items never show as one-tap cards in 今日 or the chat.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from scrm.customers.models import Order
from scrm.org.compiled import CUSTOMER, DT_MARKER, DT_MARKER_2, DT_MARKER_3, STAFF, compiled_rows
from scrm.org.models import Staff
from scrm.taskcards.groupsend_results import REMIND_WINDOW, REMINDS_PER_DAY
from scrm.taskcards.models import GroupSendBatch, GroupSendResult, Task, TaskItem

SENT = TaskItem.State.SENT
CARD = Task.Kind.CARD
SEND_FAILED = (GroupSendResult.NOT_FRIEND, GroupSendResult.OVER_LIMIT)  # WeCom did not deliver the group send


def tasks_visible(*, viewer: Staff) -> QuerySet[Task]:
    """Admins see every task; a manager their store's, and headquarters' tasks that reach their store."""
    tasks = Task.objects.select_related("segment", "material", "created_by")
    if viewer.role == Staff.Role.ADMIN:
        return tasks
    if not viewer.store_id:
        return tasks.none()
    reaches = TaskItem.objects.filter(task=OuterRef("pk"), staff__store_id=viewer.store_id)
    return tasks.filter(Q(store_id=viewer.store_id) | Q(store__isnull=True) & Exists(reaches))


def progress_scope(*, viewer: Staff) -> int | None:
    """The store whose items a viewer's progress counts: a manager's own; None (all) for admins."""
    return None if viewer.role == Staff.Role.ADMIN else viewer.store_id


def task_get(*, viewer: Staff, task_id: int) -> Task:
    return get_object_or_404(tasks_visible(viewer=viewer), pk=task_id)


@dataclass
class Progress:
    label: str
    store: str = ""
    assigned: int = 0
    sent: int = 0
    ordered: int = 0
    redeemed: int = 0

    @property
    def open(self) -> int:
        return self.assigned - self.sent

    @property
    def sent_pct(self) -> int:
        return round(100 * self.sent / self.assigned) if self.assigned else 0


def _in_store(items: QuerySet[TaskItem], store_id: int | None) -> QuerySet[TaskItem]:
    """The items of one store's guides, or all of them when `store_id` is None (an admin)."""
    return items if store_id is None else items.filter(staff__store_id=store_id)


def _items_with_outcome(task: Task, store_id: int | None) -> QuerySet[TaskItem]:
    """Items with `ordered`: the customer paid an order within the task's window after the send."""
    window = dt.timedelta(days=task.order_window_days)
    orders = Order.objects.filter(
        customer=OuterRef("customer_id"),
        paid_at__gte=OuterRef("sent_at"),
        paid_at__lt=ExpressionWrapper(OuterRef("sent_at") + window, output_field=DateTimeField()),
    )
    return _in_store(TaskItem.objects.filter(task=task), store_id).annotate(ordered=Exists(orders))


def _count(rows) -> dict:
    return rows.annotate(
        assigned=Count("pk"),
        sent=Count("pk", filter=Q(state=SENT)),
        ordered_n=Count("pk", filter=Q(ordered=True, state=SENT)),
        redeemed=Count("pk", filter=Q(coupon__redeemed_at__isnull=False)),
    )


@dataclass
class TaskProgress:
    total: Progress
    stores: list[Progress]
    guides: list[Progress]


def task_progress(*, task: Task, store_id: int | None = None) -> TaskProgress:
    """Progress of the whole task, or of one store's guides (what a manager sees of a brand task)."""
    items = _items_with_outcome(task, store_id)
    total = Progress(label="")
    guides, stores = [], {}
    rows = _count(items.values("staff_id", "staff__name", "staff__store__name")).order_by(
        "staff__store__name", "staff__name"
    )
    for row in rows:
        p = Progress(
            label=row["staff__name"], assigned=row["assigned"], sent=row["sent"],
            ordered=row["ordered_n"], redeemed=row["redeemed"], store=row["staff__store__name"] or "—",
        )  # fmt: skip
        guides.append(p)
        store = stores.setdefault(p.store, Progress(label=p.store))
        for target in (store, total):
            target.assigned += p.assigned
            target.sent += p.sent
            target.ordered += p.ordered
            target.redeemed += p.redeemed
    return TaskProgress(total=total, stores=list(stores.values()), guides=guides)


def task_totals(*, tasks: list[Task], store_id: int | None = None) -> dict[int, Progress]:
    """Assigned and sent per task, for the list (one query); one store's only when `store_id` is given."""
    items = _in_store(TaskItem.objects.filter(task__in=tasks), store_id)
    rows = items.values("task_id").annotate(assigned=Count("pk"), sent=Count("pk", filter=Q(state=SENT)))
    return {r["task_id"]: Progress(label="", assigned=r["assigned"], sent=r["sent"]) for r in rows}


def open_items_for_guide(*, staff: Staff, now: dt.datetime | None = None, limit: int = 50) -> list[TaskItem]:
    """The guide's items still to send in running tasks, nearest deadline first (for 今日)."""
    now = now or timezone.now()
    return list(
        TaskItem.objects.filter(
            staff=staff, state=TaskItem.State.OPEN, task__starts_at__lte=now, task__deadline__gt=now, task__kind=CARD
        )
        .select_related("task", "customer")
        .order_by("task__deadline", "task_id", "pk")[:limit]
    )


def items_for_chat(*, staff: Staff, customer_id: int, now: dt.datetime | None = None) -> list[TaskItem]:
    """This guide's task items for the customer of the open chat: open ones of running tasks, and ones sent today."""
    now = now or timezone.now()
    today = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    # Compiled once per connection (#17): every portrait asks it.
    query = compiled_rows(("items_for_chat",), _items_for_chat_query)
    return query.all(
        {
            STAFF: staff.pk,
            CUSTOMER: customer_id,
            DT_MARKER: now,
            DT_MARKER_2: today,
            DT_MARKER_3: today + dt.timedelta(1),
        }
    )


def _items_for_chat_query() -> QuerySet[TaskItem]:
    running = Q(state=TaskItem.State.OPEN, task__starts_at__lte=DT_MARKER, task__deadline__gt=DT_MARKER)
    sent_today = Q(state=SENT, sent_at__gte=DT_MARKER_2, sent_at__lt=DT_MARKER_3)  # the local day of `now`
    return (
        TaskItem.objects.filter(running | sent_today, staff_id=STAFF, customer_id=CUSTOMER, task__kind=CARD)
        .select_related("task", "task__material", "customer", "coupon")
        .order_by("state", "task__deadline")
    )


def lagging_guides(*, task: Task) -> list[tuple[int, int]]:
    """(staff_id, open items) of the task's guides who still have customers to send to."""
    rows = (
        TaskItem.objects.filter(task=task, state=TaskItem.State.OPEN)
        .values("staff_id")
        .annotate(n=Count("pk"))
        .order_by("staff_id")
    )
    return [(r["staff_id"], r["n"]) for r in rows]


def tasks_due_soon(*, now: dt.datetime, within: dt.timedelta) -> QuerySet[Task]:
    # Group sends are nudged through WeCom (remind_groupmsg_send), not by app message.
    return Task.objects.filter(starts_at__lte=now, deadline__gt=now, deadline__lte=now + within, kind=CARD)


@dataclass
class GuideSend:
    """One guide's part of a group send, for the task's page."""

    batch: GroupSendBatch
    customers: int
    received: int
    failed: int
    reminders_left: int


def groupsend_guides(*, task: Task, now: dt.datetime | None = None) -> list[GuideSend]:
    now = now or timezone.now()
    since = (now - REMIND_WINDOW).timestamp()
    failed = Q(items__wecom_status__in=SEND_FAILED)
    batches = (
        task.batches.select_related("staff", "staff__store")
        .annotate(
            n=Count("items"),
            received=Count("items", filter=Q(items__wecom_status=GroupSendResult.RECEIVED)),
            failed=Count("items", filter=failed),
        )  # fmt: skip
        .order_by("staff__store__name", "staff__name", "number")
    )
    return [
        GuideSend(
            batch=b,
            customers=b.n,
            received=b.received,
            failed=b.failed,
            reminders_left=max(REMINDS_PER_DAY - sum(t > since for t in b.reminded_at), 0),
        )  # fmt: skip
        for b in batches
    ]


def groupsend_customers(*, task: Task, limit: int = 500) -> list[TaskItem]:
    """Each customer's result, failures first, then not yet sent, then received."""
    order = Case(
        When(wecom_status__in=SEND_FAILED, then=0),
        When(wecom_status=GroupSendResult.RECEIVED, then=2),
        default=1,
    )
    items = task.items.select_related("customer", "staff").annotate(rank=order)
    return list(items.order_by("rank", "staff__name", "pk")[:limit])
