"""Mask the remark mobiles WeCom sync and callbacks stored in clear (relations and edit events)."""

import re

from django.db import migrations

_NON_DIGITS = re.compile(r"\D+")


def _mask(raw) -> str:
    # A frozen copy of scrm.customers.services.phone_mask: migrations must not follow later code.
    digits = _NON_DIGITS.sub("", str(raw or ""))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def _masked(values) -> list:
    return [_mask(v) for v in values or [] if v]


def mask(apps, schema_editor):
    FollowRelation = apps.get_model("customers", "FollowRelation")
    Event = apps.get_model("customers", "Event")
    for relation in FollowRelation.objects.exclude(remark_mobiles=[]).only("remark_mobiles").iterator():
        masked = _masked(relation.remark_mobiles)
        if masked != relation.remark_mobiles:
            FollowRelation.objects.filter(pk=relation.pk).update(remark_mobiles=masked)
    edits = Event.objects.filter(kind="friend_edited", payload__changes__has_key="remark_mobiles")
    for event in edits.only("payload").iterator():
        event.payload["changes"]["remark_mobiles"] = _masked(event.payload["changes"]["remark_mobiles"])
        Event.objects.filter(pk=event.pk).update(payload=event.payload)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_customermerge")]

    operations = [migrations.RunPython(mask, migrations.RunPython.noop)]
