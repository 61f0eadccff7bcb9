"""Admins: /pending with Approve / Reject, /today; Approve / Reject buttons on alerts
(booking approvals and access requests).

Every admin command and press first checks membership of the admin chat
(bot.admins), then the view checks the user is staff, and the service
checks again. A press in the admin group acts as the person who pressed,
and the edited message says who acted. Reject asks for a reason, which is
remembered in the database (PendingInput) until the admin's next text.
"""

from collections import defaultdict
from html import escape

from bookings import actions, errors, policies, rules, selectors, services
from bookings.models import AccessRequestStatus
from bookings.selectors import Action
from bot import callbacks as cb
from bot import keyboards, texts
from bot.admins import in_admin_chat
from bot.handlers.base import AdminsOnly, Expired, Screen, paginate, reply, respond
from bot.models import PendingInput
from bot.state import pending_input_ask
from core.callbacks import ACCESS_APPROVE, ACCESS_REJECT, BOOKING_APPROVE, BOOKING_REJECT

PER_PAGE = 5
TODAY_PAGE_CHARS = 3500


def pending(actor, page=0):
    _require_staff(actor)
    waiting = selectors.bookings_pending_approval()
    if not waiting:
        return Screen(str(texts.NOTHING_PENDING))
    shown, page, pages = paginate(waiting, page, PER_PAGE)
    lines = [texts.pending_title(len(waiting), page, pages), ""]
    lines += [texts.pending_line(b, actor.zone) for b in shown]
    rows = [_decision_buttons(b, actor.user) for b in shown]
    rows += keyboards.pager(page, pages, cb.PENDING)
    return Screen("\n".join(lines), rows)


def _decision_buttons(booking, user):
    """Approve / Reject #id, as far as the domain lets `user` decide on `booking` now."""
    allowed = selectors.booking_actions(booking=booking, user=user)
    labels = {Action.APPROVE: (texts.APPROVE, BOOKING_APPROVE), Action.REJECT: (texts.REJECT, BOOKING_REJECT)}
    return [
        cb.button(f"{label} #{booking.pk}", data, booking.pk) for a, (label, data) in labels.items() if a in allowed
    ]


def approve(actor, booking_id):
    booking = _booking(actor, booking_id)
    services.booking_approve(booking=booking, by=actor.user)
    text = texts.approved_by(texts.pending_line(booking, actor.zone), actor.user)
    return Screen(text, [[cb.button(texts.TO_PENDING, cb.PENDING, 0)]], notice=_status(booking))


def ask_reason(actor, booking_id):
    booking = _booking(actor, booking_id)
    # Ask for a reason only when the rejection itself would be accepted now.
    actions.require(Action.REJECT, booking=booking, user=actor.user)
    pending_input_ask(
        user=actor.user,
        chat_id=actor.chat_id,
        kind=PendingInput.Kind.REJECT_REASON,
        booking_id=booking.pk,
        prompt_message_id=actor.message_id,
    )
    summary = texts.pending_line(booking, actor.zone)
    return Screen(
        texts.ask_reject_reason(summary, actor.user), ask=texts.ask_reject_reason(f"#{booking.pk}", actor.user)
    )


def reject_with_reason(actor, pending_input, text):
    """The admin's answer to "reply with the reason": reject, and say so where they pressed."""
    booking = _booking(actor, pending_input.booking_id)
    reason = text.strip()
    try:
        services.booking_reject(booking=booking, by=actor.user, reason=reason)
    except errors.NoteTooLong as error:
        # Never cut the admin's words: refuse, and keep the question open for a shorter answer.
        pending_input_ask(
            user=actor.user,
            chat_id=actor.chat_id,
            kind=PendingInput.Kind.REJECT_REASON,
            booking_id=booking.pk,
            prompt_message_id=pending_input.prompt_message_id,
        )
        return Screen(error.message, ask=texts.ask_reject_reason(f"#{booking.pk}", actor.user))
    summary = texts.rejected_by(texts.pending_line(booking, actor.zone), actor.user, reason)
    return Screen(summary, edit_message_id=pending_input.prompt_message_id)


def approve_access(actor, request_id):
    """Approve on an access-request alert: the user joins the resource's group (policies)."""
    request = _access_request(actor, request_id)
    if request.status != AccessRequestStatus.PENDING:
        return _already_decided(request)
    try:
        policies.access_request_approve(request=request, by=actor.user)
    except errors.WrongStatus:
        return _already_decided(request)  # another admin was quicker
    return Screen(texts.access_approved_by(texts.access_request_line(request), actor.user))


def ask_access_reject_reason(actor, request_id):
    """Reject on an access-request alert: ask for the reason the user will read."""
    request = _access_request(actor, request_id)
    if request.status != AccessRequestStatus.PENDING:
        return _already_decided(request)
    _ask_access_reason(actor, request, prompt_message_id=actor.message_id)
    return Screen(
        texts.ask_reject_reason(texts.access_request_line(request), actor.user),
        ask=texts.ask_reject_reason(texts.access_request_ref(request), actor.user),
    )


def reject_access_with_reason(actor, pending_input, text):
    """The admin's reason for rejecting an access request: reject, and say so on the alert."""
    request = _access_request(actor, pending_input.subject_id)
    reason = text.strip()
    try:
        policies.access_request_reject(request=request, by=actor.user, reason=reason)
    except errors.NoteTooLong as error:
        _ask_access_reason(actor, request, prompt_message_id=pending_input.prompt_message_id)
        return Screen(error.message, ask=texts.ask_reject_reason(texts.access_request_ref(request), actor.user))
    except errors.WrongStatus:
        decided = _already_decided(request)
        return Screen(decided.text, edit_message_id=pending_input.prompt_message_id)
    summary = texts.access_rejected_by(texts.access_request_line(request), actor.user, reason)
    return Screen(summary, edit_message_id=pending_input.prompt_message_id)


def _access_request(actor, request_id):
    _require_staff(actor)
    request = policies.access_request_get(request_id=request_id, user=actor.user)
    if request is None:
        raise Expired()
    return request


def _ask_access_reason(actor, request, *, prompt_message_id):
    pending_input_ask(
        user=actor.user,
        chat_id=actor.chat_id,
        kind=PendingInput.Kind.ACCESS_REJECT_REASON,
        subject_id=request.pk,
        prompt_message_id=prompt_message_id,
    )


def _already_decided(request):
    """A decided request's buttons: the message now says who decided, the press is answered "already decided"."""
    request.refresh_from_db()
    text = texts.access_decided(texts.access_request_line(request), request)
    return Screen(text, notice=texts.access_already_decided(request), alert=True)


def today(actor, page=0):
    _require_staff(actor)
    day = rules.today_in()
    bookings = selectors.bookings_on_day(day=day)
    day_view = [[cb.button(texts.DAY_VIEW, cb.TIMELINE_ADMINS, rules.today_in(actor.zone))]]
    if not bookings:
        return Screen(str(texts.NOTHING_TODAY), day_view)
    pages_of_lines = _pages_of(_today_lines(bookings, actor.zone))
    shown, page, pages = paginate(pages_of_lines, page, 1)
    text = texts.today_title(day, page, pages) + "\n" + "\n".join(shown[0])
    return Screen(text, keyboards.pager(page, pages, cb.TODAY) + day_view)


def refuse(actor, *values):
    raise AdminsOnly()


def _today_lines(bookings, zone):
    by_resource = defaultdict(list)
    for booking in bookings:
        by_resource[booking.resource.name].append(booking)
    lines = []
    for name, items in by_resource.items():
        lines.append(f"\n<b>{escape(name)}</b>")
        lines += [texts.today_line(b, zone) for b in items]
    return lines


def _pages_of(lines):
    """Split lines into pages that each fit a message comfortably."""
    pages, current, size = [], [], 0
    for line in lines:
        if current and size + len(line) > TODAY_PAGE_CHARS:
            pages.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    return pages + [current] if current else pages


def _require_staff(actor):
    if not actor.user.is_staff:
        raise AdminsOnly()


def _booking(actor, booking_id):
    _require_staff(actor)
    booking = selectors.booking_get(booking_id=booking_id, user=actor.user)
    if booking is None:
        raise Expired()
    return booking


def _status(booking):
    return texts.status_label(booking.status)


def admins_only(view):
    """Run `view` for members of the admin chat; anyone else gets a polite refusal."""

    async def handler(update, context, *values):
        allowed = await in_admin_chat(context.bot, update.effective_user.id)
        chosen = view if allowed else refuse
        if update.callback_query:
            await respond(update, context, chosen, *values)
        else:
            await reply(update, context, chosen, *values)

    handler.__name__ = f"admin_{view.__name__}"
    return handler


COMMANDS = {"pending": admins_only(pending), "today": admins_only(today)}
PRESSES = {
    cb.PENDING: admins_only(pending),
    cb.TODAY: admins_only(today),
    BOOKING_APPROVE: admins_only(approve),
    BOOKING_REJECT: admins_only(ask_reason),
    ACCESS_APPROVE: admins_only(approve_access),
    ACCESS_REJECT: admins_only(ask_access_reject_reason),
}
