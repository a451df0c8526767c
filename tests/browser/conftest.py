"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser)."""

import os
import shutil
import time
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
    """A phone-sized page (375 px wide) against the live server. Every walk doubles as a check of the
    Content-Security-Policy: a violation the browser reports fails the test."""
    settings.SITE_URL = live_server.url
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert not violations, violations


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JS expression until it is truthy. Playwright's wait_for_function evaluates its predicate
    with eval(), which our CSP (rightly) forbids; page.evaluate goes through DevTools and is allowed."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        page.wait_for_timeout(50)


@pytest.fixture
def screenshot(page, request):
    """Call screenshot('name') to save a PNG under test-artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None):
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def production_static_server(live_server, wecom_sim, settings, tmp_path):
    """A second live server whose static files go through collectstatic and WhiteNoise, as in production
    (compressed copies, Content-Encoding negotiated), where live_server serves them raw. Same database."""
    from django.core.management import call_command
    from pytest_django.live_server_helper import LiveServer

    settings.STATIC_ROOT = tmp_path / "static"
    # As in production: hashed names from the manifest, served as cacheable for ever.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", interactive=False, verbosity=0)
    server = LiveServer("localhost", start=False)
    server.thread.static_handler = lambda app: app  # no test static handler: WhiteNoise answers /static/
    server.start()
    # The browser signs in through this server's OAuth page, so the session cookie is set for it; absolute
    # URLs (the OAuth redirect_uri) are built from SITE_URL, which is this server here.
    settings.WECOM_OAUTH_URL = f"{server.url}/_wecom/connect/oauth2/authorize"
    settings.SITE_URL = server.url
    yield server
    server.stop()
