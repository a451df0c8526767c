from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from scrm.api.models import ApiScope
from scrm.api.services import api_key_create


class Command(BaseCommand):
    help = _("为品牌方系统创建 /api/v1/ 的 API 密钥；密钥只显示这一次")

    def add_arguments(self, parser):
        parser.add_argument("name", help=_("调用方名称，例如“小程序”“POS”"))
        parser.add_argument(
            "--scope", choices=ApiScope.values, default=ApiScope.READ, help=_("read 只读（默认）；write 读写")
        )

    def handle(self, *args, name, scope, **options):
        if not name.strip():
            raise CommandError(_("名称不能为空"))
        key, raw = api_key_create(name=name, scope=scope)
        self.stderr.write(
            _("已创建 API 密钥「%(name)s」（%(scope)s）。请立即保存，它不会再次显示：")
            % {"name": key.name, "scope": key.get_scope_display()}
        )
        # The key alone on stdout so scripts can capture it.
        self.stdout.write(raw)
