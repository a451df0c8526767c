"""What a demo customer's guides did on purpose: tags after adding them, follow-up notes, birthdays."""

import datetime as dt
import random
from dataclasses import dataclass, field

from scrm.customers.events import Channel, EventKind
from scrm.customers.selectors import age_on
from scrm.devtools.demo import vocab
from scrm.devtools.demo.clock import DAY, daytime
from scrm.devtools.demo.person import Person
from scrm.devtools.demo.relations import Relation, in_relation, serving

TAG_DRAWS = [("肤质", 0.7), ("来源渠道", 0.6), ("年龄段", 0.35), ("消费偏好", 0.3)]
SKIN_TAGS = ["干性肌", "油性肌", "混合肌", "敏感肌", "中性肌"]  # in vocab.SKIN_REMARK's order


@dataclass
class Touches:
    tags: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    events: list = field(default_factory=list)
    sends: list = field(default_factory=list)  # (seconds ago, material, staff) of material sends


def tags_generate(ctx, rng: random.Random, *, person: Person, relations: list[Relation], customer_id: int, out):
    """Tags added by the first guide, right after adding someone or on a later day at the same hour."""
    first_rel = relations[0]
    chosen = [("兴趣", name) for name in person.favourite[: rng.choice((1, 1, 2))]]
    groups = dict(vocab.TAG_GROUPS)
    for group, p in TAG_DRAWS:
        if rng.random() >= p:
            continue
        if group == "肤质":
            chosen.append((group, SKIN_TAGS[person.skin]))
        elif group == "年龄段" and person.birthday:
            chosen.append((group, _age_band(person.birthday, ctx.today)))  # agrees with the birthday shown
        else:
            chosen.append((group, rng.choice(groups[group])))
    floor = (first_rel.ended or 0) + 1
    staff = first_rel.staff
    for group, tag_name in chosen:
        delta = rng.randint(60, 7200) if rng.random() < 0.7 else rng.randint(1, 30) * DAY
        ago = max(floor, first_rel.added - delta)
        tag_id = ctx.tag_ids[(group, tag_name)]
        out.tags.append((customer_id, tag_id, staff.id, "wecom", ctx.at(ago)))
        payload = {"tag_id": tag_id, "tag": tag_name, "group": group}  # as events.tag_changed_record
        out.events.append((ago, EventKind.TAG_ADDED, Channel.WECOM, staff.id, f"添加标签「{tag_name}」", payload))


def _age_band(birthday: dt.date, today: dt.date) -> str:
    age = age_on(birthday, today)
    if age < 25:
        return "18-24岁"
    if age <= 30:
        return "25-30岁"
    return "31-40岁" if age <= 40 else "40岁以上"


def notes_generate(ctx, rng: random.Random, *, person: Person, relations, has_orders: bool, customer_id: int, out):
    """Follow-up notes; the newest one carries the next contact date the guide works from."""
    count = rng.choices((0, 1, 2, 3), (30, 35, 22, 13))[0] if has_orders else rng.choices((0, 1), (65, 35))[0]
    times = sorted((in_relation(rng, relations) for _ in range(count)), reverse=True)
    for n, (ago, rel) in enumerate(times):
        body = rng.choice(vocab.NOTE_BODIES)
        if person.birthday and rng.random() < 0.15:
            body = vocab.BIRTHDAY_NOTE.format(month=person.birthday.month, day=person.birthday.day)
        created = ctx.at(ago)
        if n == len(times) - 1:
            next_on = ctx.today + dt.timedelta(days=rng.randint(-7, 21))
            done = next_on < ctx.today and rng.random() < 0.5
        else:
            next_on = created.astimezone(ctx.anchor.tzinfo).date() + dt.timedelta(days=rng.randint(7, 30))
            done = True
        out.notes.append((customer_id, rel.staff.id, body, next_on, done, created))
        payload = {"body": body, "next_contact_on": next_on.isoformat()}
        out.events.append((ago, EventKind.NOTE, Channel.WECOM, rel.staff.id, body.splitlines()[0][:80], payload))


def birthdays_generate(ctx, rng: random.Random, *, person: Person, relations: list[Relation], out):
    """On the customer's last birthdays while a guide served them: the greeting, the birthday coupon,
    the 生日祝福 script when it was valid, and the 生日关怀 task done — on that day, never on another."""
    if not person.birthday:
        return
    for years_back in (0, 1):
        day = _days_ago(ctx.today, person.birthday, years_back)
        if day < 1 or rng.random() < 0.25:
            continue
        ago = daytime(rng, day)
        rel = serving(relations, ago)
        if rel is None:
            continue
        staff = rel.staff
        greeting = vocab.BIRTHDAY_GREETING.format(name=person.name)
        out.events.append((ago, *_chat(staff, "out", greeting, person.name)))
        if rng.random() < 0.5:
            question, answer = vocab.BIRTHDAY_QUESTION
            out.events.append((ago - 600, *_chat(staff, "in", question, person.name)))
            out.events.append((ago - 900, *_chat(staff, "out", answer, person.name)))
        coupon, threshold, value = vocab.BIRTHDAY_COUPON
        code = f"CP{rng.randint(10**9, 10**10 - 1)}"
        payload = {"coupon": coupon, "threshold": threshold, "discount": value, "code": code}
        out.events.append(
            (ago - 60, EventKind.COUPON_SENT, Channel.WECOM, staff.id, f"{staff.name}发送了优惠券「{coupon}」", payload)
        )
        script = next((m for m in ctx.materials if m.title == vocab.BIRTHDAY_MATERIAL), None)
        if script and script.valid_at(ctx.at(ago - 120)):
            out.sends.append((ago - 120, script, staff))
        task = {"task": vocab.BIRTHDAY_TASK}
        out.events.append(
            (
                ago - 180,
                EventKind.TASK_DONE,
                Channel.WECOM,
                staff.id,
                f"{staff.name}完成任务「{vocab.BIRTHDAY_TASK}」",
                task,
            )
        )


def _days_ago(today: dt.date, birthday: dt.date, years_back: int) -> int:
    """Days since the birthday in this year (or `years_back` years earlier); ≤ 0 if still to come."""
    return (today - birthday.replace(year=today.year - years_back)).days


def _chat(staff, direction: str, text: str, customer_name: str) -> tuple:
    who = customer_name if direction == "in" else staff.name  # as events.chat_message_record
    payload = {"direction": direction, "msgtype": "text", "content": text, "userid": staff.userid}
    return EventKind.CHAT_MESSAGE, Channel.WECOM, staff.id, f"{who}：{text}", payload
