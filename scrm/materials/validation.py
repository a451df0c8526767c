"""Upload checks by content, never by name.

Every upload is read into memory (the limits are WeCom's, at most 20 MB), recognised by its
magic bytes, and refused unless it is one of the allowed types. Images are decoded and
re-encoded with Pillow, which drops EXIF/GPS metadata and anything smuggled after the pixels.
The file name only ever supplies the display name, never the type.
"""

import io
import os
import re
import struct
import warnings
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

MB = 1024 * 1024
# WeCom's media/upload limits: image 10 MB, video 10 MB, file 20 MB.
SIZE_LIMITS = {"image": 10 * MB, "video": 10 * MB, "file": 20 * MB}
# Decompression-bomb guard: a 40-megapixel image already needs ~160 MB decoded.
MAX_PIXELS = 40_000_000
THUMB_SIZE = (480, 480)
# Longest side kept: a chat shows nothing finer, and a 40-megapixel original costs seconds and
# hundreds of MB to re-encode at full size.
MAX_SIDE = 4096
MAX_NAME = 200

IMAGE_TYPES = {"jpeg", "png", "gif", "webp"}
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV", b"dash"}
OFFICE_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
OLE_TYPES = {"doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint"}
_MARKUP = re.compile(rb"<\s*(\?xml|!doctype|html|svg|script|body|head|iframe|meta)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check, ready to store."""

    content: bytes
    ext: str
    mime: str
    original_name: str
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.content)


def sniff(head: bytes) -> str | None:
    """The type named by the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "mp4" if head[8:12] in MP4_BRANDS else "ftyp-other"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return None


def _refuse_dangerous(content: bytes) -> None:
    head = content[:1024]
    if head.startswith(
        (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")
    ):
        raise ValidationError(_("不允许上传可执行程序（已按文件内容识别，与扩展名无关）。"), code="executable")
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if stripped.startswith(b"#!"):
        raise ValidationError(_("不允许上传脚本文件。"), code="script")
    if sniff(head) is None and _MARKUP.search(head):
        raise ValidationError(_("不允许上传 SVG、HTML 等网页或脚本文件。"), code="markup")


def _clean_name(name: str) -> str:
    name = _CONTROL.sub("", os.path.basename(name or "").strip())
    return name[-MAX_NAME:] or "upload"


def _read(upload, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            _("文件过大：不能超过 %(limit)d MB（企业微信限制），此文件 %(size).1f MB。")
            % {"limit": limit // MB, "size": size / MB},
            code="too_large",
        )
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:  # the declared size lied
        raise ValidationError(_("文件过大：不能超过 %(limit)d MB（企业微信限制）。") % {"limit": limit // MB})
    if not content:
        raise ValidationError(_("文件是空的。"), code="empty")
    return content


def check_upload(upload, *, kind: str) -> CheckedFile:
    """Check an uploaded file for a material of `kind` (image, video or file); raise ValidationError."""
    if kind not in SIZE_LIMITS:
        raise ValidationError(_("此类素材不接受文件。"))
    content = _read(upload, SIZE_LIMITS[kind])
    _refuse_dangerous(content)
    name = _clean_name(getattr(upload, "name", ""))
    if kind == "image":
        return _check_image(content, name)
    if kind == "video":
        return _check_video(content, name)
    return _check_document(content, name)


def check_image(upload) -> CheckedFile:
    """Covers of link and mini-program cards follow the image rules."""
    return check_upload(upload, kind="image")


def _check_image(content: bytes, name: str) -> CheckedFile:
    kind = sniff(content[:16])
    if kind not in IMAGE_TYPES:
        raise ValidationError(
            _("图片只支持 JPEG、PNG、GIF、WebP 格式（按文件内容识别，与扩展名无关）。"), code="image_type"
        )
    corrupt = ValidationError(_("图片已损坏或不完整，无法打开。"), code="image_corrupt")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(content))
            width, height = probe.size
            # Checked from the header, before a single pixel is decoded.
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _("图片尺寸过大（%(w)d×%(h)d 像素），请缩小到 4000 万像素以内再上传。") % {"w": width, "h": height},
                    code="image_bomb",
                )
            probe.verify()
            image = Image.open(io.BytesIO(content))
            # A JPEG decodes straight at 1/2, 1/4… scale when that is still at least MAX_SIDE.
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("图片尺寸过大，请缩小后再上传。"), code="image_bomb") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError):
        raise corrupt from None
    if image.format is None or image.format.lower() != kind:
        raise corrupt
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    # Pillow writes a JPEG's COM segment (and other text) back from image.info: nothing smuggled in
    # the original's metadata may survive the re-encoding.
    image.info = {"icc_profile": image.info["icc_profile"]} if "icc_profile" in image.info else {}
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    icc = image.info.get("icc_profile")
    out = io.BytesIO()
    # WeCom sends only JPEG and PNG, so every image is stored as one of those.
    if kind == "jpeg" or not has_alpha:
        ext, mime = "jpg", "image/jpeg"
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True, icc_profile=icc)
    else:
        ext, mime = "png", "image/png"
        image.convert("RGBA").save(out, "PNG", optimize=True, icc_profile=icc)
    if out.tell() > SIZE_LIMITS["image"]:
        out = io.BytesIO()
        ext, mime = "jpg", "image/jpeg"
        _flatten(image).save(out, "JPEG", quality=80, optimize=True)
    if out.tell() > SIZE_LIMITS["image"]:
        raise ValidationError(_("图片压缩后仍超过 10 MB，请缩小后再上传。"), code="too_large")
    return CheckedFile(
        content=out.getvalue(),
        ext=ext,
        mime=mime,
        original_name=_with_ext(name, ext),
        thumbnail=make_thumbnail(image),
        width=image.width,
        height=image.height,
    )


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def make_thumbnail(image: Image.Image) -> bytes:
    thumb = _flatten(image)
    thumb.thumbnail(THUMB_SIZE)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _with_ext(name: str, ext: str) -> str:
    stem = os.path.splitext(name)[0] or "upload"
    return f"{stem[: MAX_NAME - 6]}.{ext}"


def _mp4_boxes(content: bytes) -> list[bytes]:
    """Top-level box types; raise ValueError if a box runs past the end (a truncated file)."""
    boxes, offset, end = [], 0, len(content)
    while offset < end:
        if end - offset < 8:
            raise ValueError("short header")
        size, box = struct.unpack(">I4s", content[offset : offset + 8])
        if size == 1:
            if end - offset < 16:
                raise ValueError("short header")
            size = struct.unpack(">Q", content[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = end - offset
        if size < 8 or offset + size > end:
            raise ValueError("truncated")
        boxes.append(box)
        offset += size
    return boxes


def _check_video(content: bytes, name: str) -> CheckedFile:
    if sniff(content[:16]) != "mp4":
        raise ValidationError(_("视频只支持 MP4 格式（按文件内容识别，与扩展名无关）。"), code="video_type")
    try:
        boxes = _mp4_boxes(content)
    except (ValueError, struct.error):
        raise ValidationError(_("视频文件不完整或已损坏。"), code="video_corrupt") from None
    if b"moov" not in boxes:
        raise ValidationError(_("视频文件不完整或已损坏。"), code="video_corrupt")
    return CheckedFile(content=content, ext="mp4", mime="video/mp4", original_name=_with_ext(name, "mp4"))


def _check_document(content: bytes, name: str) -> CheckedFile:
    kind = sniff(content[:16])
    if kind == "pdf":
        if b"%%EOF" not in content[-2048:]:
            raise ValidationError(_("PDF 文件不完整或已损坏。"), code="pdf_corrupt")
        return CheckedFile(content=content, ext="pdf", mime="application/pdf", original_name=_with_ext(name, "pdf"))
    if kind == "zip":
        ext, mime = _office_type(content)
        return CheckedFile(content=content, ext=ext, mime=mime, original_name=_with_ext(name, ext))
    if kind == "ole":
        # Old binary Office files all share one header; the name only picks which of the three.
        ext = os.path.splitext(name)[1].lower().lstrip(".")
        if ext not in OLE_TYPES:
            ext = "doc"
        return CheckedFile(content=content, ext=ext, mime=OLE_TYPES[ext], original_name=_with_ext(name, ext))
    raise ValidationError(
        _("文件只支持 PDF 和 Office 文档（Word、Excel、PowerPoint），按文件内容识别，与扩展名无关。"),
        code="file_type",
    )


def _office_type(content: bytes) -> tuple[str, str]:
    bad = ValidationError(_("不是有效的 Office 文档（docx、xlsx、pptx）。"), code="office_invalid")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > 1 * MB:
                raise bad
            types = archive.read(info).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, NotImplementedError):
        raise bad from None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise ValidationError(_("不允许上传带宏的 Office 文档。"), code="office_macro")
    for main_type, (ext, mime) in OFFICE_MAIN_TYPES.items():
        if f'ContentType="{main_type}"' in types:
            return ext, mime
    raise bad
