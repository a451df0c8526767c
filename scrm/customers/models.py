from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scrm.customers.vocabulary import SCHEMA_VERSION, Channel, EventKind
from scrm.org.models import Staff, Store


class Gender(models.IntegerChoices):
    # WeCom's own codes, so synced values need no mapping.
    UNKNOWN = 0, _("未知")
    MALE = 1, _("男")
    FEMALE = 2, _("女")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("潜在客户")
    NEW = "new", _("新客")
    REPEAT = "repeat", _("复购客")
    LOYAL = "loyal", _("忠诚客")
    DORMANT = "dormant", _("沉睡客")
    LOST = "lost", _("流失客")


class Customer(models.Model):
    """One real person, merged across every channel they are known on."""

    name = models.CharField(_("名称"), max_length=100, blank=True)
    avatar = models.URLField(_("头像"), max_length=500, blank=True)
    gender = models.PositiveSmallIntegerField(_("性别"), choices=Gender.choices, default=Gender.UNKNOWN)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    # Phone kept only as a keyed hash (for matching) and a masked form (for showing).
    phone_hash = models.CharField(_("手机号哈希"), max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("手机号"), max_length=20, blank=True)
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers", verbose_name=_("归属门店")
    )
    source = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, default=Channel.WECOM)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("已并入客户"),
    )

    # Derived by scrm.customers.services.customer_refresh_figures, never typed by hand.
    lifecycle_stage = models.CharField(
        _("生命周期"), max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.PROSPECT
    )
    order_count = models.PositiveIntegerField(_("订单数"), default=0)
    refund_count = models.PositiveIntegerField(_("退款数"), default=0)
    total_spend = models.DecimalField(_("累计消费"), max_digits=14, decimal_places=2, default=0)
    avg_order_value = models.DecimalField(_("客单价"), max_digits=12, decimal_places=2, default=0)
    first_order_at = models.DateTimeField(_("首次购买"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("最近购买"), null=True, blank=True)
    repurchase_cycle_days = models.PositiveIntegerField(_("回购周期(天)"), null=True, blank=True)
    next_expected_on = models.DateField(_("预计下次购买"), null=True, blank=True)
    churn_risk = models.BooleanField(_("流失风险"), default=False)
    churn_reason = models.CharField(_("流失原因"), max_length=100, blank=True)
    figures_updated_at = models.DateTimeField(_("指标更新时间"), null=True, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        indexes = [models.Index(fields=["store", "lifecycle_stage"])]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class IdentityKind(models.TextChoices):
    WECOM = "wecom_external_userid", _("企业微信")
    UNIONID = "unionid", _("微信 UnionID")
    OA_OPENID = "oa_openid", _("公众号")
    MP_OPENID = "mp_openid", _("小程序")
    PHONE = "phone", _("手机号")
    TMALL = "tmall", _("天猫")
    JD = "jd", _("京东")
    YOUZAN = "youzan", _("有赞")
    POS_MEMBER = "pos_member", _("门店会员")


class Identity(models.Model):
    """One way a person is known: (kind, value) is unique across the brand."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("渠道"), max_length=32, choices=IdentityKind.choices)
    # For phones this is the keyed hash, never the number.
    value = models.CharField(_("标识"), max_length=128)
    display = models.CharField(_("显示值"), max_length=64, blank=True)
    # Verified: the value came from WeChat's phone authorization or an SMS code, so it is this person's own.
    verified = models.BooleanField(_("已验证"), default=False, db_default=False)
    # A phone seen on people with conflicting exclusive keys (a family phone): it no longer merges anyone.
    shared = models.BooleanField(_("多人共用"), default=False, db_default=False)
    # Provenance: who first sent it ("api:<API 密钥名称>"; "" from WeCom sync or the system) and when
    # it was first (created_at) and last seen in an observation.
    source = models.CharField(_("来源"), max_length=100, blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("首次出现"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("最近出现"), null=True, blank=True)

    class Meta:
        verbose_name = _("身份标识")
        verbose_name_plural = _("身份标识")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.display or self.value}"

    @property
    def source_label(self) -> str:
        if self.source.startswith("api:"):
            return f"API · {self.source[4:]}"
        if self.source == "wecom":
            return str(_("企业微信"))
        if self.source:
            return self.source
        return str(_("企业微信")) if self.kind == IdentityKind.WECOM else str(_("系统"))


class FollowRelation(models.Model):
    # WeCom's add_way for a customer assigned to the guide (管理员/负责人分配): how a hand-over's takeover
    # gets them. Not a new customer: the figures count only the other ways.
    ASSIGNED = 202

    """A guide serving a customer through WeCom. Ended relations are kept as history."""

    class EndedBy(models.TextChoices):
        CUSTOMER = "customer", _("客户删除")
        STAFF = "staff", _("导购删除")
        TRANSFER = "transfer", _("转接")

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="follow_relations", verbose_name=_("导购"))
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="follow_relations", verbose_name=_("客户")
    )
    external_userid = models.CharField(_("外部联系人 ID"), max_length=64, db_index=True)
    remark = models.CharField(_("备注名"), max_length=100, blank=True)
    description = models.CharField(_("描述"), max_length=255, blank=True)
    remark_mobiles = models.JSONField(default=list, blank=True)
    add_way = models.PositiveSmallIntegerField(_("添加方式"), default=0)
    state = models.CharField(_("渠道活码 state"), max_length=64, blank=True)
    added_at = models.DateTimeField(_("添加时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.CharField(_("结束原因"), max_length=16, choices=EndedBy.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("好友关系")
        verbose_name_plural = _("好友关系")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "external_userid"],
                condition=Q(ended_at__isnull=True),
                name="followrelation_one_active_per_staff",
            )
        ]
        indexes = [models.Index(fields=["customer", "staff"])]

    def __str__(self) -> str:
        return f"{self.staff_id}→{self.external_userid}"


class TagSource(models.TextChoices):
    WECOM = "wecom", _("企业微信")
    LOCAL = "local", _("本系统")


class TagGroup(models.Model):
    name = models.CharField(_("标签组"), max_length=50)
    wecom_group_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    order = models.IntegerField(_("排序"), default=0)
    source = models.CharField(max_length=8, choices=TagSource.choices, default=TagSource.WECOM)
    deleted = models.BooleanField(default=False)
    # A local setting WeCom does not have (sync never touches it): a customer holds at most one tag
    # of the group (age bands, skin type), so picking one replaces the other.
    single_choice = models.BooleanField(_("单选"), default=False, help_text=_("客户在本组最多只有一个标签"))

    class Meta:
        verbose_name = _("标签组")
        verbose_name_plural = _("标签组")
        ordering = ["-order", "id"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    group = models.ForeignKey(TagGroup, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("标签"), max_length=50)
    wecom_tag_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    order = models.IntegerField(_("排序"), default=0)
    source = models.CharField(max_length=8, choices=TagSource.choices, default=TagSource.WECOM)
    deleted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["-order", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="tag_name_unique_in_group")]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="customer_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_tags")
    added_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(_("来源"), max_length=16, default="local")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("客户标签")
        verbose_name_plural = _("客户标签")
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customertag_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.tag_id}"


class Event(models.Model):
    """One entry in a customer's timeline, from any channel. See scrm.customers.events."""

    # No single-column indexes on customer/staff: the composite indexes below lead with them, and
    # every extra index is paid on each of the millions of event writes (#17).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("类型"), max_length=32, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    staff = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)
    title = models.CharField(_("描述"), max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    schema = models.PositiveSmallIntegerField(default=SCHEMA_VERSION)
    # Natural key of the source message (callback id, order no, API item id): redelivery is a no-op.
    # A Meta constraint rather than unique=True: on PostgreSQL the field option also builds a
    # varchar_pattern_ops LIKE index that nothing needs once prefix lookups go by customer (#17).
    dedupe_key = models.CharField(max_length=200)
    # The identity the sender named the person by (API events): if a phone-only link later yields,
    # the event follows that identity (scrm.customers.identity_yield). No FK: no index, no cascade.
    via_identity_id = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("客户轨迹")
        verbose_name_plural = _("客户轨迹")
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="event_dedupe_key_unique")]
        indexes = [
            # The timeline's order (newest first, id breaking ties): a keyset page is one range scan.
            models.Index(fields=["customer", "-occurred_at", "-id"], name="event_customer_newest"),
            models.Index(fields=["customer", "kind", "-occurred_at", "-id"], name="event_customer_kind_newest"),
            models.Index(fields=["staff", "kind", "occurred_at"], name="event_staff_kind_time"),
            # Segments' event recency ("add_to_cart in the last 48 h"): a range of one kind, not every event.
            # Covering customer_id: an index-only scan, no visit of millions of heap pages.
            models.Index(fields=["kind", "occurred_at"], include=["customer"], name="event_kind_time"),
        ]

    def __str__(self) -> str:
        return self.title


class OrderStatus(models.TextChoices):
    PAID = "paid", _("已支付")
    SHIPPED = "shipped", _("已发货")
    COMPLETED = "completed", _("已完成")
    REFUNDED = "refunded", _("已退款")
    PARTIALLY_REFUNDED = "partially_refunded", _("部分退款")


class Order(models.Model):
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    order_no = models.CharField(_("订单号"), max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    store = models.ForeignKey(Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    # The guide who earned the order; a later hand-over never changes it.
    staff = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders", verbose_name=_("业绩归属")
    )
    paid_at = models.DateTimeField(_("支付时间"))
    amount = models.DecimalField(_("实付金额"), max_digits=12, decimal_places=2)
    refund_amount = models.DecimalField(_("退款金额"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID)
    # The identity the buyer was named by (see Event.via_identity_id).
    via_identity_id = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        constraints = [models.UniqueConstraint(fields=["channel", "order_no"], name="order_no_unique_per_channel")]
        indexes = [
            models.Index(fields=["customer", "-paid_at"], name="order_customer_newest"),
            models.Index(fields=["staff", "paid_at"], name="order_staff_paid"),
            models.Index(fields=["store", "paid_at"], name="order_store_paid"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.order_no}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("商品"), max_length=200)
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    unit_price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("小计"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    """A guide's follow-up record; each one is also a timeline event."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="notes")
    body = models.TextField(_("内容"))
    next_contact_on = models.DateField(_("下次联系"), null=True, blank=True)
    done = models.BooleanField(_("已完成"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["staff", "next_contact_on"]),
        ]

    def __str__(self) -> str:
        return self.body[:30]


class CustomerMerge(models.Model):
    """Audit of one merge (see scrm.customers.identity): enough to undo it."""

    keep = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_kept", verbose_name=_("保留客户"))
    drop = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="merges_dropped", verbose_name=_("并入客户")
    )
    reason = models.CharField(_("合并原因"), max_length=200)
    # The identity kind whose value joined the two (phone merges can be undone by a guide: "不是同一人").
    key = models.CharField(_("合并依据"), max_length=32, blank=True, db_default="")
    # {"app_label.model": [pk, …]} of rows moved from drop to keep.
    moved = models.JSONField(default=dict)
    # CustomerTag rows of drop deleted because keep already had the tag.
    dropped_tags = models.JSONField(default=list)
    # keep's fields that were blank and got drop's value: {field: keep's old value}.
    filled_fields = models.JSONField(default=dict)
    # The identity whose value joined the two (a phone): marked shared if the link later yields.
    via_identity_id = models.IntegerField(_("合并依据的身份 id"), null=True, blank=True)
    created_at = models.DateTimeField(_("合并时间"), auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    # Why it was undone when not by a person: new strong evidence contradicted a phone-only link.
    undo_reason = models.CharField(_("撤销原因"), max_length=200, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("客户合并记录")
        verbose_name_plural = _("客户合并记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.drop_id}→{self.keep_id}"


class IdentityConflict(models.Model):
    """Resolution refused a join: it would give one person two values of an exclusive kind."""

    kind = models.CharField(_("渠道"), max_length=32, choices=IdentityKind.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("已有客户")
    )
    other = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("另一客户")
    )
    # Displays (masked for phones) of both sides, as shown to an admin.
    value = models.CharField(_("已有标识"), max_length=128)
    other_value = models.CharField(_("冲突标识"), max_length=128)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("身份冲突")
        verbose_name_plural = _("身份冲突")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value} ≠ {self.other_value}"


class MergeSuggestion(models.Model):
    """Two records a weak key (an unverified phone) links: "可能是同一人", for a person to decide."""

    class Status(models.TextChoices):
        OPEN = "open", _("待确认")
        CONFIRMED = "confirmed", _("已合并")
        REJECTED = "rejected", _("不是同一人")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merge_suggestions")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("依据"), max_length=32, choices=IdentityKind.choices)
    # What the other record is known by, masked: "天猫账号 tb_***123".
    evidence = models.CharField(_("证据"), max_length=200)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("合并建议")
        verbose_name_plural = _("合并建议")
        constraints = [models.UniqueConstraint(fields=["customer", "other"], name="mergesuggestion_pair_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id}?{self.other_id}"
