"""The WSGI app the benchmarks serve: the product, plus one bare Django view for the floor.

`/bench/bare/` is answered by a second Django handler with no middleware and a one-line URLconf
(`bare_view`), so a run can show what Django itself costs per request on this machine, beside
`/sidebar/ping/` (the product's whole middleware, no work). Only `bench/harness.py` serves this module.
"""

import os

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse
from django.test.utils import override_settings
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scrm.settings")

from scrm.wsgi import application as product  # sets Django up

BARE_PATH = "/bench/bare/"


def bare_view(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path(BARE_PATH.strip("/") + "/", bare_view)]


class BareHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        with override_settings(MIDDLEWARE=[]):  # at start-up only: this handler has no middleware
            super().load_middleware(is_async)

    def get_response(self, request):
        request.urlconf = __name__
        return super().get_response(request)


bare = BareHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO") == BARE_PATH:
        return bare(environ, start_response)
    return product(environ, start_response)
