"""The everyday timeline around the structural rows: chats, browsing, articles, visits, sends."""

import random

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import IdentityKind
from scrm.devtools.demo import vocab
from scrm.devtools.demo.clock import DAY, daytime
from scrm.devtools.demo.person import Person
from scrm.devtools.demo.relations import Relation, in_relation

FILLER_WEIGHTS = [
    (EventKind.CHAT_MESSAGE, 40),
    (EventKind.MP_VISIT, 11),
    (EventKind.MP_PRODUCT_VIEW, 13),
    (EventKind.ADD_TO_CART, 5),
    (EventKind.OA_ARTICLE_READ, 8),
    (EventKind.FOLLOW_OA, 1),
    (EventKind.UNFOLLOW_OA, 0.4),
    (EventKind.STORE_VISIT, 4),
    (EventKind.MATERIAL_SENT, 6),
    (EventKind.COUPON_SENT, 3),
    (EventKind.TASK_DONE, 3),
    (EventKind.FRIEND_EDITED, 1.5),
    (EventKind.TAG_REMOVED, 1),
    (EventKind.TRANSFER_FAILED, 0.3),
    (EventKind.CUSTOMER_MERGED, 0.2),
]
FILLER_KINDS = [k for k, _ in FILLER_WEIGHTS]
NEEDS_MP = {EventKind.MP_VISIT, EventKind.MP_PRODUCT_VIEW, EventKind.ADD_TO_CART}
NEEDS_OA = {EventKind.OA_ARTICLE_READ, EventKind.FOLLOW_OA, EventKind.UNFOLLOW_OA}
# Kinds that happen in a chat with the serving guide; the others happen whenever the person is known.
IN_RELATION = {
    EventKind.MATERIAL_SENT,
    EventKind.COUPON_SENT,
    EventKind.TASK_DONE,
    EventKind.FRIEND_EDITED,
    EventKind.TAG_REMOVED,
    EventKind.TRANSFER_FAILED,
}


class Filler:
    """Draws filler events for one customer until their allowance is used up."""

    def __init__(self, ctx, rng: random.Random, *, person: Person, relations: list[Relation], known_since, order_times):
        self.ctx, self.rng, self.person, self.relations = ctx, rng, person, relations
        self.known_since, self.order_times = known_since, order_times
        self.sends: list[tuple] = []  # (seconds ago, material, staff)

    def generate(self, *, budget: int, first_kind=None) -> list[tuple]:
        """Event tuples up to `budget`; `first_kind` goes first, so a small data set shows every kind."""
        out: list[tuple] = []
        mp, oa = IdentityKind.MP_OPENID in self.person.has, IdentityKind.OA_OPENID in self.person.has
        while len(out) < budget:
            kind, first_kind = first_kind or self.rng.choices(FILLER_KINDS, [w for _, w in FILLER_WEIGHTS])[0], None
            unfit = kind == EventKind.CUSTOMER_MERGED and not self.person.phone  # merged by phone
            if kind in NEEDS_MP and not mp or kind in NEEDS_OA and not oa or unfit:
                kind = EventKind.CHAT_MESSAGE if self.rng.random() < 0.7 else EventKind.STORE_VISIT
            out.extend(self._one(kind))
        return out

    def _one(self, kind) -> list[tuple]:
        rel_ago, rel = in_relation(self.rng, self.relations)
        if kind == EventKind.CHAT_MESSAGE:
            return self._chat(rel_ago, rel)
        if kind in IN_RELATION:
            made = getattr(self, f"_{kind}")(rel_ago, rel.staff)
            return [(rel_ago, kind, Channel.WECOM, rel.staff.id, *made)] if made else self._chat(rel_ago, rel)
        ago = self._browse_time()
        return [(ago, kind, *getattr(self, f"_{kind}")())]

    def _browse_time(self) -> int:
        # Browsing happens any time they are known, often just before an order.
        if self.order_times and self.rng.random() < 0.4:
            return self.order_times[self.rng.randrange(len(self.order_times))][0] + self.rng.randint(600, 3 * DAY)
        return daytime(self.rng, self.rng.randint(1, max(1, self.known_since // DAY)))

    def _chat(self, ago: int, rel: Relation) -> list[tuple]:
        """A short chat session: a question and its answer (maybe two), or the guide's opener."""
        rng, staff = self.rng, rel.staff
        end = rel.ended if rel.ended is not None else 0
        if rng.random() < 0.6:
            talk = []
            for _ in range(2 if rng.random() < 0.5 else 1):
                question, answer = rng.choice(vocab.CHAT_PAIRS)
                talk += [("in", question), ("out", answer.format(product=self._product_asked(question)))]
        else:
            product = rng.choice(self.ctx.products)[1]
            talk = [
                (
                    "out",
                    rng.choice(vocab.GUIDE_OPENERS).format(name=self.person.name, guide=staff.name, product=product),
                )
            ]
            if rng.random() < 0.7:
                talk.append(("in", rng.choice(vocab.CUSTOMER_REPLIES)))
        out = []
        for direction, text in talk:  # whole sessions: a question never loses its answer
            who = self.person.name if direction == "in" else staff.name  # as events.chat_message_record
            payload = {"direction": direction, "msgtype": "text", "content": text, "userid": staff.userid}
            out.append((ago, EventKind.CHAT_MESSAGE, Channel.WECOM, staff.id, f"{who}：{text}", payload))
            ago = max(end + 1, ago - self.rng.randint(20, 900))
        return out

    def _product_asked(self, question: str) -> str:
        """The product a question is about: "这款精华…" gets a 精华, anything else any product."""
        word = next((w for w in vocab.PRODUCT_WORDS if w in question), None)
        pool = [p for p in self.ctx.products if word and word in p[1]] or self.ctx.products
        return self.rng.choice(pool)[1]

    def _interest_product(self):
        return self.rng.choice([p for p in self.ctx.products if p[3] == self.person.favourite[0]] or self.ctx.products)

    # Browsing and channels: (channel, staff_id, title, payload).
    def _mp_visit(self):
        page = self.rng.choice(vocab.MP_PAGES)
        return Channel.MP, None, f"访问小程序「{page}」", {"page": page, "duration_s": self.rng.randint(8, 600)}

    def _mp_product_view(self):
        sku, name, price, _line = self._interest_product()
        return Channel.MP, None, f"浏览商品 {name}", {"sku": sku, "name": name, "price": str(price)}

    def _add_to_cart(self):
        sku, name, _price, _line = self._interest_product()
        return Channel.MP, None, f"将 {name} 加入购物车", {"sku": sku, "name": name, "quantity": 1}

    def _oa_article_read(self):
        article = self.rng.choice(vocab.ARTICLES)
        payload = {"article": article, "read_seconds": self.rng.randint(10, 400)}
        return Channel.OA, None, f"阅读公众号文章《{article}》", payload

    def _follow_oa(self):
        payload = {"scene": self.rng.choice(("qrcode", "search", "article"))}
        return Channel.OA, None, f"关注了公众号「{vocab.BRAND}」", payload

    def _unfollow_oa(self):
        return Channel.OA, None, f"取消关注公众号「{vocab.BRAND}」", {}

    def _store_visit(self):
        code = self.person.store_code
        purpose = self.rng.choice(("试妆", "皮肤检测", "取货", "参加会员日活动", "咨询"))
        title = f"到店（{self.ctx.store_names[code]}）{purpose}"
        return Channel.POS, None, title, {"store_code": code, "purpose": purpose}

    def _customer_merged(self):
        return Channel.SYSTEM, None, "合并了重复的客户档案（同一手机号）", {"matched_by": "phone"}

    # In a chat with the serving guide: (title, payload), or None when nothing fits that moment.
    def _material_sent(self, ago: int, staff):
        when = self.ctx.at(ago)
        valid = [m for m in self.ctx.materials if m.title != vocab.BIRTHDAY_MATERIAL and m.valid_at(when)]
        if not valid:
            return None
        material = self.rng.choice(valid)
        self.sends.append((ago, material, staff))
        return material_sent_item(staff, material)

    def _coupon_sent(self, ago: int, staff):
        coupon, threshold, value = self.rng.choice(vocab.COUPONS)
        code = f"CP{self.rng.randint(10**9, 10**10 - 1)}"
        payload = {"coupon": coupon, "threshold": threshold, "discount": value, "code": code}
        return f"{staff.name}发送了优惠券「{coupon}」", payload

    def _task_done(self, ago: int, staff):
        task = self.rng.choice(vocab.TASKS)
        return f"{staff.name}完成任务「{task}」", {"task": task}

    def _friend_edited(self, ago: int, staff):
        remark = self.person.remark
        return f"{staff.name}修改了备注为「{remark}」", {"remark": remark}

    def _tag_removed(self, ago: int, staff):
        tag = self.rng.choice(dict(vocab.TAG_GROUPS)["消费偏好"])
        payload = {"tag_id": self.ctx.tag_ids[("消费偏好", tag)], "tag": tag, "group": "消费偏好"}
        return f"移除标签「{tag}」", payload

    def _transfer_failed(self, ago: int, staff):
        return f"转接给导购{staff.name}失败：客户拒绝", {"reason": "customer_refused"}


def material_sent_item(staff, material) -> tuple[str, dict]:
    payload = {"material_id": material.id, "material_kind": material.kind, "title": material.title}
    return f"{staff.name}发送了素材「{material.title}」", payload
