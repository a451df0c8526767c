"""A print-ready poster PNG of a live code (Pillow): store name, the QR, a short call to action.

Chinese text needs a CJK font: settings.POSTER_FONT, else the first of the usual Debian paths
(fonts-wqy-microhei, fonts-noto-cjk). Without one Pillow's built-in font draws only Latin letters.
"""

import io
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from scrm.livecodes.models import LiveCode

# A5 at 150 dpi: sharp enough to print at a counter, small enough to download on a phone.
WIDTH, HEIGHT = 874, 1240
QR_SIZE = 560
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
BRAND = (7, 193, 96)


@lru_cache(maxsize=1)
def _font_path() -> str:
    for path in (getattr(settings, "POSTER_FONT", ""), *FONT_CANDIDATES):
        if path and Path(path).is_file():
            return path
    return ""


def _font(size: int):
    path = _font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, font, fill) -> int:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((WIDTH - (right - left)) / 2, y), text, font=font, fill=fill)
    return y + (bottom - top)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def livecode_poster_png(*, code: LiveCode, qr_png: bytes, call_to_action: str = "") -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 200), fill=BRAND)
    store_name = code.store.name if code.store else _("官方导购")
    _centered(draw, 56, _fit(store_name, 14), _font(64), "white")
    _centered(draw, 250, _fit(code.name, 20), _font(36), (60, 60, 60))
    qr = Image.open(io.BytesIO(qr_png)).convert("RGB").resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)
    image.paste(qr, ((WIDTH - QR_SIZE) // 2, 330))
    cta = call_to_action or _("扫码添加导购，领取专属福利")
    y = _centered(draw, 940, _fit(cta, 18), _font(44), (30, 30, 30))
    if code.store and code.store.address:
        _centered(draw, y + 40, _fit(code.store.address, 30), _font(26), (120, 120, 120))
    _centered(draw, HEIGHT - 80, _("长按识别或微信扫一扫"), _font(24), (150, 150, 150))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(150, 150), optimize=True)
    return out.getvalue()
