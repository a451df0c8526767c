"""Console hand-over pages: roles and store scoping, the form's counts and errors, batch page, retry."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scrm.customers.models import LifecycleStage
from scrm.handover import services
from scrm.handover.models import HandoverBatch, HandoverItem
from scrm.org.models import Staff
from tests.factories import (
    CustomerFactory,
    CustomerTagFactory,
    FollowRelationFactory,
    StaffFactory,
    StoreFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db
State = HandoverItem.State


@pytest.fixture
def team(store, manager):
    """The manager's store: an old guide with 4 customers (2 VIP, 1 loyal) and two colleagues."""
    old = StaffFactory(store=store, name="王离开")
    bob = StaffFactory(store=store, name="李接替")
    cat = StaffFactory(store=store, name="赵接替")
    vip = TagFactory(name="VIP")
    relations = []
    for n in range(4):
        stage = LifecycleStage.LOYAL if n == 0 else LifecycleStage.NEW
        customer = CustomerFactory(store=store, lifecycle_stage=stage, name=f"顾客{n}")
        relations.append(FollowRelationFactory(staff=old, customer=customer))
        if n < 2:
            CustomerTagFactory(customer=customer, tag=vip)
    return {"old": old, "bob": bob, "cat": cat, "vip": vip, "relations": relations, "manager": manager}


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager.user)
    return client


def new_url(staff):
    return reverse("console:handover_new", args=[staff.pk])


def form_data(**overrides):
    data = {"mode": "all", "request_key": uuid.uuid4().hex, "transfer_success_msg": ""}
    data.update(overrides)
    return data


def make_batch(team, relations=None):
    return services.handover_batch_create(
        handover=team["old"],
        takeovers=[team["bob"]],
        relations=relations or team["relations"],
        created_by=team["manager"],
        request_key=uuid.uuid4().hex,
    )


# --- roles ------------------------------------------------------------------------------------


def _urls(team, batch):
    return [
        ("get", reverse("console:handover")),
        ("get", new_url(team["old"])),
        ("post", reverse("console:handover_depart", args=[team["old"].pk])),
        ("get", reverse("console:handover_batch", args=[batch.pk])),
        ("post", reverse("console:handover_retry", args=[batch.pk])),
    ]


@pytest.mark.parametrize("role", [Staff.Role.GUIDE, Staff.Role.CONTENT])
def test_guides_and_content_staff_get_403(client, team, role):
    batch = make_batch(team)
    client.force_login(StaffFactory(role=role).user)
    for method, url in _urls(team, batch):
        assert getattr(client, method)(url).status_code == 403, url
    assert Staff.objects.get(pk=team["old"].pk).is_active


def test_anonymous_is_sent_to_console_login(client, team):
    response = client.get(reverse("console:handover"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("console:login"))


def test_manager_of_another_store_gets_404(client, team):
    batch = make_batch(team)
    client.force_login(StaffFactory(role=Staff.Role.MANAGER, store=StoreFactory()).user)
    for method, url in _urls(team, batch)[1:]:
        assert getattr(client, method)(url).status_code == 404, url
    assert Staff.objects.get(pk=team["old"].pk).is_active
    assert batch.items.filter(state=State.PENDING).count() == 4
    # Their list shows neither the guide nor the batch.
    body = client.get(reverse("console:handover")).content.decode()
    assert "王离开" not in body


def test_manager_sees_own_store_guides_counts_and_batches(manager_client, team):
    make_batch(team, team["relations"][:1])
    body = manager_client.get(reverse("console:handover")).content.decode()
    assert "王离开" in body and "李接替" in body
    assert reverse("console:handover_new", args=[team["old"].pk]) in body
    assert reverse("console:handover") in body  # the nav entry
    assert "转接中" in body
    assert "在职转接" in body


# --- the form ---------------------------------------------------------------------------------


def test_form_shows_the_count_of_every_choice(manager_client, team):
    response = manager_client.get(new_url(team["old"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "全部客户（4）" in body
    assert "VIP（2）" in body
    assert "忠诚客（1）" in body and "新客（3）" in body
    assert "李接替" in body and "赵接替" in body
    assert "转接提示语" in body  # in-service: the customer gets a message
    assert "将转接 4 位客户" in body


def test_preview_counts_the_current_choice(manager_client, team):
    response = manager_client.get(
        new_url(team["old"]),
        {"preview": "1", "mode": "tag", "tag": team["vip"].pk, "takeovers": [team["bob"].pk, team["cat"].pk]},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "将转接 2 位客户" in body and "轮流平均分配" in body


def test_post_creates_a_batch_spread_over_two_guides(manager_client, team):
    response = manager_client.post(
        new_url(team["old"]),
        form_data(takeovers=[team["bob"].pk, team["cat"].pk], transfer_success_msg="您好，我是新导购"),
    )
    batch = HandoverBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("console:handover_batch", args=[batch.pk])
    assert batch.kind == HandoverBatch.Kind.IN_SERVICE
    assert batch.transfer_success_msg == "您好，我是新导购"
    assert batch.items.filter(takeover=team["bob"]).count() == 2
    assert batch.items.filter(takeover=team["cat"]).count() == 2
    assert batch.created_by == team["manager"]


def test_post_by_tag_moves_only_tagged_customers_and_a_resubmit_makes_no_second_batch(manager_client, team):
    data = form_data(mode="tag", tag=team["vip"].pk, takeovers=[team["bob"].pk])
    manager_client.post(new_url(team["old"]), data)
    manager_client.post(new_url(team["old"]), data)

    batch = HandoverBatch.objects.get()
    assert set(batch.items.values_list("relation_id", flat=True)) == {r.pk for r in team["relations"][:2]}
    assert batch.selection["label"] == "标签：VIP"


BAD_INPUTS = {
    "no takeover": (lambda t: {}, "请选择接替导购"),
    "old guide as takeover": (lambda t: {"takeovers": [t["old"].pk]}, "不能是原导购"),
    "other store's guide": (lambda t: {"takeovers": [StaffFactory(store=StoreFactory()).pk]}, "在职导购"),
    "departed takeover": (lambda t: {"takeovers": [StaffFactory(store=t["old"].store, is_active=False).pk]}, "在职"),
    "not a number": (lambda t: {"takeovers": ["abc"]}, "在职导购"),
    "tag missing": (lambda t: {"mode": "tag", "takeovers": [t["bob"].pk]}, "请选择标签"),
    "tag nobody has": (lambda t: {"mode": "tag", "tag": TagFactory().pk, "takeovers": [t["bob"].pk]}, "标签"),
    "stage missing": (lambda t: {"mode": "stage", "takeovers": [t["bob"].pk]}, "请选择生命周期"),
    "empty stage": (
        lambda t: {"mode": "stage", "stage": LifecycleStage.LOST, "takeovers": [t["bob"].pk]},
        "所选范围内没有可转接的客户",
    ),
    "bad stage": (lambda t: {"mode": "stage", "stage": "vip", "takeovers": [t["bob"].pk]}, "有效的生命周期"),
    "bad mode": (lambda t: {"mode": "everyone", "takeovers": [t["bob"].pk]}, "选择一个有效的选项"),
    "long message": (lambda t: {"takeovers": [t["bob"].pk], "transfer_success_msg": "好" * 201}, "最多 200 个字"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_a_form_error_not_a_batch(manager_client, team, case):
    build, message = BAD_INPUTS[case]
    response = manager_client.post(new_url(team["old"]), form_data(**build(team)))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not HandoverBatch.objects.exists()


def test_customers_already_in_a_hand_over_are_left_out(manager_client, team):
    make_batch(team, team["relations"][:3])
    body = manager_client.get(new_url(team["old"])).content.decode()
    assert "全部客户（1）" in body and "另有 3 位客户正在转接中" in body

    manager_client.post(new_url(team["old"]), form_data(takeovers=[team["cat"].pk]))
    assert HandoverBatch.objects.count() == 2
    assert HandoverBatch.objects.first().items.get().relation == team["relations"][3]


def test_admin_may_hand_over_to_another_stores_guide(client, team, admin_staff):
    elsewhere = StaffFactory(store=StoreFactory(), name="外店导购")
    client.force_login(admin_staff.user)
    response = client.post(new_url(team["old"]), form_data(takeovers=[elsewhere.pk]))
    assert response.status_code == 302
    assert HandoverBatch.objects.get().items.filter(takeover=elsewhere).count() == 4


def test_marking_departed_leads_to_the_resigned_form(manager_client, team):
    response = manager_client.post(reverse("console:handover_depart", args=[team["old"].pk]))
    assert response.status_code == 302 and response["Location"] == new_url(team["old"])
    old = Staff.objects.get(pk=team["old"].pk)
    assert not old.is_active and old.departed_at is not None

    body = manager_client.get(new_url(team["old"])).content.decode()
    assert "离职继承" in body and "转接提示语" not in body
    manager_client.post(new_url(team["old"]), form_data(takeovers=[team["bob"].pk]))
    assert HandoverBatch.objects.get().kind == HandoverBatch.Kind.RESIGNED
    # The departed guide is no takeover choice anywhere.
    assert "王离开" not in manager_client.get(new_url(team["bob"])).content.decode().split("接替导购", 1)[1]


def test_manager_cannot_mark_themself_departed(manager_client, team):
    response = manager_client.post(reverse("console:handover_depart", args=[team["manager"].pk]), follow=True)
    assert "不能将自己标记为离职" in response.content.decode()
    assert Staff.objects.get(pk=team["manager"].pk).is_active


# --- the batch page ---------------------------------------------------------------------------


def _settle(batch):
    items = list(batch.items.order_by("id"))
    HandoverItem.objects.filter(pk=items[0].pk).update(state=State.WAITING, attempt=1)
    HandoverItem.objects.filter(pk=items[1].pk).update(state=State.ACCEPTED, attempt=1)
    HandoverItem.objects.filter(pk=items[2].pk).update(state=State.REFUSED, attempt=1, reason="客户拒绝转接")
    HandoverItem.objects.filter(pk=items[3].pk).update(
        state=State.FAILED, attempt=1, errcode=84061, reason="不是原导购的客户"
    )
    return items


def test_batch_page_shows_each_outcome_and_counts(manager_client, team):
    batch = make_batch(team)
    _settle(batch)
    response = manager_client.get(reverse("console:handover_batch", args=[batch.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("等待接替", "已接替", "客户拒绝", "失败：不是原导购的客户", "重试失败项", "王离开"):
        assert text in body, text
    assert 'id="n-total">4<' in body and 'id="n-accepted">1<' in body and 'id="n-failed">1<' in body
    assert 'data-confirm="确定重试 2 位转接失败的客户吗？"' in body  # refused + failed, asked before resending

    refused = manager_client.get(reverse("console:handover_batch", args=[batch.pk]), {"state": "refused"})
    assert refused.content.decode().count('data-state="') == 1


def test_batch_list_counts_open_and_unsuccessful_items(manager_client, team):
    batch = make_batch(team)
    _settle(batch)  # waiting, accepted, refused, failed
    body = manager_client.get(reverse("console:handover")).content.decode()
    row = body[body.index(reverse("console:handover_batch", args=[batch.pk])) :].split("</tr>")[0]
    counts = re.findall(r'<td class="num">(\d+)</td>', row)
    assert counts == ["4", "1", "1", "2"]  # customers, 进行中, 已接替, 拒绝/失败


def test_retry_puts_only_refused_and_failed_items_back(manager_client, team):
    batch = make_batch(team)
    items = _settle(batch)
    response = manager_client.post(reverse("console:handover_retry", args=[batch.pk]), follow=True)
    assert "已重新提交 2 位客户" in response.content.decode()
    states = dict(batch.items.values_list("pk", "state"))
    assert states == {
        items[0].pk: State.WAITING,
        items[1].pk: State.ACCEPTED,
        items[2].pk: State.PENDING,
        items[3].pk: State.PENDING,
    }
    # Nothing left to retry: says so instead of pretending.
    again = manager_client.post(reverse("console:handover_retry", args=[batch.pk]), follow=True)
    assert "没有可重试的客户" in again.content.decode()


def test_batch_page_query_count_does_not_grow_with_items(manager_client, team):
    small = make_batch(team)
    old = team["old"]
    many = [FollowRelationFactory(staff=old, customer=CustomerFactory(store=old.store)) for _ in range(30)]
    big = make_batch(team, many)

    def count(batch):
        with CaptureQueriesContext(connection) as ctx:
            assert manager_client.get(reverse("console:handover_batch", args=[batch.pk])).status_code == 200
        return len(ctx.captured_queries)

    assert count(big) == count(small)


def test_batch_page_refreshes_itself_while_customers_wait(manager_client, team):
    batch = make_batch(team)
    url = reverse("console:handover_batch", args=[batch.pk])
    assert 'hx-trigger="every 30s"' in manager_client.get(url).content.decode()

    fragment = manager_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="batch-body"') and "<html" not in fragment

    batch.items.update(state=State.ACCEPTED)
    assert "every 30s" not in manager_client.get(url).content.decode()  # settled: nothing left to watch


def test_list_query_count_does_not_grow_with_batches(manager_client, team):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert manager_client.get(reverse("console:handover")).status_code == 200
        return len(ctx.captured_queries)

    make_batch(team, team["relations"][:1])
    one = count()
    for relation in team["relations"][1:]:
        make_batch(team, [relation])
    assert count() == one


# --- WeCom departure note, preview URL, row layout ----------------------------------------------


def test_departed_guides_form_says_to_leave_wecom_first(manager_client, team):
    note = "请先在企业微信管理后台将该成员办理离职，再进行离职继承"
    assert note not in manager_client.get(new_url(team["old"])).content.decode()  # in-service transfer
    response = manager_client.post(reverse("console:handover_depart", args=[team["old"].pk]), follow=True)
    assert note in response.content.decode()


def test_mark_departed_confirmation_says_to_leave_wecom_first(manager_client, team):
    body = manager_client.get(reverse("console:handover")).content.decode()
    confirm = body.split('data-confirm="', 1)[1]
    assert "请先在企业微信管理后台将该成员办理离职，再进行离职继承" in confirm.split('"', 1)[0]


def test_preview_request_carries_only_the_choices(manager_client, team):
    body = manager_client.get(new_url(team["old"])).content.decode()
    form_tag = body.split('id="handover-form"', 1)[1].split(">", 1)[0]
    assert "hx-get" not in form_tag  # a form would put every field, the CSRF token too, in the URL
    choices = body.split('id="handover-choices"', 1)[1].split('<p class="ho-preview"', 1)[0]
    assert 'hx-get="' in choices and 'hx-include="this"' in choices
    assert 'name="mode"' in choices and 'name="takeovers"' in choices
    assert "csrfmiddlewaretoken" not in choices and 'name="request_key"' not in choices


def test_row_actions_are_wrapped_not_a_flex_cell(manager_client, team):
    body = manager_client.get(reverse("console:handover")).content.decode()
    assert '<td class="actions">' not in body
    assert '<td><div class="actions">' in body


def test_batch_page_says_sending_failed_and_will_be_retried(manager_client, team, monkeypatch):
    from scrm.wecom import api, errors
    from scrm.wecom.errors import WeComError

    batch = make_batch(team)

    def unreachable(**kwargs):
        raise WeComError(errors.CONNECTION, "Connection refused", retryable=True, path="transfer_customer")

    monkeypatch.setattr(api, "transfer_customer", unreachable)
    with pytest.raises(WeComError):
        services.handover_batch_send(batch_id=batch.pk)
    url = reverse("console:handover_batch", args=[batch.pk])
    body = manager_client.get(url).content.decode()
    assert 'id="send-error"' in body and "无法连接企业微信" in body and "自动重试" in body
    assert set(batch.items.values_list("state", flat=True)) == {State.PENDING}

    # Once WeCom takes the customers, the error is gone.
    def accepted(*, external_userids, **kwargs):
        return [{"external_userid": e, "errcode": 0} for e in external_userids]

    monkeypatch.setattr(api, "transfer_customer", accepted)
    assert services.handover_batch_send(batch_id=batch.pk) == 4
    body = manager_client.get(url).content.decode()
    assert 'id="send-error"' not in body and "无法连接企业微信" not in body


def test_manager_can_reinstate_a_guide_marked_departed_by_mistake(manager_client, team):
    old = team["old"]
    manager_client.post(reverse("console:handover_depart", args=[old.pk]))
    page = manager_client.get(reverse("console:handover")).content.decode()
    assert f'data-reinstate="{old.pk}"' in page and "恢复在职" in page

    response = manager_client.post(reverse("console:handover_reinstate", args=[old.pk]), follow=True)
    assert "已恢复 王离开 为在职" in response.content.decode()
    old.refresh_from_db()
    assert old.is_active and old.departed_at is None
    # Back in service: the form is an in-service transfer again, and no reinstate button is left.
    assert f'data-reinstate="{old.pk}"' not in response.content.decode()
    assert "转接提示语" in manager_client.get(new_url(old)).content.decode()


def test_reinstate_is_refused_while_the_guides_customers_are_being_handed_over(manager_client, team):
    old = team["old"]
    manager_client.post(reverse("console:handover_depart", args=[old.pk]))
    make_batch(team)
    page = manager_client.get(reverse("console:handover")).content.decode()
    assert f'data-reinstate="{old.pk}"' not in page

    response = manager_client.post(reverse("console:handover_reinstate", args=[old.pk]), follow=True)
    assert "转接结束后才能恢复在职" in response.content.decode()
    old.refresh_from_db()
    assert not old.is_active


def test_manager_of_another_store_cannot_reinstate(client, team):
    other = StaffFactory(store=StoreFactory(), role=Staff.Role.MANAGER)
    services.staff_mark_departed(staff=team["old"], by=team["manager"])
    client.force_login(other.user)
    assert client.post(reverse("console:handover_reinstate", args=[team["old"].pk])).status_code == 404
    team["old"].refresh_from_db()
    assert not team["old"].is_active
