"""The demo brand's product catalogue (usage days for 补货提醒; a mini-program card where a product
shot exists), written through the same service as PUT /api/v1/products/<sku>. Idempotent."""

from django.conf import settings

from scrm.devtools.demo import vocab
from scrm.materials.models import Material
from scrm.products.services import product_upsert

# How long one unit lasts, by a word in the product name (first match); others are not replenished.
USAGE_DAYS = [
    ("面膜", 10),
    ("安瓶", 7),
    ("眼霜", 90),
    ("精华", 45),
    ("面霜", 60),
    ("晚霜", 60),
    ("修护霜", 60),
    ("爽肤水", 45),
    ("乳液", 45),
    ("洁面", 60),
    ("卸妆", 60),
    ("防晒", 40),
    ("身体乳", 45),
    ("沐浴露", 45),
    ("护手霜", 60),
    ("口红", 120),
    ("粉底液", 90),
]


def _usage_days(name: str) -> int | None:
    return next((days for word, days in USAGE_DAYS if word in name), None)


def catalogue_seed() -> int:
    """Upsert every demo product; returns how many were new."""
    shots = {}
    for material in Material.objects.filter(kind=Material.Kind.IMAGE).exclude(file=""):
        shots.setdefault(material.content, settings.SITE_URL.rstrip("/") + material.file.url)
    created = 0
    for sku, name, _price, line in vocab.PRODUCTS:
        image = shots.get(name, "")
        _product, was_created = product_upsert(
            sku=sku,
            name=name,
            category=line,
            image_url=image,
            usage_days=_usage_days(name),
            mp_appid=vocab.MP_APPID if image else "",
            mp_page=f"pages/goods/detail.html?sku={sku}" if image else "",
        )
        created += was_created
    return created
