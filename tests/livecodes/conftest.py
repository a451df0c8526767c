import pytest

from scrm.customers.models import Tag, TagGroup, TagSource
from scrm.livecodes.services import CodeInput, livecode_create
from scrm.org.models import Staff
from tests.factories import StaffFactory, StoreFactory


@pytest.fixture
def make_code():
    """make_code(guides=[...], **CodeInput fields) → LiveCode, made through the service."""

    def make(*, guides, backups=(), name="门店柜台码", channel_group="counter", spread_mode="round_robin", **kw):
        data = CodeInput(
            name=name,
            channel_group=channel_group,
            store=kw.pop("store", guides[0].store if guides else None),
            spread_mode=spread_mode,
            guides=list(guides),
            backups=list(backups),
            **kw,
        )
        return livecode_create(data=data, created_by=None)

    return make


@pytest.fixture
def sim_scene(wecom_sim, settings, live_server):
    """A store with two guides known to the simulator, and a WeCom tag group mirrored on both sides."""
    settings.SITE_URL = live_server.url
    store = StoreFactory(name="静安嘉里店")
    guides = [StaffFactory(store=store, name=name) for name in ("张导购", "李导购")]
    for g in guides:
        wecom_sim.member_add(userid=g.userid, name=g.name)
    sim_group = wecom_sim.tag_group_add(name="渠道", tags=["门店扫码", "直播"])
    group = TagGroup.objects.create(name="渠道", wecom_group_id=sim_group.group_id, source=TagSource.WECOM)
    tags = {
        t.name: Tag.objects.create(group=group, name=t.name, wecom_tag_id=t.tag_id, source=TagSource.WECOM)
        for t in sim_group.tags.all()
    }
    return {"store": store, "guides": guides, "tags": tags, "sim": wecom_sim}


@pytest.fixture
def admin_user(db):
    return StaffFactory(role=Staff.Role.ADMIN, store=None)
