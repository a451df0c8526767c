"""POST /api/v1/coupons/redeem: the brand reports a used code; the task's progress counts it."""

import pytest

from scrm.api.services import api_key_create
from scrm.taskcards import sending
from scrm.taskcards.models import Coupon
from scrm.taskcards.selectors import task_progress
from tests.api.conftest import KeyClient, error_fields

pytestmark = pytest.mark.django_db
URL = "/api/v1/coupons/redeem"


@pytest.fixture
def writer(client):
    return KeyClient(client, api_key_create(name="收银", scope="write")[1])


@pytest.fixture
def read_key(db):
    return api_key_create(name="BI", scope="read")


@pytest.fixture
def sent_code(team, make_task):
    task = make_task()
    item = task.items.get(customer=team["c"]["a1"])
    prepared = sending.task_send_prepare(item=item, staff=team["guide"])
    sending.task_send_record(item=item, staff=team["guide"], request_id=prepared.request_id, status="sent")
    return task, Coupon.objects.get(item=item)


def test_redeem_counts_in_progress_and_a_repeat_changes_nothing(writer, sent_code):
    task, coupon = sent_code
    first = writer.post(URL, {"code": coupon.code, "order_no": "TM1"})
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["already_redeemed"] is False and body["customer_id"] == coupon.item.customer_id
    again = writer.post(URL, {"code": coupon.code, "order_no": "TM2"})
    assert again.json()["already_redeemed"] is True and again.json()["order_no"] == "TM1"
    assert task_progress(task=task).total.redeemed == 1


def test_unknown_unsent_and_malformed_codes_answer_in_chinese(writer, sent_code):
    task, _coupon = sent_code
    unknown = writer.post(URL, {"code": "NOPE"})
    assert unknown.status_code == 404 and "券码不存在" in unknown.json()["message"]
    free = Coupon.objects.filter(task=task, item__isnull=True).first()
    unsent = writer.post(URL, {"code": free.code})
    assert unsent.status_code == 422 and "还没有发给客户" in error_fields(unsent)["code"][0]
    assert writer.post(URL, {"code": ""}).status_code == 400
    assert writer.post(URL, {"code": "X", "redeemed_at": "2026-01-01T00:00:00"}).status_code == 400


def test_a_read_key_cannot_redeem(client, read_key, sent_code):
    _task, coupon = sent_code
    response = KeyClient(client, read_key[1]).post(URL, {"code": coupon.code})
    assert response.status_code == 403
    assert Coupon.objects.get(pk=coupon.pk).redeemed_at is None
