"""Message texts, rendered at send time in the recipient's language and time zone.

`render(notification)` gives the Message to send, or None when the
notification is no longer relevant (a reminder for a booking cancelled
meanwhile, an approval request someone already answered). Everything that
comes from users (resource names, notes, reasons) is HTML-escaped, since
messages go out with parse_mode=HTML.
"""

import math
from datetime import datetime
from html import escape

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import get_supported_language_variant, ngettext
from django.utils.translation import gettext as _

from bookings import formats
from bookings import series as booking_series
from bookings.models import LIVE_STATUSES, AccessRequest, AccessRequestStatus, BookingStatus, ResourceKind
from core.telegram_html import MAX_MESSAGE, fit_html
from notifications import keyboards
from notifications.models import NotificationKind
from notifications.sender import Message

MAX_CAPTION = 1024


def render(notification, *, now=None):
    """The Message for `notification` (booking, resource and user loaded), or None if stale."""
    now = now or timezone.now()
    recipient = notification.user
    language = _language_of(recipient)
    zone = recipient.zone if recipient else timezone.get_default_timezone()
    with translation.override(language), timezone.override(zone):
        rendered = _RENDERERS[notification.kind](notification, now)
    if rendered is None:
        return None
    text, markup = rendered
    photo = (notification.payload or {}).get("photo") or ""
    # A photo's caption holds at most 1024 characters.
    limit = MAX_CAPTION if photo else MAX_MESSAGE
    return Message(chat_id=notification.chat_id, text=fit_html(text, limit), reply_markup=markup, photo=photo)


def render_digest(notifications, *, limit=MAX_MESSAGE):
    """One admin message listing several alerts, in the site's language and zone."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(timezone.get_default_timezone()):
        header = ngettext("⚠️ %(count)d alert:", "⚠️ %(count)d alerts:", len(notifications)) % {
            "count": len(notifications)
        }
        lines = [header]
        used = len(header)
        for position, notification in enumerate(notifications):
            line = "• " + _digest_line(notification)
            left = len(notifications) - position
            more = "\n" + ngettext(
                "…and %(count)d more (see the admin).", "…and %(count)d more (see the admin).", left
            ) % {"count": left}
            if used + 1 + len(line) + len(more) > limit:
                lines.append(more.strip())
                break
            lines.append(line)
            used += 1 + len(line)
        return "\n".join(lines)


def _language_of(user):
    code = (user.language_code if user else "") or settings.LANGUAGE_CODE
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return settings.LANGUAGE_CODE


def _time(moment):
    return formats.clock(moment, timezone.get_current_timezone())


def _when(booking):
    """'Mon 3 Jun, 09:00–10:00' in the active language and zone (bookings.formats, as the bot writes it)."""
    return formats.booking_span(booking.start, booking.end, timezone.get_current_timezone())


def _resource(booking):
    return f"<b>{escape(booking.resource.name)}</b>"


def _reason_line(notification):
    reason = (notification.payload or {}).get("reason", "")
    return "\n" + _("Reason: %(reason)s") % {"reason": escape(reason)} if reason else ""


def _is(booking, status):
    return booking.status == status


# --- Messages to the booking's user ---------------------------------------------


def _confirmed(notification, now):
    booking = notification.booking
    text = _("✅ Booked: %(resource)s, %(when)s.") % {"resource": _resource(booking), "when": _when(booking)}
    if booking.check_in_deadline:
        text += "\n" + _("Please check in by %(time)s, or the booking expires and the time is freed.") % {
            "time": _time(booking.check_in_deadline)
        }
    return text, keyboards.for_receipt(booking, now=now)


def _pending(notification, now):
    booking = notification.booking
    text = _("⏳ Your booking of %(resource)s for %(when)s is waiting for an admin's approval.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text, keyboards.for_receipt(booking, now=now)


def _approved(notification, now):
    booking = notification.booking
    text = _("✅ Approved: %(resource)s, %(when)s.") % {"resource": _resource(booking), "when": _when(booking)}
    return text, keyboards.for_receipt(booking, now=now)


def _rejected(notification, now):
    booking = notification.booking
    text = _("❌ Your booking of %(resource)s for %(when)s was rejected.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text + _reason_line(notification), None


def _cancelled(notification, now):
    booking = notification.booking
    text = _("🚫 Your booking of %(resource)s for %(when)s is cancelled.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text + _reason_line(notification), None


def _active(notification, now):
    booking = notification.booking
    if booking.resource.kind == ResourceKind.EQUIPMENT:
        text = _("▶️ Your booking of %(resource)s has started. Please return it by %(end)s.")
    else:
        text = _("▶️ Your booking of %(resource)s has started. It ends at %(end)s.")
    text %= {"resource": _resource(booking), "end": _time(booking.end)}
    return text, keyboards.for_owner(booking, now=now)


def _completed(notification, now):
    booking = notification.booking
    return _("🏁 Your booking of %(resource)s is over. Thank you!") % {"resource": _resource(booking)}, None


def _expired(notification, now):
    booking = notification.booking
    text = _(
        "⌛ Your booking of %(resource)s for %(when)s expired: nobody checked in by %(time)s. "
        "The time is free for others again."
    ) % {
        "resource": _resource(booking),
        "when": _when(booking),
        "time": _time(booking.check_in_deadline or booking.start),
    }
    return text, None


def _not_approved(notification, now):
    booking = notification.booking
    text = _("⌛ Your booking of %(resource)s for %(when)s expired: it was not approved before its start.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text, None


def _reminder_start(notification, now):
    booking = notification.booking
    if not _is(booking, BookingStatus.CONFIRMED) or booking.start <= now:
        return None
    minutes = max(1, math.ceil((booking.start - now).total_seconds() / 60))
    text = ngettext(
        "⏰ %(resource)s starts in %(minutes)d min, at %(time)s.",
        "⏰ %(resource)s starts in %(minutes)d min, at %(time)s.",
        minutes,
    ) % {"resource": _resource(booking), "minutes": minutes, "time": _time(booking.start)}
    if booking.check_in_deadline:
        text += "\n" + _("Check in by %(time)s to keep it.") % {"time": _time(booking.check_in_deadline)}
    return text, keyboards.for_owner(booking, now=now)


def _reminder_end(notification, now):
    booking = notification.booking
    if not _is(booking, BookingStatus.ACTIVE) or booking.end <= now:
        return None
    text = _("⏰ Please return %(resource)s by %(time)s.") % {
        "resource": _resource(booking),
        "time": _time(booking.end),
    }
    return text, keyboards.for_ending_owner(booking, now=now)


def _extended(notification, now):
    booking = notification.booking
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.ACTIVE) or booking.end <= now:
        return None
    text = _("⏩ Your booking of %(resource)s is extended: now %(when)s.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text, keyboards.for_owner(booking, now=now)


def _moved(notification, now):
    booking = notification.booking
    if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED) or booking.start <= now:
        return None
    text = _("🔀 Your booking of %(resource)s is moved to %(when)s.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    if booking.status == BookingStatus.PENDING:
        text += "\n" + _("It is waiting for an admin's approval again.")
    return text, keyboards.for_owner(booking, now=now)


# --- Messages to the admin group ---------------------------------------------------


def _who(user):
    """@username or name (User.__str__), escaped."""
    return escape(str(user)) if user else "?"


def _admin_approval(notification, now):
    booking = notification.booking
    if not _is(booking, BookingStatus.PENDING):
        return None
    text = _("🔔 Approval needed: %(resource)s, %(when)s, for %(user)s.") % {
        "resource": _resource(booking),
        "when": _when(booking),
        "user": _who(booking.user),
    }
    if booking.note:
        text += "\n" + _("Note: %(note)s") % {"note": escape(booking.note)}
    return text, keyboards.for_admins(booking, now=now)


def _access_request(notification, status):
    """The access request a row is about, if it still is in `status` (else the row is stale: None)."""
    request_id = (notification.payload or {}).get("access_request_id")
    request = AccessRequest.objects.select_related("user", "resource", "decided_by").filter(pk=request_id).first()
    return request if request is not None and request.status == status else None


def _admin_access_request(notification, now):
    request = _access_request(notification, AccessRequestStatus.PENDING)
    if request is None:
        return None  # decided before its turn came (in the admin, the API or the bot)
    text = _("🔑 Access request #%(id)s: %(user)s asks to book %(resource)s.") % {
        "id": request.pk,
        "user": _who(request.user),
        "resource": f"<b>{escape(request.resource.name)}</b>",
    }
    text += "\n" + _("Why: %(reason)s") % {"reason": escape(request.reason) if request.reason else "—"}
    return text, keyboards.for_access_request(request)


def _access_approved(notification, now):
    request = _access_request(notification, AccessRequestStatus.APPROVED)
    if request is None:
        return None
    text = _("🔑 Access granted: you may now book %(resource)s.") % {
        "resource": f"<b>{escape(request.resource.name)}</b>"
    }
    return text, keyboards.to_resource(request.resource)


def _access_rejected(notification, now):
    request = _access_request(notification, AccessRequestStatus.REJECTED)
    if request is None:
        return None
    text = _("❌ Your request for access to %(resource)s was refused.") % {
        "resource": f"<b>{escape(request.resource.name)}</b>"
    }
    if request.decision_reason:
        text += "\n" + _("Reason: %(reason)s") % {"reason": escape(request.decision_reason)}
    return text, None


def _digest_line(notification):
    booking = notification.booking
    payload = notification.payload or {}
    if notification.kind == NotificationKind.ADMIN_NO_SHOW:
        return _("No-show: %(resource)s, %(when)s, %(user)s") % {
            "resource": _resource(booking),
            "when": _when(booking),
            "user": _who(booking.user),
        }
    if notification.kind == NotificationKind.ADMIN_DELIVERY_FAILED:
        return _("Message not delivered (%(kind)s, booking #%(booking)s): %(error)s") % {
            "kind": escape(payload.get("kind", "")),
            "booking": payload.get("booking_id") or "-",
            "error": escape(payload.get("error", "")[:200]),
        }
    return _("Task failed: %(task)s (%(error)s)") % {
        "task": escape(payload.get("task", "")),
        "error": escape(payload.get("error", "")[:200]),
    }


def _out_of_service(notification, now):
    """To a user with an upcoming booking of a resource an admin took out of service."""
    booking = notification.booking
    if not booking.resource.out_of_service or booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
        return None  # back in service, or the booking is over, before the warning's turn came
    text = _(
        "⚠️ %(resource)s is out of service. Your booking %(when)s cannot be used as planned: "
        "please cancel it or contact the admins."
    ) % {"resource": _resource(booking), "when": _when(booking)}
    return text, keyboards.for_owner(booking, now=now)


# --- Loans: overdue items, suspensions -----------------------------------------------


def _until(payload):
    until = datetime.fromisoformat(payload["until"])
    zone = timezone.get_current_timezone()
    return f"{formats.day_label(until.astimezone(zone).date())}, {formats.clock(until, zone)}"


def _overdue(notification, now):
    booking = notification.booking
    if not _is(booking, BookingStatus.OVERDUE):
        return None
    text = _("⚠️ %(resource)s was due back at %(time)s. Please return it now, and press Returned when you have.") % {
        "resource": _resource(booking),
        "time": _time(booking.end),
    }
    return text, keyboards.for_overdue_owner(booking, now=now)


def _overdue_reminder(notification, now):
    booking = notification.booking
    if not _is(booking, BookingStatus.OVERDUE):
        return None  # returned meanwhile
    text = _("⏰ Reminder: %(resource)s is still not back (due %(when)s). Others are waiting for it.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text, keyboards.for_overdue_owner(booking, now=now)


def _next_may_be_late(notification, now):
    booking = notification.booking
    if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
        return None
    text = _(
        "⚠️ %(resource)s, which you booked for %(when)s, has not been returned by the person before you yet: "
        "it may not be ready on time."
    ) % {"resource": _resource(booking), "when": _when(booking)}
    return text, keyboards.for_owner(booking, now=now)


def _admin_problem(notification, now):
    """A user's problem report (its photo, if any, goes with it as sendPhoto)."""
    payload = notification.payload or {}
    text = _("🛠 Problem reported with %(resource)s by %(user)s:") % {
        "resource": f"<b>{escape(payload.get('resource_name', ''))}</b>",
        "user": escape(payload.get("user", "")),
    }
    text += "\n" + escape(payload.get("text", ""))
    return text, keyboards.for_resource_admins(payload.get("resource_id"))


def _suspended(notification, now):
    text = _(
        "🚫 You may not book until %(until)s: too many late returns or no-shows. An admin can lift this earlier."
    ) % {"until": _until(notification.payload)}
    return text, None


def _suspension_lifted(notification, now):
    return _("✅ Your suspension was lifted: you may book again."), None


def _admin_overdue(notification, now):
    booking = notification.booking
    if not _is(booking, BookingStatus.OVERDUE):
        return None
    text = _("⚠️ Overdue: %(resource)s (%(when)s) is not back. %(user)s has it.") % {
        "resource": _resource(booking),
        "when": _when(booking),
        "user": _who(booking.user),
    }
    return text, keyboards.for_overdue_admins(booking, now=now)


def _admin_suspended(notification, now):
    payload = notification.payload
    text = _("🚫 %(user)s is suspended from booking until %(until)s (strikes: late returns, no-shows).") % {
        "user": escape(payload.get("user", "?")),
        "until": _until(payload),
    }
    return text, keyboards.for_suspension_admins(payload["suspension_id"])


# --- Recurring series: one summary per event ------------------------------------


def _series_lines(bookings):
    return "\n".join(
        f"• {escape(formats.booking_span(b.start, b.end, timezone.get_current_timezone()))}" for b in bookings
    )


def _series_bookings(notification):
    payload = notification.payload or {}
    found = booking_series.series_get(series_id=payload.get("series_id") or 0)
    if found is None:
        return None, []
    wanted = set(payload.get("booking_ids") or ())
    return found, [b for b in found.bookings.all() if b.pk in wanted]


def _series_booked(notification, now):
    found, bookings = _series_bookings(notification)
    if found is None or not bookings:
        return None
    pending = any(b.status == BookingStatus.PENDING for b in bookings)
    template = (
        ngettext(
            "🔁 Series requested: %(count)d occurrence of %(resource)s, waiting for an admin's approval:",
            "🔁 Series requested: %(count)d occurrences of %(resource)s, waiting for an admin's approval:",
            len(bookings),
        )
        if pending
        else ngettext(
            "🔁 Series booked: %(count)d occurrence of %(resource)s:",
            "🔁 Series booked: %(count)d occurrences of %(resource)s:",
            len(bookings),
        )
    )
    text = template % {"count": len(bookings), "resource": f"<b>{escape(found.resource.name)}</b>"}
    return text + "\n" + _series_lines(bookings), None


def _series_cancelled(notification, now):
    found, bookings = _series_bookings(notification)
    if found is None or not bookings:
        return None
    text = ngettext(
        "🚫 %(count)d occurrence of your series of %(resource)s is cancelled:",
        "🚫 %(count)d occurrences of your series of %(resource)s are cancelled:",
        len(bookings),
    ) % {"count": len(bookings), "resource": f"<b>{escape(found.resource.name)}</b>"}
    return text + "\n" + _series_lines(bookings) + _reason_line(notification), None


def _series_ending(notification, now):
    booking = notification.booking
    found = booking_series.series_get(series_id=(notification.payload or {}).get("series_id") or 0)
    if found is None or found.cancelled_at is not None or booking.status not in LIVE_STATUSES:
        return None
    last = booking_series.series_last_live(series=found)
    if last is None or last.pk != booking.pk:
        return None  # extended meanwhile: a later notice is about the new end
    text = _("🔁 Your series of %(resource)s ends soon: its last occurrence is %(when)s.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text, keyboards.for_series_ending(found)


def _waitlist_offer(notification, now):
    booking = notification.booking
    if booking.status != BookingStatus.HELD or booking.held_until is None or booking.held_until <= now:
        return None  # taken, declined or lapsed before its turn came
    text = _("🔔 Free now: %(resource)s, %(when)s. It is held for you until %(time)s: take it?") % {
        "resource": _resource(booking),
        "when": _when(booking),
        "time": _time(booking.held_until),
    }
    if booking.resource.requires_approval:
        text += "\n" + _("Taken, it waits for an admin's approval.")
    return text, keyboards.for_waitlist_offer(booking)


def _waitlist_lapsed(notification, now):
    booking = notification.booking
    text = _("⌛ The offer of %(resource)s for %(when)s was not taken in time: it went to the next person waiting.") % {
        "resource": _resource(booking),
        "when": _when(booking),
    }
    return text, None


_RENDERERS = {
    NotificationKind.CONFIRMED: _confirmed,
    NotificationKind.PENDING: _pending,
    NotificationKind.APPROVED: _approved,
    NotificationKind.REJECTED: _rejected,
    NotificationKind.CANCELLED: _cancelled,
    NotificationKind.ACTIVE: _active,
    NotificationKind.COMPLETED: _completed,
    NotificationKind.EXPIRED: _expired,
    NotificationKind.NOT_APPROVED: _not_approved,
    NotificationKind.REMINDER_START: _reminder_start,
    NotificationKind.REMINDER_END: _reminder_end,
    NotificationKind.ADMIN_APPROVAL: _admin_approval,
    NotificationKind.ADMIN_ACCESS_REQUEST: _admin_access_request,
    NotificationKind.ACCESS_APPROVED: _access_approved,
    NotificationKind.ACCESS_REJECTED: _access_rejected,
    NotificationKind.OUT_OF_SERVICE: _out_of_service,
    NotificationKind.ADMIN_PROBLEM: _admin_problem,
    NotificationKind.OVERDUE: _overdue,
    NotificationKind.OVERDUE_REMINDER: _overdue_reminder,
    NotificationKind.NEXT_MAY_BE_LATE: _next_may_be_late,
    NotificationKind.SUSPENDED: _suspended,
    NotificationKind.SUSPENSION_LIFTED: _suspension_lifted,
    NotificationKind.ADMIN_OVERDUE: _admin_overdue,
    NotificationKind.ADMIN_SUSPENDED: _admin_suspended,
    NotificationKind.SERIES_BOOKED: _series_booked,
    NotificationKind.SERIES_CANCELLED: _series_cancelled,
    NotificationKind.SERIES_ENDING: _series_ending,
    NotificationKind.EXTENDED: _extended,
    NotificationKind.MOVED: _moved,
    NotificationKind.WAITLIST_OFFER: _waitlist_offer,
    NotificationKind.WAITLIST_LAPSED: _waitlist_lapsed,
}
