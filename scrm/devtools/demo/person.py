"""Who a demo customer is and which channels know them: name, gender, birthday, store, identities."""

import datetime as dt
import random
from dataclasses import dataclass

from scrm.customers.models import Gender, IdentityKind
from scrm.customers.services import phone_hash, phone_mask
from scrm.devtools.demo import vocab

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
INTEREST_LINES = ["护肤", "彩妆", "香氛", "抗老", "美白淡斑", "防晒", "身体护理"]


@dataclass
class Person:
    name: str  # as the guide sees it: the real name or a WeChat nickname
    surname: str
    title: str  # 女士 / 先生
    gender: int
    birthday: dt.date | None
    skin: int  # index into vocab.SKIN_REMARK
    store_code: str
    has: set  # IdentityKind values that know this person
    full: bool  # known everywhere (every fourth customer, so every kind shows up in small data sets)
    favourite: list[str]  # two product lines they buy and browse
    phone: str

    @property
    def remark(self) -> str:
        return f"{self.surname}{self.title}-{vocab.SKIN_REMARK[self.skin]}"


def person_draw(ctx, rng: random.Random, index: int, phone_of) -> Person:
    roll = rng.random()
    gender = Gender.FEMALE if roll < 0.85 else (Gender.MALE if roll < 0.97 else Gender.UNKNOWN)
    surname = rng.choice(vocab.SURNAMES)
    given = rng.choice(vocab.MALE_GIVEN if gender == Gender.MALE else vocab.FEMALE_GIVEN)
    name = surname + given if rng.random() < 0.55 else rng.choice(vocab.NICKNAMES)
    skin = rng.randrange(len(vocab.SKIN_REMARK))
    birthday = dt.date(rng.randint(1972, 2005), rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.45 else None
    store_code = rng.choices(ctx.store_codes, ctx.store_weights)[0]
    full = index % 4 == 3
    has = _channels_draw(rng, full=full, only_wecom=index % 4 == 0 and rng.random() < 0.5)
    return Person(
        name=name,
        surname=surname,
        title="先生" if gender == Gender.MALE else "女士",
        gender=gender,
        birthday=birthday,
        skin=skin,
        store_code=store_code,
        has=has,
        full=full,
        favourite=rng.sample(sorted(INTEREST_LINES), 2),
        phone=phone_of() if IdentityKind.PHONE in has else "",
    )


def _channels_draw(rng: random.Random, *, full: bool, only_wecom: bool) -> set:
    has = {IdentityKind.WECOM}
    if full:
        has |= {IdentityKind.UNIONID, IdentityKind.MP_OPENID, IdentityKind.OA_OPENID, IdentityKind.PHONE}
        has |= {IdentityKind.TMALL}
        for kind, p in ((IdentityKind.JD, 0.5), (IdentityKind.YOUZAN, 0.5), (IdentityKind.POS_MEMBER, 0.7)):
            if rng.random() < p:
                has.add(kind)
        return has
    if only_wecom:
        return has
    if rng.random() < 0.6:
        has.add(IdentityKind.UNIONID)
        if rng.random() < 0.85:
            has.add(IdentityKind.MP_OPENID)
        if rng.random() < 0.5:
            has.add(IdentityKind.OA_OPENID)
    if rng.random() < 0.55:
        has.add(IdentityKind.PHONE)
    for kind, p in ((IdentityKind.TMALL, 0.2), (IdentityKind.JD, 0.1), (IdentityKind.YOUZAN, 0.08)):
        if rng.random() < p:
            has.add(kind)
    if rng.random() < 0.4:
        has |= {IdentityKind.POS_MEMBER, IdentityKind.PHONE}
    return has


def identity_rows(*, person: Person, rng: random.Random, seed: int, index: int, ext: str, customer_id: int, since):
    """(customer_id, kind, value, display, created_at) for every channel that knows the person."""
    rows = []
    for kind in IdentityKind.values:
        if kind in person.has:
            value, display = _identity_value(kind, person=person, rng=rng, seed=seed, index=index, ext=ext)
            rows.append((customer_id, kind, value, display, since))
    return rows


def _identity_value(kind, *, person: Person, rng: random.Random, seed: int, index: int, ext: str) -> tuple[str, str]:
    if kind == IdentityKind.WECOM:
        return ext, person.name
    if kind == IdentityKind.PHONE:
        return phone_hash(person.phone), phone_mask(person.phone)
    if kind in (IdentityKind.UNIONID, IdentityKind.MP_OPENID, IdentityKind.OA_OPENID):
        return "o" + "".join(rng.choices(ALNUM, k=27)), ""
    if kind == IdentityKind.TMALL:
        value = f"tb{_bij(seed, index, 104729, 10**9):09d}"
        return value, f"tb***{value[-4:]}"
    if kind == IdentityKind.JD:
        value = f"jd_{_bij(seed, index, 130363, 10**10):010d}"
        return value, f"jd_***{value[-4:]}"
    if kind == IdentityKind.YOUZAN:
        return f"yz{_bij(seed, index, 15485863, 10**10):010d}", ""
    value = f"LT{_bij(seed, index, 7919, 10**8):08d}"
    return value, value


def _bij(seed: int, index: int, mult: int, mod: int) -> int:
    return (index * mult + seed * 31 + 17) % mod
