"""Writes to the product catalogue."""

from django.db import transaction
from django.utils import timezone

from scrm.materials import ranking
from scrm.materials.models import Material
from scrm.products.models import Product


@transaction.atomic
def product_upsert(
    *,
    sku: str,
    name: str,
    category: str = "",
    image_url: str = "",
    usage_days: int | None = None,
    mp_appid: str = "",
    mp_page: str = "",
) -> tuple[Product, bool]:
    """Create or replace the product under `sku`; (product, created). A repeat PUT changes nothing.

    With a mini-program page the product gets its own published mini-program card material, kept in
    step with the product, which 今日 offers for replenishment and intent reminders.
    """
    product = Product.objects.select_for_update().filter(sku=sku).first()
    created = product is None
    product = product or Product(sku=sku)
    product.name, product.category, product.image_url = name, category, image_url
    product.usage_days, product.mp_appid, product.mp_page = usage_days, mp_appid, mp_page
    product.material = _card_material(product)
    product.save()
    return product, created


def _card_material(product: Product) -> Material | None:
    material = product.material
    if not (product.mp_appid and product.mp_page):
        if material is not None and material.status == Material.Status.PUBLISHED:
            material.status = Material.Status.UNPUBLISHED
            material.save(update_fields=["status", "updated_at"])
            transaction.on_commit(ranking.library_changed)
        return material
    material = material or Material(kind=Material.Kind.MINIPROGRAM)
    fields = {
        "title": product.name[:100],
        "mp_appid": product.mp_appid,
        "mp_page": product.mp_page,
        "link_url": product.image_url,
        "keywords": f"{product.sku} {product.category}"[:200].strip(),
        "status": Material.Status.PUBLISHED,
    }
    if material.pk and all(getattr(material, key) == value for key, value in fields.items()):
        return material
    for key, value in fields.items():
        setattr(material, key, value)
    material.published_at = material.published_at or timezone.now()
    material.save()
    transaction.on_commit(ranking.library_changed)
    return material
