"""Tables of the WeCom simulator (dev and tests only): a tiny copy of WeCom's server state."""

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MEDIA_TTL = dt.timedelta(days=3)
TOKEN_TTL_SECONDS = 7200
OAUTH_CODE_TTL = dt.timedelta(minutes=5)
WELCOME_CODE_TTL = dt.timedelta(seconds=20)


class SimMember(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("在职")
        DEPARTED = "departed", _("离职")

    userid = models.CharField(_("成员 userid"), max_length=64, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    department = models.JSONField(_("部门"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    avatar = models.URLField(_("头像"), max_length=500, blank=True)
    departed_at = models.DateTimeField(_("离职时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟成员")
        verbose_name_plural = _("模拟成员")
        ordering = ["userid"]

    def __str__(self) -> str:
        return f"{self.name} ({self.userid})"


class SimExternalContact(models.Model):
    external_userid = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    avatar = models.URLField(_("头像"), max_length=500, blank=True)
    type = models.PositiveSmallIntegerField(_("类型"), default=1)  # 1 WeChat, 2 WeCom
    gender = models.PositiveSmallIntegerField(_("性别"), default=0)
    unionid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟客户")
        verbose_name_plural = _("模拟客户")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_userid})"


class SimFollowUser(models.Model):
    """A member ↔ external contact friendship, with the member's remark and tags."""

    member = models.ForeignKey(SimMember, on_delete=models.CASCADE, related_name="follows")
    contact = models.ForeignKey(SimExternalContact, on_delete=models.CASCADE, related_name="follows")
    remark = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=255, blank=True)
    createtime = models.PositiveBigIntegerField(default=0)  # unix seconds, as WeCom answers
    tags = models.JSONField(default=list, blank=True)  # tag_ids
    remark_mobiles = models.JSONField(default=list, blank=True)
    add_way = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=64, blank=True)
    oper_userid = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("模拟好友关系")
        verbose_name_plural = _("模拟好友关系")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["member", "contact"], name="simfollow_unique")]

    def __str__(self) -> str:
        return f"{self.member_id}→{self.contact_id}"


class SimTagGroup(models.Model):
    group_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("标签组"), max_length=50)
    order = models.PositiveBigIntegerField(default=0)
    create_time = models.PositiveBigIntegerField(default=0)
    deleted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("模拟标签组")
        verbose_name_plural = _("模拟标签组")
        ordering = ["-order", "id"]

    def __str__(self) -> str:
        return self.name


class SimTag(models.Model):
    group = models.ForeignKey(SimTagGroup, on_delete=models.CASCADE, related_name="tags")
    tag_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("标签"), max_length=50)
    order = models.PositiveBigIntegerField(default=0)
    create_time = models.PositiveBigIntegerField(default=0)
    deleted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("模拟标签")
        verbose_name_plural = _("模拟标签")
        ordering = ["-order", "id"]

    def __str__(self) -> str:
        return self.name


class SimContactWay(models.Model):
    config_id = models.CharField(max_length=64, unique=True)
    type = models.PositiveSmallIntegerField(default=1)
    scene = models.PositiveSmallIntegerField(default=2)
    style = models.PositiveSmallIntegerField(null=True, blank=True)
    remark = models.CharField(max_length=30, blank=True)
    skip_verify = models.BooleanField(default=True)
    state = models.CharField(max_length=30, blank=True)
    user = models.JSONField(default=list, blank=True)
    party = models.JSONField(default=list, blank=True)
    qr_code = models.URLField(max_length=500, blank=True)
    # Scans so far: a multi-person code hands customers to its members in turn.
    scans = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟联系我")
        verbose_name_plural = _("模拟联系我")

    def __str__(self) -> str:
        return self.config_id


class SimMedia(models.Model):
    media_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=16)
    filename = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("模拟临时素材")
        verbose_name_plural = _("模拟临时素材")

    def __str__(self) -> str:
        return self.media_id

    @property
    def expired(self) -> bool:
        return self.created_at + MEDIA_TTL <= timezone.now()


class SecretKind(models.TextChoices):
    APP = "app", _("自建应用")
    CONTACT = "contact", _("客户联系")


class SimAccessToken(models.Model):
    token = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=16, choices=SecretKind.choices)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟 access_token")
        verbose_name_plural = _("模拟 access_token")

    def __str__(self) -> str:
        return f"{self.kind}:{self.token[:8]}"


class SimTicket(models.Model):
    class Kind(models.TextChoices):
        JSAPI = "jsapi", "jsapi"
        AGENT = "agent_config", "agent_config"

    ticket = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟 JS-SDK ticket")
        verbose_name_plural = _("模拟 JS-SDK ticket")

    def __str__(self) -> str:
        return f"{self.kind}:{self.ticket[:8]}"


class SimOAuthCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    userid = models.CharField(max_length=64, blank=True)
    # Set instead of userid for someone outside the corp.
    openid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("模拟 OAuth code")
        verbose_name_plural = _("模拟 OAuth code")

    def __str__(self) -> str:
        return self.code


class SimWelcomeCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    userid = models.CharField(max_length=64)
    external_userid = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("模拟欢迎语 code")
        verbose_name_plural = _("模拟欢迎语 code")

    def __str__(self) -> str:
        return self.code


class SimTransfer(models.Model):
    class Status(models.IntegerChoices):
        # WeCom's codes for transfer_result.
        SUCCESS = 1, _("接替完毕")
        WAITING = 2, _("等待接替")
        REFUSED = 3, _("客户拒绝")
        LIMIT = 4, _("接替成员客户达到上限")
        NONE = 5, _("无接替记录")

    handover_userid = models.CharField(max_length=64)
    takeover_userid = models.CharField(max_length=64)
    external_userid = models.CharField(max_length=64)
    resigned = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.WAITING)
    takeover_time = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟客户转接")
        verbose_name_plural = _("模拟客户转接")
        ordering = ["id"]
        indexes = [models.Index(fields=["handover_userid", "takeover_userid"])]

    def __str__(self) -> str:
        return f"{self.handover_userid}→{self.takeover_userid}: {self.external_userid}"


class SimMsgTemplate(models.Model):
    msgid = models.CharField(max_length=64, unique=True)
    chat_type = models.CharField(max_length=16, default="single")
    creator = models.CharField(max_length=64, blank=True)
    create_type = models.PositiveSmallIntegerField(default=0)  # 0 corp, 1 member
    external_userids = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("模拟群发任务")
        verbose_name_plural = _("模拟群发任务")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.msgid


class SimGroupMsgTask(models.Model):
    """One member's part of a group send: 0 not sent, 2 sent (get_groupmsg_task); reminders given."""

    template = models.ForeignKey(SimMsgTemplate, on_delete=models.CASCADE, related_name="tasks")
    userid = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    send_time = models.DateTimeField(null=True, blank=True)
    ignored = models.BooleanField(default=False)
    reminded_at = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("模拟群发成员任务")
        verbose_name_plural = _("模拟群发成员任务")
        constraints = [models.UniqueConstraint(fields=["template", "userid"], name="simgroupmsgtask_once")]

    def __str__(self) -> str:
        return f"{self.template_id}:{self.userid}"


class SimGroupMsgResult(models.Model):
    """One customer's result (get_groupmsg_send_result): 0 not sent, 1 sent, 2 not a friend, 3 over limit."""

    template = models.ForeignKey(SimMsgTemplate, on_delete=models.CASCADE, related_name="results")
    userid = models.CharField(max_length=64)
    external_userid = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    send_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("模拟群发客户结果")
        verbose_name_plural = _("模拟群发客户结果")
        indexes = [models.Index(fields=["external_userid", "status"], name="simgroupmsgresult_ext")]

    def __str__(self) -> str:
        return f"{self.template_id}:{self.external_userid}"


class SimSentMessage(models.Model):
    """An app message (message/send) to members."""

    touser = models.JSONField(default=list)
    agentid = models.CharField(max_length=32)
    msgtype = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟应用消息")
        verbose_name_plural = _("模拟应用消息")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.msgtype} → {self.touser}"


class SimChatMessage(models.Model):
    """One message of the simulated chat between a member and a customer (/dev/chat)."""

    class Direction(models.TextChoices):
        IN = "in", _("客户发来")
        OUT = "out", _("导购发出")

    userid = models.CharField(max_length=64)
    external_userid = models.CharField(max_length=64)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    msgtype = models.CharField(max_length=32, default="text")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("模拟聊天消息")
        verbose_name_plural = _("模拟聊天消息")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["userid", "external_userid", "created_at"], name="simchat_conversation")]

    def __str__(self) -> str:
        return f"{self.userid}/{self.external_userid} {self.direction} {self.msgtype}"


class SimFault(models.Model):
    """Answer the next `remaining` calls of `path` with `errcode` (test control)."""

    path = models.CharField(max_length=100)
    errcode = models.IntegerField()
    errmsg = models.CharField(max_length=200, blank=True)
    remaining = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("模拟故障注入")
        verbose_name_plural = _("模拟故障注入")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.path}: {self.errcode} ×{self.remaining}"
