"""core.services.users_set_reachable: the one write of a user's reachability."""

from core.models import User
from core.services import users_set_reachable


def test_users_set_reachable_changes_only_rows_that_differ_and_counts_them(make_user):
    blocked = make_user(is_reachable=True)
    already = make_user(is_reachable=False)
    bystander = make_user(is_reachable=True)

    changed = users_set_reachable(user_ids={blocked.pk, already.pk}, reachable=False)

    assert changed == 1
    assert dict(User.objects.values_list("pk", "is_reachable")) == {
        blocked.pk: False,
        already.pk: False,
        bystander.pk: True,
    }
    assert users_set_reachable(user_ids=iter([blocked.pk]), reachable=True) == 1
