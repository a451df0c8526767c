import datetime as dt
import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from scrm.customers.events import EventKind
from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityKind,
    LifecycleStage,
    Note,
    Order,
    OrderLine,
    Tag,
)
from scrm.customers.selectors import age_on
from scrm.customers.services import customer_refresh_figures
from scrm.devtools.demo.people import external_userid, phone_number
from scrm.devtools.demo.seed import demo_anchor
from scrm.materials.models import Material, MaterialCategory, MaterialSend
from scrm.materials.placeholders import material_unknown_placeholders
from scrm.org.models import Staff, Store
from scrm.taskcards.models import Task, TaskItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True  # seed_demo refuses to run in production


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", customers=1, events=1, quiet=True, rollup_days=0)
    assert not Customer.objects.exists()


CUSTOMERS = 80
EVENTS = 2400


def seed(**options) -> str:
    out = io.StringIO()
    # Rollups are slow and tested once below; other tests skip them.
    args = {"customers": CUSTOMERS, "events": EVENTS, "seed": 7, "quiet": True, "rollup_days": 0, **options}
    call_command("seed_demo", stdout=out, **args)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    models = [Customer, Identity, FollowRelation, CustomerTag, Note, Order, OrderLine, Event, MaterialSend]
    models += [Material, MaterialCategory, Staff, Store]
    return {model.__name__: model.objects.count() for model in models}


def generated():
    """The generated customers (each known to WeCom), not the demo's Tmall buyers who share a phone."""
    return Customer.objects.filter(identities__kind=IdentityKind.WECOM)


def snapshot() -> dict:
    """Business content of the generated customers, independent of database ids."""
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "identities__value",
                "name",
                "gender",
                "birthday",
                "phone_masked",
                "store__code",
                "total_spend",
                "lifecycle_stage",
                "next_expected_on",
            ).filter(identities__kind=IdentityKind.WECOM)
        ),  # fmt: skip
        "identities": sorted(Identity.objects.values_list("kind", "value", "display")),
        "relations": sorted(
            FollowRelation.objects.values_list("staff__userid", "external_userid", "added_at", "ended_by", "state")
        ),
        "orders": sorted(
            Order.objects.values_list("channel", "order_no", "paid_at", "amount", "status", "staff__userid")
        ),
        # The generator's own events; the task card's are made by the product's services (random codes).
        "events": sorted(
            Event.objects.filter(dedupe_key__startswith="demo:").values_list(
                "dedupe_key", "kind", "occurred_at", "title", "payload"
            )
        ),
        "task_items": sorted(TaskItem.objects.values_list("customer__name", "staff__userid", "state", "sent_at")),
        "notes": sorted(Note.objects.values_list("body", "next_contact_on", "done", "created_at")),
    }


def test_seeds_a_believable_brand_across_every_channel_and_kind():
    output = seed()

    assert Store.objects.count() >= 3
    for store in Store.objects.all():
        assert store.staff.filter(role=Staff.Role.GUIDE, is_active=True).count() >= 3, store
        assert store.staff.filter(role=Staff.Role.MANAGER).count() == 1, store
    assert Staff.objects.filter(role=Staff.Role.GUIDE).count() >= 12
    assert Staff.objects.filter(role=Staff.Role.CONTENT).exists()
    assert Staff.objects.filter(user__isnull=True).count() == 0
    assert all(s.user.username == s.userid for s in Staff.objects.select_related("user"))
    admin = authenticate(username="admin", password="admin")
    assert admin is not None and admin.is_superuser and admin.staff.role == Staff.Role.ADMIN
    assert "admin / admin" in output

    assert generated().count() == CUSTOMERS
    assert set(Identity.objects.values_list("kind", flat=True)) == set(IdentityKind.values)
    # Some customers are known only through WeCom, others across many channels.
    kinds_per_customer = Customer.objects.annotate(n=Count("identities")).values_list("n", flat=True)
    assert min(kinds_per_customer) == 1 and max(kinds_per_customer) >= 6
    for ext in Identity.objects.filter(kind=IdentityKind.WECOM).values_list("value", flat=True):
        assert re.fullmatch(r"wm[A-Za-z0-9]{26}", ext)

    # Three orders a customer, plus the till orders the demo task's redeemed coupons were used on.
    assert Order.objects.exclude(order_no__startswith="PDEMO").count() == 3 * CUSTOMERS
    assert Order.objects.filter(status="refunded").exists()
    assert not Order.objects.filter(store__isnull=True).exists()
    assert not OrderLine.objects.filter(unit_price__lte=0).exists()
    assert Order.objects.filter(lines__isnull=True).count() == 0

    assert Event.objects.count() >= EVENTS
    assert set(Event.objects.values_list("kind", flat=True)) == set(EventKind.values)
    chat = Event.objects.filter(kind=EventKind.CHAT_MESSAGE).first()
    assert re.search(r"[\u4e00-\u9fff]", chat.payload["content"]) and chat.payload["schema"] == 1
    span = Event.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    anchor = demo_anchor()
    assert span["last"] < anchor
    assert span["first"] <= anchor - dt.timedelta(days=450)
    assert span["first"] >= anchor - dt.timedelta(days=541)

    ended = dict(FollowRelation.objects.values_list("ended_by").annotate(n=Count("id")).values_list("ended_by", "n"))
    assert ended.get("customer") and ended.get("staff") and ended.get("transfer")
    # The departed guide's customers were handed over: she serves no one any more.
    departed = Staff.objects.get(userid="sh001g05")
    assert not departed.follow_relations.filter(ended_at__isnull=True).exists()
    assert Note.objects.filter(next_contact_on__gte=anchor.date()).exists()
    assert CustomerTag.objects.values("tag__group").distinct().count() >= 5

    assert set(Material.objects.values_list("kind", flat=True)) == set(Material.Kind.values)
    assert Material.objects.count() >= 60
    assert Material.objects.filter(status=Material.Status.PUBLISHED).count() > 50
    assert MaterialCategory.objects.filter(parent__isnull=False).exists()
    assert Material.objects.filter(kind="text", content__contains="{客户称呼}").count() > 20
    image = Material.objects.filter(kind="image").first()
    assert image.file.read(3) == b"\xff\xd8\xff"  # a real JPEG, saved through the storage
    for material in Material.objects.filter(kind__in=["link", "miniprogram", "video"]).exclude(cover=""):
        assert Image.open(material.cover).size[0] > 100, material
    # Catalogue products' mini-program cards show the product shot by its address (scrm.products).
    for material in Material.objects.filter(kind__in=["link", "miniprogram", "video"], cover=""):
        assert material.kind == "miniprogram" and material.link_url.startswith("http"), material
    for material in Material.objects.filter(kind="text"):
        assert material_unknown_placeholders(content=material.content) == [], material
    pdf = Material.objects.filter(kind="file").first().file.read()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")


def test_every_order_goes_to_the_guide_serving_the_customer_when_paid():
    seed()
    relations = list(FollowRelation.objects.all())
    for order in Order.objects.select_related("staff"):
        serving = [
            r
            for r in relations
            if r.customer_id == order.customer_id
            and r.added_at <= order.paid_at
            and (r.ended_at is None or r.ended_at > order.paid_at)
        ]
        if serving:
            assert order.staff_id in {r.staff_id for r in serving}
            assert order.store_id == order.staff.store_id
        else:
            assert order.staff_id is None


def test_age_tags_agree_with_the_birthdays_shown():
    seed()
    today = timezone.localdate()
    bands = {"18-24岁": (0, 24), "25-30岁": (25, 30), "31-40岁": (31, 40), "40岁以上": (41, 200)}
    tagged = CustomerTag.objects.filter(tag__group__name="年龄段", customer__birthday__isnull=False)
    assert tagged.exists()
    for ct in tagged.select_related("customer", "tag"):
        age = age_on(ct.customer.birthday, today)  # as the portrait shows it
        low, high = bands[ct.tag.name]
        assert low <= age <= high, (ct.customer_id, age, ct.tag.name)


def test_second_run_changes_nothing_and_says_so():
    seed()
    before = table_counts()
    first_snapshot = snapshot()

    output = seed()

    assert table_counts() == before
    assert snapshot() == first_snapshot
    assert "已存在" in output


def test_same_seed_same_day_gives_the_same_data():
    seed()
    first = snapshot()
    Customer.objects.all().delete()  # cascades to everything generated per customer
    Task.objects.all().delete()  # the demo's task card, made for the customers of the day

    seed()

    assert snapshot() == first


def test_other_seed_is_refused_rather_than_mixed_in():
    seed()
    with pytest.raises(CommandError, match="seed"):
        seed(seed=8)


def test_interrupted_run_resumes_without_duplicates():
    seed(customers=30)
    seed()
    assert generated().count() == CUSTOMERS
    assert Identity.objects.filter(kind=IdentityKind.WECOM).count() == CUSTOMERS


def test_stored_figures_match_the_figures_service():
    seed()
    today = demo_anchor().date()
    fields = [
        "lifecycle_stage", "order_count", "refund_count", "total_spend", "avg_order_value", "first_order_at",
        "last_order_at", "repurchase_cycle_days", "next_expected_on", "churn_risk", "churn_reason",
    ]  # fmt: skip
    stored = {c["pk"]: c for c in Customer.objects.values("pk", *fields)}
    for pk in list(stored)[::3]:
        expected = customer_refresh_figures(customer_id=pk, today=today)
        assert {f: stored[pk][f] for f in fields} == {f: getattr(expected, f) for f in fields}, pk
    stages = set(Customer.objects.values_list("lifecycle_stage", flat=True))
    assert {LifecycleStage.PROSPECT, LifecycleStage.REPEAT, LifecycleStage.DORMANT, LifecycleStage.LOST} <= stages
    cycles = Customer.objects.exclude(repurchase_cycle_days=None).values_list("repurchase_cycle_days", flat=True)
    assert 25 <= sorted(cycles)[len(cycles) // 2] <= 95
    # The stage is the computed badge only: no tag group could contradict it.
    assert not Tag.objects.filter(name__in=[label for _value, label in LifecycleStage.choices]).exists()


def test_phone_numbers_are_never_stored_in_clear():
    seed()
    phones = [phone_number(7, i) for i in range(CUSTOMERS)]
    stored = Identity.objects.filter(kind=IdentityKind.PHONE)
    assert stored.count() > 10
    for identity in stored:
        assert re.fullmatch(r"[0-9a-f]{64}", identity.value)
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", identity.display)
    text = "\n".join(
        str(row)
        for qs in (
            Customer.objects.values_list("name", "phone_hash", "phone_masked"),
            Identity.objects.values_list("value", "display"),
            FollowRelation.objects.values_list("remark", "description", "remark_mobiles"),
            Event.objects.values_list("title", "payload"),
            Note.objects.values_list("body"),
        )
        for row in qs
    )
    assert not [p for p in phones if p in text]
    assert generated().exclude(phone_hash="").count() == stored.count()


def test_customers_are_found_again_by_their_external_userid():
    seed()
    ext = external_userid(7, 5)
    assert (
        Identity.objects.get(kind=IdentityKind.WECOM, value=ext)
        .customer.follow_relations.filter(external_userid=ext)
        .exists()
    )


def test_negative_sizes_are_refused():
    with pytest.raises(CommandError):
        seed(customers=-1)


def test_dashboard_has_figures_right_after_seeding(client):
    """`make run` has no beat: seed_demo itself builds the rollups the dashboard reads."""
    from scrm.analytics.models import GuideDay

    output = seed(rollup_days=10)
    assert "已生成业绩汇总" in output and "（10 天）" in output
    today = timezone.localdate()
    assert GuideDay.objects.filter(day=today - dt.timedelta(days=1)).exists()
    assert not GuideDay.objects.filter(day__lt=today - dt.timedelta(days=9)).exists()
    rows = GuideDay.objects.count()

    admin = Staff.objects.filter(role=Staff.Role.ADMIN).first()
    client.force_login(admin.user)
    response = client.get(reverse("console:performance"), {"preset": "30d"})
    shown = {c.key: c.text for c in response.context["total_cells"]}
    # Not the all-zero board: activity of the last days shows.
    assert shown["tag_coverage"] not in ("—", "0.0%")
    assert any(shown[key] not in ("0", "¥0.00") for key in ("adds", "gmv", "sends", "notes"))

    # A second run adds no data, so it leaves the rollups alone and says nothing about them.
    again = seed(rollup_days=10)
    assert "已生成业绩汇总" not in again
    assert GuideDay.objects.count() == rows


def test_the_logins_it_suggests_open_what_it_says(client):
    out = seed()
    manager = Staff.objects.filter(role=Staff.Role.MANAGER).order_by("userid").first()
    assert f"管理后台（店长）：{manager.userid}" in out
    guide_line = next(line for line in out.splitlines() if "导购侧边栏" in line)
    assert "/dev/chat/" in guide_line
    # The console login it names for a manager works; no guide is offered the console.
    response = client.post("/console/login/", {"username": manager.userid, "password": "demo1234"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_seed_demo_fills_the_catalogue_and_todays_lists():
    from django.core.management import call_command

    from scrm.products.models import Product
    from scrm.today.models import ReminderItem

    call_command("seed_demo", "--customers", "120", "--events", "1500", "--rollup-days", "0", "--quiet")
    assert Product.objects.filter(usage_days__isnull=False).count() >= 15
    assert Product.objects.exclude(material=None).count() >= 3
    assert ReminderItem.objects.filter(state="open").values("kind").distinct().count() >= 3
    call_command("seed_demo", "--customers", "120", "--events", "1500", "--rollup-days", "0", "--quiet")
    assert Product.objects.count() == len({p.sku for p in Product.objects.all()})


def test_a_guide_who_just_left_still_has_customers_to_hand_over():
    out = seed(quiet=False)
    leaving = Staff.objects.get(userid="hz001g04")
    assert not leaving.is_active and leaving.departed_at is not None
    waiting = FollowRelation.objects.filter(staff=leaving, ended_at__isnull=True).count()
    assert waiting > 0  # a newcomer can try 离职继承 at once
    assert f"离职继承：{leaving.name}（hz001g04）" in out


def test_the_demo_has_a_headquarters_task_part_sent_with_coupons_redeemed():
    from scrm.taskcards.models import Coupon, Task, TaskItem

    seed(customers=200, events=2000)
    task = Task.objects.get(name="会员日邀约：沉睡老客回归")
    items = TaskItem.objects.filter(task=task)
    sent = items.filter(state=TaskItem.State.SENT)
    assert items.count() > 5 and 0 < sent.count() < items.count()  # progress to show, work left for 今日
    assert Coupon.objects.filter(task=task, item__in=sent).count() == sent.count()
    redeemed = Coupon.objects.filter(task=task, redeemed_at__isnull=False)
    assert redeemed.exists()
    # A coupon used at the till came with an order: the task's progress counts it as 下单.
    assert Order.objects.filter(order_no__in=redeemed.values("redeemed_order_no")).count() == redeemed.count()
    done = Event.objects.filter(kind=EventKind.TASK_DONE, payload__task_id=task.pk)
    assert done.count() == sent.count()  # each send is on the customer's timeline
    seed(customers=200, events=2000)
    assert Task.objects.filter(name=task.name).count() == 1


def test_the_demo_guide_has_identity_suggestions_to_decide():
    from scrm.customers.models import MergeSuggestion

    seed(customers=200, events=2000)
    open_ = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN)
    assert open_.exists()
    guide = Staff.objects.get(userid="hz001g01")
    assert FollowRelation.objects.filter(staff=guide, customer__in=open_.values("customer")).exists()
    seed(customers=200, events=2000)
    assert MergeSuggestion.objects.count() == open_.count()  # a re-run adds none
