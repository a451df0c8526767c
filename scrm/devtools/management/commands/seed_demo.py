import datetime as dt
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.analytics.days import local_day
from scrm.analytics.models import GuideDay
from scrm.analytics.services import rollup_days
from scrm.customers.models import Customer, Event, Identity, Order
from scrm.devtools.demo.base import ADMIN_PASSWORD, STAFF_PASSWORD
from scrm.devtools.demo.catalogue import catalogue_seed
from scrm.devtools.demo.identity import identity_demo_seed
from scrm.devtools.demo.livecodes import livecodes_demo_seed
from scrm.devtools.demo.seed import DemoSeedConflict, demo_anchor, demo_seed
from scrm.devtools.demo.tasks import tasks_demo_seed
from scrm.materials.models import Material
from scrm.org.models import Staff, Store
from scrm.today.models import ReminderItem
from scrm.today.services import reminders_refresh_all

# Beat does not run in dev, so the dashboard would show zeros without these rollups. The full
# demo span (about 18 months) takes over a minute on SQLite; 120 days take about 15 s and cover
# every preset and its previous period.
ROLLUP_DAYS = 120


class Command(BaseCommand):
    help = _("生成演示数据：兰亭美妆的门店、导购、客户、轨迹、订单和素材（可重复运行，不会重复插入）")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help=_("随机种子，相同种子同一天生成相同数据"))
        parser.add_argument("--customers", type=int, default=2000, help=_("客户数"))
        parser.add_argument("--events", type=int, default=30000, help=_("轨迹事件数（约数，不少于此数）"))
        parser.add_argument("--quiet", action="store_true", help=_("不打印进度"))
        parser.add_argument(
            "--rollup-days",
            type=int,
            default=ROLLUP_DAYS,
            help=_("为最近多少天生成业绩汇总（0 表示不生成）"),
        )

    def handle(self, *args, seed, customers, events, quiet, rollup_days, **options):
        if not settings.DEBUG:
            # Demo logins (admin/admin, demo1234) must never exist on a production database.
            raise CommandError(_("seed_demo 只能在开发环境（DEBUG=true）运行：演示账号的密码是公开的。"))
        if customers < 0 or events < 0 or seed < 0 or rollup_days < 0:
            raise CommandError(_("--seed、--customers、--events 和 --rollup-days 不能为负数"))
        if customers > 1_000_000:
            raise CommandError(_("--customers 最多 1000000"))
        log = (lambda msg: None) if quiet else (lambda msg: self.stdout.write(msg))
        try:
            result = demo_seed(seed=seed, customers=customers, events=events, log=log)
        except DemoSeedConflict as exc:
            raise CommandError(str(exc)) from exc

        created = result.created
        if not created.get("customers") and result.skipped_customers:
            self.stdout.write(_("演示数据已存在（%(n)d 位客户），未做改动。") % {"n": result.skipped_customers})
        else:
            self.stdout.write(
                _(
                    "新增：%(customers)d 位客户、%(identities)d 个身份、%(relations)d 条好友关系、"
                    "%(orders)d 个订单（%(lines)d 条明细）、%(events)d 条轨迹、%(notes)d 条跟进记录、"
                    "%(customer_tags)d 个客户标签、%(materials)d 个素材"
                )
                % created
            )
        catalogue_seed()
        livecodes_demo_seed()
        tasks_demo_seed(now=demo_anchor())
        identity_demo_seed()
        if created.get("customers") or not ReminderItem.objects.exists():
            # 今日 for everyone, as the nightly pass would (beat may not run in dev).
            reminders_refresh_all()
        if rollup_days and (created.get("customers") or not GuideDay.objects.exists()):
            self._rollup(days=rollup_days)
        roles = dict(Staff.objects.values_list("role").annotate(n=Count("id")).values_list("role", "n"))
        identity_kinds = Identity.objects.values("kind").distinct().count()
        self.stdout.write(
            _(
                "库中合计：%(stores)d 家门店、%(guides)d 名导购、%(customers)d 位客户（%(kinds)d 种身份渠道）、"
                "%(orders)d 个订单、%(events)d 条轨迹、%(materials)d 个素材，用时 %(seconds).1f 秒"
            )
            % {
                "stores": Store.objects.count(),
                "guides": roles.get(Staff.Role.GUIDE, 0),
                "customers": Customer.objects.count(),
                "kinds": identity_kinds,
                "orders": Order.objects.count(),
                "events": Event.objects.count(),
                "materials": Material.objects.count(),
                "seconds": result.seconds,
            }
        )
        self._logins()

    def _logins(self) -> None:
        """Who to sign in as, by what each role can open (guides use the sidebar, not the console)."""
        first = {
            role: Staff.objects.filter(role=role, is_active=True).order_by("userid").first() for role in Staff.Role
        }
        self.stdout.write(_("演示登录（密码仅限开发演示）："))
        self.stdout.write(_("  管理后台 /console/：超级管理员 admin / %(pw)s") % {"pw": ADMIN_PASSWORD})
        for role, place in (
            (Staff.Role.MANAGER, _("管理后台（店长）")),
            (Staff.Role.CONTENT, _("管理后台（内容运营）")),
        ):
            if first.get(role):
                self.stdout.write(
                    _("  %(place)s：%(userid)s / %(pw)s")
                    % {"place": place, "userid": first[role].userid, "pw": STAFF_PASSWORD}
                )
        if first.get(Staff.Role.GUIDE):
            self.stdout.write(
                _("  导购侧边栏：打开 /dev/chat/ 选择导购（如 %(userid)s %(name)s），无需密码")
                % {"userid": first[Staff.Role.GUIDE].userid, "name": first[Staff.Role.GUIDE].name}
            )
        leaving = Staff.objects.filter(is_active=False, follow_relations__ended_at__isnull=True).distinct().first()
        if leaving:
            self.stdout.write(
                _("  离职继承：%(name)s（%(userid)s）已离职，客户待分配，店长可在 控制台 › 客户继承 试一试")
                % {"name": leaving.name, "userid": leaving.userid}
            )

    def _rollup(self, *, days: int) -> None:
        """Build the performance rollups over the demo data; recomputing a day is idempotent."""
        oldest = Event.objects.aggregate(at=Min("occurred_at"))["at"]
        if oldest is None:
            return
        started = time.monotonic()
        last = local_day(timezone.now())
        first = max(local_day(oldest), last - dt.timedelta(days=days - 1))
        rollup_days(first=first, last=last)
        self.stdout.write(
            _("已生成业绩汇总：%(first)s 至 %(last)s（%(days)d 天），用时 %(seconds).1f 秒")
            % {
                "first": first.isoformat(),
                "last": last.isoformat(),
                "days": (last - first).days + 1,
                "seconds": time.monotonic() - started,
            }
        )
