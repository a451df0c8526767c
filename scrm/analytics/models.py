"""Daily rollups the console reads instead of the raw tables.

GuideDay holds one row per guide per Asia/Shanghai day: additive counts, the numerators and
denominators of ratios, a response-time histogram (so medians over any range come from summed
buckets) and end-of-day snapshots. GuideCustomerDay holds the few per-customer facts that distinct
counts over an arbitrary range need; see scrm.analytics.selectors for how they are read.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from scrm.customers.models import Customer
from scrm.org.models import Staff, Store

# Upper bounds (seconds) of the first-response histogram buckets; a median is reported as the
# upper bound of the bucket it falls in.
RESPONSE_BUCKETS: tuple[int, ...] = (15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
RESPONSE_FIELDS: tuple[str, ...] = tuple(f"rt_{i:02d}" for i in range(len(RESPONSE_BUCKETS)))
# Trailing-window lengths (days) whose distinct-customer counts are stored on every GuideDay: the
# presets, their previous periods (本月's is 1–31 days long) and common custom lengths.
WINDOWS: tuple[int, ...] = (*range(1, 32), 60, 90, 180, 365)
WINDOW_MEASURES: tuple[str, ...] = ("reach", "buyers", "repeaters", "converted")
# Columns that add up over days, in the order of GuideDay.running.
ADDITIVE: tuple[str, ...] = ("adds", "losses", "orders", "gmv", "sends", "notes", "rt_unanswered", *RESPONSE_FIELDS)
# End-of-day snapshot columns: read on a range's last day, never summed over days.
SNAPSHOT: tuple[str, ...] = ("active_customers", "tagged_customers", "overdue_followups")


class DayFigures(models.Model):
    """Additive counts and end-of-day snapshots shared by the guide and the store daily rollups."""

    day = models.DateField(_("日期"))

    adds = models.PositiveIntegerField(_("新增客户"), default=0)
    losses = models.PositiveIntegerField(_("流失客户"), default=0)
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    gmv = models.DecimalField(_("GMV"), max_digits=14, decimal_places=2, default=0)
    sends = models.PositiveIntegerField(_("素材发送"), default=0)
    notes = models.PositiveIntegerField(_("跟进记录"), default=0)
    rt_unanswered = models.PositiveIntegerField(_("未回复"), default=0)
    rt_00 = models.PositiveIntegerField(default=0)
    rt_01 = models.PositiveIntegerField(default=0)
    rt_02 = models.PositiveIntegerField(default=0)
    rt_03 = models.PositiveIntegerField(default=0)
    rt_04 = models.PositiveIntegerField(default=0)
    rt_05 = models.PositiveIntegerField(default=0)
    rt_06 = models.PositiveIntegerField(default=0)
    rt_07 = models.PositiveIntegerField(default=0)
    rt_08 = models.PositiveIntegerField(default=0)
    rt_09 = models.PositiveIntegerField(default=0)
    rt_10 = models.PositiveIntegerField(default=0)
    rt_11 = models.PositiveIntegerField(default=0)
    rt_12 = models.PositiveIntegerField(default=0)
    rt_13 = models.PositiveIntegerField(default=0)
    # Snapshots at the end of the day (for today: as of the last rollup).
    active_customers = models.PositiveIntegerField(_("在管客户"), default=0)
    tagged_customers = models.PositiveIntegerField(_("已打标签客户"), default=0)
    overdue_followups = models.PositiveIntegerField(_("逾期跟进"), default=0)

    class Meta:
        abstract = True


class GuideDay(DayFigures):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    # The guide's store on that day: a later move between stores does not rewrite history.
    store = models.ForeignKey(Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # {"<days>": [reach, buyers, repeaters, converted]} over the window of that many days ending
    # on this day, for each length in WINDOWS; lets ranges of those lengths skip GuideCustomerDay.
    windows = models.JSONField(default=dict, blank=True)
    # Running totals of the ADDITIVE columns (gmv in cents, to stay exact) over this guide's rows
    # in this store up to and including this day: a range sum is running(end) - running(start - 1),
    # so the dashboard reads a few rows per guide instead of every day of the range.
    running = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("导购日报")
        verbose_name_plural = _("导购日报")
        constraints = [models.UniqueConstraint(fields=["day", "staff"], name="guideday_one_per_day")]
        indexes = [
            models.Index(fields=["staff", "day"], name="guideday_staff_day"),
            # "This guide's latest row in this store on or before a day": one index probe.
            models.Index(fields=["staff", "store", "day"], name="guideday_staff_store_day"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id}@{self.day}"


class GuideStoreSpan(models.Model):
    """First and last day a guide has GuideDay rows in a store (store None: rows without a store).

    The dashboard's list of (guide, store) running-total series overlapping a range; it may be wider
    than the rows (a removed row does not shrink it), never narrower.
    """

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    first_day = models.DateField()
    last_day = models.DateField()

    class Meta:
        verbose_name = _("导购门店区间")
        verbose_name_plural = _("导购门店区间")
        indexes = [models.Index(fields=["staff", "store"], name="guidestorespan_pair")]

    def __str__(self) -> str:
        return f"{self.staff_id}/{self.store_id} {self.first_day}..{self.last_day}"


class StoreDay(DayFigures):
    """Sums of one day's GuideDay rows per store (store None: guides without a store), for trends."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    # Per-day distinct counts for trends (a customer once per guide and day), so trends of 触达/购买/
    # 复购 read these rows instead of the per-customer facts; converted_on maps the day a new
    # customer of this day first ordered ("YYYY-MM-DD") to how many: a trend ending on day L counts
    # those up to L.
    reached = models.PositiveIntegerField(default=0)
    bought = models.PositiveIntegerField(default=0)
    rebought = models.PositiveIntegerField(default=0)
    converted_on = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("门店日报")
        verbose_name_plural = _("门店日报")
        indexes = [models.Index(fields=["store", "day"], name="storeday_store_day")]

    def __str__(self) -> str:
        return f"{self.store_id}@{self.day}"


class GuideCustomerDay(models.Model):
    """One guide × customer × day fact, linked to the same pair's neighbouring facts of its kind.

    A customer counts once in [a, b] through the first fact in the range, i.e. the one whose
    prev_day is before a — so distinct counts over any range are a plain filtered COUNT.
    """

    class Kind(models.IntegerChoices):
        ADD = 1, _("添加")  # next_day: the first order with this guide after the add
        SEND = 2, _("发送素材")
        ORDER = 3, _("下单")  # prev_day / next_day: the pair's neighbouring order days

    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    n = models.PositiveIntegerField(default=1)
    prev_day = models.DateField(null=True, blank=True)
    next_day = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("导购客户日明细")
        verbose_name_plural = _("导购客户日明细")
        constraints = [
            models.UniqueConstraint(fields=["staff", "customer", "kind", "day"], name="guidecustomerday_unique")
        ]
        indexes = [
            # Range scans read only this index on PostgreSQL (INCLUDE makes it covering).
            models.Index(
                fields=["day", "kind"],
                include=["staff", "store", "n", "prev_day", "next_day"],
                name="gcd_day_kind_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.staff_id}/{self.customer_id}@{self.day}"


class GuideCustomerSlot(models.Model):
    """A guide's customers numbered 0, 1, 2… in the order they first met: the bit positions of
    GuideCustomerBlock's sets. A plain number, not a foreign key: merges and erasures leave the
    counted past alone, as they leave GuideCustomerDay's counts."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField()
    slot = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("导购客户编号")
        verbose_name_plural = _("导购客户编号")
        constraints = [models.UniqueConstraint(fields=["staff", "customer_id"], name="guidecustomerslot_one_per_pair")]

    def __str__(self) -> str:
        return f"{self.staff_id}/{self.customer_id}#{self.slot}"


class GuideCustomerBlock(models.Model):
    """A guide's customers over an aligned block of 2**level days, as exact sets (bitmaps over
    GuideCustomerSlot numbers): any range is the union of at most ~20 blocks, so distinct counts over
    custom ranges read a few small rows per guide instead of every per-customer fact.
    See scrm.analytics.blocks."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    first_day = models.DateField()
    reach = models.BinaryField(default=b"")  # sent materials
    buyers = models.BinaryField(default=b"")  # ordered at least once
    repeaters = models.BinaryField(default=b"")  # ordered at least twice
    # Added in the block with no order with the guide after it yet: a per-customer count, as binary
    # digits (the lowest here, higher ones, rare, in pending_high).
    pending = models.BinaryField(default=b"")
    pending_high = models.BinaryField(default=b"")
    converted = models.PositiveIntegerField(default=0)  # add facts converted inside the block

    class Meta:
        verbose_name = _("导购客户区块")
        verbose_name_plural = _("导购客户区块")
        constraints = [
            models.UniqueConstraint(fields=["staff", "level", "first_day"], name="guidecustomerblock_one_per_block")
        ]
        # A board reads ~18 (level, first_day) blocks of every guide: probed by block, not by guide
        # (by guide PostgreSQL scans the whole table: 250 ms at 500 guides × 2 years).
        indexes = [models.Index(fields=["level", "first_day"], name="guidecustomerblock_block")]

    def __str__(self) -> str:
        return f"{self.staff_id}@{self.first_day}/L{self.level}"
