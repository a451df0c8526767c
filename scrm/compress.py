"""Compress HTML and JSON answers (#17): the 推荐 tab is ~40 KB of HTML, ~3 KB gzipped, on a phone.

BREACH (guessing a secret in a compressed page from the sizes of answers that also echo the
attacker's input) is covered three ways: the only secret in our pages is the CSRF token, which Django
masks afresh on every response; Django's gzip pads each answer with up to 100 random bytes ("Heal the
Breach"); and session cookies travel in headers, which are not compressed here. Static files are not
touched (WhiteNoise, earlier in MIDDLEWARE, serves its pre-compressed copies); nor are downloads
(CSV, images), which gain little and may be large streams.
"""

from django.middleware.gzip import GZipMiddleware

COMPRESSED_TYPES = ("text/html", "application/json", "application/problem+json", "application/vnd.oai.openapi")


def compress_middleware(get_response):
    gzip = GZipMiddleware(get_response)

    def middleware(request):
        response = get_response(request)
        if response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return gzip.process_response(request, response)
        return response

    return middleware
