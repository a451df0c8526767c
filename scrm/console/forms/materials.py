"""Material library forms: a material of each kind, the list filter, categories, bulk upload."""

from django import forms
from django.forms.models import ModelChoiceIterator, ModelChoiceIteratorValue
from django.utils.translation import gettext_lazy as _

from scrm.console.forms.common import DateTimeLocalInput
from scrm.customers.models import LifecycleStage, Tag
from scrm.materials.models import Material, MaterialCategory
from scrm.materials.placeholders import PLACEHOLDERS
from scrm.materials.selectors import SORTS, STATUS_EXPIRED, STATUS_SENDABLE, category_tree
from scrm.materials.services import mp_appid_error, mp_page_error
from scrm.materials.validation import check_image, check_upload


class _TreeIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for node in category_tree():
            yield (ModelChoiceIteratorValue(node.category.pk, node.category), node.label)


class CategoryChoiceField(forms.ModelChoiceField):
    """Categories in tree order, indented by depth (built when rendered, one query)."""

    iterator = _TreeIterator

    def __init__(self, **kwargs):
        kwargs.setdefault("empty_label", "—")
        super().__init__(queryset=MaterialCategory.objects.all(), **kwargs)


# Fields each kind shows; everything else is dropped from the form.
KIND_FIELDS = {
    Material.Kind.TEXT: ["content"],
    Material.Kind.IMAGE: ["file"],
    Material.Kind.VIDEO: ["file", "cover"],
    Material.Kind.FILE: ["file"],
    Material.Kind.LINK: ["link_url", "content", "cover"],
    Material.Kind.MINIPROGRAM: ["mp_appid", "mp_page", "cover"],
}
COMMON_FIELDS = ["title", "category", "keywords", "audience_tags", "audience_stages", "valid_from", "valid_until"]
FILE_ACCEPT = {
    Material.Kind.IMAGE: "image/jpeg,image/png,image/gif,image/webp",
    Material.Kind.VIDEO: "video/mp4",
    Material.Kind.FILE: ".pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx",
}


# Longer scripts cannot go out as one WeCom text message, so refuse them when they are written.
CONTENT_MAX_CHARS = 2000


class GroupedTagLabels:
    """Tag choices read 「组名 · 标签名」, grouped by tag group in WeCom's order."""

    def label_from_instance(self, obj):
        return f"{obj.group.name} · {obj.name}"


def tag_choices():
    return (
        Tag.objects.filter(deleted=False).select_related("group").order_by("-group__order", "group_id", "-order", "id")
    )


class TagMultipleChoiceField(GroupedTagLabels, forms.ModelMultipleChoiceField):
    pass


class TagChoiceField(GroupedTagLabels, forms.ModelChoiceField):
    pass


class MaterialForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100)
    content = forms.CharField(
        label=_("话术内容"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=CONTENT_MAX_CHARS,
        error_messages={
            "max_length": _("内容最多 %(limit_value)d 字（企业微信单条消息的上限），当前 %(show_value)d 字。")
        },
    )
    file = forms.FileField(label=_("文件"), required=False)
    link_url = forms.URLField(label=_("链接地址"), max_length=500, required=False, assume_scheme="https")
    cover = forms.FileField(
        label=_("封面图"), required=False, widget=forms.ClearableFileInput(attrs={"accept": FILE_ACCEPT["image"]})
    )
    mp_appid = forms.CharField(label=_("小程序 appid"), max_length=64, required=False)
    mp_page = forms.CharField(
        label=_("小程序页面路径"),
        max_length=255,
        required=False,
        help_text=_("必须以 .html 结尾，例如 pages/goods/detail.html?id=1"),
    )
    category = CategoryChoiceField(label=_("分类"), required=False)
    keywords = forms.CharField(
        label=_("关键词"), max_length=200, required=False, help_text=_("用空格分隔，便于导购搜索")
    )
    audience_tags = TagMultipleChoiceField(
        label=_("适用客户标签"),
        queryset=tag_choices(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    audience_stages = forms.MultipleChoiceField(
        label=_("适用生命周期"), choices=LifecycleStage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    valid_from = forms.DateTimeField(label=_("生效时间"), required=False, widget=DateTimeLocalInput())
    valid_until = forms.DateTimeField(
        label=_("失效时间"), required=False, widget=DateTimeLocalInput(), help_text=_("过期后导购不能再发送")
    )

    def __init__(self, *args, kind: str, material: Material | None = None, **kwargs):
        if material is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(material, name) for name in COMMON_FIELDS if name != "audience_tags"},
                "category": material.category_id,
                "audience_tags": list(material.audience_tags.all()),
                **{name: getattr(material, name) for name in KIND_FIELDS[kind] if name not in ("file", "cover")},
            }
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.material = material
        keep = set(COMMON_FIELDS) | set(KIND_FIELDS[kind])
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "file" in self.fields:
            self.fields["file"].required = material is None or not material.file
            self.fields["file"].widget.attrs["accept"] = FILE_ACCEPT[kind]
            self.fields["file"].help_text = {
                Material.Kind.IMAGE: _("JPEG/PNG/GIF/WebP，不超过 10 MB；上传后会去除拍摄信息并重新压缩"),
                Material.Kind.VIDEO: _("MP4，不超过 10 MB（企业微信限制）"),
                Material.Kind.FILE: _("PDF 或 Office 文档，不超过 20 MB"),
            }[kind]
        for name in {Material.Kind.TEXT: ["content"], Material.Kind.LINK: ["link_url"]}.get(kind, []):
            self.fields[name].required = True
        if kind == Material.Kind.MINIPROGRAM:
            self.fields["mp_appid"].required = self.fields["mp_page"].required = True
        if kind == Material.Kind.LINK:
            self.fields["content"].label = _("摘要")
            self.fields["content"].widget.attrs["rows"] = 3
        if kind == Material.Kind.TEXT:
            self.fields["content"].help_text = _("可用占位符：") + "　".join(
                f"{{{name}}}（{desc}）" for name, desc in PLACEHOLDERS.items()
            )
        if "cover" in self.fields and kind == Material.Kind.MINIPROGRAM:
            self.fields["cover"].required = material is None or not material.cover

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        return check_upload(upload, kind=self.kind) if upload else None

    def clean_cover(self):
        upload = self.cleaned_data.get("cover")
        return check_image(upload) if upload else None

    def clean_keywords(self):
        return " ".join(self.cleaned_data.get("keywords", "").split())

    # Checked here too, so every mistake shows on the first submit, not one per round.
    def clean_mp_appid(self):
        appid = self.cleaned_data.get("mp_appid", "")
        if appid and (problem := mp_appid_error(appid)):
            raise forms.ValidationError(problem)
        return appid

    def clean_mp_page(self):
        page = self.cleaned_data.get("mp_page", "")
        if page and (problem := mp_page_error(page)):
            raise forms.ValidationError(problem)
        return page

    def clean(self):
        data = super().clean()
        valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
        if valid_from and valid_until and valid_until <= valid_from:
            self.add_error("valid_until", _("失效时间必须晚于生效时间。"))
        return data

    def service_kwargs(self) -> dict:
        """cleaned_data in the shape material_create / material_update take."""
        data = dict(self.cleaned_data)
        data["upload"] = data.pop("file", None)
        data.setdefault("cover", None)
        data["audience_tags"] = list(data.get("audience_tags") or [])
        return data


class MaterialFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"), required=False, widget=forms.TextInput(attrs={"placeholder": _("标题、内容、关键词")})
    )
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("全部类型")), *Material.Kind.choices], required=False)
    category = CategoryChoiceField(label=_("分类"), required=False, empty_label=_("全部分类"))
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[
            ("", _("全部状态")),
            *Material.Status.choices,
            (STATUS_SENDABLE, _("可发送")),
            (STATUS_EXPIRED, _("已过期")),
        ],
        required=False,
    )
    tag = TagChoiceField(
        label=_("适用标签"),
        queryset=tag_choices(),
        required=False,
        empty_label=_("全部标签"),
    )
    sort = forms.ChoiceField(
        label=_("排序"),
        choices=list(
            zip(SORTS, [_("最近更新"), _("发送次数最多"), _("最近发送"), _("标题")], strict=True),
        ),
        required=False,
    )

    def filters(self) -> dict:
        """Selector kwargs; an invalid value is ignored, the valid ones still filter (a bad bookmark still
        shows the list)."""
        data = {}
        if self.is_bound:
            self.is_valid()  # cleaned_data then holds every field that validated
            data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "kind": data.get("kind") or "",
            "category_id": data["category"].pk if data.get("category") else None,
            "status": data.get("status") or "",
            "tag_id": data["tag"].pk if data.get("tag") else None,
            "sort": data.get("sort") or "updated",
        }


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("分类名称"), max_length=50)
    parent = CategoryChoiceField(label=_("上级分类"), required=False, empty_label=_("（顶级分类）"))


class CategoryRenameForm(forms.Form):
    name = forms.CharField(label=_("新名称"), max_length=50)


class CategoryMoveForm(forms.Form):
    category = CategoryChoiceField(
        label=_("要移动的分类"),
        empty_label=None,
        error_messages={"required": _("请选择要移动的分类。"), "invalid_choice": _("这个分类已不存在，请刷新后重试。")},
    )
    parent = CategoryChoiceField(label=_("移到"), required=False, empty_label=_("（顶级分类）"))


class BulkUploadForm(forms.Form):
    category = CategoryChoiceField(label=_("放入分类"), required=False)
