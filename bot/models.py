"""The bot's own state, kept in the database so it survives restarts and is
shared by every process that serves the webhook.

Most conversation state travels inside the buttons (compact, re-checked on
the server). What cannot — "the next text this admin types is the reason
for rejecting booking 42" — is a PendingInput row.
"""

from django.conf import settings
from django.db import models


class PendingInput(models.Model):
    """The bot asked a user to type something; their next text in that chat answers it."""

    class Kind(models.TextChoices):
        REJECT_REASON = "reject_reason"
        TIME_ZONE = "time_zone"
        ACCESS_REASON = "access_reason"  # why the user asks for access (subject: the resource)
        ACCESS_REJECT_REASON = "access_reject_reason"  # an admin's reason (subject: the access request)
        PROBLEM_REPORT = "problem_report"  # a report about a resource (subject: the resource)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    chat_id = models.BigIntegerField()
    kind = models.CharField(max_length=32, choices=Kind.choices)
    booking_id = models.BigIntegerField(null=True, blank=True)
    # What a question that is not about a booking is about (its kind says what this id names).
    subject_id = models.BigIntegerField(null=True, blank=True)
    # The message that asked, so the answer can edit it to say what happened.
    prompt_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One question at a time per person and chat: asking again replaces it.
            models.UniqueConstraint(fields=["user", "chat_id"], name="pending_input_one_per_user_chat"),
        ]

    def __str__(self):
        return f"{self.kind} from user {self.user_id} in chat {self.chat_id}"


class ProcessedUpdate(models.Model):
    """A webhook update already accepted: Telegram redelivers when unsure, we handle it once.

    The primary key is the update id, so two processes receiving the same
    update race on one INSERT and exactly one wins.
    """

    update_id = models.BigIntegerField(primary_key=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return str(self.update_id)
