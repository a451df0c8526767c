"""The simulator's Django admin pages open for an admin."""

import pytest
from django.urls import reverse

from scrm.wecom.simulator import models, services


@pytest.mark.parametrize(
    "model",
    [models.SimMember, models.SimFollowUser, models.SimTagGroup, models.SimTransfer, models.SimChatMessage],
)
def test_changelists_open(admin_client, model):
    services.follow_add(userid="guide_a", external_userid="wmC1")
    services.tag_group_add(name="兴趣", tags=["口红"])

    url = reverse(f"admin:wecom_sim_{model._meta.model_name}_changelist")

    assert admin_client.get(url).status_code == 200
