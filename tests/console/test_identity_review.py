"""身份核对 in the console (#12): admins see suggestions, phone merges and conflicts brand-wide, both sides
with provenance, and decide them; nobody else may."""

import pytest

from scrm.customers.identity import customer_resolve_detail
from scrm.customers.models import Customer, CustomerMerge, IdentityConflict, MergeSuggestion
from scrm.customers.services import phone_hash, phone_mask

pytestmark = pytest.mark.django_db

PHONE = ("phone", phone_hash("13800138000"), phone_mask("13800138000"))


def observe(*rows, verified=(), provenance="api:天猫同步"):
    return customer_resolve_detail(identities=list(rows), defaults={}, verified=set(verified), provenance=provenance)


@pytest.fixture
def admin_client(client, admin_staff):
    client.force_login(admin_staff.user)
    return client


def test_admin_sees_every_open_item_with_both_sides_and_where_each_identity_came_from(admin_client):
    observe(("tmall", "tb_mother123", ""), PHONE)
    observe(("pos_member", "M000456", ""), PHONE, provenance="api:门店POS")
    observe(("unionid", "oUnionAAA1", ""), ("mp_openid", "oMPaaa111", ""))
    observe(("unionid", "oUnionBBB2", ""), ("mp_openid", "oMPaaa111", ""))  # a second unionid: refused

    page = admin_client.get("/console/identity/").content.decode()

    assert "与该客户手机号相同" in page
    assert "M00***456" in page and "tb_m…123" in page  # evidence, and both sides masked
    assert "API · 天猫同步" in page and "API · 门店POS" in page
    assert "同一人不能有两个微信 UnionID" in page
    assert "tb_mother123" not in page


def test_admin_confirms_rejects_undoes_and_closes(admin_client):
    observe(("tmall", "tb_mother123", ""), PHONE)
    observe(("pos_member", "M000456", ""), PHONE)
    suggestion = MergeSuggestion.objects.get()
    assert admin_client.post(f"/console/identity/suggestions/{suggestion.pk}/confirm/").status_code == 302
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1

    observe(("jd", "jd_child789", ""), PHONE, verified={"phone"})
    merge = CustomerMerge.objects.get(drop__identities__isnull=True, reason__startswith="手机号")
    assert "jd_***789" in admin_client.get("/console/identity/").content.decode()
    admin_client.post(f"/console/identity/merges/{merge.pk}/undo/")
    assert CustomerMerge.objects.get(pk=merge.pk).undone_at is not None

    observe(("unionid", "oUnionAAA1", ""), ("mp_openid", "oMPaaa111", ""))
    observe(("unionid", "oUnionBBB2", ""), ("mp_openid", "oMPaaa111", ""))
    conflict = IdentityConflict.objects.get()
    admin_client.post(f"/console/identity/conflicts/{conflict.pk}/resolve/")
    assert IdentityConflict.objects.get().resolved_at is not None
    # Already decided: a clear 404, not an error.
    assert admin_client.post(f"/console/identity/conflicts/{conflict.pk}/resolve/").status_code == 404


def test_managers_may_not_open_or_act(client, manager):
    observe(("tmall", "tb_mother123", ""), PHONE)
    observe(("pos_member", "M000456", ""), PHONE)
    suggestion = MergeSuggestion.objects.get()
    client.force_login(manager.user)

    assert client.get("/console/identity/").status_code == 403
    assert client.post(f"/console/identity/suggestions/{suggestion.pk}/reject/").status_code == 403
    assert MergeSuggestion.objects.get().status == MergeSuggestion.Status.OPEN
