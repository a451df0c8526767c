"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))

# Playwright's sync API runs an event loop; Django's async-safety check would refuse ORM calls from the test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-quic",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    """A phone-sized page (375 px wide) against the live server."""
    settings.SITE_URL = live_server.url
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """Call screenshot('name') to save a PNG under test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None):
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take
