"""The coupon pool: uploaded or generated codes, one bound to each item when it is first sent.

Binding locks the item (so a double tap gets the same code) and takes the first free code with
SKIP LOCKED (so concurrent sends for different customers never wait on, or take, the same code);
Coupon.item is unique, so the database refuses a second binding even if the locks were bypassed.
"""

import csv
import io
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.taskcards.models import Coupon, Task, TaskItem

MAX_CODES = 100_000
MAX_CODE_LENGTH = 64
# No 0/O, 1/I/L: codes are read aloud at the till.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class CouponError(Exception):
    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def codes_parse(upload: bytes) -> list[str]:
    """Codes from a CSV or text file, one per line (first column); a header row without digits is skipped."""
    try:
        text = upload.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = upload.decode("gb18030")
        except UnicodeDecodeError:
            raise ValidationError(_("券码文件无法读取，请保存为 UTF-8 编码的 CSV。")) from None
    codes: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        value = (row[0] if row else "").strip()
        if not value:
            continue
        if len(value) > MAX_CODE_LENGTH:
            raise ValidationError(_("券码最长 %(n)s 个字符：%(code)s") % {"n": MAX_CODE_LENGTH, "code": value[:20]})
        codes.append(value)
    if codes and not any(ch.isdigit() for ch in codes[0]) and len(codes) > 1:
        codes = codes[1:]  # a header such as 券码 / code
    codes = list(dict.fromkeys(codes))
    if len(codes) > MAX_CODES:
        raise ValidationError(_("一次最多上传 %(n)s 个券码。") % {"n": MAX_CODES})
    return codes


def codes_check_free(*, codes: list[str]) -> None:
    taken = list(Coupon.objects.filter(code__in=codes).values_list("code", flat=True)[:5])
    if taken:
        raise ValidationError(_("这些券码已在其他任务中使用：%(codes)s") % {"codes": "、".join(taken)})


def codes_add(*, task: Task, codes: list[str]) -> int:
    Coupon.objects.bulk_create([Coupon(task=task, code=code) for code in codes], batch_size=1000)
    return len(codes)


def codes_generate(*, task: Task, count: int) -> int:
    """`count` random codes (collisions, vanishingly rare, are simply drawn again)."""
    made: set[str] = set()
    while len(made) < count:
        want = count - len(made)
        fresh = {"".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(want)}
        fresh -= set(Coupon.objects.filter(code__in=fresh).values_list("code", flat=True))
        made |= fresh
    return codes_add(task=task, codes=sorted(made))


def coupon_for_item(*, item: TaskItem) -> Coupon | None:
    """The item's code, bound now if it has none; None for a task without coupons."""
    if item.task.coupon_mode == Task.CouponMode.NONE:
        return None
    with transaction.atomic():
        TaskItem.objects.select_for_update().filter(pk=item.pk).first()
        bound = Coupon.objects.filter(item=item).first()
        if bound is not None:
            return bound
        coupon = (
            Coupon.objects.select_for_update(skip_locked=True)
            # Never a code once given: assigned_at stays when the item goes (a customer's data erased).
            .filter(task_id=item.task_id, item__isnull=True, assigned_at__isnull=True)
            .order_by("pk")
            .first()
        )
        if coupon is None:
            raise CouponError(_("这个任务的券码已经发完，请联系总部补充。"))
        coupon.item, coupon.assigned_at = item, timezone.now()
        coupon.save(update_fields=["item", "assigned_at"])
        return coupon


@dataclass(frozen=True)
class Redemption:
    coupon: Coupon
    already: bool


def coupon_redeem(*, code: str, order_no: str = "", at=None) -> Redemption:
    """The brand's system reports a code used at the till or online; a repeat report changes nothing."""
    at = at or timezone.now()
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().filter(code=code).first()
        if coupon is None:
            raise CouponError(_("券码不存在。"), status=404)
        if coupon.assigned_at is None:
            raise CouponError(_("券码还没有发给客户，不能核销。"))
        if coupon.redeemed_at is not None:
            return Redemption(coupon=coupon, already=True)
        coupon.redeemed_at, coupon.redeemed_order_no = at, order_no[:64]
        coupon.save(update_fields=["redeemed_at", "redeemed_order_no"])
    return Redemption(coupon=coupon, already=False)
