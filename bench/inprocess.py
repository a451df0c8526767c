"""In-process profile of the sidebar's customer screens (#17): CPU ms, queries and SQL ms per request.

    DATABASE_URL=postgres://…/bench_x .venv/bin/python bench/inprocess.py [--rounds 200] [--cprofile portrait]

Runs against a database seeded by bench/sidebar.py (reuses its data), through Django's test client (no
HTTP, no gunicorn): the CPU figure is this process's own, so it holds on a busy box.
"""

import argparse
import cProfile
import pstats
import statistics
import time

from harness import SqlTimer, bench_env, django_setup

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=200)
parser.add_argument("--cprofile", choices=["portrait", "timeline", "materials"], help="print the top functions")
parser.add_argument("--sort", default="cumulative", help="pstats sort key of --cprofile (cumulative, tottime)")
parser.add_argument("--top", type=int, default=40)
args = parser.parse_args()
django_setup(bench_env())

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from scrm.customers.models import FollowRelation  # noqa: E402

busiest = (
    FollowRelation.objects.filter(ended_at__isnull=True, staff__role="guide", staff__is_active=True)
    .values("staff")
    .annotate(n=Count("id"))
    .order_by("-n")
    .first()
)
relations = list(
    FollowRelation.objects.filter(staff_id=busiest["staff"], ended_at__isnull=True).select_related("staff__user")[:200]
)
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(relations[0].staff.user)
to_main = {"HX-Request": "true", "HX-Target": "main"}
screens = {
    "portrait": ("/sidebar/c/{}/", {}),
    "timeline": ("/sidebar/c/{}/timeline/", {}),
    "materials": ("/sidebar/c/{}/materials/", to_main),
}


def run(url: str, headers: dict) -> None:
    for relation in relations[: args.rounds]:
        response = client.get(url.format(relation.external_userid), headers=headers)
        assert response.status_code == 200, response.status_code


for name, (url, headers) in screens.items():
    run(url, headers)  # warm
    timer = SqlTimer()
    samples, size = [], 0
    with connection.execute_wrapper(timer):
        for relation in relations[: args.rounds]:
            started = time.process_time()
            size += len(client.get(url.format(relation.external_userid), headers=headers).content)
            samples.append((time.process_time() - started) * 1000)
    n = len(samples)
    print(
        f"{name:10s} CPU ms/req mean {statistics.mean(samples):5.2f} p50 {statistics.median(samples):5.2f}"
        f"  queries {timer.queries / n:4.1f}  SQL wall ms {timer.seconds * 1000 / n:5.2f}"
        f"  HTML {size / n / 1024:4.1f} KB"
    )
if args.cprofile:
    url, headers = screens[args.cprofile]
    profile = cProfile.Profile(time.process_time)  # CPU, not wall: waits on a busy box are not the code's
    profile.runcall(run, url, headers)
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
