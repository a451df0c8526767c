"""POST /api/v1/customers/identify: one customer per person across channels."""

import pytest

from scrm.customers.models import Customer, CustomerMerge, Identity, IdentityKind
from tests.api.conftest import error_fields
from tests.factories import CustomerFactory, IdentityFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/identify"


def identify(writer, identities, **extra):
    return writer.post(URL, {"identities": identities, **extra})


def test_same_person_across_channels_is_one_customer(writer):
    first = identify(writer, {"unionid": "oUNION0001", "mp_openid": "oMP0001"}, profile={"name": "王小姐"})
    assert first.status_code == 201, first.content
    assert first.json()["created"] is True

    # The shop later reports the same unionid with a Tmall id: no new person, one more identity.
    second = identify(writer, {"unionid": "oUNION0001", "tmall": "tb_wang_88"})
    assert second.status_code == 200, second.content
    body = second.json()
    assert body["id"] == first.json()["id"] and body["created"] is False
    assert {row["kind"] for row in body["identities"]} == {"unionid", "mp_openid", "tmall"}
    assert Customer.objects.count() == 1


def test_identities_proving_two_customers_are_one_merge_them(writer):
    mp = identify(writer, {"mp_openid": "oMP_A"}).json()["id"]
    shop = identify(writer, {"youzan": "yz_123"}).json()["id"]
    assert mp != shop

    merged = identify(writer, {"mp_openid": "oMP_A", "youzan": "yz_123"})
    assert merged.status_code == 200
    assert merged.json()["id"] == mp  # the older customer is kept
    assert Customer.objects.get(pk=shop).merged_into_id == mp
    assert CustomerMerge.objects.filter(keep_id=mp, drop_id=shop).exists()
    assert {row["kind"] for row in merged.json()["identities"]} == {"mp_openid", "youzan"}


def test_identities_are_masked_and_phone_never_stored_in_clear(writer):
    response = identify(writer, {"phone": "+86 138-0013-8000", "unionid": "oUNIONabcdefgh123"})
    assert response.status_code == 201
    shown = {row["kind"]: row["masked"] for row in response.json()["identities"]}
    assert shown["phone"] == "138****8000"
    assert shown["unionid"] == "oUNI…123"
    assert "13800138000" not in response.content.decode()
    phone = Identity.objects.get(kind=IdentityKind.PHONE)
    assert "13800138000" not in phone.value and phone.display == "138****8000"

    # The same number written differently finds the same person.
    again = identify(writer, {"phone": "13800138000"})
    assert again.json()["id"] == response.json()["id"]


def test_profile_fills_blanks_but_does_not_overwrite(writer):
    store = StoreFactory(code="SH001")
    customer = CustomerFactory(name="企微昵称", store=None)
    IdentityFactory(customer=customer, kind=IdentityKind.UNIONID, value="oKNOWN")
    response = identify(
        writer,
        {"unionid": "oKNOWN"},
        profile={"name": "小程序昵称", "gender": 2, "birthday": "1990-05-01", "store_code": "SH001"},
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "企微昵称"
    assert customer.gender == 2 and str(customer.birthday) == "1990-05-01" and customer.store == store


def test_new_customer_gets_source_channel_from_identity(writer):
    response = identify(writer, {"pos_member": "M0001"}, profile={"name": "李先生"})
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.source == "pos" and customer.name == "李先生"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"identities": {}}, "identities", 400),
        ({"identities": {"weibo": "x"}}, "identities", 400),
        ({"identities": {"phone": "12345"}}, "identities", 400),
        ({"identities": {"unionid": "x" * 129}}, "identities", 400),
        ({"identities": {"unionid": ""}}, "identities", 400),
        ({"identities": {"unionid": 123}}, "identities", 400),
        ({"identities": {"unionid": "oU"}, "profile": {"store_code": "NOPE"}}, "store_code", 422),
        ({"identities": {"unionid": "oU"}, "profile": {"gender": 7}}, "profile", 400),
        ({"identities": {"unionid": "oU"}, "profile": {"gender": "2"}}, "profile", 400),
        ({"identities": "oU"}, "identities", 400),
        ({}, "identities", 400),
    ],
)
def test_bad_input_is_refused_naming_the_field(writer, body, field, status):
    response = writer.post(URL, body)
    assert response.status_code == status, response.content
    assert field in error_fields(response)
    assert Customer.objects.count() == 0


def test_unknown_identity_kind_is_explained_in_chinese(writer):
    response = identify(writer, {"weibo": "x"})
    assert "未知的身份类型" in str(response.json())


def test_malformed_json_is_a_400(writer):
    response = writer.client.post(URL, data="{not json", content_type="application/json", **writer.headers)
    assert response.status_code == 400


@pytest.mark.parametrize("junk", ["undefined", "null", "0", "-", "None", "\u200b", "NULL ", "０", "000"])
def test_placeholder_values_never_merge_strangers(writer, junk):
    first = identify(writer, {"mp_openid": "A", "unionid": junk})
    # Refused either way: "0" or "-" breaks the schema's pattern (400), "null" is a placeholder rule (422).
    assert first.status_code in (400, 422) and "identities.unionid" in error_fields(first)
    assert identify(writer, {"mp_openid": "A"}).status_code == 201
    assert identify(writer, {"mp_openid": "B"}).status_code == 201
    assert Customer.objects.count() == 2
    assert not Identity.objects.filter(kind=IdentityKind.UNIONID).exists()


def test_values_are_trimmed_and_width_folded(writer):
    first = identify(writer, {"tmall": " ｔｂ_wang\u200b "}).json()["id"]
    assert identify(writer, {"tmall": "tb_wang"}).json()["id"] == first


def test_a_phone_from_the_api_is_on_the_customer_masked_and_hashed(writer):
    created = identify(writer, {"mp_openid": "oPHONE1", "phone": "13812345678"}).json()["id"]
    customer = Customer.objects.get(pk=created)
    assert customer.phone_masked == "138****5678" and customer.phone_hash
    known = identify(writer, {"mp_openid": "oPHONE2"}).json()["id"]
    identify(writer, {"mp_openid": "oPHONE2", "phone": "13900001111"})
    assert Customer.objects.get(pk=known).phone_masked == "139****1111"
