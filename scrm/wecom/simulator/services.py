"""Controls of the simulated WeCom for tests and dev pages: faults, people, tags, codes, scans, transfers."""

import datetime as dt
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scrm.wecom.simulator.callbacks import callback_post, contact_event
from scrm.wecom.simulator.models import (
    MEDIA_TTL,
    SimAccessToken,
    SimContactWay,
    SimExternalContact,
    SimFault,
    SimFollowUser,
    SimMedia,
    SimMember,
    SimOAuthCode,
    SimTag,
    SimTagGroup,
    SimTransfer,
    SimWelcomeCode,
)


def new_id(prefix: str, nbytes: int = 12) -> str:
    return f"{prefix}{secrets.token_hex(nbytes)}"


# --- fault injection and expiry -------------------------------------------------------------


def fault_inject(*, path: str, errcode: int, times: int = 1, errmsg: str = "") -> SimFault:
    """Answer the next `times` calls of `path` (e.g. "externalcontact/mark_tag") with `errcode`."""
    return SimFault.objects.create(
        path=path.strip("/"), errcode=errcode, errmsg=errmsg or f"simulated error {errcode}", remaining=times
    )


def fault_take(*, path: str) -> SimFault | None:
    """Consume one pending fault for `path`, if any."""
    with transaction.atomic():
        fault = SimFault.objects.select_for_update().filter(path=path, remaining__gt=0).order_by("id").first()
        if fault is None:
            return None
        SimFault.objects.filter(pk=fault.pk).update(remaining=F("remaining") - 1)
        return fault


def tokens_expire_all() -> int:
    """Make every issued access_token expired (the next call answers 42001)."""
    return SimAccessToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def media_expire(*, media_id: str) -> None:
    SimMedia.objects.filter(media_id=media_id).update(created_at=timezone.now() - MEDIA_TTL - dt.timedelta(seconds=1))


# --- people -----------------------------------------------------------------------------------


def member_add(
    *,
    userid: str,
    name: str = "",
    status: str = SimMember.Status.ACTIVE,
    department: list[int] | None = None,
    avatar: str = "",
) -> SimMember:
    member, _ = SimMember.objects.update_or_create(
        userid=userid,
        defaults={
            "name": name or userid,
            "status": status,
            "department": department or [1],
            "avatar": avatar,
            "departed_at": timezone.now() if status == SimMember.Status.DEPARTED else None,
        },
    )
    return member


def contact_add(
    *, external_userid: str, name: str = "", avatar: str = "", type: int = 1, gender: int = 0, unionid: str = ""
) -> SimExternalContact:
    contact, _ = SimExternalContact.objects.update_or_create(
        external_userid=external_userid,
        defaults={
            "name": name or external_userid,
            "avatar": avatar,
            "type": type,
            "gender": gender,
            "unionid": unionid,
        },
    )
    return contact


def follow_add(
    *,
    userid: str,
    external_userid: str,
    remark: str = "",
    description: str = "",
    tags: list[str] | None = None,
    state: str = "",
    add_way: int = 1,
    createtime: int | None = None,
    remark_mobiles: list[str] | None = None,
) -> SimFollowUser:
    """Make the customer a contact of the member (creating either if missing)."""
    member = SimMember.objects.filter(userid=userid).first() or member_add(userid=userid)
    contact = SimExternalContact.objects.filter(external_userid=external_userid).first() or contact_add(
        external_userid=external_userid
    )
    follow, _ = SimFollowUser.objects.update_or_create(
        member=member,
        contact=contact,
        defaults={
            "remark": remark,
            "description": description,
            "tags": list(tags or []),
            "state": state,
            "add_way": add_way,
            "createtime": createtime or int(time.time()),
            "remark_mobiles": list(remark_mobiles or []),
            "oper_userid": userid,
        },
    )
    return follow


def member_depart(*, userid: str) -> None:
    SimMember.objects.filter(userid=userid).update(status=SimMember.Status.DEPARTED, departed_at=timezone.now())


def tag_group_add(*, name: str, tags: list[str], group_id: str = "", order: int = 0) -> SimTagGroup:
    now = int(time.time())
    group, _ = SimTagGroup.objects.get_or_create(
        group_id=group_id or new_id("et"), defaults={"name": name, "order": order, "create_time": now}
    )
    for tag_name in tags:
        if not group.tags.filter(name=tag_name, deleted=False).exists():
            SimTag.objects.create(group=group, tag_id=new_id("et"), name=tag_name, create_time=now)
    return group


# --- one-time codes ---------------------------------------------------------------------------


def oauth_code_issue(*, userid: str = "", openid: str = "") -> str:
    """A one-use OAuth code for a member (userid) or someone outside the corp (openid)."""
    return SimOAuthCode.objects.create(code=new_id("", 16), userid=userid, openid=openid).code


def welcome_code_issue(*, userid: str, external_userid: str) -> str:
    """The WelcomeCode an add_external_contact event carries (valid 20 s, one use)."""
    return SimWelcomeCode.objects.create(code=new_id("wc", 16), userid=userid, external_userid=external_userid).code


# --- contact ways (渠道活码) -------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    userid: str
    external_userid: str
    welcome_code: str
    event: dict


class ScanRefused(ValueError):
    """The code does not exist (any more) or has nobody to add."""


def contact_way_scan(
    *, config_id: str, external_userid: str = "", name: str = "", send: bool = True, welcome: bool = True
) -> Scan:
    """A customer scans a 「联系我」 code: WeCom picks the member (a multi-person code in turn), makes
    them friends, and tells the product with add_external_contact carrying State and WelcomeCode.

    A new customer is made when `external_userid` is empty. With `send` the signed callback is posted
    to the product (settings.SITE_URL) after the friendship is committed; `welcome=False` leaves
    WelcomeCode out, as WeCom does when a welcome is configured in its own admin.
    """
    with transaction.atomic():
        way = SimContactWay.objects.select_for_update().filter(config_id=config_id).first()
        if way is None or not way.user:
            raise ScanRefused(config_id)
        userid = way.user[way.scans % len(way.user)]
        SimContactWay.objects.filter(pk=way.pk).update(scans=F("scans") + 1)
        if external_userid:
            contact = SimExternalContact.objects.filter(external_userid=external_userid).first()
            if contact is None:
                raise ScanRefused(external_userid)
        else:
            contact = contact_add(external_userid=new_id("wm", 14), name=name or "新客户")
        follow_add(userid=userid, external_userid=contact.external_userid, state=way.state, add_way=1)
        code = welcome_code_issue(userid=userid, external_userid=contact.external_userid) if welcome else ""
    extra = {"State": way.state, **({"WelcomeCode": code} if code else {})}
    event = contact_event("add_external_contact", userid=userid, external_userid=contact.external_userid, **extra)
    if send:
        callback_post(event, timeout=30)
    return Scan(userid=userid, external_userid=contact.external_userid, welcome_code=code, event=event)


# --- transfers --------------------------------------------------------------------------------


def transfer_settle(*, external_userid: str, accepted: bool = True, handover_userid: str = "") -> int:
    """Finish waiting transfers of a customer: accepted moves the friendship, refused keeps it."""
    transfers = SimTransfer.objects.filter(external_userid=external_userid, status=SimTransfer.Status.WAITING)
    if handover_userid:
        transfers = transfers.filter(handover_userid=handover_userid)
    settled = 0
    with transaction.atomic():
        for transfer in transfers.select_for_update():
            if accepted:
                _move_follow(transfer)
                transfer.status = SimTransfer.Status.SUCCESS
                transfer.takeover_time = int(time.time())
            else:
                transfer.status = SimTransfer.Status.REFUSED
            transfer.save(update_fields=["status", "takeover_time"])
            settled += 1
    return settled


def transfers_settle_due(*, now: dt.datetime | None = None) -> int:
    """WeCom completes a transfer once the customer's window passes without a refusal (24 hours);
    the simulator does so after settings.WECOM_SIM_TRANSFER_SECONDS, so a demo hand-over finishes."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.WECOM_SIM_TRANSFER_SECONDS)
    due = SimTransfer.objects.filter(status=SimTransfer.Status.WAITING, created_at__lte=cutoff)
    return sum(transfer_settle(external_userid=ext) for ext in set(due.values_list("external_userid", flat=True)))


def transfer_refuse(*, external_userid: str) -> SimTransfer | None:
    """The customer refuses the transfer: it fails, the friendship stays, and WeCom tells the
    product with a transfer_fail callback (UserID is the takeover member)."""
    waiting = SimTransfer.objects.filter(external_userid=external_userid, status=SimTransfer.Status.WAITING).first()
    if waiting is None:
        return None
    transfer_settle(external_userid=external_userid, accepted=False)
    event = contact_event(
        "transfer_fail", userid=waiting.takeover_userid, external_userid=external_userid, FailReason="customer_refused"
    )
    transaction.on_commit(lambda: callback_post(event))
    return waiting


def _move_follow(transfer: SimTransfer) -> None:
    follow = SimFollowUser.objects.filter(
        member__userid=transfer.handover_userid, contact__external_userid=transfer.external_userid
    ).first()
    if follow is None:
        return
    takeover = SimMember.objects.filter(userid=transfer.takeover_userid).first() or member_add(
        userid=transfer.takeover_userid
    )
    if SimFollowUser.objects.filter(member=takeover, contact=follow.contact).exists():
        follow.delete()
        return
    follow.member = takeover
    follow.oper_userid = transfer.takeover_userid
    follow.save(update_fields=["member", "oper_userid"])
