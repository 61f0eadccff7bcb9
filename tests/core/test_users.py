"""core.services users_set_reachable and user_set_reachable_by_telegram_id: the writes of a user's reachability."""

from core.models import User
from core.services import user_set_reachable_by_telegram_id, users_set_reachable


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


def test_user_set_reachable_by_telegram_id_changes_only_that_account(make_user):
    blocker = make_user(telegram_id=555001, is_reachable=True)
    other = make_user(telegram_id=555002, is_reachable=True)

    assert user_set_reachable_by_telegram_id(telegram_id=555001, reachable=False) == 1
    assert user_set_reachable_by_telegram_id(telegram_id=555001, reachable=False) == 0
    assert user_set_reachable_by_telegram_id(telegram_id=999999, reachable=False) == 0  # a stranger: nothing

    assert dict(User.objects.values_list("pk", "is_reachable")) == {blocker.pk: False, other.pk: True}
