import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from scrm.htmx import template_for_target

PARTIALS = {"main": "screen", None: "screen", "feed": "feed", "mat-more-*": "cards"}


def _request(**headers):
    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)
    return request


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "t.html"),
        ({"HX-Request": "true"}, "t.html#screen"),
        ({"HX-Request": "true", "HX-Target": "main"}, "t.html#screen"),
        ({"HX-Request": "true", "HX-Target": "feed"}, "t.html#feed"),
        ({"HX-Request": "true", "HX-Target": "mat-more-3"}, "t.html#cards"),
        ({"HX-Request": "true", "HX-Target": "elsewhere"}, "t.html"),
        ({"HX-Request": "true", "HX-Target": "main", "HX-History-Restore-Request": "true"}, "t.html"),
    ],
)
def test_partial_follows_the_target(headers, expected):
    assert template_for_target(_request(**headers), "t.html", PARTIALS) == expected
