"""Data migrations of the customers app, run against today's models."""

import importlib

from django.apps import apps

from scrm.customers.events import EventKind
from tests.factories import EventFactory, FollowRelationFactory

mask_remark_mobiles = importlib.import_module("scrm.customers.migrations.0003_mask_remark_mobiles").mask


def test_remark_mobiles_stored_in_clear_are_masked(db):
    clear = FollowRelationFactory(remark_mobiles=["13800138000", "+86 139 0013 9000"])
    untouched = FollowRelationFactory(remark_mobiles=[])
    edit = EventFactory(kind=EventKind.FRIEND_EDITED, payload={"changes": {"remark_mobiles": ["13800138000"]}})
    other = EventFactory(kind=EventKind.FRIEND_EDITED, payload={"changes": {"remark": "王姐"}})

    mask_remark_mobiles(apps, None)
    mask_remark_mobiles(apps, None)  # a second run leaves masked values as they are

    clear.refresh_from_db()
    edit.refresh_from_db()
    other.refresh_from_db()
    untouched.refresh_from_db()
    assert clear.remark_mobiles == ["138****8000", "139****9000"]
    assert edit.payload["changes"]["remark_mobiles"] == ["138****8000"]
    assert other.payload == {"changes": {"remark": "王姐"}}
    assert untouched.remark_mobiles == []
