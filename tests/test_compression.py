"""HTML and JSON go out gzipped to a browser that accepts it (#17); static files and downloads are
left to WhiteNoise's own compressed copies."""

import gzip

from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from scrm.compress import compress_middleware


def test_a_sidebar_page_is_gzipped_for_a_browser_that_accepts_it(guide_client, followed_customer):
    ext = followed_customer.follow_relations.get().external_userid
    url = reverse("sidebar:portrait", args=[ext])
    plain = guide_client.get(url)
    zipped = guide_client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    # The same page (the masked CSRF token differs per response, so compare what the guide reads).
    assert followed_customer.name in gzip.decompress(zipped.content).decode()
    assert len(zipped.content) < len(plain.content) / 2


def test_only_html_and_json_are_compressed():
    body = b"x" * 5000

    def answer(content_type):
        handler = compress_middleware(lambda request: HttpResponse(body, content_type=content_type))
        return handler(RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip"))

    assert answer("text/html; charset=utf-8")["Content-Encoding"] == "gzip"
    assert answer("application/json")["Content-Encoding"] == "gzip"
    for content_type in ("text/csv; charset=utf-8", "image/png", "application/octet-stream"):
        response = answer(content_type)
        assert "Content-Encoding" not in response and response.content == body
