"""Every factory of the suite, in one place."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from scrm.customers.events import Channel, EventKind
from scrm.customers.models import (
    Customer,
    CustomerTag,
    Event,
    FollowRelation,
    Identity,
    IdentityKind,
    Note,
    Order,
    OrderLine,
    Tag,
    TagGroup,
)
from scrm.materials.models import Material, MaterialCategory, MaterialSend
from scrm.org.models import Staff, Store


class StoreFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"测试门店{n}")
    city = "上海"

    class Meta:
        model = Store
        django_get_or_create = ["code"]


class UserFactory(factory.django.DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")

    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]


class StaffFactory(factory.django.DjangoModelFactory):
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..userid"))
    userid = factory.Sequence(lambda n: f"guide{n}")
    name = factory.Sequence(lambda n: f"导购{n}")
    store = factory.SubFactory(StoreFactory)
    role = Staff.Role.GUIDE

    class Meta:
        model = Staff


class CustomerFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"客户{n}")
    store = factory.SubFactory(StoreFactory)

    class Meta:
        model = Customer


class IdentityFactory(factory.django.DjangoModelFactory):
    customer = factory.SubFactory(CustomerFactory)
    kind = IdentityKind.WECOM
    value = factory.Sequence(lambda n: f"wmEXT{n:06d}")

    class Meta:
        model = Identity


class FollowRelationFactory(factory.django.DjangoModelFactory):
    staff = factory.SubFactory(StaffFactory)
    customer = factory.SubFactory(CustomerFactory)
    external_userid = factory.Sequence(lambda n: f"wmEXT{n:06d}")
    added_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))

    class Meta:
        model = FollowRelation
        skip_postgeneration_save = True

    @factory.post_generation
    def identity(self, create, extracted, **kwargs):
        # A followed customer is always known by its external_userid.
        if create:
            Identity.objects.get_or_create(
                kind=IdentityKind.WECOM, value=self.external_userid, defaults={"customer": self.customer}
            )


class TagGroupFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"标签组{n}")
    wecom_group_id = factory.Sequence(lambda n: f"etGROUP{n}")

    class Meta:
        model = TagGroup


class TagFactory(factory.django.DjangoModelFactory):
    group = factory.SubFactory(TagGroupFactory)
    name = factory.Sequence(lambda n: f"标签{n}")
    wecom_tag_id = factory.Sequence(lambda n: f"etTAG{n}")

    class Meta:
        model = Tag


class CustomerTagFactory(factory.django.DjangoModelFactory):
    customer = factory.SubFactory(CustomerFactory)
    tag = factory.SubFactory(TagFactory)

    class Meta:
        model = CustomerTag


class EventFactory(factory.django.DjangoModelFactory):
    customer = factory.SubFactory(CustomerFactory)
    kind = EventKind.MP_PRODUCT_VIEW
    channel = Channel.MP
    occurred_at = factory.LazyFunction(timezone.now)
    title = "浏览了 精华液 30ml"
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")

    class Meta:
        model = Event


class OrderFactory(factory.django.DjangoModelFactory):
    channel = Channel.MP
    order_no = factory.Sequence(lambda n: f"NO{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    paid_at = factory.LazyFunction(timezone.now)
    amount = Decimal("299.00")

    class Meta:
        model = Order


class OrderLineFactory(factory.django.DjangoModelFactory):
    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU{n}")
    name = "修护精华液 30ml"
    unit_price = Decimal("299.00")
    amount = Decimal("299.00")

    class Meta:
        model = OrderLine


class NoteFactory(factory.django.DjangoModelFactory):
    customer = factory.SubFactory(CustomerFactory)
    staff = factory.SubFactory(StaffFactory)
    body = "客户说下周到店试色"

    class Meta:
        model = Note


class MaterialCategoryFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"分类{n}")

    class Meta:
        model = MaterialCategory


class MaterialFactory(factory.django.DjangoModelFactory):
    kind = Material.Kind.TEXT
    title = factory.Sequence(lambda n: f"话术{n}")
    content = "{客户称呼}您好，新品到店啦～"
    status = Material.Status.PUBLISHED
    category = factory.SubFactory(MaterialCategoryFactory)

    class Meta:
        model = Material


class MaterialSendFactory(factory.django.DjangoModelFactory):
    material = factory.SubFactory(MaterialFactory)
    staff = factory.SubFactory(StaffFactory)
    customer = factory.SubFactory(CustomerFactory)
    request_id = factory.Sequence(lambda n: f"req-{n}")
    sent_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = MaterialSend
