"""Restricted resources in the chat: who may book them, and Request access → "why?" → the request.

The domain decides who may book what (bookings.policies); these views ask it
and render the answer. Asking may call Telegram's getChatMember for
resources open to a chat's members, which is why it runs here, in the
database thread, and never inside a transaction. The admins' Approve /
Reject of a request live with the other admin decisions (bot.handlers.admin).
"""

from bookings import errors, policies, selectors
from bookings.models import AccessRequestStatus
from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers.base import Expired, Screen, view_only
from bot.models import PendingInput
from bot.state import pending_input_ask


def access_of(actor, resources):
    """{resource id: policies.Access} for these resources and the pressing user."""
    return policies.resources_bookable_by(user=actor.user, resources=resources)


def require_bookable(actor, resource):
    """Raise the domain's not_permitted (naming who may book it) unless `actor` may book `resource`."""
    access = access_of(actor, [resource])[resource.pk]
    if not access.bookable:
        raise policies.not_permitted(access)


def request_button(resource):
    return cb.button(texts.REQUEST_ACCESS, cb.ACCESS_ASK, resource.pk)


def ask_reason(actor, resource_id):
    """Request access pressed: ask why, unless the domain would refuse the request anyway."""
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    if access_of(actor, [resource])[resource.pk].bookable:
        raise errors.AlreadyPermitted()
    waiting = policies.access_requests_visible_to(user=actor.user, status=AccessRequestStatus.PENDING)
    if waiting.filter(resource=resource).exists():
        raise errors.AccessRequestPending()
    _ask(actor, resource, prompt_message_id=actor.message_id)
    return Screen(ask=texts.ask_access_reason(resource.name))


def request_with_reason(actor, pending_input, text):
    """The user's answer to "why do you need it?": file the request (policies.access_request_create)."""
    resource = selectors.resource_get(resource_id=pending_input.subject_id)
    if resource is None:
        return Screen(str(texts.BUTTON_EXPIRED))
    try:
        policies.access_request_create(user=actor.user, resource=resource, reason=text.strip())
    except errors.NoteTooLong as error:
        # Never cut the user's words: refuse, and keep the question open for a shorter answer.
        _ask(actor, resource, prompt_message_id=pending_input.prompt_message_id)
        return Screen(error.message, ask=texts.ask_access_reason(resource.name))
    rows = [keyboards.back(cb.RESOURCE, resource.pk), keyboards.to_menu()]
    return Screen(texts.access_requested(resource.name), rows)


def _ask(actor, resource, *, prompt_message_id):
    pending_input_ask(
        user=actor.user,
        chat_id=actor.chat_id,
        kind=PendingInput.Kind.ACCESS_REASON,
        subject_id=resource.pk,
        prompt_message_id=prompt_message_id,
    )


PRESSES = {cb.ACCESS_ASK: view_only(ask_reason)}
