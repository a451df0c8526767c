"""The timeline vocabulary: every Event.kind, with its Chinese label, icon and filter group.

Recording an event is scrm.customers.events (one recorder per kind); this module only names things,
so models can use it for their choices.

Kinds are added, never renamed: stored events and other systems refer to them by value.
`SCHEMA_VERSION` is written into every payload so a later change of a kind's payload shape
can be told apart from the old one.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

SCHEMA_VERSION = 1


class EventKind(models.TextChoices):
    FRIEND_ADDED = "friend_added", _("添加好友")
    FRIEND_EDITED = "friend_edited", _("好友信息变更")
    FRIEND_DELETED_BY_CUSTOMER = "friend_deleted_by_customer", _("客户删除了导购")
    FRIEND_DELETED_BY_STAFF = "friend_deleted_by_staff", _("导购删除了客户")
    TRANSFER = "transfer", _("客户转接")
    TRANSFER_FAILED = "transfer_failed", _("转接失败")
    CHAT_MESSAGE = "chat_message", _("聊天")
    NOTE = "note", _("跟进记录")
    TAG_ADDED = "tag_added", _("打标签")
    TAG_REMOVED = "tag_removed", _("移除标签")
    MATERIAL_SENT = "material_sent", _("发送素材")
    COUPON_SENT = "coupon_sent", _("发券")
    FOLLOW_OA = "follow_oa", _("关注公众号")
    UNFOLLOW_OA = "unfollow_oa", _("取关公众号")
    OA_ARTICLE_READ = "oa_article_read", _("阅读文章")
    MP_VISIT = "mp_visit", _("访问小程序")
    MP_PRODUCT_VIEW = "mp_product_view", _("浏览商品")
    ADD_TO_CART = "add_to_cart", _("加入购物车")
    ORDER_PAID = "order_paid", _("下单支付")
    ORDER_REFUNDED = "order_refunded", _("退款")
    ORDER_SHIPPED = "order_shipped", _("发货")
    STORE_VISIT = "store_visit", _("到店")
    TASK_DONE = "task_done", _("完成任务")
    CUSTOMER_MERGED = "customer_merged", _("客户合并")


class EventGroup(models.TextChoices):
    """The sidebar's filter chips."""

    CHAT = "chat", _("聊天")
    ORDER = "order", _("订单")
    BROWSE = "browse", _("浏览")
    TAG = "tag", _("标签")
    NOTE = "note", _("备注")
    MATERIAL = "material", _("素材")
    RELATION = "relation", _("好友")


@dataclass(frozen=True)
class KindInfo:
    icon: str
    group: str


KIND_INFO: dict[str, KindInfo] = {
    EventKind.FRIEND_ADDED: KindInfo("🤝", EventGroup.RELATION),
    EventKind.FRIEND_EDITED: KindInfo("✏️", EventGroup.RELATION),
    EventKind.FRIEND_DELETED_BY_CUSTOMER: KindInfo("💔", EventGroup.RELATION),
    EventKind.FRIEND_DELETED_BY_STAFF: KindInfo("✂️", EventGroup.RELATION),
    EventKind.TRANSFER: KindInfo("🔁", EventGroup.RELATION),
    EventKind.TRANSFER_FAILED: KindInfo("⚠️", EventGroup.RELATION),
    EventKind.CHAT_MESSAGE: KindInfo("💬", EventGroup.CHAT),
    EventKind.NOTE: KindInfo("📝", EventGroup.NOTE),
    EventKind.TAG_ADDED: KindInfo("🏷️", EventGroup.TAG),
    EventKind.TAG_REMOVED: KindInfo("🏷️", EventGroup.TAG),
    EventKind.MATERIAL_SENT: KindInfo("📎", EventGroup.MATERIAL),
    EventKind.COUPON_SENT: KindInfo("🎟️", EventGroup.MATERIAL),
    EventKind.FOLLOW_OA: KindInfo("📰", EventGroup.BROWSE),
    EventKind.UNFOLLOW_OA: KindInfo("📰", EventGroup.BROWSE),
    EventKind.OA_ARTICLE_READ: KindInfo("📖", EventGroup.BROWSE),
    EventKind.MP_VISIT: KindInfo("📱", EventGroup.BROWSE),
    EventKind.MP_PRODUCT_VIEW: KindInfo("👀", EventGroup.BROWSE),
    EventKind.ADD_TO_CART: KindInfo("🛒", EventGroup.BROWSE),
    EventKind.ORDER_PAID: KindInfo("💰", EventGroup.ORDER),
    EventKind.ORDER_REFUNDED: KindInfo("↩️", EventGroup.ORDER),
    EventKind.ORDER_SHIPPED: KindInfo("📦", EventGroup.ORDER),
    EventKind.STORE_VISIT: KindInfo("🏬", EventGroup.BROWSE),
    EventKind.TASK_DONE: KindInfo("✅", EventGroup.NOTE),
    EventKind.CUSTOMER_MERGED: KindInfo("🔗", EventGroup.RELATION),
}


def kinds_in_group(group: str) -> list[str]:
    return [kind for kind, info in KIND_INFO.items() if info.group == group]


class Channel(models.TextChoices):
    WECOM = "wecom", _("企业微信")
    OA = "oa", _("公众号")
    MP = "mp", _("小程序")
    TMALL = "tmall", _("天猫")
    JD = "jd", _("京东")
    YOUZAN = "youzan", _("有赞")
    POS = "pos", _("门店")
    SYSTEM = "system", _("系统")


# Names of 活码 (contact-way) state codes, by whole code or by its last "_" part (one name for every
# store's poster code). Brand configuration: settings.WECOM_STATE_LABELS adds to or overrides them.
STATE_LABELS = {
    "poster": "门店海报",
    "counter": "收银台",
    "bag": "购物袋",
    "receipt": "小票",
    "event": "门店活动",
    "live_20250618": "618直播",
    "live_20251111": "双11直播",
    "xhs_note_01": "小红书笔记",
    "mp_member_center": "小程序会员中心",
    "oa_menu_vip": "公众号菜单",
    "tmall_card": "天猫包裹卡",
}
