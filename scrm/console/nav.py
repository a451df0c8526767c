"""The console's top navigation. Add an entry here when adding a section; roles decide who sees it."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from scrm.console.permissions import ADMIN_ROLES, MANAGER_ROLES, MATERIAL_ROLES


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...]
    # Path prefix (below /console/) that marks the entry as the current section.
    section: str


NAV: list[NavItem] = [
    NavItem(_("概览"), "console:home", MANAGER_ROLES, ""),
    NavItem(_("客户"), "console:customers", MANAGER_ROLES, "customers"),
    NavItem(_("任务卡"), "console:tasks", MANAGER_ROLES, "tasks"),
    NavItem(_("自动化任务"), "console:sop_rules", MANAGER_ROLES, "sop"),
    NavItem(_("导购业绩"), "console:performance", MANAGER_ROLES, "performance"),
    NavItem(_("客户继承"), "console:handover", MANAGER_ROLES, "handover"),
    NavItem(_("今日提醒"), "console:today", MANAGER_ROLES, "today"),
    NavItem(_("渠道活码"), "console:livecodes", MANAGER_ROLES, "livecodes"),
    NavItem(_("素材库"), "console:materials", MATERIAL_ROLES, "materials"),
    NavItem(_("素材分类"), "console:material_categories", MATERIAL_ROLES, "materials/categories"),
    NavItem(_("个人信息"), "console:privacy", ADMIN_ROLES, "privacy"),
]


def nav_for(role: str) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]
