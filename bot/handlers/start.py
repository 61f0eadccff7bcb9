"""/start, /help and the main menu."""

from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers import sticker
from bot.handlers.base import Screen, reply, view_only


def main_menu(actor):
    return Screen(texts.greeting(actor.user.first_name or actor.user.username), keyboards.main_menu())


def help_screen(actor):
    return Screen(texts.help_text(actor.user.is_staff), keyboards.main_menu())


async def start(update, context):
    if context.args:  # a deep link: /start r<id> from a QR sticker
        await reply(update, context, sticker.open_from_payload, context.args[0])
        return
    await reply(update, context, main_menu)


async def help_command(update, context):
    await reply(update, context, help_screen)


async def press_nothing(update, context):
    await update.callback_query.answer()


COMMANDS = {"start": start, "help": help_command}
PRESSES = {cb.MENU: view_only(main_menu), cb.NOTHING: press_nothing}
