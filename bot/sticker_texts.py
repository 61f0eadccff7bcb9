"""The texts of the sticker card (/start r<id>), problem reports and pickup at check-in.

Kept beside bot/texts.py (same rules: translatable, every user- or
admin-supplied string HTML-escaped) so the sticker feature's words are in one place.
"""

from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

UNKNOWN_STICKER = gettext_lazy(
    "This code does not name anything I know: it may be an old sticker. Send /resources to see what there is."
)
REPORT_PROBLEM = gettext_lazy("Report a problem")
ASK_PROBLEM = gettext_lazy(
    "What is wrong? Reply with a short description — you may send a photo with the description as its caption."
)
PROBLEM_SENT = gettext_lazy("Thank you: the admins have your report.")
PHOTO_NEEDS_CAPTION = gettext_lazy("Please add a short description as the photo's caption and send it again.")
OUT_OF_SERVICE = gettext_lazy("⛔ Out of service: it cannot be booked at the moment.")
NOT_FREE_NOW = gettext_lazy("Not free to take right now.")
COPY_CODE = gettext_lazy("Copy the code")
BACK_IN_SERVICE = gettext_lazy("Back in service")


def card_title(resource):
    lines = [f"<b>{escape(resource.name)}</b>"]
    if resource.location:
        lines.append(escape(resource.location))
    if resource.description:
        lines.append(escape(resource.description))
    return "\n".join(lines)


def your_booking(booking_line):
    return _("Your booking: %(booking)s") % {"booking": booking_line}


def book_now(length):
    return _("Book now: %(length)s") % {"length": length}


def free_now_until(clock):
    return _("Free now; the longest you can take it is until %(clock)s.") % {"clock": clock}


def not_permitted(message):
    return _("You cannot use this resource: %(reason)s") % {"reason": escape(message)}


def pickup(resource):
    """What the holder reads at check-in: the pickup instructions and the access code."""
    lines = []
    if resource.pickup_instructions:
        lines.append(_("Pickup: %(instructions)s") % {"instructions": escape(resource.pickup_instructions)})
    if resource.access_code:
        lines.append(_("Access code: <code>%(code)s</code>") % {"code": escape(resource.access_code)})
    return "\n".join(lines)


def marked_out_of_service(name, admin):
    return _("⛔ %(resource)s marked out of service by %(admin)s; the users of its upcoming bookings are told.") % {
        "resource": f"<b>{escape(name)}</b>",
        "admin": escape(str(admin)),
    }


def back_in_service(name, admin):
    return _("✅ %(resource)s is back in service (%(admin)s).") % {
        "resource": f"<b>{escape(name)}</b>",
        "admin": escape(str(admin)),
    }
