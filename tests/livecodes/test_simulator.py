"""The simulator's side of 渠道活码: a real QR image, the scan page it points to, the chat's scan control."""

import io

import pytest
from PIL import Image

from scrm.wecom.simulator.models import SimContactWay

pytestmark = pytest.mark.django_db


@pytest.fixture
def way(db):
    return SimContactWay.objects.create(config_id="cw1", type=2, scene=2, state="s1", remark="柜台码", user=["g1"])


def test_the_qr_image_is_a_real_qr_png(client, way):
    response = client.get("/_wecom/qr/cw1.png")
    image = Image.open(io.BytesIO(response.content))
    assert response["Content-Type"] == "image/png" and image.format == "PNG"
    assert image.size[0] == image.size[1] >= 200  # a version-3+ QR at scale 8, not a 1-pixel stand-in
    assert client.get("/_wecom/qr/nope.png").status_code == 404


def test_the_scan_page_offers_to_add_the_guide(client, way):
    html = client.get("/dev/scan/cw1/").content.decode()
    assert "柜台码" in html and 'name="config_id" value="cw1"' in html
    assert client.get("/dev/scan/nope/").status_code == 404


def test_scanning_an_unknown_code_or_customer_is_a_404_not_a_500(client, way):
    assert client.post("/dev/chat/scan", {"config_id": "nope"}).status_code == 404
    assert client.post("/dev/chat/scan", {"config_id": "cw1", "ext": "wmNobody"}).status_code == 404
