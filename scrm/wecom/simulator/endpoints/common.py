"""What every simulated endpoint shares: WeCom's error shape, paging, member and follow lookups, media checks."""

import datetime as dt

from scrm.wecom.simulator.models import SimFollowUser, SimMedia, SimMember

MAX_LIMIT = 100


class SimError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def ok(**data) -> dict:
    """WeCom's success answer with the endpoint's fields."""
    return {"errcode": 0, "errmsg": "ok", **data}


def cursor_page(items: list, cursor: str, limit: int) -> tuple[list, str]:
    """One page of `items` and the next cursor ("" on the last page), WeCom's cursor paging."""
    try:
        start = int(cursor or 0)
    except ValueError as exc:
        raise SimError(40058, "invalid cursor") from exc
    page = items[start : start + limit]
    nxt = str(start + limit) if start + limit < len(items) else ""
    return page, nxt


def limit_of(body: dict, default: int = MAX_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """The body's `limit`, refused with 40058 outside 1..maximum as WeCom does."""
    try:
        limit = int(body.get("limit") or default)
    except (TypeError, ValueError) as exc:
        raise SimError(40058, "invalid limit") from exc
    if not 1 <= limit <= maximum:
        raise SimError(40058, f"limit must be 1..{maximum}")
    return limit


def member_of(userid: str, *, active: bool | None = None) -> SimMember:
    """The member, or WeCom's 60111 (unknown, or not active when `active` is asked for)."""
    member = SimMember.objects.filter(userid=userid or "").first()
    if member is None:
        raise SimError(60111, f"userid not found: {userid}")
    if active is True and member.status != SimMember.Status.ACTIVE:
        raise SimError(60111, f"userid not active: {userid}")
    return member


def follow_of(userid: str, external_userid: str) -> SimFollowUser:
    """The member ↔ contact relation, or WeCom's 84061 "not external contact"."""
    follow = (
        SimFollowUser.objects.select_related("member", "contact")
        .filter(member__userid=userid, contact__external_userid=external_userid)
        .first()
    )
    if follow is None:
        raise SimError(84061, "not external contact")
    return follow


def unix(value: dt.datetime) -> int:
    """A datetime as WeCom's unix seconds."""
    return int(value.timestamp())


def check_media(attachments: list) -> None:
    ids = []
    for item in attachments or []:
        for kind in ("image", "video", "file"):
            if isinstance(item, dict) and isinstance(item.get(kind), dict) and item[kind].get("media_id"):
                ids.append(item[kind]["media_id"])
    check_media_ids(ids)


def check_media_ids(ids: list[str]) -> None:
    found = {m.media_id: m for m in SimMedia.objects.filter(media_id__in=ids)}
    for media_id in ids:
        media = found.get(media_id)
        if media is None or media.expired:
            raise SimError(40007, f"invalid media_id: {media_id}")
