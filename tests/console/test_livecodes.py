"""渠道活码 in the console: create / edit / delete through WeCom (the simulator), who may do what,
Chinese form errors for bad input, the QR and the poster."""

import io

import pytest
from PIL import Image

from scrm.livecodes.models import LiveCode, LiveCodeDecision
from scrm.org.models import Staff
from scrm.wecom.simulator.models import SimContactWay
from tests.factories import StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene(wecom_sim, live_server, settings):
    settings.SITE_URL = live_server.url
    store = StoreFactory(name="静安嘉里店", address="南京西路 1515 号")
    other = StoreFactory(name="徐汇港汇店")
    guides = [StaffFactory(store=store, name=n) for n in ("张导购", "李导购")]
    stranger = StaffFactory(store=other, name="港汇导购")
    for g in [*guides, stranger]:
        wecom_sim.member_add(userid=g.userid, name=g.name)
    admin = StaffFactory(role=Staff.Role.ADMIN, store=None)
    manager = StaffFactory(role=Staff.Role.MANAGER, store=store)
    return {"store": store, "other": other, "guides": guides, "stranger": stranger, "admin": admin, "manager": manager}


def _form(scene, **overrides):
    data = {
        "name": "柜台码",
        "channel_group": "counter",
        "store": scene["store"].pk,
        "spread_mode": "round_robin",
        "guides": [g.pk for g in scene["guides"]],
        "skip_verify": "on",
        "welcome_text": "{客户称呼}您好",
    }
    data.update(overrides)
    return data


def test_an_admin_creates_edits_and_deletes_a_code_through_wecom(client, scene):
    client.force_login(scene["admin"].user)
    response = client.post("/console/livecodes/new/", _form(scene))
    code = LiveCode.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/livecodes/{code.pk}/"
    way = SimContactWay.objects.get(config_id=code.config_id)
    assert way.user == [g.userid for g in scene["guides"]]

    page = client.get(f"/console/livecodes/{code.pk}/").content.decode()
    assert "下载海报" in page and code.qr_image.url in page

    response = client.post(
        f"/console/livecodes/{code.pk}/edit/", _form(scene, name="柜台码2", guides=[scene["guides"][1].pk])
    )
    assert response.status_code == 302
    way.refresh_from_db()
    assert (way.user, way.remark) == ([scene["guides"][1].userid], "柜台码2")
    assert list(code.decisions.values_list("reason", flat=True)) == [
        LiveCodeDecision.Reason.EDITED,
        LiveCodeDecision.Reason.CREATED,
    ]

    assert client.post(f"/console/livecodes/{code.pk}/delete/").status_code == 302
    assert not SimContactWay.objects.filter(config_id=code.config_id).exists()
    assert f'data-code="{code.pk}"' not in client.get("/console/livecodes/").content.decode()


def test_the_qr_and_the_poster_download_as_png(client, scene):
    client.force_login(scene["admin"].user)
    client.post("/console/livecodes/new/", _form(scene))
    code = LiveCode.objects.get()

    qr = client.get(f"/console/livecodes/{code.pk}/qr.png")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png" and "attachment" in qr["Content-Disposition"]
    poster = client.get(f"/console/livecodes/{code.pk}/poster.png")
    image = Image.open(io.BytesIO(poster.content))
    assert image.format == "PNG" and image.size == (874, 1240)


def test_a_manager_manages_only_their_store(client, scene):
    client.force_login(scene["manager"].user)
    # Another store's guide or store is not on offer: a Chinese form error, never a 500.
    response = client.post("/console/livecodes/new/", _form(scene, guides=[scene["stranger"].pk]))
    assert response.status_code == 400 and "选项无效" in response.content.decode()
    response = client.post("/console/livecodes/new/", _form(scene, store=scene["other"].pk))
    assert response.status_code == 400

    assert client.post("/console/livecodes/new/", _form(scene)).status_code == 302
    theirs = LiveCode.objects.create(name="港汇码", channel_group="poster", store=scene["other"], state="gh")
    assert client.get(f"/console/livecodes/{theirs.pk}/").status_code == 404
    assert client.post(f"/console/livecodes/{theirs.pk}/delete/").status_code == 404
    assert "港汇码" not in client.get("/console/livecodes/").content.decode()


def test_guides_cannot_open_the_page(client, scene):
    client.force_login(scene["guides"][0].user)
    assert client.get("/console/livecodes/").status_code == 403


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": ""}, "请填写名称"),
        ({"state": "有中文"}, "渠道标识最多 30 个字符"),
        ({"state": "x" * 31}, "渠道标识最多 30 个字符"),
        ({"guides": []}, "请至少选择一位接待导购"),
        ({"spread_mode": "single"}, "单人活码只能选择一位接待导购"),
        ({"daily_cap": "0"}, "上限至少为 1"),
        ({"daily_cap": "abc"}, "请输入整数"),
        ({"work_start": "09:00"}, "工作时间需要同时填写开始和结束"),
        ({"work_start": "25:99", "work_end": "21:00"}, "请输入时间"),
        ({"channel_group": "nope"}, "选项无效"),
        ({"spread_mode": "by_store", "store": ""}, "按门店分配需要选择门店"),
    ],
)
def test_bad_input_is_a_chinese_form_error(client, scene, overrides, message):
    client.force_login(scene["admin"].user)
    response = client.post("/console/livecodes/new/", _form(scene, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert LiveCode.objects.count() == 0


def test_a_state_already_taken_is_refused(client, scene):
    client.force_login(scene["admin"].user)
    LiveCode.objects.create(name="旧码", channel_group="poster", state="taken")
    response = client.post("/console/livecodes/new/", _form(scene, state="taken"))
    assert response.status_code == 400 and "已被其他活码使用" in response.content.decode()


def test_the_value_report_shows_a_manager_their_store_only(client, scene):
    from django.utils import timezone

    from scrm.livecodes.models import LiveCodeAdd
    from tests.factories import FollowRelationFactory

    ours = LiveCode.objects.create(name="本店码", channel_group="counter", store=scene["store"], state="ours")
    theirs = LiveCode.objects.create(name="他店码", channel_group="counter", store=scene["other"], state="theirs")
    for code, guide in ((ours, scene["guides"][0]), (theirs, scene["stranger"])):
        relation = FollowRelationFactory(staff=guide, added_at=timezone.now())
        LiveCodeAdd.objects.create(code=code, relation=relation, staff=guide, added_at=relation.added_at)

    client.force_login(scene["manager"].user)
    html = client.get("/console/livecodes/report/").content.decode()
    assert "本店码" in html and "他店码" not in html
    client.force_login(scene["admin"].user)
    html = client.get("/console/livecodes/report/").content.decode()
    assert "本店码" in html and "他店码" in html
