"""Simulated transfers of customers (in service and resigned), their results and the unassigned list."""

from django.http import HttpRequest

from scrm.wecom.simulator import services
from scrm.wecom.simulator.endpoints.common import MAX_LIMIT, SimError, cursor_page, limit_of, member_of, ok, unix
from scrm.wecom.simulator.models import SimFollowUser, SimMember, SimTransfer


def _transfer(body: dict, *, resigned: bool) -> dict:
    handover_id, takeover_id = body.get("handover_userid", ""), body.get("takeover_userid", "")
    external_userids = list(body.get("external_userid") or [])
    if not external_userids or len(external_userids) > MAX_LIMIT:
        raise SimError(40058, "external_userid must hold 1..100 ids")
    handover = member_of(handover_id)
    member_of(takeover_id, active=True)
    if handover_id == takeover_id:
        raise SimError(40098, "handover and takeover must be different members")
    if resigned and handover.status != SimMember.Status.DEPARTED:
        raise SimError(40099, "handover member has not departed; use transfer_customer")
    if not resigned and handover.status != SimMember.Status.ACTIVE:
        raise SimError(40099, "handover member has departed; use resigned/transfer_customer")
    mine = set(
        SimFollowUser.objects.filter(member=handover, contact__external_userid__in=external_userids).values_list(
            "contact__external_userid", flat=True
        )
    )
    waiting = set(
        SimTransfer.objects.filter(external_userid__in=external_userids, status=SimTransfer.Status.WAITING).values_list(
            "external_userid", flat=True
        )
    )
    customers = []
    for ext in external_userids:
        if ext not in mine:
            customers.append({"external_userid": ext, "errcode": 84061})
        elif ext in waiting:
            customers.append({"external_userid": ext, "errcode": 40129})  # already being transferred
        else:
            SimTransfer.objects.create(
                handover_userid=handover_id, takeover_userid=takeover_id, external_userid=ext, resigned=resigned
            )
            customers.append({"external_userid": ext, "errcode": 0})
    return ok(customer=customers)


def transfer_customer(request: HttpRequest, body: dict) -> dict:
    return _transfer(body, resigned=False)


def resigned_transfer_customer(request: HttpRequest, body: dict) -> dict:
    return _transfer(body, resigned=True)


def _transfer_result(body: dict, *, resigned: bool) -> dict:
    services.transfers_settle_due()
    rows = list(
        SimTransfer.objects.filter(
            handover_userid=body.get("handover_userid", ""),
            takeover_userid=body.get("takeover_userid", ""),
            resigned=resigned,
        ).order_by("id")
    )
    page, nxt = cursor_page(rows, body.get("cursor", ""), MAX_LIMIT)
    return ok(
        customer=[
            {"external_userid": r.external_userid, "status": r.status, "takeover_time": r.takeover_time} for r in page
        ],
        next_cursor=nxt,
    )


def transfer_result(request: HttpRequest, body: dict) -> dict:
    return _transfer_result(body, resigned=False)


def resigned_transfer_result(request: HttpRequest, body: dict) -> dict:
    return _transfer_result(body, resigned=True)


def unassigned_list(request: HttpRequest, body: dict) -> dict:
    limit = limit_of(body | {"limit": body.get("page_size") or 1000}, maximum=1000)
    busy = set(
        SimTransfer.objects.filter(status__in=[SimTransfer.Status.WAITING, SimTransfer.Status.SUCCESS]).values_list(
            "handover_userid", "external_userid"
        )
    )
    follows = (
        SimFollowUser.objects.filter(member__status=SimMember.Status.DEPARTED)
        .select_related("member", "contact")
        .order_by("id")
    )
    rows = [f for f in follows if (f.member.userid, f.contact.external_userid) not in busy]
    page, nxt = cursor_page(rows, body.get("cursor", ""), limit)
    return ok(
        info=[
            {
                "handover_userid": f.member.userid,
                "external_userid": f.contact.external_userid,
                "dimission_time": unix(f.member.departed_at or f.member.created_at),
            }
            for f in page
        ],
        is_last=not nxt,
        next_cursor=nxt,
    )
