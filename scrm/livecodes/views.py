"""The public store-code page (H5, no sign-in): the nearest store's live code by the customer's location.

The browser's geolocation (static/livecodes/nearest.js) reloads the page with ?lat=&lng=; without a
location (refused, or no GPS) the stores are listed by store code. No map SDK: a distance sort over
the stores' coordinates.
"""

import math

from django.shortcuts import render
from django.views.decorators.http import require_GET

from scrm.livecodes.selectors import store_codes_nearest


def _coordinate(raw: str, limit: float) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


@require_GET
def store_codes(request):
    lat = _coordinate(request.GET.get("lat", ""), 90)
    lng = _coordinate(request.GET.get("lng", ""), 180)
    located = lat is not None and lng is not None
    rows = store_codes_nearest(lat=lat, lng=lng) if located else store_codes_nearest()
    context = {"nearest": rows[0] if rows else None, "others": rows[1:], "located": located}
    return render(request, "livecodes/stores.html", context)
