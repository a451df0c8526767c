from django.core.management.base import BaseCommand

from scrm.wecom.simulator.seed import sim_seed_from_domain


class Command(BaseCommand):
    help = "Mirror staff, customers, follow relations and WeCom tags into the WeCom simulator (idempotent)."

    def handle(self, *args, **options):
        stats = sim_seed_from_domain()
        self.stdout.write(
            "wecom_sim_seed: "
            f"{stats.members} members, {stats.contacts} contacts, {stats.follows} follow users, "
            f"{stats.tag_groups} tag groups, {stats.tags} tags, {stats.chat_messages} chat messages changed"
        )
