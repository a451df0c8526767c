"""Read-only REST API over the material library (/api/v1/materials/), for brand systems and BI."""

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from scrm.customers.models import Tag
from scrm.materials import selectors
from scrm.materials.models import Material, MaterialCategory
from scrm.materials.sending import absolute_url

MAX_ID = 2**31 - 1
URL_OR_NULL = {"type": "string", "format": "uri", "nullable": True}


class MaterialCursorPagination(CursorPagination):
    # Newest changes first; the id breaks ties so no item is skipped or repeated between pages.
    ordering = ("-updated_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = gettext_lazy("分页游标无效，请从第一页重新获取。")

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # DRF quietly falls back to the default on a bad value; a client would never learn its mistake.
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": [_("每页条数应为 1–200 的整数。")]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # A cursor is base64 the client can edit: a position that is no time would reach the query.
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:  # the shape of a time, but no real one (month 13)
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = MaterialCategory
        fields = ["id", "name", "parent"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "wecom_tag_id"]


class MaterialSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True, allow_null=True)
    link_url = serializers.CharField(read_only=True, help_text="链接素材的地址；其他类型为空字符串")
    audience_tags = TagSerializer(many=True, read_only=True)
    file_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    cover_url = serializers.SerializerMethodField()
    keywords = serializers.SerializerMethodField()
    sendable = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = [
            "id",
            "kind",
            "title",
            "content",
            "file_url",
            "file_name",
            "file_size",
            "file_mime",
            "thumbnail_url",
            "cover_url",
            "link_url",
            "mp_appid",
            "mp_page",
            "category",
            "keywords",
            "audience_tags",
            "audience_stages",
            "valid_from",
            "valid_until",
            "status",
            "sendable",
            "published_at",
            "send_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _url(self, field) -> str | None:
        if not field:
            return None
        # SITE_URL's address (object storage gives absolute URLs already): behind a load balancer the
        # request's own scheme and host are the internal ones.
        return absolute_url(field.url)

    @extend_schema_field(URL_OR_NULL)
    def get_file_url(self, obj: Material) -> str | None:
        return self._url(obj.file)

    @extend_schema_field(URL_OR_NULL)
    def get_thumbnail_url(self, obj: Material) -> str | None:
        return self._url(obj.thumbnail)

    @extend_schema_field(URL_OR_NULL)
    def get_cover_url(self, obj: Material) -> str | None:
        return self._url(obj.cover)

    def get_keywords(self, obj: Material) -> list[str]:
        return obj.keywords.split()

    def get_sendable(self, obj: Material) -> bool:
        return obj.is_sendable()


STATUS_VALUES = [*Material.Status.values, selectors.STATUS_SENDABLE, selectors.STATUS_EXPIRED]


def _filters(params) -> dict:
    """Selector kwargs from query parameters; a bad value is a 400 naming the parameter."""
    errors = {}
    kind = params.get("kind")
    if kind is not None and kind not in Material.Kind.values:
        errors["kind"] = _("类型只能是：%(values)s") % {"values": ", ".join(Material.Kind.values)}
    status = params.get("status")
    if status is not None and status not in STATUS_VALUES:
        errors["status"] = _("状态只能是：%(values)s") % {"values": ", ".join(STATUS_VALUES)}
    category_id = None
    if "category" in params:
        raw = params["category"]
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
            category_id = int(raw)
        else:
            errors["category"] = _("分类必须是数字 id。")
    updated_since = None
    if "updated_since" in params:
        try:
            updated_since = parse_datetime(params["updated_since"])
        except ValueError:
            updated_since = None
        if updated_since is None or updated_since.tzinfo is None:
            errors["updated_since"] = _("请使用带时区的 ISO 8601 时间，例如 2026-11-01T08:00:00+08:00。")
    if errors:
        raise ValidationError(errors)
    return {
        "q": params.get("q", "").replace("\x00", "").strip()[:100],
        "kind": kind or "",
        "status": status or "",
        "category_id": category_id,
        "updated_since": updated_since,
    }


@extend_schema_view(
    get=extend_schema(
        tags=["素材"],
        summary="素材列表",
        parameters=[
            OpenApiParameter("kind", enum=Material.Kind.values, description="素材类型"),
            OpenApiParameter(
                "category", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description="分类 id（含子分类）"
            ),
            OpenApiParameter("status", enum=STATUS_VALUES, description="状态；sendable=导购当前可发送，expired=已过期"),
            OpenApiParameter("q", str, description="搜索标题、内容、关键词"),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="只返回此时间之后更新的素材（增量同步）"
            ),
        ],
    )
)
class MaterialListView(generics.ListAPIView):
    serializer_class = MaterialSerializer
    pagination_class = MaterialCursorPagination

    def get_queryset(self):
        return selectors.material_list(**_filters(self.request.query_params))


@extend_schema_view(get=extend_schema(tags=["素材"], summary="素材详情"))
class MaterialDetailView(generics.RetrieveAPIView):
    serializer_class = MaterialSerializer
    queryset = Material.objects.select_related("category").prefetch_related("audience_tags")


material_list = MaterialListView.as_view()
material_detail = MaterialDetailView.as_view()
