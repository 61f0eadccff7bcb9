"""Reads and writes of the bot's database state (bot.models).

Synchronous functions; async handlers call them through bot.sync.db.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from bot.models import PendingInput, ProcessedUpdate

# A question the user never answered stops capturing their texts after this.
PENDING_INPUT_TTL = timedelta(hours=1)
# Telegram gives up redelivering an update within a day.
PROCESSED_UPDATE_TTL = timedelta(days=1)
_PRUNE_EVERY = 200


def pending_input_ask(*, user, chat_id, kind, booking_id=None, subject_id=None, prompt_message_id=None):
    """Remember that the next text from `user` in `chat_id` answers a question of `kind`."""
    PendingInput.objects.update_or_create(
        user=user,
        chat_id=chat_id,
        defaults={
            "kind": kind,
            "booking_id": booking_id,
            "subject_id": subject_id,
            "prompt_message_id": prompt_message_id,
            "created_at": timezone.now(),
        },
    )


def pending_input_take(*, user, chat_id, kind=None):
    """The open question of `user` in `chat_id`, removed so it is answered once; or None.

    With `kind`, only a question of that kind is taken (a photo answers a problem report,
    not an open time-zone question, which stays open)."""
    with transaction.atomic():
        pending = (
            PendingInput.objects.select_for_update()
            .filter(user=user, chat_id=chat_id, created_at__gt=timezone.now() - PENDING_INPUT_TTL)
            .first()
        )
        if kind is not None and pending is not None and pending.kind != kind:
            return None
        PendingInput.objects.filter(user=user, chat_id=chat_id).delete()
    return pending


def update_first_seen(update_id):
    """True the first time an update id arrives, False for a redelivery (in any process)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            ProcessedUpdate.objects.create(update_id=update_id, received_at=now)
    except IntegrityError:
        return False
    if update_id % _PRUNE_EVERY == 0:
        ProcessedUpdate.objects.filter(received_at__lt=now - PROCESSED_UPDATE_TTL).delete()
    return True
