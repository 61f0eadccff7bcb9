"""The notification outbox: one row per chat message Slotbot owes someone.

A row is written in the same transaction as the change it reports (see
notifications.receivers), keyed by `dedupe_key` so the same notification can
never exist twice, and delivered later by a Celery task. Its `status` is the
delivery's state machine:

    pending ──claim──> sending ──> sent
       ^                  │ 429 / 5xx / network error before the request left
       └──────────────────┤
                          ├──> failed     (gave up, or Telegram refused for good)
                          └──> uncertain  (the request may have reached Telegram,
                                           but no answer came back: not resent)
    pending ──> skipped  (no longer relevant when its turn came, e.g. the
                          booking was cancelled before its reminder)
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NotificationKind(models.TextChoices):
    """What a notification tells; labels carry a context, since bookings' statuses share their words."""

    # To the booking's user.
    CONFIRMED = "confirmed", pgettext_lazy("notification kind", "booking confirmed")
    PENDING = "pending", pgettext_lazy("notification kind", "waiting for approval")
    APPROVED = "approved", pgettext_lazy("notification kind", "approved")
    REJECTED = "rejected", pgettext_lazy("notification kind", "rejected")
    CANCELLED = "cancelled", pgettext_lazy("notification kind", "cancelled")
    ACTIVE = "active", pgettext_lazy("notification kind", "started")
    COMPLETED = "completed", pgettext_lazy("notification kind", "completed")
    EXPIRED = "expired", pgettext_lazy("notification kind", "expired")
    NOT_APPROVED = "not_approved", pgettext_lazy("notification kind", "expired unapproved")
    REMINDER_START = "reminder_start", pgettext_lazy("notification kind", "reminder before start")
    REMINDER_END = "reminder_end", pgettext_lazy("notification kind", "reminder before end")
    ACCESS_APPROVED = "access_approved", pgettext_lazy("notification kind", "access granted")
    ACCESS_REJECTED = "access_rejected", pgettext_lazy("notification kind", "access refused")
    OUT_OF_SERVICE = "out_of_service", pgettext_lazy("notification kind", "resource out of service")
    OVERDUE = "overdue", pgettext_lazy("notification kind", "overdue")
    OVERDUE_REMINDER = "overdue_reminder", pgettext_lazy("notification kind", "overdue reminder")
    NEXT_MAY_BE_LATE = "next_may_be_late", pgettext_lazy("notification kind", "item may be late")
    SUSPENDED = "suspended", pgettext_lazy("notification kind", "suspended")
    SUSPENSION_LIFTED = "suspension_lifted", pgettext_lazy("notification kind", "suspension lifted")
    # Recurring series: one summary per series event, not one per occurrence.
    SERIES_BOOKED = "series_booked", pgettext_lazy("notification kind", "series booked")
    SERIES_CANCELLED = "series_cancelled", pgettext_lazy("notification kind", "series cancelled")
    SERIES_ENDING = "series_ending", pgettext_lazy("notification kind", "series ends soon")
    EXTENDED = "extended", pgettext_lazy("notification kind", "booking extended")
    MOVED = "moved", pgettext_lazy("notification kind", "booking moved")
    # The waitlist (bookings.waitlist): the offer of a freed slot (Take it / No thanks), and its lapse.
    WAITLIST_OFFER = "waitlist_offer", pgettext_lazy("notification kind", "waitlist: slot offered")
    WAITLIST_LAPSED = "waitlist_lapsed", pgettext_lazy("notification kind", "waitlist: offer lapsed")
    # To the admin group.
    ADMIN_PROBLEM = "admin_problem", pgettext_lazy("notification kind", "admin: problem reported")
    ADMIN_APPROVAL = "admin_approval", pgettext_lazy("notification kind", "admin: approval needed")
    ADMIN_NO_SHOW = "admin_no_show", pgettext_lazy("notification kind", "admin: no-show")
    ADMIN_DELIVERY_FAILED = "admin_delivery_failed", pgettext_lazy("notification kind", "admin: delivery failed")
    ADMIN_TASK_FAILED = "admin_task_failed", pgettext_lazy("notification kind", "admin: task failed")
    ADMIN_ACCESS_REQUEST = "admin_access_request", pgettext_lazy("notification kind", "admin: access request")
    ADMIN_OVERDUE = "admin_overdue", pgettext_lazy("notification kind", "admin: overdue")
    ADMIN_SUSPENDED = "admin_suspended", pgettext_lazy("notification kind", "admin: user suspended")


# Admin alerts of these kinds are gathered into one digest message per burst.
DIGEST_KINDS = (
    NotificationKind.ADMIN_NO_SHOW,
    NotificationKind.ADMIN_DELIVERY_FAILED,
    NotificationKind.ADMIN_TASK_FAILED,
)


class NotificationStatus(models.TextChoices):
    """A delivery's state (see the module docstring); labels carry a context, as the kinds' do."""

    PENDING = "pending", pgettext_lazy("notification status", "pending")
    SENDING = "sending", pgettext_lazy("notification status", "sending")
    SENT = "sent", pgettext_lazy("notification status", "sent")
    FAILED = "failed", pgettext_lazy("notification status", "failed")
    UNCERTAIN = "uncertain", pgettext_lazy("notification status", "outcome unknown")
    SKIPPED = "skipped", pgettext_lazy("notification status", "skipped")


OPEN_Q = Q(status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING))


class Notification(models.Model):
    """One chat message to a user (`user`) or to the admin group (`chat_id`, no user)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    chat_id = models.BigIntegerField(
        _("chat id"), help_text=_("The user's private chat, or the admin group for admin alerts.")
    )
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    dedupe_key = models.CharField(_("dedupe key"), max_length=120, unique=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    telegram_message_id = models.BigIntegerField(_("Telegram message id"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Open rows are few however large the table grows: the requeue sweep reads only them.
            models.Index(fields=["status", "next_attempt_at"], condition=OPEN_Q, name="notification_open"),
            models.Index(fields=["status", "kind"], name="notification_status_kind"),
            # "Is an older message to this chat still open?" before each send keeps chats in order.
            models.Index(fields=["chat_id", "id"], condition=OPEN_Q, name="notification_open_chat"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.chat_id} ({self.status})"

    @property
    def is_admin_alert(self):
        return self.user_id is None
