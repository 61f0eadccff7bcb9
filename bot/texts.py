"""Every text the bot shows, in one place, translatable with Django's gettext.

English is the source language; bot/locale/ru holds Russian. Functions here
are called while the reader's language is active (bot.handlers.base does
that), and escape every user- or admin-supplied string for Telegram's HTML
parse mode.
"""

from html import escape

from django.utils.dates import MONTHS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from bookings import formats
from bookings.models import AccessRequestStatus, BookingStatus
from bookings.rules import format_minutes, site_zone
from core.telegram_html import fit_html

MAX_NOTICE = 200  # and on a callback answer

BUTTON_EXPIRED = gettext_lazy("This button has expired.")
APOLOGY = gettext_lazy("Sorry, something went wrong on our side. Please try again in a minute.")
TOO_FAST = gettext_lazy("You are sending messages too fast. Please wait a few seconds.")
ADMINS_ONLY = gettext_lazy("Sorry, this is for admins only.")
UNKNOWN_COMMAND = gettext_lazy("I don't know this command. Send /help to see what I can do.")
STRAY_TEXT = gettext_lazy(
    "I understand commands and buttons. Try /resources, /free, /book or /my — or /help for examples."
)
CHOOSE = gettext_lazy("What would you like to do?")

# --- Commands (setMyCommands) --------------------------------------------------

COMMANDS = (
    ("start", gettext_lazy("Main menu")),
    ("resources", gettext_lazy("Browse equipment and spaces")),
    ("free", gettext_lazy("Find what is free at a given time")),
    ("book", gettext_lazy("Book by typing: /book projector tomorrow 14:00 2h")),
    ("my", gettext_lazy("My bookings: check in, return, cancel")),
    ("settings", gettext_lazy("Language and time zone")),
    ("help", gettext_lazy("What I can do, with examples")),
)
ADMIN_COMMANDS = (
    ("pending", gettext_lazy("Bookings awaiting approval")),
    ("today", gettext_lazy("Today's bookings by resource")),
)

# --- Buttons -------------------------------------------------------------------

BACK = gettext_lazy("« Back")
MENU = gettext_lazy("« Menu")
PREVIOUS = "‹"
NEXT = "›"
MENU_RESOURCES = gettext_lazy("📋 Resources")
MENU_FREE = gettext_lazy("🕐 What is free?")
MENU_MY = gettext_lazy("📅 My bookings")
MENU_SETTINGS = gettext_lazy("⚙️ Settings")
BOOK = gettext_lazy("📅 Book")
CONFIRM = gettext_lazy("✅ Confirm")
ALL_CATEGORIES = gettext_lazy("All")
CHECK_IN = gettext_lazy("✅ Check in")
RETURN_EARLY = gettext_lazy("↩️ Return early")
CANCEL_BOOKING = gettext_lazy("✖️ Cancel booking")
YES_CANCEL = gettext_lazy("Yes, cancel it")
NO_KEEP = gettext_lazy("No, keep it")
APPROVE = gettext_lazy("✅ Approve")
TO_PENDING = gettext_lazy("« Pending list")
REJECT = gettext_lazy("❌ Reject")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
TIME_ZONE_BUTTON = gettext_lazy("🌍 Time zone")
TYPE_TIME_ZONE = gettext_lazy("Type another…")

KIND_LABELS = {
    "equipment": gettext_lazy("Equipment"),
    "space": gettext_lazy("Spaces"),
}


# --- Formatting ----------------------------------------------------------------


def fit(text):
    """Never more than Telegram takes, and still valid HTML; callers paginate, this is the last guard."""
    return fit_html(text)


def notice(text):
    text = str(text)
    return text if len(text) <= MAX_NOTICE else text[: MAX_NOTICE - 1] + "…"


def day_label(day):
    """'Tue 4 Jun' in the reader's language (bookings.formats, as everywhere)."""
    return formats.day_label(day)


def clock(moment, zone):
    return formats.clock(moment, zone)


def when(start, end, zone):
    """'Tue 4 Jun, 14:00–16:00' in the reader's zone, both days when it crosses midnight (bookings.formats)."""
    return formats.booking_span(start, end, zone)


def length(duration):
    return format_minutes(int(duration.total_seconds() // 60))


def month_title(year, month):
    return f"{MONTHS[month]} {year}"


def page_of(page, pages):
    return _("page %(page)s of %(pages)s") % {"page": page + 1, "pages": pages}


def person(user):
    """How a user is named in messages to others (User.__str__: @username or name), escaped."""
    return escape(str(user))


# --- Start and help ------------------------------------------------------------


def greeting(name):
    return _("Hello, %(name)s! I book equipment and spaces for you.") % {"name": escape(name)} + "\n\n" + str(CHOOSE)


def help_text(is_admin):
    text = _(
        "<b>What I can do</b>\n\n"
        "/resources — browse equipment and spaces by kind and category, see the rules, book.\n"
        "/free — availability first: pick a day, a start and a length, see everything free, book with a tap.\n"
        "/book — type it in one go:\n"
        "  <code>/book projector tomorrow 14:00 2h</code>\n"
        "  <code>/book meeting room 2030-06-04 9:30 90m</code>\n"
        "  <code>/book camera 04.06 16:00 1h30m</code>\n"
        "  Dates: today, tomorrow, YYYY-MM-DD, DD.MM. Lengths: 2h, 90m, 1h30m, 1.5h.\n"
        "/my — your bookings: check in, return early, cancel.\n"
        "/settings — language and time zone (all times are shown in yours).\n"
        "/help — this message."
    )
    text += "\n\n" + series_help()
    if is_admin:
        text += "\n\n" + _(
            "<b>Admins</b>\n"
            "/pending — bookings awaiting approval, with Approve and Reject.\n"
            "/today — today's bookings by resource."
        )
    return text


# --- Browsing ------------------------------------------------------------------

CHOOSE_KIND = gettext_lazy("What are you looking for?")
NO_RESOURCES = gettext_lazy("Nothing here yet.")


def choose_category(kind_label):
    return _("<b>%(kind)s</b>: choose a category.") % {"kind": escape(str(kind_label))}


def resource_list_title(kind_label, category, page, pages):
    title = escape(str(kind_label)) + (f" · {escape(category)}" if category else "")
    return f"<b>{title}</b> ({page_of(page, pages)})"


def resource_card(resource, hours_lines):
    lines = [f"<b>{escape(resource.name)}</b>"]
    if resource.category:
        lines.append(f"<i>{escape(resource.category)}</i>")
    if resource.description:
        lines.append(escape(resource.description))
    if resource.location:
        lines.append("📍 " + escape(resource.location))
    lines.append("")
    lines.append(_("<b>Rules</b>"))
    lines.append(
        "• "
        + _("From %(min)s to %(max)s, starting every %(slot)s.")
        % {
            "min": format_minutes(resource.min_duration_minutes),
            "max": format_minutes(resource.max_duration_minutes),
            "slot": format_minutes(resource.slot_minutes),
        }
    )
    lines.append("• " + (_("Needs an admin's approval.") if resource.requires_approval else _("Confirmed at once.")))
    if resource.requires_check_in:
        lines.append(
            "• "
            + _("Check in from %(opens)s before the start; without check-in %(grace)s after the start it is released.")
            % {
                "opens": format_minutes(resource.check_in_opens_minutes),
                "grace": format_minutes(resource.check_in_grace_minutes),
            }
        )
    advance = ngettext(
        "Bookable up to %(days)s day ahead.", "Bookable up to %(days)s days ahead.", resource.max_advance_days
    ) % {"days": resource.max_advance_days}
    if resource.min_notice_minutes:
        advance += " " + _("Book at least %(notice)s in advance.") % {
            "notice": format_minutes(resource.min_notice_minutes)
        }
    lines.append("• " + advance)
    if resource.buffer_minutes:
        lines.append(
            "• " + _("%(buffer)s kept free after each booking.") % {"buffer": format_minutes(resource.buffer_minutes)}
        )
    lines.append(
        "• "
        + (_("Open: %(hours)s") % {"hours": "; ".join(hours_lines)} if hours_lines else _("Open around the clock."))
    )
    return "\n".join(lines)


# --- Booking -------------------------------------------------------------------


def choose_day(resource_name):
    return _("<b>%(name)s</b>: choose a day.") % {"name": escape(resource_name)}


def choose_start(resource_name, day, zone_name):
    return _("<b>%(name)s</b>, %(day)s: choose a start (times in %(zone)s).") % {
        "name": escape(resource_name),
        "day": day_label(day),
        "zone": escape(zone_name),
    }


def no_free_starts(resource_name, day):
    return _("<b>%(name)s</b> has no free time on %(day)s.") % {"name": escape(resource_name), "day": day_label(day)}


def choose_length(resource_name, start_text):
    return _("<b>%(name)s</b> from %(start)s: for how long?") % {"name": escape(resource_name), "start": start_text}


def confirm_booking(resource, when_text, needs_approval, quota_lines=(), refusal=""):
    """The confirm screen: what, when, the user's room under each quota (QuotaUsage.describe),
    and, when the domain would refuse this booking, why (then there is no Confirm button)."""
    text = _("Book <b>%(name)s</b>, %(when)s?") % {"name": escape(resource.name), "when": when_text}
    if needs_approval:
        text += "\n\n" + _("An admin has to approve this booking.")
    if quota_lines:
        text += "\n\n" + "\n".join("📊 " + escape(str(line)) for line in quota_lines)
    if refusal:
        text += "\n\n" + _("⚠️ This booking cannot be made: %(reason)s") % {"reason": escape(str(refusal))}
    return text


CLOSED_MARK = "🔒"


def closed_days_legend(closed):
    """Under the calendar: what 🔒 means, and why each closed day of the month is closed."""
    lines = [_("%(mark)s closed") % {"mark": CLOSED_MARK}]
    lines += [f"{CLOSED_MARK} {day_label(day)}: {escape(reason)}" for day, reason in sorted(closed.items())]
    return "\n".join(lines)


def closed_part_of_day(closure, zone):
    """On the day's start list: a closure taking part of the day, in the reader's zone."""
    return _("🔒 Closed %(when)s: %(reason)s") % {
        "when": when(closure.start, closure.end, zone),
        "reason": escape(closure.reason_text()),
    }


def booked(resource_name, when_text):
    return _("✅ Booked: <b>%(name)s</b>, %(when)s.") % {"name": escape(resource_name), "when": when_text}


def check_in_by(time_text):
    return _("Please check in by %(time)s, or the booking expires and the time is freed.") % {"time": time_text}


def requested(resource_name, when_text):
    return _("⏳ Requested: <b>%(name)s</b>, %(when)s. An admin will approve or reject it; I will let you know.") % {
        "name": escape(resource_name),
        "when": when_text,
    }


def slot_taken(has_alternatives):
    text = _("😕 Someone has just taken this time.")
    if has_alternatives:
        return text + " " + _("The nearest free alternatives:")
    return text + " " + _("I found nothing free nearby; try another day.")


def could_not_book(message):
    return _("Could not book: %(reason)s") % {"reason": escape(str(message))}


# --- Typed /book ---------------------------------------------------------------


def book_usage():
    return _(
        "Usage: <code>/book &lt;resource&gt; &lt;date&gt; &lt;time&gt; &lt;length&gt;</code>\n"
        "Example: <code>/book projector tomorrow 14:00 2h</code>\n"
        "Dates: today, tomorrow, YYYY-MM-DD, DD.MM. Lengths: 2h, 90m, 1h30m, 1.5h."
    )


def unreadable(part, value):
    parts = {
        "resource": _("the resource name"),
        "date": _("the date"),
        "time": _("the time"),
        "duration": _("the length"),
        "repeat": _("the repetition (every tue …, daily …; then until a date, or x10)"),
    }
    return _("I could not read %(part)s: «%(value)s».") % {"part": parts[part], "value": escape(value[:50])}


def out_of_range(part, value, *, first_year, last_year, max_days):
    """A date or length that reads well but no booking can have ("date_range", "duration_range")."""
    shown = escape(value[:50])
    if part == "date_range":
        return _("The date «%(value)s» is out of range: use a year between %(first)s and %(last)s.") % {
            "value": shown,
            "first": first_year,
            "last": last_year,
        }
    return ngettext(
        "The length «%(value)s» is out of range: a booking lasts more than 0 minutes and at most %(days)s day.",
        "The length «%(value)s» is out of range: a booking lasts more than 0 minutes and at most %(days)s days.",
        max_days,
    ) % {"value": shown, "days": max_days}


def no_resource_named(prefix):
    return _("No resource is called «%(prefix)s». See /resources.") % {"prefix": escape(prefix[:50])}


def several_resources(prefix):
    return _("Several resources match «%(prefix)s». Type more of the name, or choose:") % {
        "prefix": escape(prefix[:50])
    }


# --- Availability first ----------------------------------------------------------

FREE_CHOOSE_DAY = gettext_lazy("🕐 When do you need something? Choose a day.")


def free_choose_start(day, zone_name):
    return _("%(day)s: from what time? (times in %(zone)s)") % {"day": day_label(day), "zone": escape(zone_name)}


def free_choose_length(start_text):
    return _("From %(start)s: for how long?") % {"start": start_text}


def free_results(when_text, count, page, pages):
    if not count:
        return _("Nothing is free for all of %(when)s.") % {"when": when_text}
    return (
        ngettext(
            "%(count)s resource is free for all of %(when)s",
            "%(count)s resources are free for all of %(when)s",
            count,
        )
        % {"count": count, "when": when_text}
        + f" ({page_of(page, pages)}). "
        + _("Tap one to book it.")
    )


# --- My bookings -----------------------------------------------------------------

NO_BOOKINGS = gettext_lazy("You have no bookings yet. Find something with /resources or /free.")
UPCOMING = gettext_lazy("<b>Upcoming</b>")
HISTORY = gettext_lazy("<b>Recent</b>")


QUOTAS_TITLE = gettext_lazy("<b>Your fair-use limits</b>")


def quota_line(usage):
    """One quota of /my: its room now (QuotaUsage.describe) and when it resets."""
    line = "📊 " + escape(str(usage.describe()))
    if usage.period_end is None:
        return line + " " + _("(room frees up when one ends or is cancelled)")
    # Periods are calendar days, weeks and months of the site's zone: they reset at its midnight.
    reset_day = usage.period_end.astimezone(site_zone()).date()
    return line + " " + _("(resets on %(day)s)") % {"day": day_label(reset_day)}


def status_label(status):
    """The booking status's one label (bookings.models.BookingStatus), in the reader's language."""
    try:
        return str(BookingStatus(status).label)
    except ValueError:
        return str(status)


def booking_line(booking, zone, reason=""):
    what = f"#{booking.pk} {escape(booking.resource.name)}, {when(booking.start, booking.end, zone)}"
    line = f"{what} — {status_label(booking.status)}"
    if reason:
        line += ": " + escape(reason)
    return line


def booking_card(booking, zone):
    text = f"<b>{escape(booking.resource.name)}</b> #{booking.pk}\n{when(booking.start, booking.end, zone)}\n"
    text += _("Status: %(status)s") % {"status": status_label(booking.status)}
    if booking.resource.location:
        text += "\n📍 " + escape(booking.resource.location)
    return text


def confirm_cancel(booking, zone):
    return _("Cancel your booking of <b>%(name)s</b>, %(when)s?") % {
        "name": escape(booking.resource.name),
        "when": when(booking.start, booking.end, zone),
    }


CANCELLED = gettext_lazy("Cancelled.")
CHECKED_IN = gettext_lazy("Checked in. Enjoy! Press “Return early” if you finish before the end.")
RETURNED = gettext_lazy("Returned. Thank you!")


# --- Settings --------------------------------------------------------------------


def settings_text(language_code, zone_name, now_text):
    return _("<b>Settings</b>\nLanguage: %(language)s\nTime zone: %(zone)s (now %(now)s)") % {
        "language": LANGUAGE_NAMES.get(language_code, language_code),
        "zone": escape(zone_name),
        "now": now_text,
    }


CHOOSE_TIME_ZONE = gettext_lazy("Choose your time zone:")
TYPE_TIME_ZONE_PROMPT = gettext_lazy(
    "Send the name of your time zone, for example <code>Europe/Berlin</code> or <code>Asia/Almaty</code>."
)
SAVED = gettext_lazy("Saved.")


def unknown_time_zone(value):
    return _("I do not know the time zone «%(zone)s». Names look like Europe/Berlin.") % {"zone": escape(value[:60])}


# --- Admins --------------------------------------------------------------------------

NOTHING_PENDING = gettext_lazy("Nothing awaits approval.")


def pending_title(count, page, pages):
    return (
        ngettext("%(count)s booking awaits approval", "%(count)s bookings await approval", count) % {"count": count}
        + f" ({page_of(page, pages)})"
    )


def pending_line(booking, zone):
    what = f"#{booking.pk} <b>{escape(booking.resource.name)}</b>, {when(booking.start, booking.end, zone)}"
    return f"{what} — {person(booking.user)}"


def approved_by(booking_text, admin):
    return booking_text + "\n\n" + _("✅ Approved by %(admin)s.") % {"admin": person(admin)}


def rejected_by(booking_text, admin, reason):
    text = booking_text + "\n\n" + _("❌ Rejected by %(admin)s.") % {"admin": person(admin)}
    if reason:
        text += "\n" + _("Reason: %(reason)s") % {"reason": escape(reason)}
    return text


def ask_reject_reason(booking_text, admin):
    return (
        booking_text
        + "\n\n"
        + _("%(admin)s, reply with the reason for rejecting (the user will see it).") % {"admin": person(admin)}
    )


def today_title(day, page, pages):
    return _("<b>Bookings on %(day)s</b>") % {"day": day_label(day)} + f" ({page_of(page, pages)})"


NOTHING_TODAY = gettext_lazy("No bookings today.")


def today_line(booking, zone):
    times = f"{clock(booking.start, zone)}–{clock(booking.end, zone)}"
    return f"  {times} {person(booking.user)} — {status_label(booking.status)}"


# --- Access to restricted resources ------------------------------------------------

REQUEST_ACCESS = gettext_lazy("🔑 Request access")


def resource_button(name, bookable):
    """A resource's button in a list: a lock on one the reader may not book."""
    return name if bookable else "🔒 " + name


def restricted(who_may_book):
    """The card's line for a resource the reader may not book; `who_may_book` is the domain's not_permitted text."""
    return "🔒 " + escape(str(who_may_book)) + "\n" + _("You can ask the admins for access.")


def ask_access_reason(resource_name):
    return _("Why do you need <b>%(name)s</b>? Reply with a few words for the admins.") % {
        "name": escape(resource_name)
    }


def access_requested(resource_name):
    return _("🔑 Your request for access to <b>%(name)s</b> went to the admins. I will let you know.") % {
        "name": escape(resource_name)
    }


def access_request_ref(request):
    return _("Access request #%(id)s") % {"id": request.pk}


def access_request_line(request):
    """An access request as the admin group reads it: who, which resource, why."""
    text = _("🔑 %(user)s asks for access to <b>%(name)s</b> (request #%(id)s).") % {
        "user": person(request.user),
        "name": escape(request.resource.name),
        "id": request.pk,
    }
    if request.reason:
        text += "\n" + _("Why: %(reason)s") % {"reason": escape(request.reason)}
    return text


def access_approved_by(request_text, admin):
    return request_text + "\n\n" + _("✅ Access granted by %(admin)s.") % {"admin": person(admin)}


def access_rejected_by(request_text, admin, reason):
    text = request_text + "\n\n" + _("❌ Access refused by %(admin)s.") % {"admin": person(admin)}
    if reason:
        text += "\n" + _("Reason: %(reason)s") % {"reason": escape(reason)}
    return text


def access_decided(request_text, request):
    """A request someone already decided, with who and how (for its alert, edited)."""
    if request.status == AccessRequestStatus.APPROVED:
        return access_approved_by(request_text, request.decided_by or "?")
    return access_rejected_by(request_text, request.decided_by or "?", request.decision_reason)


def access_already_decided(request):
    """The answer on a decided request's button (plain text: a callback answer)."""
    admin = str(request.decided_by or "?")
    if request.status == AccessRequestStatus.APPROVED:
        return _("Already decided: %(admin)s granted this access.") % {"admin": admin}
    return _("Already decided: %(admin)s refused this access.") % {"admin": admin}


# --- Loans: overdue items, strikes, suspensions (bot.handlers.loans) -------------

RETURNED_BUTTON = gettext_lazy("↩️ Returned")


def strikes_line(count, days):
    return ngettext(
        "⚠️ %(count)d strike in the last %(days)d days (late returns, no-shows).",
        "⚠️ %(count)d strikes in the last %(days)d days (late returns, no-shows).",
        count,
    ) % {"count": count, "days": days}


def suspended_line(until, zone):
    local = until.astimezone(zone)
    return _("🚫 You may not book until %(until)s.") % {"until": f"{day_label(local.date())}, {clock(until, zone)}"}


def marked_returned_by(booking_text, admin):
    return booking_text + "\n\n" + _("↩️ Marked returned by %(admin)s.") % {"admin": person(admin)}


def suspension_lifted_by(user, admin):
    return _("✅ Suspension of %(user)s lifted by %(admin)s.") % {"user": person(user), "admin": person(admin)}


# --- Recurring series (bot.handlers.series) ------------------------------------------


def series_help():
    return _(
        "<b>Repeating bookings</b>: press 🔁 Repeat… on the confirm screen, or type:\n"
        "  <code>/book lab bench every tue 14:00 2h until 2027-01-31</code>\n"
        "  <code>/book projector every mon,wed 9:00 1h x10</code>\n"
        "  <code>/book lab daily 8:00 30m until 20.12</code>\n"
        "I show every date first, and book only when you say so."
    )


REPEAT = gettext_lazy("🔁 Repeat…")
REPEAT_WEEKLY = gettext_lazy("Every week")
REPEAT_WORKDAYS = gettext_lazy("Every weekday (Mon–Fri)")
REPEAT_DAILY = gettext_lazy("Every day")
SERIES_BOOK_ALL = gettext_lazy("Book all or none")
SERIES_CANCEL_PREVIEW = gettext_lazy("✖️ Cancel")
SERIES_CANCEL_FOLLOWING = gettext_lazy("✖️ This and following")
SERIES_CANCEL_ALL = gettext_lazy("✖️ Whole series")
SERIES_CANCELLED_NOTICE = gettext_lazy("Series cancelled.")


def series_book_free(count):
    return ngettext("Book the %(count)d free one", "Book the %(count)d free ones", count) % {"count": count}


def weekday_names(weekdays):
    return ", ".join(str(WEEKDAYS_ABBR[d]) for d in weekdays)


def series_rule(frequency, weekdays, interval, until, count):
    """'every week on Tue, until Fri 31 Jan', 'every day, 10 times' (or just the rule, with neither)."""
    if frequency == "DAILY":
        rule = _("every day")
    elif frequency == "MONTHLY":
        rule = _("every month")
    elif tuple(weekdays) == (0, 1, 2, 3, 4) and interval == 1:
        rule = _("every weekday")
    elif interval == 1:
        rule = _("every week on %(days)s") % {"days": weekday_names(weekdays)} if weekdays else _("every week")
    else:
        rule = ngettext("every %(n)d week on %(days)s", "every %(n)d weeks on %(days)s", interval) % {
            "n": interval,
            "days": weekday_names(weekdays) or "—",
        }
    if until is not None:
        return _("%(rule)s, until %(day)s") % {"rule": rule, "day": day_label(until)}
    if not count:
        return rule
    return ngettext("%(rule)s, %(count)d time", "%(rule)s, %(count)d times", count or 0) % {
        "rule": rule,
        "count": count or 0,
    }


def series_preview(resource_name, rule_text, lines, free, total):
    head = _("🔁 <b>%(name)s</b>, %(rule)s:") % {"name": escape(resource_name), "rule": escape(rule_text)}
    tail = ngettext(
        "%(free)d of %(total)d occurrence can be booked.",
        "%(free)d of %(total)d occurrences can be booked.",
        total,
    ) % {"free": free, "total": total}
    return "\n".join([head, *lines, "", tail])


def series_line(ok, when_text, footnote=0):
    """'✓ Tue 4 Jun, 14:00–16:00', or '✗ Tue 11 Jun, 14:00–16:00 [1]' (the reason: series_reason)."""
    if ok:
        return f"✓ {when_text}"
    return f"✗ {when_text} [{footnote}]"


def series_reason(footnote, reason):
    return f"[{footnote}] {escape(str(reason))}"


def series_booked(resource_name, rule_text, lines, pending):
    if pending:
        head = _("⏳ Series requested: <b>%(name)s</b>, %(rule)s. An admin will approve each occurrence.")
    else:
        head = _("✅ Series booked: <b>%(name)s</b>, %(rule)s.")
    return "\n".join([head % {"name": escape(resource_name), "rule": escape(rule_text)}, *lines])


def series_extended(resource_name, lines):
    head = ngettext(
        "✅ Series extended: %(count)d more occurrence of <b>%(name)s</b>.",
        "✅ Series extended: %(count)d more occurrences of <b>%(name)s</b>.",
        len(lines),
    ) % {"count": len(lines), "name": escape(resource_name)}
    return "\n".join([head, *lines])


def repeat_choose(resource_name, when_text):
    return _(
        "🔁 Repeat <b>%(name)s</b>, %(when)s — how often?\n\n"
        "Anything else (every other week, a number of times) can be typed, e.g. "
        "<code>/book %(name)s every 2 weeks mon 9:00 1h x6</code>"
    ) % {"name": escape(resource_name), "when": when_text}


def repeat_until(resource_name, rule_text):
    return _("🔁 <b>%(name)s</b>, %(rule)s — until which day?") % {
        "name": escape(resource_name),
        "rule": escape(rule_text),
    }


def series_of_booking(rule_text):
    return _("🔁 Part of a series: %(rule)s") % {"rule": escape(rule_text)}


def series_confirm_cancel(resource_name, count, following):
    template = (
        ngettext(
            "Cancel this and the following occurrence of your series of <b>%(name)s</b> (%(count)d booking)?",
            "Cancel this and the following occurrences of your series of <b>%(name)s</b> (%(count)d bookings)?",
            count,
        )
        if following
        else ngettext(
            "Cancel the whole series of <b>%(name)s</b> (%(count)d booking not started yet)?",
            "Cancel the whole series of <b>%(name)s</b> (%(count)d bookings not started yet)?",
            count,
        )
    )
    return template % {"name": escape(resource_name), "count": count}


def series_cancelled(count):
    return ngettext("%(count)d occurrence cancelled.", "%(count)d occurrences cancelled.", count) % {"count": count}


# --- Extend and move (bot.handlers.reschedule) ------------------------------------


def extend_button(minutes):
    return _("⏩ Extend +%(length)s") % {"length": format_minutes(minutes)}


MOVE_BUTTON = gettext_lazy("🔀 Move")
MOVE_YES = gettext_lazy("✅ Move it")


def extended(end_text):
    return _("Extended: now until %(time)s.") % {"time": end_text}


def move_choose_day(booking, zone):
    return _("Move <b>%(name)s</b>, %(when)s: choose the new day.") % {
        "name": escape(booking.resource.name),
        "when": when(booking.start, booking.end, zone),
    }


def confirm_move(booking, new_when_text, zone, needs_approval, refusal=""):
    """The move's confirm screen: from when to when; approval again; why the domain would refuse it."""
    text = _("Move <b>%(name)s</b> from %(old)s to %(new)s?") % {
        "name": escape(booking.resource.name),
        "old": when(booking.start, booking.end, zone),
        "new": new_when_text,
    }
    if needs_approval:
        text += "\n\n" + _("An admin has to approve the new time again.")
    if refusal:
        text += "\n\n" + _("⚠️ This booking cannot be moved there: %(reason)s") % {"reason": escape(str(refusal))}
    return text


MOVED = gettext_lazy("Moved.")
MOVED_PENDING = gettext_lazy("Moved: an admin has to approve the new time.")
# --- Calendar feeds (bot.handlers.feeds) ----------------------------------------------
CALENDAR_LINK_BUTTON = gettext_lazy("📅 Calendar link")
CALENDAR_RENEW_BUTTON = gettext_lazy("🔄 Renew")
CALENDAR_REVOKE_BUTTON = gettext_lazy("🚫 Revoke")
CALENDAR_NEW_LINK_BUTTON = gettext_lazy("📅 New calendar link")
ADD_TO_CALENDAR = gettext_lazy("📅 Add to calendar")
CALENDAR_RENEWED = gettext_lazy("New link made; the old one no longer works.")
CALENDAR_FILE_SENT = gettext_lazy("Calendar file sent.")
CALENDAR_LINK_PRIVATE = gettext_lazy(
    "Your calendar link is private: open /settings in your own chat with the bot to see it."
)
CALENDAR_REVOKED = gettext_lazy(
    "<b>Calendar link revoked</b>\nCalendars subscribed to it get nothing more from Slotbot. "
    "A new link can be made at any time."
)


def calendar_link_text(url, history_days):
    holds = ngettext(
        "It holds your live bookings and those of the last %(days)d day.",
        "It holds your live bookings and those of the last %(days)d days.",
        history_days,
    ) % {"days": history_days}
    return _(
        "<b>Your calendar link</b>\n<code>%(url)s</code>\n\n"
        "Subscribe to it in Google Calendar (Other calendars → From URL), Apple Calendar "
        "(File → New Calendar Subscription) or Outlook (Add calendar → Subscribe from web). %(holds)s\n\n"
        "Anyone with this link sees your bookings: keep it to yourself. Renew makes a new link "
        "and the old one stops working."
    ) % {"url": escape(url), "holds": holds}


def calendar_file_caption(resource_name, when_text):
    return _("📅 %(resource)s, %(when)s: open the file to add it to your calendar.") % {
        "resource": escape(resource_name),
        "when": when_text,
    }


# --- Day timeline pictures (bot.handlers.timeline) ----------------------------

DAY_VIEW = gettext_lazy("🖼 Day view")
TIMELINE_PREVIOUS = "◀"
TIMELINE_NEXT = "▶"
TIMELINE_EMPTY = gettext_lazy("Nothing to show for this day.")
TIMELINE_ALL_RESOURCES = gettext_lazy("All resources")
TIMELINE_LEGEND = {
    "free": pgettext_lazy("timeline legend", "Free"),
    "booked": pgettext_lazy("timeline legend", "Booked"),
    "own": pgettext_lazy("timeline legend", "Yours"),
    "pending": pgettext_lazy("timeline legend", "Pending approval"),
    "held": pgettext_lazy("timeline legend", "Held"),
    "closed": pgettext_lazy("timeline legend", "Closed"),
    "outside": pgettext_lazy("timeline legend", "Outside opening hours"),
}
TIMELINE_NOW = pgettext_lazy("timeline legend", "Now")


def timeline_title(scope, day):
    """'Projector — Wed 2 Dec' (plain text: drawn on the picture)."""
    return _("%(scope)s — %(day)s") % {"scope": scope, "day": day_label(day)}


def timeline_free_scope(when_text):
    """The scope of a /free search's picture: 'Free Wed 2 Dec, 10:00–11:00'."""
    return _("Free %(when)s") % {"when": when_text}


def timeline_zone_line(zone_name):
    return _("Times in %(zone)s") % {"zone": zone_name}


def timeline_more(count):
    return ngettext("…and %(count)s more resource", "…and %(count)s more resources", count) % {"count": count}


def timeline_caption(title, zone_name):
    return f"🖼 <b>{escape(title)}</b>\n{escape(timeline_zone_line(zone_name))}"


# --- The waitlist (bot.handlers.waitlist) --------------------------------------------

NOTIFY_ME = gettext_lazy("🔔 Notify me when free")
WAITLIST_TITLE = gettext_lazy("<b>Waiting for</b>")
WAITLIST_REMOVE = gettext_lazy("Remove")
WAITLIST_LEFT = gettext_lazy("Removed from the waitlist.")
TAKE_IT = gettext_lazy("Take it")
NO_THANKS = gettext_lazy("No thanks")


def waitlist_joined(resource_name, when_text, hold_minutes):
    return _(
        "🔔 You are on the waitlist for <b>%(name)s</b>, %(when)s. If it becomes free, I will hold it for you "
        "for %(minutes)s and ask whether you take it."
    ) % {"name": escape(resource_name), "when": when_text, "minutes": format_minutes(hold_minutes)}


def waitlist_line(entry, zone):
    line = f"{escape(entry.resource.name)}, {when(entry.start, entry.end, zone)}"
    if entry.booking_id and entry.booking and entry.booking.held_until:
        line += " — " + _("held for you until %(time)s") % {"time": clock(entry.booking.held_until, zone)}
    return line


def waitlist_remove_button_label(entry, zone):
    return _("Remove: %(name)s, %(when)s") % {"name": entry.resource.name, "when": when(entry.start, entry.end, zone)}


def offer_taken(booking, zone, pending):
    what = {"name": escape(booking.resource.name), "when": when(booking.start, booking.end, zone)}
    if pending:
        return _("⏳ Taken: <b>%(name)s</b>, %(when)s. An admin will approve or reject it; I will let you know.") % what
    return _("✅ Taken: <b>%(name)s</b>, %(when)s. It is yours.") % what


def offer_declined(booking, zone):
    return _("You let <b>%(name)s</b>, %(when)s go: it is offered to the next person waiting.") % {
        "name": escape(booking.resource.name),
        "when": when(booking.start, booking.end, zone),
    }
