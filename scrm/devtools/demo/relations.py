"""A demo customer's guides over time: who they added, who deleted whom, who inherited them."""

import random
from dataclasses import dataclass

from scrm.customers.events import Channel, EventKind
from scrm.devtools.demo import vocab
from scrm.devtools.demo.base import StaffRef
from scrm.devtools.demo.clock import DAY, daytime

SCANNED = 1  # WeCom add_way for a scanned QR code: the only way a live code's state arrives
INHERITED = 202


@dataclass
class Relation:
    staff: StaffRef
    added: int  # seconds before anchor
    ended: int | None = None
    ended_by: str = ""
    add_way: int = SCANNED
    state: str = ""

    def covers(self, ago: int) -> bool:
        return self.added >= ago and (self.ended is None or self.ended < ago)


def serving(relations: list[Relation], ago: int) -> Relation | None:
    return next((rel for rel in relations if rel.covers(ago)), None)


def relations_draw(ctx, rng: random.Random, *, index: int, store_code: str, join_day: int) -> list[Relation]:
    """1–2 guides: ~5% ended by the customer, some by staff, some handed over (history kept)."""
    joined = daytime(rng, join_day)
    scenario = index % 100
    primary, other = rng.sample(ctx.base.guides[store_code], 2)
    add_way = rng.choices(ctx.add_way_values, ctx.add_way_weights)[0]
    state = _state_draw(rng, store_code) if add_way == SCANNED else ""
    first = Relation(primary, joined, add_way=add_way, state=state)
    if join_day < 4:
        return [first]
    mid = daytime(rng, rng.randint(1, join_day - 1))
    if scenario < 6:
        first.ended, first.ended_by = mid, "customer" if scenario < 5 else "staff"
        return [first]
    if scenario == 6:
        first.ended, first.ended_by = mid, "staff"
        again_day = max(1, (mid // DAY) - rng.randint(1, 20))
        return [first, Relation(other, min(mid - 1, daytime(rng, again_day)), add_way=2)]
    if scenario < 15:
        departed = ctx.base.departed
        if departed.store_code == store_code and join_day > vocab.DEPARTED_DAYS_AGO + 2:
            # The departed guide's customers were inherited a few days after she left.
            first.staff = departed
            mid = daytime(rng, vocab.DEPARTED_DAYS_AGO - rng.randint(1, 5))
        first.ended, first.ended_by = mid, "transfer"
        taker = other if other.id != first.staff.id else primary
        return [first, Relation(taker, mid - 1, add_way=INHERITED)]
    if scenario < 25:
        second_way = rng.choice((SCANNED, 3))
        return [first, Relation(other, mid, add_way=second_way, state=state if second_way == SCANNED else "")]
    return [first]


def _state_draw(rng: random.Random, store_code: str) -> str:
    if rng.random() < 0.7:
        return f"store_{store_code}_{rng.choice(vocab.STATE_SUFFIXES)}"
    return rng.choice(vocab.ONLINE_STATES)


def in_relation(rng: random.Random, relations: list[Relation]) -> tuple[int, Relation]:
    """A moment while one of the customer's guides served them, and that relation."""
    rel = rng.choice(relations)
    end = rel.ended if rel.ended is not None else 0
    day = rng.randint(max(1, end // DAY + 1), max(1, end // DAY + 1, rel.added // DAY))
    return min(rel.added, max(end + 1, daytime(rng, day))), rel


def relation_events(ctx, relations: list[Relation]) -> list[tuple]:
    events = []
    for n, rel in enumerate(relations):
        if rel.add_way == INHERITED:
            previous = relations[n - 1].staff
            reason = "离职继承" if previous.id == ctx.base.departed.id else "在职转接"
            payload = {"from_userid": previous.userid, "to_userid": rel.staff.userid, "reason": reason}
            title = f"从 {previous.name} 转接给 {rel.staff.name}"  # as events.transfer_record words it
            events.append((rel.added, EventKind.TRANSFER, Channel.WECOM, rel.staff.id, title, payload))
        else:
            payload = {"userid": rel.staff.userid, "add_way": rel.add_way, "state": rel.state}
            title = f"通过「{_how_added(rel)}」添加导购 {rel.staff.name} 为好友"  # as events.friend_added_record
            events.append((rel.added, EventKind.FRIEND_ADDED, Channel.WECOM, rel.staff.id, title, payload))
        if rel.ended_by in ("customer", "staff"):
            kind, title = (
                (EventKind.FRIEND_DELETED_BY_CUSTOMER, f"客户删除了导购 {rel.staff.name}")
                if rel.ended_by == "customer"
                else (EventKind.FRIEND_DELETED_BY_STAFF, f"导购 {rel.staff.name} 删除了客户")
            )
            events.append((rel.ended, kind, Channel.WECOM, rel.staff.id, title, {"userid": rel.staff.userid}))
    return events


def _how_added(rel: Relation) -> str:
    label = vocab.STATE_LABEL.get(rel.state.rsplit("_", 1)[-1]) or vocab.STATE_LABEL.get(rel.state, "")
    if label:
        return f"{label}活码"
    return vocab.ADD_WAY_HOW.get(rel.add_way, "扫描二维码")


def relation_rows(ctx, *, relations: list[Relation], customer_id: int, ext: str, remark: str, description: str):
    return [
        (
            rel.staff.id,
            customer_id,
            ext,
            remark,
            description,
            "[]",
            rel.add_way,
            rel.state,
            ctx.at(rel.added),
            ctx.at(rel.ended) if rel.ended is not None else None,
            rel.ended_by,
            ctx.at(rel.added),
            ctx.at(rel.ended if rel.ended is not None else rel.added),
        )
        for rel in relations
    ]
