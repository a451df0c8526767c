import datetime as dt
import os
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scrm.customers.events import EventKind
from scrm.customers.models import CustomerTag, Event
from scrm.org.models import Staff
from scrm.wecom.models import TagOutbox
from tests.factories import CustomerFactory, FollowRelationFactory, NoteFactory, StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


def portrait_url(ext: str) -> str:
    return reverse("sidebar:portrait", args=[ext])


# --- who may open whom -------------------------------------------------------------------------


def test_guide_sees_own_customer(guide_client, rich_customer, ext):
    response = guide_client.get(portrait_url(ext))
    assert response.status_code == 200
    assert rich_customer.name in response.content.decode()


def test_guide_with_a_past_relation_still_sees_the_customer(staff_client, followed_customer, store):
    former = StaffFactory(store=store)
    relation = FollowRelationFactory(
        staff=former, customer=followed_customer, ended_at=timezone.now(), ended_by="staff"
    )
    response = staff_client(former).get(portrait_url(relation.external_userid))
    assert response.status_code == 200
    assert "你与该客户的好友关系已结束" in response.content.decode()


def test_an_id_with_a_nul_byte_is_a_404_not_a_500(guide_client, ext):
    # PostgreSQL refuses NUL in text parameters; the lookup must not reach the database with one.
    for name in ("portrait", "timeline"):
        assert guide_client.get(reverse(f"sidebar:{name}", args=[ext + "\x00"])).status_code == 404
    assert guide_client.post(reverse("sidebar:tag_add", args=["\x00"]), {"tag": "1"}).status_code == 404


@pytest.mark.parametrize(
    "who",
    ["other_guide", "manager_other_store", "content", "unknown_id"],
)
def test_others_get_the_same_404_as_an_unknown_id(staff_client, followed_customer, ext, store, who):
    other_store = StoreFactory()
    staff = {
        "other_guide": lambda: StaffFactory(store=store),
        "manager_other_store": lambda: StaffFactory(store=other_store, role=Staff.Role.MANAGER),
        "content": lambda: StaffFactory(store=store, role=Staff.Role.CONTENT),
        "unknown_id": lambda: StaffFactory(store=store, role=Staff.Role.ADMIN),
    }[who]()
    url = portrait_url("wmNOSUCHUSER" if who == "unknown_id" else ext)
    client = staff_client(staff)
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("sidebar:timeline", args=[ext if who != "unknown_id" else "wmNOSUCHUSER"])).status_code
        == 404
    )


def test_guide_cannot_tag_or_note_someone_elses_customer(staff_client, followed_customer, ext, store, tag_groups):
    client = staff_client(StaffFactory(store=store))
    add = client.post(reverse("sidebar:tag_add", args=[ext]), {"tag": tag_groups["油皮"].pk})
    note = client.post(reverse("sidebar:note_add", args=[ext]), {"body": "偷看"})
    assert (add.status_code, note.status_code) == (404, 404)
    assert not CustomerTag.objects.exists()
    assert not Event.objects.exists()


def test_manager_sees_store_customers_and_customers_served_by_store_guides(staff_client, guide, store):
    manager = StaffFactory(store=store, role=Staff.Role.MANAGER)
    own_store = FollowRelationFactory(staff=StaffFactory(store=StoreFactory()), customer=CustomerFactory(store=store))
    served_here = FollowRelationFactory(staff=guide, customer=CustomerFactory(store=StoreFactory()))
    client = staff_client(manager)
    assert client.get(portrait_url(own_store.external_userid)).status_code == 200
    assert client.get(portrait_url(served_here.external_userid)).status_code == 200


def test_admin_sees_everyone(staff_client, ext):
    admin = StaffFactory(store=StoreFactory(), role=Staff.Role.ADMIN)
    assert staff_client(admin).get(portrait_url(ext)).status_code == 200


def test_signed_out_visitor_is_sent_to_sign_in(client, ext):
    response = client.get(portrait_url(ext))
    assert response.status_code == 302
    assert reverse("sidebar:login") in response["Location"]


# --- what the portrait shows -------------------------------------------------------------------


def test_identities_are_masked(guide_client, rich_customer, ext):
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert "138****5678" in html
    assert "oUnI…x9Z" in html
    assert "oUnIoNabcdefghijx9Z" not in html
    assert "tmall_member_00012345" not in html
    assert "天猫" in html


def test_figures_come_from_the_refreshed_customer(guide_client, rich_customer, ext):
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert rich_customer.order_count == 3
    assert "¥900.00" in html  # total spend
    assert "¥300.00" in html  # AOV
    assert "30 天" in html  # repurchase cycle
    assert "35 天前" in html  # since last purchase
    assert rich_customer.get_lifecycle_stage_display() in html


def test_churn_risk_is_flagged_with_its_reason(guide_client, followed_customer, ext):
    followed_customer.churn_risk = True
    followed_customer.churn_reason = "超过平均回购周期 2 倍未购买"
    followed_customer.save()
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert "流失风险" in html and "超过平均回购周期 2 倍未购买" in html


def test_header_shows_remark_source_and_friend_days(guide_client, relation, ext):
    relation.remark = "王姐-敏感肌"
    relation.add_way = 1
    relation.state = "store_S001_poster"
    relation.save()
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert "王姐-敏感肌" in html
    assert "扫描二维码" in html
    # The 活码 by the name the timeline uses, never its internal code.
    assert "活码 门店海报" in html
    assert "store_S001_poster" not in html
    assert "添加好友 30 天" in html


@pytest.mark.parametrize(
    "state, shown",
    [("store_sh001_event", "门店活动"), ("live_20251111", "双11直播"), ("qr_unknown_x", "qr_unknown_x")],
)
def test_the_source_code_is_named_like_the_timeline_names_it(guide_client, relation, ext, state, shown):
    relation.state = state
    relation.save()
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert f"活码 {shown}" in html


def test_the_source_code_is_named_by_its_live_code_and_channel(guide_client, relation, ext):
    from scrm.livecodes.models import ChannelGroup, LiveCode

    LiveCode.objects.create(name="春季快闪店", channel_group=ChannelGroup.POSTER, state="store_sh001_spring")
    relation.state = "store_sh001_spring"
    relation.save()
    assert "活码 海报 · 春季快闪店" in guide_client.get(portrait_url(ext)).content.decode()


def test_a_past_expected_purchase_is_marked_overdue(guide_client, followed_customer, ext):
    followed_customer.next_expected_on = timezone.localdate() - dt.timedelta(days=12)
    followed_customer.save()
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert re.search(r'<small class="overdue">\s*已超期 12 天\s*</small>', html)


def test_a_future_expected_purchase_is_not_overdue(guide_client, followed_customer, ext):
    followed_customer.next_expected_on = timezone.localdate() + dt.timedelta(days=3)
    followed_customer.save()
    assert "已超期" not in guide_client.get(portrait_url(ext)).content.decode()


def test_tags_are_grouped_and_deleted_ones_hidden(guide_client, rich_customer, ext):
    portrait = guide_client.get(portrait_url(ext)).content.decode()
    # The tags that can be added load when the picker opens, not with every portrait.
    assert "高预算" not in portrait
    picker = guide_client.get(reverse("sidebar:tag_picker", args=[ext])).content.decode()
    html = portrait + picker
    assert "肤质" in html and "干皮" in html and "高预算" in picker
    assert "已删标签" not in html and "删组标签" not in html and "已删组" not in html


def test_other_guides_notes_and_orders(guide_client, rich_customer, ext, guide, store):
    other = StaffFactory(store=store, name="李导购")
    FollowRelationFactory(staff=other, customer=rich_customer)
    NoteFactory(customer=rich_customer, staff=guide, body="想要保湿套装")
    NoteFactory(customer=rich_customer, staff=other, body="别人的备注")
    html = guide_client.get(portrait_url(ext)).content.decode()
    assert "李导购" in html
    assert "想要保湿套装" in html
    assert "别人的备注" not in html
    assert "修护精华液 30ml" in html


def test_htmx_load_into_the_shell_gets_the_screen_without_the_page(guide_client, rich_customer, ext):
    response = guide_client.get(portrait_url(ext), headers={"HX-Request": "true", "HX-Target": "main"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="tags"' in html and 'class="tabs"' in html


def test_cold_load_stays_under_80_kb(guide_client, rich_customer, ext, populate):
    populate(rich_customer, 10)
    html = guide_client.get(portrait_url(ext)).content
    assets = re.findall(r'(?:href|src)="/static/([^"]+)"', html.decode())
    assert {"sidebar/sidebar.css", "vendor/htmx-2.0.11.min.js"} <= set(assets)
    total = len(html) + sum(os.path.getsize(finders.find(a)) for a in assets)
    assert total < 80 * 1024, total


# --- tags --------------------------------------------------------------------------------------


def test_htmx_tag_add_saves_records_and_queues_the_push(guide_client, rich_customer, ext, guide, tag_groups):
    tag = tag_groups["油皮"]
    response = guide_client.post(
        reverse("sidebar:tag_add", args=[ext]), {"tag": tag.pk, "open": "1"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="tags"')
    assert f'value="{tag.pk}" formaction' in html  # now offered for removal
    assert '<details class="picker" open>' in html
    assert CustomerTag.objects.filter(customer=rich_customer, tag=tag, added_by=guide).exists()
    event = Event.objects.get(kind=EventKind.TAG_ADDED)
    assert event.staff == guide and "油皮" in event.title
    push = TagOutbox.objects.get()
    assert (push.userid, push.external_userid, push.add_tag_ids, push.remove_tag_ids) == (
        guide.userid,
        ext,
        [tag.pk],
        [],
    )


def test_adding_a_tag_twice_is_a_no_op(guide_client, rich_customer, ext, tag_groups):
    url = reverse("sidebar:tag_add", args=[ext])
    for _ in range(2):
        assert guide_client.post(url, {"tag": tag_groups["干皮"].pk}).status_code == 302
    assert CustomerTag.objects.filter(customer=rich_customer, tag=tag_groups["干皮"]).count() == 1
    assert not Event.objects.filter(kind=EventKind.TAG_ADDED).exists()
    assert not TagOutbox.objects.exists()


def test_tag_remove_without_js_redirects_back(guide_client, rich_customer, ext, guide, tag_groups):
    tag = tag_groups["干皮"]
    response = guide_client.post(reverse("sidebar:tag_remove", args=[ext]), {"tag": tag.pk})
    assert response.status_code == 302
    assert response["Location"].endswith(portrait_url(ext) + "#tags")
    assert not CustomerTag.objects.filter(customer=rich_customer, tag=tag).exists()
    assert Event.objects.filter(kind=EventKind.TAG_REMOVED, staff=guide).count() == 1
    assert TagOutbox.objects.get().remove_tag_ids == [tag.pk]
    # Removing again changes nothing.
    guide_client.post(reverse("sidebar:tag_remove", args=[ext]), {"tag": tag.pk})
    assert Event.objects.filter(kind=EventKind.TAG_REMOVED).count() == 1


@pytest.mark.parametrize("value", ["", "999999", "abc"])
def test_bad_tag_is_a_400_with_a_chinese_message(guide_client, rich_customer, ext, value):
    response = guide_client.post(reverse("sidebar:tag_add", args=[ext]), {"tag": value}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请选择标签" in html or "标签不存在或已删除" in html
    assert 'id="tags"' in html


def test_deleted_tag_cannot_be_added(guide_client, rich_customer, ext, tag_groups):
    response = guide_client.post(reverse("sidebar:tag_add", args=[ext]), {"tag": tag_groups["删组标签"].pk})
    assert response.status_code == 400
    assert "标签不存在或已删除" in response.content.decode()


def test_local_only_tag_is_not_pushed_to_wecom(guide_client, rich_customer, ext, tag_groups):
    tag = tag_groups["高预算"]
    tag.wecom_tag_id = None
    tag.save()
    guide_client.post(reverse("sidebar:tag_add", args=[ext]), {"tag": tag.pk})
    assert CustomerTag.objects.filter(customer=rich_customer, tag=tag).exists()
    assert not TagOutbox.objects.exists()


def test_manager_edit_is_pushed_through_the_serving_guide(staff_client, rich_customer, ext, guide, store, tag_groups):
    manager = StaffFactory(store=store, role=Staff.Role.MANAGER)
    staff_client(manager).post(reverse("sidebar:tag_add", args=[ext]), {"tag": tag_groups["油皮"].pk})
    assert TagOutbox.objects.get().userid == guide.userid
    assert Event.objects.get(kind=EventKind.TAG_ADDED).staff == manager


# --- query counts ------------------------------------------------------------------------------


def test_portrait_query_count_does_not_grow_with_data(guide_client, rich_customer, ext, populate):
    guide_client.get(portrait_url(ext))  # the first view of the ten minutes also writes the access log
    counts = []
    for more in (2, 30):
        populate(rich_customer, more)
        with CaptureQueriesContext(connection) as queries:
            response = guide_client.get(portrait_url(ext))
        assert response.status_code == 200
        counts.append(len(queries))
    assert response.content.decode().count('class="chip on"') >= 32
    assert counts[0] == counts[1] <= 12, counts


def test_ping_answers_signed_in_staff_only(client, guide):
    assert client.get("/sidebar/ping/").status_code == 302
    client.force_login(guide.user)
    response = client.get("/sidebar/ping/")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_a_single_choice_group_replaces_the_customers_tag(guide_client, rich_customer, ext, guide, tag_groups):
    skin = tag_groups["干皮"].group
    skin.single_choice = True
    skin.save()
    page = guide_client.get(reverse("sidebar:tag_picker", args=[ext])).content.decode()
    assert "（单选，选中即替换）" in page

    guide_client.post(
        reverse("sidebar:tag_add", args=[ext]), {"tag": tag_groups["油皮"].pk}, headers={"HX-Request": "true"}
    )

    held = set(CustomerTag.objects.filter(customer=rich_customer, tag__group=skin).values_list("tag__name", flat=True))
    assert held == {"油皮", "已删标签"}  # 干皮 replaced; a tag deleted in WeCom is not ours to touch
    removed = Event.objects.get(kind=EventKind.TAG_REMOVED)
    assert "干皮" in removed.title
    pushes = list(TagOutbox.objects.order_by("id").values_list("add_tag_ids", "remove_tag_ids"))
    assert ([tag_groups["油皮"].pk], []) in pushes and ([], [tag_groups["干皮"].pk]) in pushes


@pytest.mark.parametrize(
    ("gender", "mark"),
    [(1, '<span class="sex m" title="男">♂</span>'), (2, '<span class="sex f" title="女">♀</span>'), (0, None)],
)
def test_the_name_carries_the_customers_gender_when_wecom_knows_it(guide_client, followed_customer, ext, gender, mark):
    followed_customer.gender = gender
    followed_customer.save(update_fields=["gender"])
    body = guide_client.get(portrait_url(ext)).content.decode()
    if mark:
        assert mark in body
    else:
        assert 'class="sex' not in body


def test_the_tag_picker_of_someone_elses_customer_is_a_404(guide_client, rich_customer):
    other = FollowRelationFactory()
    assert guide_client.get(reverse("sidebar:tag_picker", args=[other.external_userid])).status_code == 404
