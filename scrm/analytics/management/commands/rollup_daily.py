import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scrm.analytics.days import local_day
from scrm.analytics.services import rollup_days


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "重新计算导购日报（按北京时间的自然日），可指定任意日期范围；重复运行结果相同。"

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="起始日期 YYYY-MM-DD（默认昨天）")
        parser.add_argument("--to", dest="last", help="结束日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, first=None, last=None, **options):
        today = local_day(timezone.now())
        first_day = _date(first) if first else today - dt.timedelta(days=1)
        last_day = _date(last) if last else today
        if first_day > last_day:
            raise CommandError("起始日期不能晚于结束日期")
        rows = rollup_days(first=first_day, last=last_day, today=today)
        days = (last_day - first_day).days + 1
        self.stdout.write(f"已重算 {first_day} 至 {last_day} 共 {days} 天，{rows} 行导购日报")
