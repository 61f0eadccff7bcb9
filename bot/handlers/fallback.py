"""What is left: typed answers to the bot's questions, unknown commands, stray messages.

In a private chat nothing goes unanswered: an unknown command or a stray
text gets a hint. In a group the bot stays quiet unless spoken to, since
people there talk to each other.
"""

from bot import texts
from bot.handlers import access, admin, settings, sticker
from bot.handlers.base import Screen, reply
from bot.models import PendingInput
from bot.state import pending_input_take

ANSWERS = {
    PendingInput.Kind.REJECT_REASON: admin.reject_with_reason,
    PendingInput.Kind.TIME_ZONE: settings.typed_time_zone,
    PendingInput.Kind.ACCESS_REASON: access.request_with_reason,
    PendingInput.Kind.ACCESS_REJECT_REASON: admin.reject_access_with_reason,
    PendingInput.Kind.PROBLEM_REPORT: sticker.typed_problem,
}


def typed_text(actor, text):
    """A text that is not a command: the answer to an open question, or a hint."""
    pending = pending_input_take(user=actor.user, chat_id=actor.chat_id)
    if pending is not None:
        return ANSWERS[pending.kind](actor, pending, text)
    return hint(actor)


def hint(actor):
    return Screen(str(texts.STRAY_TEXT)) if actor.private else None


def unknown_command(actor, addressed_to_bot):
    if actor.private or addressed_to_bot:
        return Screen(str(texts.UNKNOWN_COMMAND))
    return None


async def on_text(update, context):
    await reply(update, context, typed_text, update.effective_message.text)


async def on_unknown_command(update, context):
    text = update.effective_message.text or ""
    addressed = f"@{context.bot.username}".lower() in text.lower() if context.bot.username else False
    await reply(update, context, unknown_command, addressed)


async def on_other_message(update, context):
    await reply(update, context, hint)
