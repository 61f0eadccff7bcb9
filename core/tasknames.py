"""The Celery task names, defined once: the tasks register under them, core.celery routes them,
settings' beat schedule runs them and notifications.queue publishes them.

Plain constants, importable from settings before Django is set up.
"""

START_DUE = "bookings.tasks.start_due"
COMPLETE_ENDED = "bookings.tasks.complete_ended"
EXPIRE_NO_SHOWS = "bookings.tasks.expire_no_shows"
EXPIRE_UNAPPROVED = "bookings.tasks.expire_unapproved"
MARK_OVERDUE = "bookings.tasks.mark_overdue"
# The waitlist: offer freed time to the first waiter (on commit of the freeing change), and its sweep.
WAITLIST_OFFER = "bookings.tasks.waitlist_offer"
WAITLIST_SWEEP = "bookings.tasks.waitlist_sweep"

DELIVER = "notifications.tasks.deliver"
FAN_OUT = "notifications.tasks.fan_out"
DELIVER_ADMIN_DIGEST = "notifications.tasks.deliver_admin_digest"
CREATE_REMINDERS = "notifications.tasks.create_reminders"
CREATE_OVERDUE_REMINDERS = "notifications.tasks.create_overdue_reminders"
CREATE_SERIES_ENDING = "notifications.tasks.create_series_ending"
REQUEUE_UNDELIVERED = "notifications.tasks.requeue_undelivered"
# Every notifications task goes to the `notifications` queue (core.celery).
NOTIFICATIONS_PATTERN = "notifications.tasks.*"
