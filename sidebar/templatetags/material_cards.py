"""The 推荐/素材 tab's cards rendered in Python (#17): a template partial per card was most of the tab's CPU.

The markup is what the former `card` partial of templates/sidebar/materials.html rendered; its `fav`
partial stays for the favourite button's own swap.
"""

from html import escape as esc

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from scrm.materials.guide_selectors import MaterialCard
from sidebar.templatetags.icons import material_icon

register = template.Library()

CARD = (
    '<li class="mat mat-{kind}" id="mat-{pk}" data-kind="{kind}">\n'
    '  <div class="mat-thumb">{thumb}</div>\n'
    '  <div class="mat-main">\n'
    '    <h3 class="mat-title"><span class="mat-kind" title="{kind_label}" aria-label="{kind_label}">'
    "{small_icon}</span> {title}</h3>\n"
    "    {preview}{detail}{reasons}\n"
    '    <div class="mat-actions">\n      {fav}\n      {long}\n'
    '      <button type="button" class="button primary mat-send" data-send-url="{prepare_url}">{send}</button>\n'
    "    </div>\n"
    '    <p class="mat-status" data-role="status" role="status" aria-live="polite" hidden></p>\n'
    "    {copy}\n  </div>\n</li>"
)
FAV = (
    '<form class="mat-fav" method="post" action="{url}" hx-post="{url}" hx-target="this" hx-swap="outerHTML">{csrf}\n'
    '  <input type="hidden" name="next" value="{next_url}">\n'
    '  <input type="hidden" name="on" value="{on}">\n'
    '  <button type="submit" class="icon-button{on_class}" aria-pressed="{pressed}" title="{label}" '
    'aria-label="{label}">{star}</button>\n</form>'
)
COPY = (
    '<button type="button" class="button mat-copy" data-role="copy" hidden>{}</button>\n'
    '    <textarea class="mat-fulltext" data-role="text" hidden readonly aria-hidden="true" tabindex="-1">{}</textarea>'
)


def _csrf_input(context) -> str:
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(str(token))}">'


def _card(card: MaterialCard, labels: dict, csrf: str, next_url: str) -> str:
    # Plain str.format over values escaped here (html.escape, as Django's escape): format_html's
    # per-argument conditional_escape was most of this tag's cost at 20 cards a page.
    m, kind = card.material, card.material.kind
    if card.thumb_url:
        thumb = f'<img src="{esc(card.thumb_url)}" alt="" loading="lazy" width="64" height="64">'
    else:
        thumb = material_icon(kind, 28)
    on = card.is_favourite
    fav = FAV.format(
        url=esc(card.favourite_url),
        csrf=csrf,
        next_url=next_url,
        on="0" if on else "1",
        on_class=" on" if on else "",
        pressed="true" if on else "false",
        label=labels["unfav"] if on else labels["fav"],
        star="★" if on else "☆",
    )
    preview = f'<p class="mat-preview">{esc(card.preview)}</p>' if card.preview else ""
    detail = f'<p class="muted">{esc(card.detail)}</p>' if card.detail else ""
    reasons = f'<p class="mat-reasons">{labels["suits"]}：{esc(" · ".join(card.reasons))}</p>' if card.reasons else ""
    return CARD.format(
        kind=esc(kind),
        pk=m.pk,
        thumb=thumb,
        kind_label=esc(card.kind_label),
        small_icon=material_icon(kind, 14),
        title=esc(m.title),
        preview=preview,
        detail=detail,
        reasons=reasons,
        fav=fav,
        long=f'<span class="badge">{labels["long"]}</span>' if card.long else "",
        prepare_url=esc(card.prepare_url),
        send=labels["send"],
        copy=COPY.format(labels["copy"], esc(card.text)) if kind == "text" else "",
    )


@register.simple_tag(takes_context=True)
def material_cards(context, cards: list[MaterialCard]) -> SafeString:
    """Every card of a page; labels are translated once per page, not once per card."""
    labels = {
        key: esc(text)
        for key, text in (
            ("send", _("发送")),
            ("copy", _("复制文字")),
            ("long", _("长话术")),
            ("suits", _("适合")),
            ("fav", _("收藏")),
            ("unfav", _("取消收藏")),
        )
    }
    csrf, next_url = _csrf_input(context), esc(context.get("next_url", ""))
    return mark_safe("".join(_card(card, labels, csrf, next_url) for card in cards))
