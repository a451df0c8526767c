"""The integrator's guide at the top of the schema (and so of /api/v1/docs/), written from the code's own
vocabularies so it cannot drift from what the API accepts."""

import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from scrm.api.events import EVENT_KINDS, MAX_BATCH
from scrm.customers.events import Channel, EventKind
from scrm.customers.ingest import event_default_title
from scrm.customers.models import IdentityKind

# One example payload per event kind brand systems may push; the timeline title is built from it.
EVENT_EXAMPLES = {
    EventKind.FRIEND_ADDED: ("wecom", {"staff_userid": "sh001g01"}),
    EventKind.FRIEND_EDITED: ("wecom", {"remark": "王小姐（敏感肌）"}),
    EventKind.FRIEND_DELETED_BY_CUSTOMER: ("wecom", {}),
    EventKind.FRIEND_DELETED_BY_STAFF: ("wecom", {}),
    EventKind.TRANSFER: ("wecom", {"from": "sh001g01", "to": "sh001g02"}),
    EventKind.TRANSFER_FAILED: ("wecom", {"reason": "客户拒绝"}),
    EventKind.CHAT_MESSAGE: ("wecom", {"text": "这款有小样吗？"}),
    EventKind.NOTE: ("pos", {"body": "到店试用了精华，下周再来"}),
    EventKind.TAG_ADDED: ("mp", {"tag": "敏感肌"}),
    EventKind.TAG_REMOVED: ("mp", {"tag": "孕期"}),
    EventKind.MATERIAL_SENT: ("mp", {"title": "秋冬护肤指南"}),
    EventKind.COUPON_SENT: ("mp", {"coupon": "满300减50"}),
    EventKind.FOLLOW_OA: ("oa", {"account": "兰亭美妆"}),
    EventKind.UNFOLLOW_OA: ("oa", {"account": "兰亭美妆"}),
    EventKind.OA_ARTICLE_READ: ("oa", {"article": "秋冬护肤指南"}),
    EventKind.MP_VISIT: ("mp", {"page": "会员中心"}),
    EventKind.MP_PRODUCT_VIEW: ("mp", {"product": "修护精华液 30ml", "sku": "SKU001"}),
    EventKind.ADD_TO_CART: ("mp", {"product": "修护精华液 30ml", "sku": "SKU001", "quantity": 1}),
    EventKind.STORE_VISIT: ("pos", {"store_code": "sh001"}),
    EventKind.TASK_DONE: ("system", {"task": "双十二回访"}),
}

CHANGELOG = """\
| 版本 | 日期 | 变更 |
| --- | --- | --- |
| 1.0.0 | 2026-12-05 | 首个稳定版：所有错误统一为 `{code, message, errors}`；业务规则错误改为 422；\
请求字段严格按类型校验（金额为字符串，数量为整数）；schema 写明所有约束与错误状态码；按密钥限流。 |
"""


def _identity_rows() -> str:
    rows = [f"| `{kind}` | {label} |" for kind, label in IdentityKind.choices]
    return "\n".join(["| 类型 | 说明 |", "| --- | --- |", *rows])


def _event_rows() -> str:
    rows = ["| 类型 | 含义 | 时间线标题示例 | 示例 |", "| --- | --- | --- | --- |"]
    for kind in EVENT_KINDS:
        channel, payload = EVENT_EXAMPLES.get(kind, ("mp", {}))
        example = json.dumps({"kind": kind, "channel": channel, "payload": payload}, ensure_ascii=False)
        title = event_default_title(kind=kind, payload=payload)
        rows.append(f"| `{kind}` | {EventKind(kind).label} | {title} | `{example}` |")
    return "\n".join(rows)


def api_guide() -> str:
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"]
    channels = "、".join(f"`{value}`（{label}）" for value, label in Channel.choices)
    return f"""\
品牌方系统（小程序、公众号、POS、电商中台、BI）与导购侧边栏之间的接口。所有请求和响应都是 JSON（UTF-8）。

## 认证
每个请求带 `Authorization: Api-Key <密钥>`。密钥由管理员用 `python manage.py api_key_create <名称> --scope read|write`
生成，只显示一次；只读（read）密钥只能 GET，读写（write）密钥还能 POST / PUT。停用的密钥立即失效（401）。
管理员登录后台后，在浏览器里也可直接调用和查看本文档。

## 限流
每个密钥 {rate}（环境变量 `API_RATE_LIMIT`）。超过时返回 429，`Retry-After` 响应头给出需要等待的秒数。
批量接口每批最多 {MAX_BATCH} 条事件，一批只算一次请求。

## 幂等与重试
所有写入都是幂等的：超时或网络错误后可以原样重试，不会重复记录。
- 事件：`source` + 每条的 `id` 是幂等键，重复推送返回 `duplicate`。同一批里合法的条目会保存，错误的逐条说明，修正后只重发出错的条目。
- 订单：`PUT /orders/{{channel}}/{{order_no}}` 整体写入；状态只前进（paid → shipped → completed → partially_refunded → refunded），
  退款金额只增不减，迟到的旧状态不会覆盖新状态。
- 商品：`PUT /products/{{sku}}` 整体替换。
- 识别客户：同样的身份重复提交得到同一个客户。

## 错误
所有错误（包括 404、405、415、429、500）都是同一个结构：
`{{"code": "invalid", "message": "identities.phone：请填写 11 位中国大陆手机号。", "errors": [{{"field": "identities.phone", "code": "invalid", "message": "…"}}]}}`
- **400** 请求不符合本文档的定义（类型、格式、长度、枚举、必填）。
- **422** 格式正确，但业务规则不允许：门店编码或导购不存在、退款大于实付、状态与退款不一致、占位值身份、时间早于 2000 年或晚于明天、新订单缺少身份。
- `errors[].field` 用点连接嵌套字段（`lines.0.unit_price`、`events.3.identities.phone`），`errors[].code` 供程序判断，`message` 是中文说明。

## 身份类型与手机号
{_identity_rows()}

- 身份值去掉首尾空白和零宽字符，全角转半角；大小写保留（openid、unionid 区分大小写）。
- 身份值至少包含一个字母、1–9 的数字或汉字（`0`、`-` 之类不符合格式，400）；`null`、`undefined`、`未知` 之类的占位值一律拒绝（422）。不要用它们代替“没有”，没有就不传该字段。
- 手机号只接受中国大陆手机号（可带 `+86`、空格、短横线）。系统只保存带密钥的哈希和打码值（138****8000），任何接口都不会返回明文。
- 身份的强度：
  - **专属身份**（`unionid`、`wecom_external_userid`、`oa_openid`、`mp_openid`；本品牌各接入一个公众号、一个小程序）：一个人每类最多一个值。
    会让一个客户有两个同类不同值的合并一律拒绝：两边保持独立，冲突记录给管理员审核，识别接口返回 `outcome: "conflict"`。
  - **账号身份**（`tmall`、`jd`、`youzan`、`pos_member`）：一个账号就是一个人，可以合并客户（不冲突时）。
  - **共享身份**（`phone`）：家人可能共用一个手机号。由 `IDENTITY_PHONE_POLICY` 决定：`verified`（默认）——任一边的手机号已验证
    （请求里 `"verified": ["phone"]`，手机号来自微信手机号授权或短信验证码）才合并，否则只生成“可能是同一人”的合并建议
    （`outcome: "suggested"`），由导购或管理员确认；`strict`——手机号只生成建议；`merge`——手机号直接合并（以手机号为 OneID 的品牌）。
    同一手机号出现在专属身份冲突的两个人身上时，标记为共用，不再用于合并。
- 一次提交的多个身份分属不同客户且不冲突时，系统把他们合并为一个客户（最早的保留），每次合并都记录依据，可以撤销；
  撤销过的两人被记为“不是同一人”，同样的证据不会再合并他们。已合并客户的旧 id 仍可查询，返回合并后的客户并带 `merged_into`。

## 事件类型
渠道：{channels}。订单相关事件（下单、发货、退款）请用订单接口，合并事件由系统产生，均不能作为事件推送。

{_event_rows()}

## 版本规则
- 路径中的 `v1` 是主版本。v1 之内只做**增加**：新接口、新的可选请求字段、新的响应字段、响应枚举的新取值、新的错误码。
  客户端应忽略不认识的响应字段，并容忍新的枚举值和错误码。
- 删除或改名字段、改变类型、收紧校验、改变状态码含义都属于不兼容变更，只会出现在 `v2`。
- `v2` 会以 `/api/v2/` 与 v1 并存；v1 在 v2 发布后至少保留 12 个月，期间响应带 `Deprecation` 和 `Sunset` 头。
- `info.version` 按语义化版本递增，变更记录见下表。

## 更新记录
{CHANGELOG}"""


def describe(result, generator, request, public):
    """Postprocessing hook: the guide as the schema's description."""
    result.setdefault("info", {})["description"] = api_guide()
    return result


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI over the schema; a person who is not signed in is sent to the admin login first."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path(), "/admin/login/")
        return super().handle_exception(exc)
