"""Identify says what happened (#12): created, matched, merged, suggested, conflict; merged ids say so."""

import pytest

from scrm.customers.models import Customer, IdentityConflict, MergeSuggestion

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/identify"


def identify(writer, identities, **extra):
    response = writer.post(URL, {"identities": identities, **extra})
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_a_family_phone_is_a_suggestion_and_a_verified_one_merges(writer, settings):
    settings.IDENTITY_PHONE_POLICY = "verified"
    mother = identify(writer, {"tmall": "tb_mother123", "phone": "13800138000"})
    assert mother["outcome"] == "created"

    child = identify(writer, {"pos_member": "M0001", "phone": "13800138000"})
    assert child["outcome"] == "suggested" and child["suggested"] == [mother["id"]]
    assert child["id"] != mother["id"]
    assert MergeSuggestion.objects.count() == 1

    # The mini program later verifies the mother's number with her unionid: joined, as an undoable merge.
    own = identify(writer, {"unionid": "oMOM", "phone": "13800138000"}, verified=["phone"])
    assert own["id"] == mother["id"] and own["outcome"] == "merged"
    # Her phone is verified now: the next account carrying it merges too.
    shop = identify(writer, {"jd": "jd_mom_777", "phone": "13800138000"})
    assert shop["outcome"] == "merged" and shop["id"] == mother["id"] and shop["merged"]


def test_a_second_unionid_is_answered_as_a_conflict(writer):
    first = identify(writer, {"mp_openid": "oMP1", "unionid": "oU1"})

    again = identify(writer, {"mp_openid": "oMP1", "unionid": "oU2"})

    assert again["outcome"] == "conflict" and again["conflicts"] == ["unionid"]
    assert again["id"] == first["id"]
    assert [row["kind"] for row in again["identities"]].count("unionid") == 1
    assert IdentityConflict.objects.count() == 1


def test_verified_must_name_an_identity_kind(writer):
    response = writer.post(URL, {"identities": {"mp_openid": "oMP1"}, "verified": ["face"]})
    assert response.status_code == 400
    assert "verified" in response.content.decode()


def test_a_merged_away_id_says_where_it_went(writer):
    kept = identify(writer, {"mp_openid": "oMP_A"})["id"]
    dropped = identify(writer, {"youzan": "yz_123"})["id"]
    identify(writer, {"mp_openid": "oMP_A", "youzan": "yz_123"})

    moved = writer.get(f"/api/v1/customers/{dropped}").json()
    same = writer.get(f"/api/v1/customers/{kept}").json()

    assert (moved["id"], moved["merged_into"]) == (kept, kept)
    assert (same["id"], same["merged_into"]) == (kept, None)
    assert Customer.objects.get(pk=dropped).merged_into_id == kept
