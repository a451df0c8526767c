import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from scrm.materials.validation import check_upload
from tests.materials import samples


def refused(name: str, content: bytes, kind: str) -> str:
    with pytest.raises(ValidationError) as excinfo:
        check_upload(samples.upload(name, content, "image/png"), kind=kind)
    return " ".join(excinfo.value.messages)


def test_png_is_reencoded_without_metadata_and_thumbnailed():
    checked = check_upload(samples.upload("海报.png", samples.png(1200, 900, text="secret-gps")), kind="image")
    assert checked.ext == "jpg" and checked.mime == "image/jpeg"  # opaque PNG → JPEG, as WeCom prefers
    assert b"secret-gps" not in checked.content
    assert checked.original_name == "海报.jpg"
    thumb = Image.open(io.BytesIO(checked.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == 480


def test_transparent_png_stays_png():
    checked = check_upload(samples.upload("logo.png", samples.png(alpha=True)), kind="image")
    assert checked.ext == "png"
    assert Image.open(io.BytesIO(checked.content)).mode == "RGBA"


def test_jpeg_exif_and_gps_are_stripped():
    original = samples.jpeg(exif_make="SpyCam")
    assert b"SpyCam" in original
    checked = check_upload(samples.upload("a.jpg", original), kind="image")
    assert b"SpyCam" not in checked.content
    assert not Image.open(io.BytesIO(checked.content)).getexif()


@pytest.mark.parametrize("content", [samples.gif(), samples.webp()])
def test_gif_and_webp_are_accepted_as_jpeg_or_png(content):
    checked = check_upload(samples.upload("x.gif", content), kind="image")
    assert Image.open(io.BytesIO(checked.content)).format in {"JPEG", "PNG"}


def test_exe_renamed_to_jpg_is_refused():
    assert "可执行程序" in refused("photo.jpg", samples.exe(), "image")


@pytest.mark.parametrize("kind", ["image", "video", "file"])
def test_elf_is_refused_for_every_kind(kind):
    assert "可执行程序" in refused("readme.pdf", samples.elf(), kind)


def test_svg_with_script_named_png_is_refused():
    assert "SVG" in refused("cute.png", samples.svg_with_script(), "image")


def test_html_named_pdf_is_refused():
    assert "HTML" in refused("price-list.pdf", samples.html(), "file")


def test_shell_script_is_refused():
    assert "脚本" in refused("run.pdf", b"#!/bin/sh\nrm -rf /\n", "file")


@pytest.mark.parametrize(
    "content", [samples.truncated(samples.jpeg(400, 300)), samples.truncated(samples.png(400, 300))]
)
def test_truncated_images_are_refused(content):
    assert "损坏" in refused("half.jpg", content, "image")


def test_garbage_after_png_signature_is_refused():
    assert "损坏" in refused("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image")


@pytest.mark.parametrize("size", [(7000, 7000), (30000, 30000)])
def test_decompression_bomb_dimensions_are_refused_before_decoding(size):
    assert "尺寸过大" in refused("bomb.png", samples.png_with_dimensions(*size), "image")


@pytest.mark.parametrize(
    ("kind", "limit_mb"),
    [("image", 10), ("video", 10), ("file", 20)],
)
def test_wecom_size_limits(kind, limit_mb):
    content = b"%PDF-1.4\n" + b"0" * (limit_mb * samples.MB)
    assert f"不能超过 {limit_mb} MB" in refused("big.pdf", content, kind)


def test_empty_file_is_refused():
    assert "空" in refused("empty.png", b"", "image")


def test_pdf_accepted_and_truncated_pdf_refused():
    checked = check_upload(samples.upload("目录.PDF", samples.pdf()), kind="file")
    assert (checked.ext, checked.mime, checked.original_name) == ("pdf", "application/pdf", "目录.pdf")
    assert "不完整" in refused("cut.pdf", samples.pdf()[:-8] + b"\n" * 3000, "file")


def test_mp4_accepted_and_truncated_mp4_refused():
    checked = check_upload(samples.upload("clip.mov", samples.mp4()), kind="video")
    assert (checked.ext, checked.mime, checked.original_name) == ("mp4", "video/mp4", "clip.mp4")
    assert "不完整" in refused("clip.mp4", samples.mp4()[:-100], "video")


def test_image_is_not_a_video():
    assert "MP4" in refused("clip.mp4", samples.png(), "video")


def test_office_documents_are_recognised_by_content_types():
    assert check_upload(samples.upload("a.bin", samples.docx()), kind="file").ext == "docx"
    assert check_upload(samples.upload("a.docx", samples.xlsx()), kind="file").ext == "xlsx"


def test_plain_zip_named_docx_is_refused():
    assert "Office" in refused("report.docx", samples.docx(content_types=False), "file")


def test_macro_document_is_refused():
    assert "宏" in refused("report.docx", samples.docx(macro=True), "file")


def test_unknown_bytes_are_refused_as_file():
    assert "PDF" in refused("notes.pdf", b"just some text", "file")


def test_jpeg_comment_segment_does_not_survive():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(out, "JPEG", comment=b"<script>alert(1)</script>")
    assert b"<script>" in out.getvalue()
    checked = check_upload(samples.upload("c.jpg", out.getvalue()), kind="image")
    assert b"<script>" not in checked.content
    assert "comment" not in Image.open(io.BytesIO(checked.content)).info


def test_very_large_images_are_stored_at_a_chat_sized_resolution():
    out = io.BytesIO()
    Image.new("RGB", (6000, 3000), (10, 120, 200)).save(out, "JPEG")
    checked = check_upload(samples.upload("big.jpg", out.getvalue()), kind="image")
    assert (checked.width, checked.height) == (4096, 2048)
