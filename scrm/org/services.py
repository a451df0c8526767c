"""Writes about staff: the Django user a WeCom member signs in with."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from scrm.org.models import Staff


def staff_user_ensure(*, staff: Staff) -> AbstractBaseUser:
    """The Django user of `staff`, created and linked on first sign-in; safe to call concurrently."""
    if staff.user_id:
        return staff.user
    User = get_user_model()
    with transaction.atomic():
        # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
        locked = Staff.objects.select_for_update().get(pk=staff.pk)
        if locked.user_id:  # another request linked it while we waited
            staff.user = locked.user
            return staff.user
        # WeCom userids are unique in the corp; prefixing keeps them apart from console accounts.
        user, created = User.objects.get_or_create(username=f"wecom:{staff.userid}")
        if created:
            user.set_unusable_password()
            user.first_name = staff.name[:150]
            user.save(update_fields=["password", "first_name"])
        locked.user = user
        locked.save(update_fields=["user", "updated_at"])
    staff.user = user
    return user
