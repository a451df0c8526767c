"""One rule for which part of a template an htmx request gets, chosen by its HX-Target.

django-htmx's example project and radiofeed do the same: a view names its template and the partials
that answer each target; a normal request (or an htmx history restore, which needs the whole page)
gets the whole template.
"""

from collections.abc import Mapping

from django.http import HttpRequest


def template_for_target(request: HttpRequest, template: str, partials: Mapping[str, str]) -> str:
    """`template#partial` for the request's HX-Target, else `template`.

    `partials` maps a target id to a partial name; a key ending in `*` matches ids with that prefix
    (`"mat-more-*"`), and the key `None` matches an htmx request that names no target.
    """
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return template
    target = htmx.target
    partial = partials.get(target)
    if partial is None and target:
        partial = next(
            (name for key, name in partials.items() if key and key.endswith("*") and target.startswith(key[:-1])),
            None,
        )
    return f"{template}#{partial}" if partial else template
