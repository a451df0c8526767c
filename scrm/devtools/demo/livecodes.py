"""The demo brand's 渠道活码: a code for every state the demo relations carry, so portraits name their
source, the value report has history, and the store page has coordinates. Idempotent.

The codes are saved without a WeCom config_id: in `make run` the minute sweep (`livecodes-sync-due`)
creates their contact ways in the simulator, and their QR codes appear within a minute.
"""

from decimal import Decimal

from django.db import transaction

from scrm.customers.events import STATE_LABELS
from scrm.customers.models import FollowRelation
from scrm.devtools.demo import vocab
from scrm.livecodes.models import ChannelGroup, LiveCode, LiveCodeAdd, LiveCodeGuide, SpreadMode, StoreWelcome
from scrm.org.models import Staff, Store

# Where the demo stores are (WGS-84), for the nearest-store page.
COORDINATES = {
    "sh001": (Decimal("31.228600"), Decimal("121.452900")),
    "sh002": (Decimal("31.195000"), Decimal("121.437500")),
    "hz001": (Decimal("30.259000"), Decimal("120.164000")),
    "nj001": (Decimal("32.041000"), Decimal("118.784000")),
}
STORE_GROUPS = {
    "poster": ChannelGroup.POSTER,
    "counter": ChannelGroup.COUNTER,
    "bag": ChannelGroup.OTHER,
    "receipt": ChannelGroup.OTHER,
    "event": ChannelGroup.OTHER,
}
ONLINE_GROUPS = {
    "live_20250618": ChannelGroup.LIVE,
    "live_20251111": ChannelGroup.LIVE,
    "xhs_note_01": ChannelGroup.POSTER,
    "mp_member_center": ChannelGroup.OTHER,
    "oa_menu_vip": ChannelGroup.OA_MENU,
    "tmall_card": ChannelGroup.PARCEL,
}
WELCOME = "{客户称呼}您好，我是{门店}的导购{导购姓名}，有任何护肤问题随时找我～"
STORE_WELCOME = "您好，欢迎来到{门店}！我是导购{导购姓名}，新客到店可领小样一份。"


@transaction.atomic
def livecodes_demo_seed() -> int:
    """Codes for the demo's states and LiveCodeAdd rows for relations made through them; returns new codes."""
    for code, (lat, lng) in COORDINATES.items():
        Store.objects.filter(code=code, latitude__isnull=True).update(latitude=lat, longitude=lng)
    guides = list(Staff.objects.filter(role=Staff.Role.GUIDE, is_active=True).select_related("store"))
    made = 0
    for store in Store.objects.filter(code__in=[s[0] for s in vocab.STORES]):
        StoreWelcome.objects.get_or_create(store=store, defaults={"text": STORE_WELCOME})
        short = store.name.rsplit("·", 1)[-1]
        store_guides = [g for g in guides if g.store_id == store.pk]
        for suffix, group in STORE_GROUPS.items():
            code, created = LiveCode.objects.get_or_create(
                state=f"store_{store.code}_{suffix}",
                defaults={
                    "name": f"{short}{STATE_LABELS[suffix]}",
                    "channel_group": group,
                    "store": store,
                    "spread_mode": SpreadMode.ROUND_ROBIN,
                    "daily_cap": 30,
                    "welcome_text": WELCOME if suffix != "receipt" else "",
                },
            )
            if created:
                made += 1
                LiveCodeGuide.objects.bulk_create(
                    [LiveCodeGuide(code=code, staff=g, order=i) for i, g in enumerate(store_guides)]
                )
    for state, group in ONLINE_GROUPS.items():
        code, created = LiveCode.objects.get_or_create(
            state=state,
            defaults={
                "name": STATE_LABELS[state],
                "channel_group": group,
                "spread_mode": SpreadMode.LEAST_TODAY,
                "welcome_text": WELCOME,
            },
        )
        if created:
            made += 1
            LiveCodeGuide.objects.bulk_create(
                [LiveCodeGuide(code=code, staff=g, order=i) for i, g in enumerate(guides[:6])]
            )
    codes = dict(LiveCode.objects.values_list("state", "pk"))
    relations = FollowRelation.objects.filter(state__in=codes, live_code_add__isnull=True).values_list(
        "pk", "state", "staff_id", "added_at"
    )
    LiveCodeAdd.objects.bulk_create(
        [
            LiveCodeAdd(code_id=codes[state], relation_id=pk, staff_id=staff, added_at=at)
            for pk, state, staff, at in relations
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return made
