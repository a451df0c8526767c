from django.core.management.base import BaseCommand

from scrm.wecom.sync import wecom_sync_all


class Command(BaseCommand):
    help = "从企业微信同步成员、企业标签和所有客户（可重复执行，不会产生重复数据）"

    def handle(self, *args, **options):
        report = wecom_sync_all()
        for name, value in report.as_dict().items():
            if name != "errors":
                self.stdout.write(f"{name}: {value}")
        for error in report.errors:
            self.stderr.write(self.style.WARNING(error))
        if report.errors:
            self.stdout.write(self.style.WARNING("同步完成，但有错误"))
        else:
            self.stdout.write(self.style.SUCCESS("同步完成"))
