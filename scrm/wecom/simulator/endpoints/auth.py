"""Simulated token, JS-SDK tickets, OAuth code exchange and members."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from scrm.wecom.simulator import services
from scrm.wecom.simulator.endpoints.common import SimError, member_of, ok
from scrm.wecom.simulator.models import (
    OAUTH_CODE_TTL,
    TOKEN_TTL_SECONDS,
    SecretKind,
    SimAccessToken,
    SimMember,
    SimOAuthCode,
    SimTicket,
)


def gettoken(request: HttpRequest, body: dict) -> dict:
    if request.GET.get("corpid") != settings.WECOM_CORP_ID:
        raise SimError(40013, "invalid corpid")
    secret = request.GET.get("corpsecret", "")
    kinds = {settings.WECOM_SECRET: SecretKind.APP, settings.WECOM_CONTACT_SECRET: SecretKind.CONTACT}
    if not secret or secret not in kinds:
        raise SimError(40001, "invalid credential: corpsecret")
    token = SimAccessToken.objects.create(
        token=services.new_id("tok", 24),
        kind=kinds[secret],
        expires_at=timezone.now() + dt.timedelta(seconds=TOKEN_TTL_SECONDS),
    )
    return ok(access_token=token.token, expires_in=TOKEN_TTL_SECONDS)


def _ticket(kind: str) -> dict:
    ticket = SimTicket.objects.create(
        ticket=services.new_id("tk", 24), kind=kind, expires_at=timezone.now() + dt.timedelta(seconds=7200)
    )
    return ok(ticket=ticket.ticket, expires_in=7200)


def get_jsapi_ticket(request: HttpRequest, body: dict) -> dict:
    return _ticket(SimTicket.Kind.JSAPI)


def ticket_get(request: HttpRequest, body: dict) -> dict:
    if request.GET.get("type") != "agent_config":
        raise SimError(40058, "invalid type")
    return _ticket(SimTicket.Kind.AGENT)


def _take_code(code: str) -> SimOAuthCode:
    with transaction.atomic():
        row = SimOAuthCode.objects.select_for_update().filter(code=code or "").first()
        if row is None or row.used_at or row.created_at + OAUTH_CODE_TTL < timezone.now():
            raise SimError(40029, "invalid code")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
    return row


def auth_getuserinfo(request: HttpRequest, body: dict) -> dict:
    row = _take_code(request.GET.get("code", ""))
    if row.userid:
        return ok(userid=row.userid, user_ticket=services.new_id("ut", 16), expires_in=1800)
    return ok(openid=row.openid)


def user_getuserinfo(request: HttpRequest, body: dict) -> dict:
    # The older exchange spells the member id `UserId`.
    row = _take_code(request.GET.get("code", ""))
    if row.userid:
        return ok(UserId=row.userid, DeviceId="")
    return ok(OpenId=row.openid, DeviceId="")


def _member_json(member: SimMember) -> dict:
    return {
        "userid": member.userid,
        "name": member.name,
        "department": member.department or [1],
        "avatar": member.avatar,
        "status": 1 if member.status == SimMember.Status.ACTIVE else 5,
    }


def user_get(request: HttpRequest, body: dict) -> dict:
    return ok(**_member_json(member_of(request.GET.get("userid", ""))))


def user_list(request: HttpRequest, body: dict) -> dict:
    try:
        department = int(request.GET.get("department_id") or 1)
    except ValueError as exc:
        raise SimError(60123, "invalid department_id") from exc
    fetch_child = request.GET.get("fetch_child") == "1"
    members = SimMember.objects.filter(status=SimMember.Status.ACTIVE).order_by("userid")
    # One flat corp: department 1 is the root and holds everyone when fetch_child is set.
    chosen = [m for m in members if department in (m.department or [1]) or (department == 1 and fetch_child)]
    return ok(userlist=[_member_json(m) for m in chosen])
