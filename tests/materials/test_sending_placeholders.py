"""{客户称呼} takes only the name part of the guide's private WeCom remark, never the note after it."""

import pytest

from scrm.materials import sending
from tests.factories import CustomerFactory, FollowRelationFactory, MaterialFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("remark", "greeting"),
    [
        ("王女士-干皮", "王女士"),
        ("王女士－干皮", "王女士"),
        ("王女士—敏感肌", "王女士"),
        ("王女士_VIP", "王女士"),
        ("王女士/老客", "王女士"),
        ("王女士|油皮", "王女士"),
        ("李姐(VIP)", "李姐"),
        ("李姐（会员）", "李姐"),
        ("李姐[静安]", "李姐"),
        ("李姐【大客户】", "李姐"),
        ("张先生 138****5678", "张先生"),
        ("张先生\u3000老客", "张先生"),
        ("  王姐  ", "王姐"),
        ("王姐", "王姐"),
        # Nothing before the separator: the customer's own nickname, never the note.
        ("-干皮", "王小花"),
        ("（VIP）", "王小花"),
        ("", "王小花"),
    ],
)
def test_greeting_uses_only_the_name_part_of_the_remark(guide, remark, greeting):
    customer = CustomerFactory(name="王小花", store=guide.store)
    FollowRelationFactory(staff=guide, customer=customer, remark=remark)
    material = MaterialFactory(content="{客户称呼}，感谢今天到店！")

    prepared = sending.material_send_prepare(material=material, customer=customer, staff=guide)

    assert prepared.msg["text"]["content"] == f"{greeting}，感谢今天到店！"


def test_a_nameless_customer_with_only_a_note_is_greeted_politely(guide):
    customer = CustomerFactory(name="", store=guide.store)
    FollowRelationFactory(staff=guide, customer=customer, remark="(干皮)")
    material = MaterialFactory(content="{客户称呼}好")

    prepared = sending.material_send_prepare(material=material, customer=customer, staff=guide)

    assert prepared.msg["text"]["content"] == "您好"


def test_an_unknown_placeholder_is_never_delivered(guide):
    customer = CustomerFactory(store=guide.store)
    FollowRelationFactory(staff=guide, customer=customer)
    material = MaterialFactory(content="{客户称呼}，{不存在的占位符}见")  # published before the check existed

    with pytest.raises(sending.MaterialSendError) as refused:
        sending.material_send_prepare(material=material, customer=customer, staff=guide)
    assert "{不存在的占位符}" in refused.value.message and refused.value.status == 409


def test_publishing_is_refused_with_the_unknown_placeholders(db):
    from django.core.exceptions import ValidationError

    from scrm.materials.models import Material
    from scrm.materials.services import material_publish

    material = MaterialFactory(content="{客户称呼}，{优惠码}和{不存在}", status=Material.Status.DRAFT)
    with pytest.raises(ValidationError) as refused:
        material_publish(material=material)
    assert "{不存在}、{优惠码}" in refused.value.messages[0]
    material.refresh_from_db()
    assert material.status == Material.Status.DRAFT
