"""Real sample files, good and malicious, built in memory for the upload tests."""

import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

MB = 1024 * 1024


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    # The browser-declared content type is deliberately whatever the attacker wants.
    return SimpleUploadedFile(name, content, content_type=content_type)


def png(width: int = 64, height: int = 48, *, alpha: bool = False, text: str = "") -> bytes:
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGBA" if alpha else "RGB", (width, height), (200, 30, 30, 128) if alpha else (200, 30, 30))
    info = PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, *, exif_make: str = "") -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    exif = Image.Exif()
    if exif_make:
        exif[0x010F] = exif_make  # Make
        exif[0x8825] = {2: (31.0, 14.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes() if exif_make else b"")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20), 3).save(out, "GIF")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "WEBP")
    return out.getvalue()


def png_with_dimensions(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions: a decompression bomb as far as a decoder knows."""
    data = bytearray(png(8, 8))
    ihdr_start = 8 + 8  # signature, then length + "IHDR"
    data[ihdr_start : ihdr_start + 8] = struct.pack(">II", width, height)
    chunk = bytes(data[12 : ihdr_start + 13])  # "IHDR" + 13 data bytes
    data[ihdr_start + 13 : ihdr_start + 17] = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return bytes(data)


def truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


def exe() -> bytes:
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50 + b"This program cannot be run in DOS mode"
    )


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 100


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    )


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>location='https://evil.example/'</script></body></html>"


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4() -> bytes:
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
    moov = _box(b"moov", _box(b"mvhd", b"\x00" * 100))
    mdat = _box(b"mdat", b"\x00" * 512)
    return ftyp + moov + mdat


def office(main_type: str, part: str, *, macro: bool = False, content_types: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if content_types:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                f'<Override PartName="/{part}" ContentType="{main_type}"/></Types>',
            )
        archive.writestr(part, "<document/>")
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00" * 10)
    return out.getvalue()


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def docx(**kwargs) -> bytes:
    return office(DOCX_TYPE, "word/document.xml", **kwargs)


def xlsx() -> bytes:
    return office(XLSX_TYPE, "xl/workbook.xml")
