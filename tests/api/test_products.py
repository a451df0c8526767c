"""PUT /api/v1/products/<sku>: idempotent catalogue writes with Chinese field errors."""

import pytest

from scrm.materials.models import Material
from scrm.products.models import Product
from tests.api.conftest import error_fields

pytestmark = pytest.mark.django_db

BODY = {
    "name": "修护精华液 30ml",
    "category": "精华",
    "image_url": "https://img.example.com/ess.jpg",
    "usage_days": 60,
    "mp_appid": "wx5f3a8c9d2e1b4a67",
    "mp_page": "pages/product/detail.html?sku=SKU001",
}


def test_create_then_replace_then_repeat(writer):
    first = writer.put("/api/v1/products/SKU001", BODY)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["usage_days"] == 60 and body["material_id"]
    card = Material.objects.get(pk=body["material_id"])
    assert (card.kind, card.status, card.mp_page, card.link_url) == (
        "miniprogram",
        "published",
        BODY["mp_page"],
        BODY["image_url"],
    )

    again = writer.put("/api/v1/products/SKU001", {**BODY, "usage_days": 45})
    assert again.status_code == 200 and again.json()["usage_days"] == 45
    assert again.json()["material_id"] == body["material_id"]
    assert writer.put("/api/v1/products/SKU001", {**BODY, "usage_days": 45}).status_code == 200
    assert Product.objects.count() == 1 and Material.objects.count() == 1


def test_dropping_the_mini_program_page_unpublishes_the_card(writer):
    material_id = writer.put("/api/v1/products/SKU002", BODY).json()["material_id"]
    plain = {"name": "面膜", "usage_days": 7}
    assert writer.put("/api/v1/products/SKU002", plain).status_code == 200
    assert Material.objects.get(pk=material_id).status == "unpublished"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({}, "name", 400),
        ({**BODY, "usage_days": 0}, "usage_days", 400),
        ({**BODY, "usage_days": "很久"}, "usage_days", 400),
        ({**BODY, "usage_days": "60"}, "usage_days", 400),  # a number, as the schema says
        ({**BODY, "mp_appid": "nope"}, "mp_appid", 400),
        ({**BODY, "mp_page": "pages/p/1"}, "mp_page", 400),
        ({**BODY, "mp_appid": ""}, "mp_page", 422),
        ({**BODY, "image_url": ""}, "image_url", 422),
        ({**BODY, "image_url": "not a url"}, "image_url", 400),
    ],
)
def test_bad_input_is_refused_naming_the_field(writer, body, field, status):
    response = writer.put("/api/v1/products/SKU003", body)
    assert response.status_code == status
    assert field in error_fields(response)
    assert Product.objects.count() == 0


def test_long_sku_and_read_keys_are_refused(writer, client, read_key):
    assert writer.put("/api/v1/products/" + "S" * 65, BODY).status_code == 400
    reader = client.put(
        "/api/v1/products/SKU9", data=BODY, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {read_key[1]}"
    )
    assert reader.status_code == 403
