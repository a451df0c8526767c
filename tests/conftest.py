import pytest

from scrm.celery import app as celery_app
from scrm.org.models import Staff
from tests.factories import CustomerFactory, FollowRelationFactory, StaffFactory, StoreFactory


@pytest.fixture(scope="session", autouse=True)
def _urls_loaded():
    # scrm.urls mounts the simulator when settings.WECOM_SIMULATOR is on at import: import it with the
    # test settings before a test flips that setting, whatever the order tests run in.
    from django.urls import get_resolver

    assert get_resolver().url_patterns


@pytest.fixture(scope="session", autouse=True)
def _celery_inline():
    # Tasks run inline in tests even when REDIS_URL is set (CI); .ci/run smoke-tests a real worker.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture(scope="session", autouse=True)
def _cache_per_worker(worker_id):
    """With Redis (CI) each xdist worker gets its own database, so one worker's cache.clear()
    never drops another's cached tokens mid-test."""
    from django.conf import settings
    from django.test.utils import override_settings

    if not settings.REDIS_URL or worker_id == "master":
        yield
        return
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    location = f"{base}/{15 - int(worker_id.removeprefix('gw'))}"
    with override_settings(CACHES={"default": {**settings.CACHES["default"], "LOCATION": location}}):
        yield


@pytest.fixture(scope="session", autouse=True)
def _static_without_manifest():
    """Production serves hashed names from collectstatic's manifest; tests render {% static %} without
    running collectstatic first (tests/browser/conftest.py's production_static_server does run it)."""
    from django.conf import settings
    from django.test import override_settings

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    # Uploaded files and cached tokens never leak between tests.
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core.cache import cache

    from scrm.materials.ranking import library_forget
    from scrm.today import hooks

    cache.clear()
    library_forget()  # the 推荐 snapshot is per process, like the cache
    # A test's rolled-back transaction leaves its pending recomputes behind (by design they ride along
    # with the next commit); the next test must not see them.
    hooks._local.__dict__.clear()
    # A test that runs a task the way a worker process does leaves Celery's "inside a worker" flag set
    # for the rest of this xdist process; eager .get() would then refuse to wait.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    # Factories write materials without the services that mark the snapshot stale: read the stamp on
    # every ranking (tests/materials/test_ranking.py covers the once-a-second check itself).
    monkeypatch.setattr("scrm.materials.ranking.STAMP_EVERY", 0.0)


@pytest.fixture
def store(db):
    return StoreFactory()


@pytest.fixture
def guide(db, store):
    return StaffFactory(store=store)


@pytest.fixture
def followed_customer(db, guide):
    """A customer the `guide` serves, with an active follow relation."""
    customer = CustomerFactory(store=guide.store)
    FollowRelationFactory(staff=guide, customer=customer)
    return customer


@pytest.fixture
def guide_client(client, guide):
    client.force_login(guide.user)
    return client


@pytest.fixture
def content_staff(db):
    """Content staff (内容运营): curates materials in the console, no store."""
    return StaffFactory(role=Staff.Role.CONTENT, store=None)


@pytest.fixture
def manager(db, store):
    return StaffFactory(role=Staff.Role.MANAGER, store=store)


@pytest.fixture
def admin_staff(db):
    """An admin whose user is also Django staff, so the REST API and Django admin let them in."""
    staff = StaffFactory(role=Staff.Role.ADMIN, store=None)
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    return staff


@pytest.fixture
def wecom_sim(live_server, settings):
    """The WeCom simulator behind a live server, with the WeCom client pointed at it.

    Returns scrm.wecom.simulator.services (fault_inject, tokens_expire_all, member_add, ...).
    Real HTTP through wechatpy; live_server makes the test transactional.
    """
    from scrm.wecom.client import reset_clients
    from scrm.wecom.simulator import services

    settings.WECOM_API_BASE = f"{live_server.url}/_wecom/cgi-bin/"
    settings.WECOM_OAUTH_URL = f"{live_server.url}/_wecom/connect/oauth2/authorize"
    yield services
    # Kept-alive connections would outlive the live server's request threads.
    reset_clients()


@pytest.fixture
def post_callback(client, django_capture_on_commit_callbacks):
    """POST a signed, AES-encrypted WeCom callback to /wecom/callback/ and run the on-commit work.

    post_callback(event_dict, **callback_build kwargs) → response. Build events with
    scrm.wecom.simulator.callbacks.contact_event / tag_event.
    """
    from urllib.parse import urlencode

    from scrm.wecom.simulator.callbacks import callback_build

    def post(event, **kwargs):
        query, body = callback_build(event, **kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/wecom/callback/?{urlencode(query)}", data=body, content_type="text/xml")

    return post


@pytest.fixture
def sendable_materials(db):
    """One published material of every kind, made through the material services with real files.

    {kind: Material}; the script greets {客户称呼} and is short (no confirm sheet).
    """
    from scrm.materials.models import Material
    from scrm.materials.services import material_create, material_publish
    from scrm.materials.validation import check_image, check_upload
    from tests.materials import samples

    def cover():
        return check_image(samples.upload("cover.png", samples.png(200, 160)))

    specs = {
        Material.Kind.TEXT: {"content": "{客户称呼}您好，{门店}新品到店啦～"},
        Material.Kind.IMAGE: {"upload": check_upload(samples.upload("新品海报.png", samples.png()), kind="image")},
        Material.Kind.VIDEO: {"upload": check_upload(samples.upload("上妆教程.mp4", samples.mp4()), kind="video")},
        Material.Kind.FILE: {"upload": check_upload(samples.upload("产品手册.pdf", samples.pdf()), kind="file")},
        Material.Kind.LINK: {
            "link_url": "https://brand.example.com/news/1",
            "content": "{客户称呼}，秋冬护肤指南",
            "cover": cover(),
        },
        Material.Kind.MINIPROGRAM: {
            "mp_appid": "wx0123456789abcdef",
            "mp_page": "pages/goods/detail.html?id=42",
            "cover": cover(),
        },
    }
    made = {}
    for kind, fields in specs.items():
        material = material_create(kind=kind, title=f"{Material.Kind(kind).label}素材", created_by=None, **fields)
        made[kind] = material_publish(material=material)
    return made
