"""The bot at the resource: `/start r<id>` from a QR sticker opens the resource's card.

The card offers what applies to this user now, as the domain answers it
(bookings.selectors.resource_at_hand): Check in and Return on their own
booking (the /my buttons, handled in bot.handlers.my), Book now (walk-up
lengths that lead to the usual confirm screen, bot.handlers.booking), and
Report a problem (a text, or a photo with a caption, sent to the admin
group, where staff can mark the resource out of service and back).
"""

from django.utils import timezone
from telegram.ext import filters

from bookings import errors, policies, selectors, services
from bookings.selectors import Action
from bot import callbacks as cb
from bot import keyboards, sticker_texts, texts
from bot.handlers.admin import admins_only
from bot.handlers.base import AdminsOnly, Expired, Screen, reply
from bot.handlers.base import view_only as _view_only
from bot.handlers.my import action_buttons
from bot.models import PendingInput
from bot.state import pending_input_ask, pending_input_take
from core.callbacks import RESOURCE_IN_SERVICE, RESOURCE_OUT_OF_SERVICE
from core.deeplinks import resource_id_from_payload

AT_HAND_ACTIONS = (Action.CHECK_IN, Action.RETURN)


def open_from_payload(actor, payload):
    """`/start <payload>`: a resource's card, or a clear answer for a payload that names nothing."""
    resource_id = resource_id_from_payload(payload)
    if resource_id is None:
        return _unknown()
    return card(actor, resource_id)


def card(actor, resource_id, notice=""):
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        return _unknown()
    access = policies.resources_bookable_by(user=actor.user, resources=[resource])[resource.pk]
    if not access.bookable:
        return Screen(sticker_texts.not_permitted(policies.not_permitted(access).message), keyboards.main_menu())
    now = timezone.now()
    at_hand = selectors.resource_at_hand(resource=resource, user=actor.user, now=now)
    lines = [sticker_texts.card_title(resource)]
    rows = []
    for booking, _actions in at_hand.bookings:
        lines.append(sticker_texts.your_booking(texts.booking_line(booking, actor.zone)))
        rows += keyboards.grid(action_buttons(booking, actor.user, only=AT_HAND_ACTIONS), 2)
    if resource.out_of_service:
        lines.append(str(sticker_texts.OUT_OF_SERVICE))
    elif at_hand.walk_up is not None:
        longest = at_hand.walk_up.end_after(max(at_hand.walk_up.durations))
        lines.append(sticker_texts.free_now_until(texts.clock(longest, actor.zone)))
        buttons = [
            cb.button(
                sticker_texts.book_now(texts.length(d)),
                cb.CONFIRM,
                resource.pk,
                at_hand.walk_up.start,
                int(d.total_seconds() // 60),
            )
            for d in at_hand.walk_up.durations
        ]
        rows += keyboards.grid(buttons, 2)
    elif not at_hand.bookings:
        lines.append(str(sticker_texts.NOT_FREE_NOW))
    rows.append([cb.button(sticker_texts.REPORT_PROBLEM, cb.STICKER_REPORT, resource.pk)])
    rows.append(keyboards.to_menu())
    return Screen("\n".join(lines), rows, notice=str(notice))


def ask_problem(actor, resource_id):
    """Report a problem: the next text (or captioned photo) in this chat is the report."""
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    pending_input_ask(
        user=actor.user,
        chat_id=actor.chat_id,
        kind=PendingInput.Kind.PROBLEM_REPORT,
        subject_id=resource.pk,
        prompt_message_id=actor.message_id,
    )
    return Screen(ask=str(sticker_texts.ASK_PROBLEM))


def typed_problem(actor, pending, text, photo=""):
    """The answer to "what is wrong?": to the admin group once, or a clear refusal that keeps the question."""
    resource = selectors.resource_get(resource_id=pending.subject_id, include_inactive=True)
    if resource is None:
        return Screen(str(sticker_texts.UNKNOWN_STICKER))
    # The question's own identity names the report: a redelivered update finds no question left.
    key = f"{pending.user_id}:{pending.chat_id}:{int(pending.created_at.timestamp() * 1_000_000)}"
    try:
        services.resource_problem_report(resource=resource, user=actor.user, text=text, photo=photo, key=key)
    except errors.ProblemReportInvalid as error:
        _ask_again(actor, pending)
        return Screen(error.message, ask=str(sticker_texts.ASK_PROBLEM))
    return Screen(str(sticker_texts.PROBLEM_SENT))


def photo_problem(actor, file_id, caption):
    """A photo: the answer to an open "what is wrong?" question, or a hint like any stray message."""
    pending = pending_input_take(user=actor.user, chat_id=actor.chat_id, kind=PendingInput.Kind.PROBLEM_REPORT)
    if pending is None:
        return Screen(str(texts.STRAY_TEXT)) if actor.private else None
    if not (caption or "").strip():
        _ask_again(actor, pending)
        return Screen(str(sticker_texts.PHOTO_NEEDS_CAPTION))
    return typed_problem(actor, pending, caption, photo=file_id)


def _ask_again(actor, pending):
    pending_input_ask(
        user=actor.user,
        chat_id=actor.chat_id,
        kind=PendingInput.Kind.PROBLEM_REPORT,
        subject_id=pending.subject_id,
        prompt_message_id=pending.prompt_message_id,
    )


def out_of_service(actor, resource_id):
    """Staff, from the problem report in the admin group: nothing can be booked; upcoming users are warned."""
    resource = _staff_resource(actor, resource_id)
    services.resource_out_of_service_set(resource=resource, by=actor.user, out_of_service=True)
    rows = [[cb.button(sticker_texts.BACK_IN_SERVICE, RESOURCE_IN_SERVICE, resource.pk)]]
    return Screen(sticker_texts.marked_out_of_service(resource.name, actor.user), rows)


def in_service(actor, resource_id):
    resource = _staff_resource(actor, resource_id)
    services.resource_out_of_service_set(resource=resource, by=actor.user, out_of_service=False)
    return Screen(sticker_texts.back_in_service(resource.name, actor.user))


def _staff_resource(actor, resource_id):
    if not actor.user.is_staff:
        raise AdminsOnly()
    resource = selectors.resource_get(resource_id=resource_id, include_inactive=True)
    if resource is None:
        raise Expired()
    return resource


def _unknown():
    return Screen(str(sticker_texts.UNKNOWN_STICKER), keyboards.main_menu())


async def on_photo(update, context):
    message = update.effective_message
    await reply(update, context, photo_problem, message.photo[-1].file_id, message.caption or "")


PRESSES = {
    cb.STICKER: _view_only(card),
    cb.STICKER_REPORT: _view_only(ask_problem),
    RESOURCE_OUT_OF_SERVICE: admins_only(out_of_service),
    RESOURCE_IN_SERVICE: admins_only(in_service),
}
MESSAGES = ((filters.PHOTO, on_photo),)
