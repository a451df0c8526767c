"""Console performance dashboard: 500 guides × 365 days of rollups on PostgreSQL.

    .venv/bin/python bench/console.py [--rounds 100] [--reseed] [--port 8899]

Seeds (or reuses) 500 guides in 50 stores with daily rollups for the last 730 days, so the
measured 365-day range and the previous 365 days it is compared with are both full. Per guide and
day: ~1.5 new customers, ~4 customers sent materials, ~1 buying customer (GuideCustomerDay facts,
linked as the rollup service links them, with the customer blocks built from them) and the stored
trailing-window counts (plausible values of the real size; their correctness is covered by
tests/analytics). Then serves the app with gunicorn and prints p50/p95 of the brand dashboard
(a 365-day range: stored windows; a 200-day range: customer blocks; trends of distinct figures)
beside /healthz and the two floors, measured in the same run.
"""

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import bench_env, django_setup, floors, gunicorn, manage, measure, report

GUIDES, STORES, DAYS, CUSTOMERS_PER_GUIDE = 500, 50, 730, 1100
PREFIX = "pbench"
PASSWORD = "bench-password-1"


def seed(*, reseed: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from scrm.analytics.blocks import guide_blocks_rebuild
    from scrm.analytics.days import local_day
    from scrm.analytics.models import (
        ADDITIVE,
        RESPONSE_FIELDS,
        WINDOWS,
        GuideCustomerBlock,
        GuideCustomerDay,
        GuideDay,
        GuideStoreSpan,
        StoreDay,
    )
    from scrm.customers.models import Customer
    from scrm.org.models import Staff, Store

    today = local_day(dt.datetime.now(dt.UTC))
    first = today - dt.timedelta(days=DAYS - 1)
    guides = Staff.objects.filter(userid__startswith=f"{PREFIX}-g")
    seeded = GuideDay.objects.filter(staff__in=guides, day__gte=first, day__lte=today)
    have = seeded.count()
    fresh = not seeded.filter(windows={}).exists() and not seeded.filter(running=[]).exists()
    fresh = fresh and GuideCustomerBlock.objects.filter(staff__in=guides, first_day__gte=first).exists()
    if not reseed and have == GUIDES * DAYS and fresh and StoreDay.objects.filter(day=today).exists():
        print(f"reusing {have} GuideDay rows ending {today}")
        return
    started = time.perf_counter()
    print("seeding …", flush=True)
    # Short transactions (the PostgreSQL server is shared): set-up, then one COPY batch per chunk of guides.
    with transaction.atomic():
        StoreDay.objects.filter(store__code__startswith=f"{PREFIX}-").delete()
        GuideStoreSpan.objects.filter(staff__in=guides).delete()
        GuideCustomerDay.objects.filter(staff__in=guides).delete()
        GuideDay.objects.filter(staff__in=guides).delete()
        Customer.objects.filter(name__startswith=f"{PREFIX}-").delete()
        guides.delete()
        Store.objects.filter(code__startswith=f"{PREFIX}-").delete()
        User = get_user_model()
        User.objects.filter(username__startswith=f"{PREFIX}-g").delete()

        stores = Store.objects.bulk_create(
            Store(code=f"{PREFIX}-{i:03d}", name=f"压测门店{i:03d}", city="上海") for i in range(STORES)
        )
        users = User.objects.bulk_create(User(username=f"{PREFIX}-g{i:03d}") for i in range(GUIDES))
        staff = Staff.objects.bulk_create(
            Staff(user=u, userid=f"{PREFIX}-g{i:03d}", name=f"导购{i:03d}", store=stores[i % STORES])
            for i, u in enumerate(users)
        )
    customer_ids = []
    for chunk in range(0, GUIDES * CUSTOMERS_PER_GUIDE, 50_000):
        with transaction.atomic():
            customers = Customer.objects.bulk_create(
                (Customer(name=f"{PREFIX}-{i}") for i in range(chunk, chunk + 50_000)), batch_size=5000
            )
        customer_ids += [c.pk for c in customers]

    rng = random.Random(42)
    days = [first + dt.timedelta(days=i) for i in range(DAYS)]
    day_cols = [
        "staff_id", "store_id", "day", "adds", "losses", "orders", "gmv", "sends", "notes", "rt_unanswered",
        *RESPONSE_FIELDS, "active_customers", "tagged_customers", "overdue_followups", "windows", "running",
        "computed_at",
    ]  # fmt: skip
    store_days: dict[tuple[int, dt.date], list] = {}
    store_cols = [
        "store_id", "day", *ADDITIVE, "active_customers", "tagged_customers", "overdue_followups",
        "reached", "bought", "rebought", "converted_on",
    ]  # fmt: skip
    # Per store and day: facts of kind send, order, order with n ≥ 2, and {first order day: adds}.
    store_facts: dict[tuple[int, dt.date], list] = {}
    fact_cols = ["kind", "staff_id", "store_id", "customer_id", "day", "n", "prev_day", "next_day"]
    now = dt.datetime.now(dt.UTC)
    raw = connection.cursor().cursor

    def copy(table: str, cols: list[str], rows: list[tuple]) -> None:
        # One COPY at a time: a connection cannot interleave two.
        with raw.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as stream:
            for row in rows:
                stream.write_row(row)

    day_rows: list[tuple] = []
    fact_rows: list[tuple] = []
    for gi, member in enumerate(staff):
        totals = [0] * len(ADDITIVE)
        pool = customer_ids[gi * CUSTOMERS_PER_GUIDE : (gi + 1) * CUSTOMERS_PER_GUIDE]
        added: list[int] = []
        last_send: dict[int, dt.date] = {}
        order_days: dict[int, list[tuple[dt.date, int]]] = {}
        add_day: dict[int, dt.date] = {}
        running: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)]  # prefix sums of daily counts
        for day in days:
            adds = min(rng.choice((0, 1, 1, 2, 2, 3)), len(pool) - len(added))
            for _ in range(adds):
                c = pool[len(added)]
                added.append(c)
                add_day[c] = day
            contacts = rng.sample(added, min(len(added), rng.randint(2, 6)))
            for c in contacts:
                fact_rows.append((2, member.pk, member.store_id, c, day, 1, last_send.get(c), None))
                last_send[c] = day
            buyers = rng.sample(added, min(len(added), rng.choice((0, 1, 1, 2))))
            orders = 0
            for c in buyers:
                n = rng.choice((1, 1, 1, 2))
                orders += n
                order_days.setdefault(c, []).append((day, n))
            hist = [rng.randint(0, 3) for _ in RESPONSE_FIELDS]
            active = len(added)
            today_counts = (len(contacts), len(buyers), sum(1 for c in buyers if len(order_days[c]) > 1), adds)
            running.append(tuple(r + t for r, t in zip(running[-1], today_counts, strict=True)))
            windows = {}
            for length in WINDOWS:
                start = running[max(0, len(running) - 1 - length)]
                reach, buying, repeat, added_n = (e - s for e, s in zip(running[-1], start, strict=True))
                windows[str(length)] = [min(reach, active), min(buying, active), repeat, added_n // 3]
            own = (
                adds, rng.choice((0, 0, 0, 1)), orders, orders * rng.randint(150, 600), len(contacts),
                rng.randint(0, 5), rng.randint(0, 2), *hist,
            )  # fmt: skip
            snapshot = (active, int(active * 0.6), rng.randint(0, 4))
            # Running totals as the rollup writes them (gmv in cents).
            totals = [t + (v * 100 if name == "gmv" else v) for t, v, name in zip(totals, own, ADDITIVE, strict=True)]
            day_rows.append(
                (member.pk, member.store_id, day, *own, *snapshot, json.dumps(windows), json.dumps(totals), now)
            )
            per_store = store_facts.setdefault((member.store_id, day), [0, 0, 0, {}])
            per_store[0] += len(contacts)
            per_store[1] += len(buyers)
            per_store[2] += sum(1 for c in buyers if order_days[c][-1][1] >= 2)
            sums = store_days.setdefault((member.store_id, day), [0] * (len(own) + len(snapshot)))
            for i, v in enumerate((*own, *snapshot)):
                sums[i] += v
        for c, entries in order_days.items():
            for i, (day, n) in enumerate(entries):
                prev = entries[i - 1][0] if i else None
                nxt = entries[i + 1][0] if i + 1 < len(entries) else None
                fact_rows.append((3, member.pk, member.store_id, c, day, n, prev, nxt))
        for c, day in add_day.items():
            after = [d for d, _ in order_days.get(c, []) if d >= day]
            fact_rows.append((1, member.pk, member.store_id, c, day, 1, None, after[0] if after else None))
            if after:
                converted_on = store_facts[(member.store_id, day)][3]
                converted_on[after[0].isoformat()] = converted_on.get(after[0].isoformat(), 0) + 1
        if gi % 25 == 24 or gi == len(staff) - 1:
            with transaction.atomic():
                copy("analytics_guideday", day_cols, day_rows)
                copy("analytics_guidecustomerday", fact_cols, fact_rows)
            with transaction.atomic():
                guide_blocks_rebuild(staff_ids=[m.pk for m in staff[gi - gi % 25 : gi + 1]])
            day_rows, fact_rows = [], []
            print(f"  {gi + 1} guides", flush=True)
    with transaction.atomic():
        copy(
            "analytics_storeday",
            store_cols,
            [
                (store, day, *sums, *store_facts[(store, day)][:3], json.dumps(store_facts[(store, day)][3]))
                for (store, day), sums in store_days.items()
            ],
        )
        GuideStoreSpan.objects.bulk_create(
            GuideStoreSpan(staff=member, store_id=member.store_id, first_day=first, last_day=today) for member in staff
        )
        User = get_user_model()
        admin_user, _ = User.objects.get_or_create(username=f"{PREFIX}-admin")
        admin_user.set_password(PASSWORD)
        admin_user.save()
        Staff.objects.update_or_create(
            userid=f"{PREFIX}-admin", defaults={"user": admin_user, "name": "压测管理员", "role": Staff.Role.ADMIN}
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE analytics_guideday")
        cursor.execute("VACUUM ANALYZE analytics_guidecustomerday")
        cursor.execute("VACUUM ANALYZE analytics_storeday")
        cursor.execute("VACUUM ANALYZE analytics_guidestorespan")
        cursor.execute("VACUUM ANALYZE analytics_guidecustomerblock")
        cursor.execute("VACUUM ANALYZE analytics_guidecustomerslot")
    facts = GuideCustomerDay.objects.filter(staff__in=guides).count()
    print(f"seeded {GUIDES * DAYS} GuideDay and {facts} GuideCustomerDay rows in {time.perf_counter() - started:.0f}s")


def in_process(first: dt.date, last: dt.date) -> None:
    """The custom range's distinct counts in this process: from the blocks, and from the facts as
    before them (the same figures; the facts scan is what a custom range used to cost)."""
    from django.db.models import Count

    from scrm.analytics import selectors
    from scrm.analytics.facts import distinct_counts
    from scrm.analytics.models import GuideCustomerDay
    from scrm.analytics.periods import Period

    period = Period(first, last)
    prev = period.previous

    def facts():
        aggregates = {f"c__{k}": v for k, v in distinct_counts(first, last).items()}
        aggregates |= {f"p__{k}": v for k, v in distinct_counts(prev.first, prev.last).items()}
        rows = GuideCustomerDay.objects.filter(day__gte=prev.first, day__lte=last).values("store_id", "staff_id")
        return list(rows.annotate(**aggregates, n=Count("pk")).order_by())

    def blocks():
        return selectors._distinct_from_blocks(
            selectors.defaultdict(lambda: {"current": {}, "previous": {}}), scope=selectors.Scope(), period=period
        )

    for name, fn in (("distinct counts from blocks", blocks), ("distinct counts from facts", facts)):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"in process, {name} (both periods, 500 guides): best {min(times):.1f} ms, median {sorted(times)[2]:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--port", type=int, default=8899)
    args = parser.parse_args()

    env = bench_env(SECURE_COOKIES="false")
    manage("migrate", "--noinput", "-v", "0", env=env)
    django_setup(env)
    seed(reseed=args.reseed)
    from django.contrib.auth import get_user_model

    from scrm.analytics.days import local_day

    get_user_model().objects.filter(username=f"{PREFIX}-admin").update(is_active=True)
    today = local_day(dt.datetime.now(dt.UTC))
    first = today - dt.timedelta(days=364)
    custom = today - dt.timedelta(days=199)  # 200 days: no stored window has that length
    dashboard = f"/console/performance/?from={first}&to={today}"
    in_process(custom, today)

    with gunicorn(env, port=args.port) as base:
        session = requests.Session()
        login = session.get(f"{base}/console/login/")
        response = session.post(
            f"{base}/console/login/",
            data={
                "username": f"{PREFIX}-admin",
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            headers={"Referer": login.url},
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise SystemExit(f"sign-in failed: {response.status_code}")
        check = session.get(base + dashboard)
        assert "导购排行" in check.text, check.text[:500]
        rows = {
            **floors(session, base, rounds=args.rounds),
            "healthz (baseline)": measure(session, [f"{base}/healthz"], rounds=args.rounds),
            "dashboard brand 365 d": measure(session, [base + dashboard], rounds=args.rounds, warmup=5),
            "brand 200 d (custom)": measure(
                session, [f"{base}/console/performance/?from={custom}&to={today}"], rounds=args.rounds, warmup=5
            ),
            "brand 365 d, trend 触达": measure(
                session, [f"{base}{dashboard}&trend=reach"], rounds=args.rounds, warmup=5
            ),
            "brand 200 d, trend 转化率": measure(
                session,
                [f"{base}/console/performance/?from={custom}&to={today}&trend=conversion"],
                rounds=args.rounds,
                warmup=5,
            ),
        }
        report(rows, "healthz (baseline)")


if __name__ == "__main__":
    main()
