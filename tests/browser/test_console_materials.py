"""Content staff in a desktop Chromium: password sign-in, bulk image upload with progress, detail page."""

import pytest

from scrm.materials.models import Material
from tests.browser.conftest import wait_until
from tests.factories import MaterialCategoryFactory, StaffFactory
from tests.materials import samples

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desktop(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 900})
    staff = StaffFactory(role="content", store=None, name="内容小王")
    staff.user.set_password("content-pass-1")
    staff.user.save()
    page.goto(f"{live_server.url}/console/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", "content-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/console/materials/")
    return page


def test_bulk_upload_checks_each_file_and_fills_the_progress_bar(desktop, live_server, screenshot):
    category = MaterialCategoryFactory(name="新品海报")
    page = desktop
    page.click("text=批量上传图片")
    page.select_option("select[name=category]", str(category.pk))
    page.set_input_files(
        "#bulk-files",
        [
            {"name": "主图.png", "mimeType": "image/png", "buffer": samples.png(600, 600)},
            {"name": "病毒.jpg", "mimeType": "image/jpeg", "buffer": samples.exe()},
            {"name": "副图.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(300, 200)},
        ],
    )
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("#bulk-count:has-text('完成')")
    assert page.inner_text("#bulk-count") == "完成：成功 2 个，失败 1 个"
    assert page.eval_on_selector("#bulk-bar", "el => el.value") == 3
    rows = page.locator("#bulk-results tbody tr")
    assert rows.count() == 3
    assert "可执行程序" in rows.nth(1).inner_text()
    screenshot("bulk")
    assert sorted(Material.objects.values_list("title", flat=True)) == ["主图", "副图"]
    assert set(Material.objects.values_list("category_id", flat=True)) == {category.pk}

    # Each saved row links to its material; publish it from there.
    rows.nth(0).locator("a").click()
    page.click("button:has-text('发布')")
    page.wait_for_selector("text=导购可发送")
    screenshot("detail")
    assert Material.objects.get(title="主图").status == "published"


def test_list_filters_with_htmx(desktop, screenshot):
    from tests.factories import MaterialFactory

    MaterialFactory(title="会员日话术", content="双倍积分")
    MaterialFactory(title="新品图文", kind="link", link_url="https://brand.example/")
    page = desktop
    page.reload()
    page.select_option("select[name=kind]", "link")
    wait_until(page, "!document.querySelector('#results').innerText.includes('会员日话术')")
    assert "新品图文" in page.inner_text("#results")
    assert "kind=link" in page.url  # the filter is bookmarkable
    screenshot("list")


def test_create_script_shows_errors_then_saves(desktop, screenshot):
    page = desktop
    page.click("summary:has-text('新建素材')")
    page.click(".menu-items >> text=话术")
    page.click("button:has-text('保存')")
    page.wait_for_selector(".field.has-error textarea[name=content]")
    screenshot("form-errors")
    page.fill("input[name=title]", "新客欢迎语")
    page.fill("textarea[name=content]", "{客户称呼}您好，我是{门店}的{导购姓名}")
    page.check("input[name=audience_stages][value=new]")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=素材已保存为草稿")
    material = Material.objects.get(title="新客欢迎语")
    assert material.audience_stages == ["new"] and material.status == "draft"


def test_bulk_upload_counts_duplicates_and_offers_sign_in_when_signed_out(desktop, screenshot):
    page = desktop
    page.click("text=批量上传图片")
    image = samples.png(400, 400)
    page.set_input_files(
        "#bulk-files",
        [
            {"name": "一.png", "mimeType": "image/png", "buffer": image},
            {"name": "二.png", "mimeType": "image/png", "buffer": image},
        ],
    )
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("#bulk-count:has-text('完成')")
    assert page.inner_text("#bulk-count") == "完成：成功 1 个，重复未保存 1 个，失败 0 个"
    assert Material.objects.count() == 1

    # The session ends while the page stays open: the server's message and a sign-in link, no "网络错误".
    page.context.clear_cookies(name="sessionid")
    page.set_input_files(
        "#bulk-files",
        [
            {"name": "三.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(300, 200)},
            {"name": "四.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(200, 300)},
        ],
    )
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("#bulk-login")
    note = page.inner_text("#bulk-login")
    assert "登录已过期" in note and "重新登录" in note and "网络错误" not in page.inner_text("#bulk-results")
    screenshot("signed-out")
    page.click("#bulk-login a")
    page.wait_for_url("**/console/login/**")
    assert Material.objects.count() == 1


def test_list_filters_follow_back_and_forward(desktop):
    from tests.factories import MaterialFactory

    MaterialFactory(title="会员日话术", content="双倍积分")
    MaterialFactory(title="新品图文", kind="link", link_url="https://brand.example/")
    page = desktop
    page.reload()
    page.select_option("select[name=kind]", "link")
    wait_until(page, "!document.querySelector('#results').innerText.includes('会员日话术')")
    page.select_option("select[name=kind]", "text")
    wait_until(page, "!document.querySelector('#results').innerText.includes('新品图文')")
    page.go_back()
    wait_until(page, "!document.querySelector('#results').innerText.includes('会员日话术')")
    assert "新品图文" in page.inner_text("#results")
    assert page.eval_on_selector("select[name=kind]", "el => el.value") == "link"
    page.go_back()
    wait_until(page, "document.querySelector('#results').innerText.includes('会员日话术')")
    assert page.eval_on_selector("select[name=kind]", "el => el.value") == ""
