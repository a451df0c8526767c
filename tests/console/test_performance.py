"""Console performance pages: roles, figures on the page, sorting, CSV, bad input, query counts."""

import csv
import datetime as dt
import html
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scrm.analytics.services import rollup_days
from scrm.org.models import Staff
from tests.analytics.dataset import D, build_rolled_up
from tests.factories import FollowRelationFactory, OrderFactory, StaffFactory

pytestmark = pytest.mark.django_db

RANGE = {"from": "2026-03-01", "to": "2026-03-05"}
URL = reverse("console:performance")


def signed_in(client, staff):
    client.force_login(staff.user)
    return client


def admin_client(client):
    return signed_in(client, StaffFactory(role=Staff.Role.ADMIN, store=None))


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8 Chinese
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def board_names(response, table_id: str) -> list[str]:
    html = response.content.decode()
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    names = []
    for chunk in table.split('<th scope="row">')[1:]:
        names.append(chunk.split(">", 2)[1].split("<", 1)[0])
    return names


def test_admin_sees_brand_figures_and_both_leaderboards(client):
    data = build_rolled_up()
    response = admin_client(client).get(URL, RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥1,230.00" in html  # brand GMV over D1..D5
    assert "66.7%" in html  # brand conversion 4 / 6
    assert board_names(response, "store-board") == ["静安店", "徐汇店"]
    assert board_names(response, "guide-board") == ["王小美", "张伟", "李娜"]  # by GMV, highest first
    assert reverse("console:performance_store", args=[data.store_a.pk]) in html
    assert "<svg" in html and "<polyline" in html


def test_leaderboard_sorts_by_any_figure_both_ways(client):
    build_rolled_up()
    c = admin_client(client)
    assert board_names(c.get(URL, {**RANGE, "sort": "adds"}), "guide-board") == ["王小美", "李娜", "张伟"]
    assert board_names(c.get(URL, {**RANGE, "sort": "gmv", "dir": "asc"}), "guide-board") == ["李娜", "张伟", "王小美"]


def test_change_against_previous_period_is_shown_with_arrows(client):
    build_rolled_up()
    response = admin_client(client).get(URL, {"from": "2026-03-04", "to": "2026-03-05", "sort": "gmv"})
    html = response.content.decode()
    row = html.split('id="guide-board"', 1)[1].split("王小美", 1)[1].split("</tr>", 1)[0]
    assert "¥300.00" in row and "▲ 100.0%" in row  # GMV 300 against 150 in D2..D3
    assert "▼ 50.0%" in row  # reach 1 against 2


def test_manager_sees_only_their_store(client):
    data = build_rolled_up()
    c = signed_in(client, data.manager_a)
    response = c.get(URL, RANGE)
    assert response.status_code == 200
    assert board_names(response, "guide-board") == ["王小美", "李娜"]
    assert "¥730.00" in response.content.decode()
    assert 'id="store-board"' not in response.content.decode()
    assert c.get(reverse("console:performance_store", args=[data.store_b.pk])).status_code == 404
    assert c.get(reverse("console:performance_guide", args=[data.g3.pk])).status_code == 404
    assert c.get(reverse("console:performance_store", args=[data.store_a.pk])).status_code == 200
    assert c.get(reverse("console:performance_guide", args=[data.g1.pk]), RANGE).status_code == 200


@pytest.mark.parametrize("role", [Staff.Role.GUIDE, Staff.Role.CONTENT])
def test_guides_and_content_staff_get_403(client, role, store):
    c = signed_in(client, StaffFactory(role=role, store=store))
    assert c.get(URL).status_code == 403
    assert c.get(reverse("console:performance_store", args=[store.pk])).status_code == 403


def test_anonymous_goes_to_console_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_manager_without_store_gets_a_clear_403(client):
    c = signed_in(client, StaffFactory(role=Staff.Role.MANAGER, store=None))
    response = c.get(URL)
    assert response.status_code == 403
    assert "还没有分配门店" in response.content.decode()


def test_store_drill_down_lists_its_guides(client):
    data = build_rolled_up()
    response = admin_client(client).get(reverse("console:performance_store", args=[data.store_b.pk]), RANGE)
    assert board_names(response, "guide-board") == ["张伟"]
    assert "徐汇店" in response.content.decode()


def test_guide_page_lists_customers_activity_and_materials(client):
    data = build_rolled_up()
    response = admin_client(client).get(reverse("console:performance_guide", args=[data.g1.pk]), RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥550.00" in html and "≤2分钟" in html  # GMV and median first response
    customers = html.split('id="guide-customers"', 1)[1].split("</table>", 1)[0]
    assert customers.count("<tr>") == 4  # header + c1, c2, c3
    materials = html.split('id="guide-materials"', 1)[1].split("</table>", 1)[0]
    assert materials.index("春季新品话术") < materials.index("会员日海报")  # 2 sends each; ties by id
    assert 'id="guide-events"' in html
    assert client.get(reverse("console:performance_guide", args=[999999])).status_code == 404


def test_guide_customers_are_paginated(client):
    data = build_rolled_up()
    for _ in range(25):
        FollowRelationFactory(staff=data.g2)
    c = admin_client(client)
    url = reverse("console:performance_guide", args=[data.g2.pk])
    first = c.get(url, RANGE).content.decode()
    assert "1 / 2" in first
    second = c.get(url, {**RANGE, "cpage": 2}).content.decode()
    assert second.split('id="guide-customers"', 1)[1].count("<tr>") == 1 + 7  # 27 customers, 20 per page


def test_csv_exports_have_bom_and_chinese_headers(client):
    data = build_rolled_up()
    c = admin_client(client)
    rows = read_csv(c.get(URL, {**RANGE, "format": "csv", "table": "guides"}))
    assert rows[0][:4] == ["导购", "门店", "新增客户", "新增客户环比（%）"]
    assert [r[0] for r in rows[1:]] == ["王小美", "张伟", "李娜"]
    # Numbers Excel can sum, the unit in the header (not "¥550.00" or "▼ 58.6%").
    gmv = rows[0].index("GMV（元）")
    assert rows[1][gmv] == "550.00"
    conversion = rows[0].index("新客转化率（%）")
    assert rows[1][conversion] == "66.7"
    stores = read_csv(c.get(URL, {**RANGE, "format": "csv", "table": "stores"}))
    assert stores[0][0] == "门店" and stores[1][0] == "静安店"
    quart = read_csv(c.get(URL, {**RANGE, "format": "csv", "table": "quartiles"}))
    assert quart[0] == ["指标", "GMV 前一半", "GMV 后一半"]  # three guides: halves, not quarters
    assert quart[5] == ["首次响应中位数", "≤2分钟", "—"]
    trend = read_csv(c.get(URL, {**RANGE, "format": "csv", "table": "trend", "trend": "gmv"}))
    assert trend[0] == ["日期", "GMV（元）"]
    assert [(day, float(value)) for day, value in trend[1:3]] == [("2026-03-01", 100.0), ("2026-03-02", 620.0)]
    guide_url = reverse("console:performance_guide", args=[data.g1.pk])
    customers = read_csv(c.get(guide_url, {**RANGE, "format": "csv", "table": "customers"}))
    assert customers[0][0] == "客户" and len(customers) == 4
    response = c.get(guide_url, {**RANGE, "format": "csv", "table": "materials"})
    assert response["Content-Disposition"].startswith("attachment;")
    # Named for what, whose and when (UTF-8 name per RFC 6266).
    assert (
        "filename*=UTF-8''materials-%E7%8E%8B%E5%B0%8F%E7%BE%8E-2026-03-01_2026-03-05.csv"
        in (response["Content-Disposition"])
    )
    assert read_csv(response)[0] == ["素材", "发送次数", "触达客户"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-03-05", "to": "2026-03-01"}, "开始日期不能晚于结束日期"),
        ({"from": "2026-03-01"}, "同时填写开始日期和结束日期"),
        ({"from": "2026-13-01", "to": "2026-03-01"}, "开始日期"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "时间段最长"),
        ({"from": "2026-03-01", "to": "2099-01-01"}, "日期不能晚于 20"),  # the date a year on, not 今天
        ({"from": "0001-01-01", "to": "0001-01-05"}, "日期不能早于 2000-01-01"),
        ({"from": "1999-12-31", "to": "2000-01-02"}, "日期不能早于 2000-01-01"),
        ({"sort": "drop table"}, "排序"),
        ({"page": "0"}, "页码"),
    ],
)
def test_bad_query_is_a_400_with_a_chinese_message(client, params, message):
    response = admin_client(client).get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_tomorrow_is_refused_as_after_today(client):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = admin_client(client).get(URL, {"from": "2026-03-01", "to": tomorrow})
    assert response.status_code == 400
    assert "结束日期不能晚于今天" in response.content.decode()


@pytest.mark.parametrize(
    "params", [{"from": "0001-01-01", "to": "0001-01-05"}, {"from": "2026-03-05", "to": "2026-03-01"}]
)
def test_bad_range_keeps_the_date_form_to_fix_it(client, params):
    guide = StaffFactory(role=Staff.Role.GUIDE)
    c = admin_client(client)
    for url in (URL, reverse("console:performance_guide", args=[guide.pk])):
        response = c.get(url, params)
        html = response.content.decode()
        assert response.status_code == 400  # not a 500
        assert 'name="from"' in html and f'value="{params["from"]}"' in html
        assert 'name="to"' in html and f'value="{params["to"]}"' in html
        assert "近7天" in html  # preset chips stay too


def test_previous_period_never_overflows():
    from scrm.analytics.periods import Period

    first = Period(dt.date.min, dt.date.min + dt.timedelta(days=4))
    assert first.previous.first == dt.date.min
    assert Period(dt.date(2026, 3, 1), dt.date(2026, 3, 5)).previous == Period(
        dt.date(2026, 2, 24), dt.date(2026, 2, 28)
    )


def test_trend_figure_switch_returns_the_chart_fragment_for_htmx(client):
    build_rolled_up()
    response = admin_client(client).get(
        URL, {**RANGE, "trend": "reach", "partial": "trend"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card perf-trend" id="trend">')
    assert "素材触达客户 趋势" in html


def test_presets_resolve_to_beijing_days(client, monkeypatch):
    c = admin_client(client)
    # 17:30 UTC on 1 March is already 2 March in Beijing.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC))
    today = c.get(URL, {"preset": "today"}).context["period"]
    assert (today.first, today.last) == (dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    week = c.get(URL, {"preset": "7d"}).context["period"]
    assert (week.first, week.last) == (dt.date(2026, 2, 24), dt.date(2026, 3, 2))
    month = c.get(URL, {"preset": "month"}).context["period"]
    assert (month.first, month.last) == (dt.date(2026, 3, 1), dt.date(2026, 3, 2))


def test_dashboard_query_count_is_constant(client):
    data = build_rolled_up()
    c = admin_client(client)
    c.get(URL, RANGE)  # warm the session

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(URL, RANGE).status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for i in range(6):
        guide = StaffFactory(store=data.store_a if i % 2 else data.store_b)
        relation = FollowRelationFactory(staff=guide, added_at=data.orders.o1.paid_at)
        OrderFactory(customer=relation.customer, staff=guide, paid_at=data.orders.o6.paid_at)
    rollup_days(first=D[1], last=D[5])
    assert queries() == before


def test_custom_range_keeps_the_sort_direction(client):
    build_rolled_up()
    c = admin_client(client)
    html = c.get(URL, {**RANGE, "sort": "gmv", "dir": "asc"}).content.decode()
    form = html.split('class="filters perf-period"', 1)[1].split("</form>", 1)[0]
    assert 'name="sort" value="gmv"' in form and 'name="dir" value="asc"' in form
    # Descending is the default: nothing to carry.
    html = c.get(URL, {**RANGE, "sort": "gmv"}).content.decode()
    assert 'name="dir"' not in html.split('class="filters perf-period"', 1)[1].split("</form>", 1)[0]


def test_month_compares_with_the_same_days_of_last_month_on_the_page(client, monkeypatch):
    c = admin_client(client)
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC))
    html = c.get(URL, {"preset": "month"}).content.decode()
    assert "环比 2026-10-01 至 2026-10-29" in html


def test_preset_chips_on_the_error_page_leave_the_bad_parameter_behind(client):
    c = admin_client(client)
    response = c.get(URL, {"sort": "bogus", "preset": "7d"})
    assert response.status_code == 400
    chips = re.findall(r'href="(\?[^"]*preset=[^"]*)"', response.content.decode())
    assert chips and not any("sort=bogus" in href for href in chips)
    assert c.get(URL + html.unescape(chips[0])).status_code == 200


def test_exports_neutralise_formulas_a_customer_can_choose(client):
    data = build_rolled_up()
    customer = data.g1.follow_relations.first().customer
    customer.name = "=cmd|' /C calc'!A0"
    customer.save()
    guide_url = reverse("console:performance_guide", args=[data.g1.pk])
    rows = read_csv(admin_client(client).get(guide_url, {**RANGE, "format": "csv", "table": "customers"}))
    cells = [cell for row in rows for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("王女士", "王女士"),
        (-2, -2),
    ],
)
def test_csv_cell(value, cell):
    from scrm.csv_export import csv_cell

    assert csv_cell(value) == cell


def test_a_small_team_is_told_it_is_compared_by_halves(client):
    build_rolled_up()
    body = admin_client(client).get(URL, RANGE).content.decode()
    assert "导购少于 8 位，按 GMV 前一半与后一半比较" in body
    assert "分成前一半和后一半" in body and "前 25% 和后 25%" not in body  # the lead-in says the same


def test_a_manager_drills_down_from_a_guide_to_a_customer_read_only(client):
    data = build_rolled_up()
    relation = data.g1.follow_relations.select_related("customer").first()
    customer = relation.customer
    manager = StaffFactory(role=Staff.Role.MANAGER, store=data.g1.store)
    c = signed_in(client, manager)
    guide_page = c.get(reverse("console:performance_guide", args=[data.g1.pk]), RANGE).content.decode()
    url = reverse("console:performance_guide_customer", args=[data.g1.pk, customer.pk])
    assert url in guide_page

    response = c.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and "只读" in body and 'id="customer-timeline"' in body
    assert "<form" not in body.split('id="customer-figures"', 1)[1]  # nothing to edit here

    # Another store's manager, and a customer this guide never served, get nothing.
    other = StaffFactory(role=Staff.Role.MANAGER, store=data.g3.store)
    assert signed_in(client, other).get(url).status_code == 404
    stranger = data.g3.follow_relations.first().customer
    c = signed_in(client, manager)
    assert c.get(url).status_code == 200
    assert c.get(reverse("console:performance_guide_customer", args=[data.g1.pk, stranger.pk])).status_code == 404


def test_a_managers_overview_leads_with_the_stores_figures_and_what_needs_attention(client):
    from scrm.customers.models import Customer

    data = build_rolled_up()
    manager = StaffFactory(role=Staff.Role.MANAGER, store=data.store_a)
    Customer.objects.filter(pk=data.g1.follow_relations.first().customer_id).update(churn_risk=True)
    body = signed_in(client, manager).get(reverse("console:home")).content.decode()
    attention = body.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert "静安店" in attention and "新增客户" in attention and "GMV" in attention
    assert "<strong>1</strong> 位客户有流失风险" in attention
    assert "位客户的跟进已逾期" in attention and "位客户正在转接中" in attention
    # The material figures below are the brand's, not the store's: the heading says so.
    assert "素材库 · 全品牌" in body


def test_an_admins_overview_says_its_figures_are_the_brands(client):
    build_rolled_up()
    body = admin_client(client).get(reverse("console:home")).content.decode()
    attention = body.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert "全品牌 · 近 7 天" in attention


def test_the_overviews_overdue_follow_ups_are_the_ones_guides_see_in_today(client):
    import datetime as dt

    from django.utils import timezone

    from scrm.today.models import ReminderItem

    data = build_rolled_up()
    manager = StaffFactory(role=Staff.Role.MANAGER, store=data.store_a)
    today = timezone.localdate()
    departed = StaffFactory(store=data.store_a, is_active=False)
    relations = list(data.g1.follow_relations.all()[:2])
    for n, (staff, relation) in enumerate([(data.g1, relations[0]), (data.g1, relations[1]), (departed, relations[0])]):
        ReminderItem.objects.create(
            kind="follow_up", customer_id=relation.customer_id, staff=staff, occurrence=f"o{n}",
            due_on=today - dt.timedelta(days=3), trigger_at=timezone.now(), score=10,
        )  # fmt: skip
    body = signed_in(client, manager).get(reverse("console:home")).content.decode()
    attention = body.split('id="attention"', 1)[1].split("</section>", 1)[0]
    assert "<strong>2</strong> 位客户的跟进已逾期" in attention  # the departed guide's item is not counted twice


def test_a_range_reaching_before_the_first_rollup_counts_from_it_and_says_so(client):
    build_rolled_up()  # rollups of 2026-03-01 … 2026-03-05
    c = admin_client(client)
    longer = read_csv(c.get(URL, {"preset": "custom", "from": "2025-01-01", "to": "2026-03-05", "format": "csv"}))
    exact = read_csv(c.get(URL, {**RANGE, "preset": "custom", "format": "csv"}))
    assert longer == exact  # distinct buyers no longer shrink as the range grows
    body = c.get(URL, {"preset": "custom", "from": "2025-01-01", "to": "2026-03-05"}).content.decode()
    assert "业绩数据从 2026-03-01 开始汇总" in body


def test_board_cells_joined_in_python_are_the_markup_the_template_loop_made():
    from django.template import Context, Template

    from scrm.console.charts import Cell, cells_html

    cells = [
        Cell("gmv", "GMV", "¥1,234.50", "▲ 12.5%", "good"),
        Cell("losses", "流失客户", "<3 & 'x'", "—", ""),
        Cell("overdue", "逾期跟进", "7", "▼ 3.0%", "bad"),
    ]
    loop = Template(
        '{% for c in cells %}<td class="num">{{ c.text }}<br><em class="chg {{ c.tone }}">{{ c.change }}</em></td>'
        "{% endfor %}"
    )
    assert cells_html(cells) == loop.render(Context({"cells": cells}))


def test_the_board_says_store_and_total_customer_counts_add_up_guides(client):
    # A customer served by two guides who both sold to them counts once per guide in a store's row.
    build_rolled_up()
    body = admin_client(client).get(URL, RANGE).content.decode()
    assert "期间有有效订单的客户数（不论何时添加；门店与合计按导购累加）" in body
