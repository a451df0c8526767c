"""Writes to the material library. Views, the API and tasks call these; none write models directly.

Uploads arrive here already checked (scrm.materials.validation.CheckedFile), so a service only
stores bytes it knows to be safe. A failed write leaves neither a row nor a file behind.
"""

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scrm.customers.models import LifecycleStage, Tag
from scrm.materials import ranking
from scrm.materials.models import Material, MaterialCategory, MaterialFavourite
from scrm.materials.placeholders import (
    material_unknown_placeholders,
)
from scrm.materials.validation import CheckedFile
from scrm.org.models import Staff

FILE_KINDS = {Material.Kind.IMAGE, Material.Kind.VIDEO, Material.Kind.FILE}
COVER_KINDS = {Material.Kind.LINK, Material.Kind.MINIPROGRAM, Material.Kind.VIDEO}
MP_APPID = re.compile(r"^wx[0-9a-f]{16}$")

# Fields a caller may set through material_create / material_update.
EDITABLE_FIELDS = (
    "title",
    "content",
    "link_url",
    "mp_appid",
    "mp_page",
    "category",
    "keywords",
    "audience_stages",
    "valid_from",
    "valid_until",
)


def mp_appid_error(appid: str) -> str:
    """Why a mini-program appid is not one, or ""."""
    return "" if MP_APPID.match(appid) else _("小程序 appid 格式不正确（wx 开头的 18 位）。")


def mp_page_error(page: str) -> str:
    """Why a mini-program page path cannot be sent, or "" (WeCom's sendChatMessage wants .html)."""
    if page.split("?", 1)[0].endswith(".html"):
        return ""
    return _("小程序页面路径必须以 .html 结尾，例如 pages/index/index.html。")


def _check_fields(*, kind: str, values: dict, has_file: bool, has_cover: bool) -> None:
    """Each kind's required fields; raises a ValidationError keyed by field."""
    errors: dict[str, str] = {}
    if not (values.get("title") or "").strip():
        errors["title"] = _("请填写标题。")
    if kind == Material.Kind.TEXT and not (values.get("content") or "").strip():
        errors["content"] = _("请填写话术内容。")
    if kind in FILE_KINDS and not has_file:
        errors["file"] = _("请上传文件。")
    if kind == Material.Kind.LINK:
        if not values.get("link_url"):
            errors["link_url"] = _("请填写链接地址。")
        elif not values["link_url"].lower().startswith(("https://", "http://")):
            errors["link_url"] = _("链接地址必须以 http:// 或 https:// 开头。")
    if kind == Material.Kind.MINIPROGRAM:
        if problem := mp_appid_error(values.get("mp_appid") or ""):
            errors["mp_appid"] = problem
        page = values.get("mp_page") or ""
        if not page:
            errors["mp_page"] = _("请填写小程序页面路径。")
        elif problem := mp_page_error(page):
            errors["mp_page"] = problem
        if not has_cover:
            errors["cover"] = _("请上传小程序卡片封面。")
    valid_from, valid_until = values.get("valid_from"), values.get("valid_until")
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = _("失效时间必须晚于生效时间。")
    stages = values.get("audience_stages") or []
    if any(stage not in LifecycleStage.values for stage in stages):
        errors["audience_stages"] = _("生命周期阶段不存在。")
    if errors:
        raise ValidationError(errors)


def _store(field, checked: CheckedFile, saved: list) -> None:
    """Write a checked file into a FileField under a random name; remember it for cleanup."""
    field.save(f"{uuid.uuid4().hex}.{checked.ext}", ContentFile(checked.content), save=False)
    saved.append(field.name)


def _delete_files(storage, names: Iterable[str]) -> None:
    for name in names:
        if name:
            storage.delete(name)


def _apply_file(material: Material, upload: CheckedFile, saved: list) -> list[str]:
    """Attach the main file (and its thumbnail); returns the names of the files it replaces."""
    replaced = [material.file.name, material.thumbnail.name]
    _store(material.file, upload, saved)
    material.file_name = upload.original_name
    material.file_size = upload.size
    material.file_mime = upload.mime
    material.file_sha256 = hashlib.sha256(upload.content).hexdigest()
    material.thumbnail = ""
    if upload.thumbnail:
        _store(
            material.thumbnail,
            CheckedFile(content=upload.thumbnail, ext="jpg", mime="image/jpeg", original_name=""),
            saved,
        )
    # The cached WeCom media belongs to the old bytes.
    material.wecom_media_id = ""
    material.wecom_media_uploaded_at = None
    return replaced


def _save_with_files(
    material: Material,
    *,
    upload: CheckedFile | None,
    cover: CheckedFile | None,
    audience_tags: Iterable[Tag] | None,
) -> Material:
    saved: list[str] = []
    replaced: list[str] = []
    storage = material.file.storage
    try:
        with transaction.atomic():
            if upload is not None:
                replaced += _apply_file(material, upload, saved)
            if cover is not None:
                replaced.append(material.cover.name)
                _store(material.cover, cover, saved)
            material.save()
            if audience_tags is not None:
                material.audience_tags.set(audience_tags)
            ranking.library_changed()
            # Old files go only once the new row is committed, so a rollback loses nothing.
            transaction.on_commit(lambda: _delete_files(storage, replaced))
    except BaseException:
        _delete_files(storage, saved)
        raise
    return material


def material_create(
    *,
    kind: str,
    title: str,
    created_by: Staff | None,
    upload: CheckedFile | None = None,
    cover: CheckedFile | None = None,
    audience_tags: Iterable[Tag] = (),
    **fields,
) -> Material:
    """Create a draft material of `kind`; publishing is a separate step."""
    if kind not in Material.Kind.values:
        raise ValidationError({"kind": _("素材类型不存在。")})
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    values = {"title": title, **fields}
    _check_fields(kind=kind, values=values, has_file=upload is not None, has_cover=cover is not None)
    material = Material(kind=kind, created_by=created_by, status=Material.Status.DRAFT, **values)
    if kind not in COVER_KINDS:
        cover = None
    if kind not in FILE_KINDS:
        upload = None
    return _save_with_files(material, upload=upload, cover=cover, audience_tags=list(audience_tags))


def material_update(
    *,
    material: Material,
    upload: CheckedFile | None = None,
    cover: CheckedFile | None = None,
    audience_tags: Iterable[Tag] | None = None,
    **fields,
) -> Material:
    """Change a material's fields; a new upload replaces the old file (deleted after commit)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    values = {name: getattr(material, name) for name in EDITABLE_FIELDS} | fields
    _check_fields(
        kind=material.kind,
        values=values,
        has_file=upload is not None or bool(material.file),
        has_cover=cover is not None or bool(material.cover),
    )
    if "title" in fields and fields["title"] != material.title:
        # Files reach the chat under the title: the cached WeCom media carries the old one.
        material.wecom_media_id, material.wecom_media_uploaded_at = "", None
    for name, value in fields.items():
        setattr(material, name, value)
    if material.kind not in COVER_KINDS:
        cover = None
    if material.kind not in FILE_KINDS:
        upload = None
    return _save_with_files(
        material, upload=upload, cover=cover, audience_tags=None if audience_tags is None else list(audience_tags)
    )


def material_publish(*, material: Material, now: dt.datetime | None = None) -> Material:
    """Make a material visible to guides. Publishing twice is harmless."""
    if material.status == Material.Status.PUBLISHED:
        return material
    now = now or timezone.now()
    if material.valid_until and material.valid_until <= now:
        raise ValidationError(_("素材已过有效期，请先修改失效时间再发布。"))
    unknown = material_unknown_placeholders(content=material.content)
    if unknown and material.kind in (Material.Kind.TEXT, Material.Kind.LINK):
        raise ValidationError(
            _("内容中有无法自动填写的占位符：%(names)s。请改成可用的占位符或删掉后再发布。")
            % {"names": "、".join(f"{{{name}}}" for name in unknown)}
        )
    material.status = Material.Status.PUBLISHED
    material.published_at = now
    material.save(update_fields=["status", "published_at", "updated_at"])
    ranking.library_changed()
    return material


def material_unpublish(*, material: Material) -> Material:
    """Take a material off the guides' list; its statistics stay."""
    if material.status != Material.Status.PUBLISHED:
        return material
    material.status = Material.Status.UNPUBLISHED
    material.save(update_fields=["status", "updated_at"])
    ranking.library_changed()
    return material


def _name_taken(*, name: str, parent: MaterialCategory | None, exclude_id: int | None = None) -> bool:
    qs = MaterialCategory.objects.filter(name=name, parent=parent)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def _clean_category_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写分类名称。")})
    if len(name) > 50:
        raise ValidationError({"name": _("分类名称不能超过 50 个字。")})
    return name


def category_create(*, name: str, parent: MaterialCategory | None = None, order: int = 0) -> MaterialCategory:
    """Add a category under `parent` (None for top level); names are unique among siblings."""
    name = _clean_category_name(name)
    if _name_taken(name=name, parent=parent):
        raise ValidationError({"name": _("同一级下已有同名分类“%(name)s”。") % {"name": name}})
    try:
        with transaction.atomic():
            return MaterialCategory.objects.create(name=name, parent=parent, order=order)
    except IntegrityError:  # a concurrent create won the race
        raise ValidationError({"name": _("同一级下已有同名分类“%(name)s”。") % {"name": name}}) from None


def category_rename(*, category: MaterialCategory, name: str) -> MaterialCategory:
    name = _clean_category_name(name)
    if name == category.name:
        return category
    if _name_taken(name=name, parent=category.parent, exclude_id=category.pk):
        raise ValidationError({"name": _("同一级下已有同名分类“%(name)s”。") % {"name": name}})
    category.name = name
    category.save(update_fields=["name"])
    return category


def category_move(*, category: MaterialCategory, parent: MaterialCategory | None) -> MaterialCategory:
    """Re-parent a category; refuses to put it under itself or one of its descendants."""
    node = parent
    while node is not None:
        if node.pk == category.pk:
            raise ValidationError({"parent": _("不能把分类移动到它自己或它的子分类下面。")})
        node = node.parent
    if _name_taken(name=category.name, parent=parent, exclude_id=category.pk):
        raise ValidationError({"parent": _("目标位置已有同名分类。")})
    category.parent = parent
    try:
        with transaction.atomic():
            category.save(update_fields=["parent"])
    except IntegrityError:  # a same-named sibling arrived meanwhile, or the target was deleted
        raise ValidationError({"parent": _("目标位置已有同名分类或已被删除，请刷新后重试。")}) from None
    return category


def material_bulk_image_create(
    *, upload: CheckedFile, created_by: Staff | None, category: MaterialCategory | None = None
) -> tuple[Material, bool]:
    """One image of a bulk upload becomes one draft image material titled after its file.

    The same image uploaded again (a retry after a dropped connection, or a duplicate in the
    batch) returns the existing material and False instead of storing a second copy.
    """
    digest = hashlib.sha256(upload.content).hexdigest()
    existing = Material.objects.filter(kind=Material.Kind.IMAGE, file_sha256=digest).order_by("id").first()
    if existing is not None:
        return existing, False
    title = upload.original_name.rsplit(".", 1)[0][:100] or _("图片")
    material = material_create(
        kind=Material.Kind.IMAGE, title=title, created_by=created_by, upload=upload, category=category
    )
    return material, True


def material_favourite_set(*, staff: Staff, material: Material, on: bool) -> bool:
    """Star or unstar a material for a guide. Setting (not toggling) makes a double tap harmless."""
    if on:
        MaterialFavourite.objects.get_or_create(staff=staff, material=material)
    else:
        MaterialFavourite.objects.filter(staff=staff, material=material).delete()
    return on
