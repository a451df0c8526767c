"""The brand's fixed data: stores, staff and their sign-ins, tag groups and the material library.

Every row is found by its natural key first (store code, userid, WeCom tag id, material title), so
running this again creates nothing.
"""

import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from scrm.customers.models import Tag, TagGroup, TagSource
from scrm.devtools.demo import vocab
from scrm.materials.models import Material, MaterialCategory
from scrm.materials.services import material_create, material_publish, material_unpublish
from scrm.materials.validation import CheckedFile, check_upload
from scrm.org.models import Staff, Store

STAFF_PASSWORD = "demo1234"
ADMIN_PASSWORD = "admin"


@dataclass(frozen=True)
class StaffRef:
    id: int
    userid: str
    name: str
    store_id: int | None
    store_code: str | None
    store_name: str | None


@dataclass(frozen=True)
class TagRef:
    id: int
    group: str
    name: str


@dataclass(frozen=True)
class MaterialRef:
    id: int
    kind: str
    title: str
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None

    def valid_at(self, when: dt.datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= when) and (
            self.valid_until is None or when <= self.valid_until
        )


@dataclass
class Base:
    stores: dict[str, Store]
    guides: dict[str, list[StaffRef]]  # active guides per store code
    departed: StaffRef
    tags: dict[str, list[TagRef]]  # per group name
    materials: list[MaterialRef]  # published ones, in a stable order
    created: dict[str, int]


def wecom_id(prefix: str, key: str, length: int = 22) -> str:
    """A stable WeCom-style id ("et…") derived from a natural key, identical on every machine."""
    return prefix + hashlib.sha1(key.encode()).hexdigest()[: length - len(prefix)]


def base_seed(*, now: dt.datetime) -> Base:
    created = {"stores": 0, "staff": 0, "users": 0, "tags": 0, "materials": 0}
    stores = {}
    for code, name, city, address, _weight in vocab.STORES:
        stores[code], was_created = Store.objects.get_or_create(
            code=code, defaults={"name": name, "city": city, "address": address}
        )
        created["stores"] += was_created

    users = get_user_model().objects
    staff_hash = None
    staff_by_userid = {}
    for userid, name, store_code, role, mobile in [*vocab.STAFF, vocab.DEPARTED]:
        departed = userid in (vocab.DEPARTED[0], vocab.LEAVING)
        days_ago = vocab.DEPARTED_DAYS_AGO if userid == vocab.DEPARTED[0] else 1
        staff, was_created = Staff.objects.get_or_create(
            userid=userid,
            defaults={
                "name": name,
                "store": stores.get(store_code),
                "role": role,
                "mobile": mobile,
                "is_active": not departed,
                "departed_at": now - dt.timedelta(days=days_ago) if departed else None,
            },
        )
        created["staff"] += was_created
        staff_by_userid[userid] = staff
        if staff.user_id is None:
            user = users.filter(username=userid).first()
            if user is None:
                if userid == "admin":
                    # Dev demo only: the printed admin/admin sign-in.
                    user = users.create_superuser(username="admin", password=ADMIN_PASSWORD, email="")
                else:
                    # Hashing is slow on purpose; one hash serves every demo account.
                    staff_hash = staff_hash or make_password(STAFF_PASSWORD)
                    user = users.create(username=userid, password=staff_hash, is_active=not departed)
                created["users"] += 1
            staff.user = user
            staff.save(update_fields=["user", "updated_at"])

    def ref(staff: Staff) -> StaffRef:
        store = staff.store
        return StaffRef(
            staff.pk, staff.userid, staff.name, store and store.pk, store and store.code, store and store.name
        )

    guides: dict[str, list[StaffRef]] = {code: [] for code in stores}
    for userid, _name, store_code, role, _mobile in vocab.STAFF:
        if role == Staff.Role.GUIDE:
            guides[store_code].append(ref(staff_by_userid[userid]))

    tags: dict[str, list[TagRef]] = {}
    for g_order, (group_name, names) in enumerate(vocab.TAG_GROUPS):
        group, was_created = TagGroup.objects.get_or_create(
            wecom_group_id=wecom_id("et", f"group:{group_name}"),
            defaults={
                "name": group_name,
                "order": 100 - g_order,
                "source": TagSource.WECOM,
                "single_choice": group_name in vocab.SINGLE_CHOICE_GROUPS,
            },
        )
        created["tags"] += was_created
        tags[group_name] = []
        for t_order, name in enumerate(names):
            tag, was_created = Tag.objects.get_or_create(
                wecom_tag_id=wecom_id("et", f"tag:{group_name}:{name}"),
                defaults={"group": group, "name": name, "order": 100 - t_order, "source": TagSource.WECOM},
            )
            created["tags"] += was_created
            tags[group_name].append(TagRef(tag.pk, group_name, name))

    content_staff = staff_by_userid["content01"]
    created["materials"] = _materials_seed(now=now, author=content_staff, tags=tags)
    materials = [
        MaterialRef(m.pk, m.kind, m.title, m.valid_from, m.valid_until)
        for m in Material.objects.filter(status=Material.Status.PUBLISHED, created_by=content_staff).order_by("title")
    ]
    return Base(
        stores=stores,
        guides=guides,
        departed=ref(staff_by_userid[vocab.DEPARTED[0]]),
        tags=tags,
        materials=materials,
        created=created,
    )


def _category_tree() -> dict[str, MaterialCategory]:
    by_name = {}
    for p_order, (parent_name, children) in enumerate(vocab.MATERIAL_CATEGORIES):
        parent, _ = MaterialCategory.objects.get_or_create(parent=None, name=parent_name, defaults={"order": p_order})
        by_name[parent_name] = parent
        for c_order, child in enumerate(children):
            by_name[child], _ = MaterialCategory.objects.get_or_create(
                parent=parent, name=child, defaults={"order": c_order}
            )
    return by_name


def _material_specs() -> list[dict]:
    """One dict per demo material, in the order their random draws are made."""
    specs = []
    for category, title, content in vocab.TEXT_SCRIPTS:
        specs.append({"kind": Material.Kind.TEXT, "title": title, "category": category, "content": content})
    for category, title, sku in vocab.IMAGES:
        specs.append({"kind": Material.Kind.IMAGE, "title": title, "category": category, "sku": sku})
    for category, title, url, desc in vocab.LINKS:
        specs.append(
            {"kind": Material.Kind.LINK, "title": title, "category": category, "link_url": url, "content": desc}
        )
    for category, title, page in vocab.MINIPROGRAMS:
        specs.append({"kind": Material.Kind.MINIPROGRAM, "title": title, "category": category, "mp_page": page})
    for category, title, seconds in vocab.VIDEOS:
        specs.append({"kind": Material.Kind.VIDEO, "title": title, "category": category, "seconds": seconds})
    for category, title, lines in vocab.FILES:
        specs.append({"kind": Material.Kind.FILE, "title": title, "category": category, "lines": lines})
    return specs


def _materials_seed(*, now: dt.datetime, author: Staff, tags: dict[str, list[TagRef]]) -> int:
    categories = _category_tree()
    existing = set(Material.objects.filter(created_by=author).values_list("kind", "title"))
    rng = random.Random("materials")
    products = {sku: (name, price) for sku, name, price, _line in vocab.PRODUCTS}
    tag_ids = {t.name: t.id for group in tags.values() for t in group}
    specs = _material_specs()

    count = 0
    for n, spec in enumerate(specs):
        kind, title = spec["kind"], spec["title"]
        # Draws happen for every spec, created or not, so later specs never shift.
        status_roll, stage_roll, _tag_roll = rng.random(), rng.random(), rng.random()
        if (kind, title) in existing:
            continue
        seed = f"{kind}:{title}"
        upload = cover = None
        fields = {"content": spec.get("content", "")}
        if kind == Material.Kind.IMAGE:
            label = products.get(spec["sku"], (title, ""))[0]
            upload = _checked(_image_bytes(seed, label, fmt="JPEG"), f"{title}.jpg", kind)
            fields["content"] = products.get(spec["sku"], ("", ""))[0]
        elif kind == Material.Kind.LINK:
            fields["link_url"] = spec["link_url"]
            cover = _checked(_image_bytes(seed, title, fmt="PNG"), f"{title}.png", "image")
        elif kind == Material.Kind.MINIPROGRAM:
            fields |= {"mp_appid": vocab.MP_APPID, "mp_page": spec["mp_page"]}
            cover = _checked(_image_bytes(seed, title, fmt="PNG"), f"{title}.png", "image")
        elif kind == Material.Kind.VIDEO:
            upload = _checked(_tiny_mp4(spec["seconds"]), f"{title}.mp4", kind)
            cover = _checked(_image_bytes(seed, title, fmt="JPEG"), f"{title}.jpg", "image")
        elif kind == Material.Kind.FILE:
            upload = _checked(_pdf_bytes(spec["lines"]), f"{title}.pdf", kind)
        interest = _interest_of(spec)
        valid_from, valid_until = _validity(title, now=now, default_from=now - dt.timedelta(days=200 - n))
        material = material_create(
            kind=kind,
            title=title,
            created_by=author,
            upload=upload,
            cover=cover,
            audience_tags=[Tag.objects.get(pk=tag_ids[interest])] if interest else [],
            category=categories[spec["category"]],
            keywords=" ".join(dict.fromkeys([spec["category"], title.split(" ")[0]])),
            valid_from=valid_from,
            valid_until=valid_until,
            audience_stages=["dormant", "lost"]
            if spec["category"] == "沉睡唤醒"
            else (["new"] if stage_roll < 0.15 else []),
            **fields,
        )
        # Mostly published; a few drafts and withdrawn ones so the console has something to filter.
        if status_roll >= 0.08:
            material_publish(material=material, now=valid_from)
            if status_roll < 0.12:
                material_unpublish(material=material)
        count += 1
    return count


def _interest_of(spec: dict) -> str | None:
    """The 兴趣 tag a material is for, from the words it uses (a lipstick picture is for 彩妆)."""
    text = " ".join(str(spec.get(key, "")) for key in ("category", "title", "content"))
    return next((tag for tag, words in vocab.INTEREST_WORDS.items() if any(w in text for w in words)), None)


def _validity(title: str, *, now: dt.datetime, default_from: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """A seasonal material is valid in its latest season begun by `now`; the others from their date on."""
    season = next((dates for word, dates in vocab.SEASONS.items() if word in title), None)
    if season is None:
        return default_from, None
    (m1, d1), (m2, d2) = season
    local = timezone.localtime(now)
    year = local.year if (local.month, local.day) >= (m1, d1) else local.year - 1
    start = timezone.make_aware(dt.datetime(year, m1, d1))
    end_year = year if (m2, d2) >= (m1, d1) else year + 1
    return start, timezone.make_aware(dt.datetime(end_year, m2, d2, 23, 59, 59))


def _checked(content: bytes, name: str, kind: str) -> CheckedFile:
    """Demo files pass the same checks as a guide's upload."""
    return check_upload(ContentFile(content, name=name), kind=kind)


PALETTES = [
    ((250, 218, 221), (214, 93, 120)),
    ((255, 236, 210), (216, 140, 70)),
    ((222, 240, 230), (70, 150, 110)),
    ((226, 230, 250), (90, 100, 190)),
    ((245, 230, 250), (150, 80, 170)),
]


def _image_bytes(seed: str, label: str, *, fmt: str, size: tuple[int, int] = (480, 480)) -> bytes:
    """A small product-shot-like picture: soft gradient, a bottle silhouette and the brand word."""
    rng = random.Random(seed)
    light, dark = rng.choice(PALETTES)
    w, h = size
    img = Image.new("RGB", size, light)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        mix = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(light[i] * (1 - mix * 0.35) + 255 * mix * 0.1) for i in range(3)))
    cx = w // 2 + rng.randint(-40, 40)
    bw, bh = rng.randint(90, 130), rng.randint(170, 230)
    top = h // 2 - bh // 2 + 20
    draw.rounded_rectangle([cx - bw // 2, top, cx + bw // 2, top + bh], radius=24, fill=dark)
    draw.rectangle([cx - bw // 5, top - 45, cx + bw // 5, top], fill=(60, 60, 60))
    draw.rounded_rectangle([cx - bw // 2 + 14, top + bh // 3, cx + bw // 2 - 14, top + bh // 3 + 60], 8, fill=light)
    for _ in range(6):
        r = rng.randint(6, 18)
        x, y = rng.randint(0, w), rng.randint(0, h)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=dark, width=2)
    font = ImageFont.load_default(size=28)
    draw.text((24, 24), "LANTING", fill=dark, font=font)
    # Pillow's bundled font has no CJK glyphs; a hash of the label keeps each picture distinct.
    draw.text((24, h - 44), hashlib.md5(label.encode()).hexdigest()[:8].upper(), fill=dark, font=font)
    out = io.BytesIO()
    img.save(out, format=fmt, quality=82) if fmt == "JPEG" else img.save(out, format=fmt, optimize=True)
    return out.getvalue()


def _pdf_bytes(lines: list[str]) -> bytes:
    """A one-page valid PDF; Chinese text uses the standard STSong-Light CID font (no embedding)."""

    def utf16_hex(text: str) -> str:
        return text.encode("utf-16-be").hex().upper()

    stream_lines = ["BT", "/F1 20 Tf", "72 760 Td"]
    for n, line in enumerate(lines):
        if n:
            stream_lines.append("0 -32 Td")
        stream_lines.append(f"<{utf16_hex(line)}> Tj")
    stream_lines.append("ET")
    stream = "\n".join(stream_lines).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H /DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def _tiny_mp4(seconds: int) -> bytes:
    """ftyp, a movie header declaring the duration, and a token mdat: a tiny stand-in, not playable."""

    def box(kind: bytes, body: bytes) -> bytes:
        return (len(body) + 8).to_bytes(4, "big") + kind + body

    timescale = 1000
    mvhd = (
        bytes(4)  # version 0, flags
        + bytes(8)  # creation and modification time
        + timescale.to_bytes(4, "big")
        + (seconds * timescale).to_bytes(4, "big")
        + b"\x00\x01\x00\x00\x01\x00"  # rate 1.0, volume 1.0
        + bytes(10)
        + b"".join(v.to_bytes(4, "big") for v in (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000))
        + bytes(24)
        + (2).to_bytes(4, "big")  # next track id
    )
    return (
        box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
        + box(b"moov", box(b"mvhd", mvhd))
        + box(b"mdat", f"demo video {seconds}s".encode())
    )
