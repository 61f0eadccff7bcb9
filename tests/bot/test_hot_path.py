"""The bot's per-update cost does not creep back: queries of the hottest screens, and the
aiohttp Bot API client (bot/telegram_request.py) behaving as PTB's HTTPXRequest does.

Figures (latency, CPU per update) are printed by bench/bench_bot_open.py, never asserted.
"""

import asyncio
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from telegram import Bot, Update
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bookings import rules
from bot.app import build_application
from bot.handlers import base, booking, free, my, start
from bot.telegram_request import AiohttpRequest
from sandbox.testing import run_sandbox

TOKEN = "123456:slotbot-hot-path-token"
PERSON = {"id": 4242, "is_bot": False, "first_name": "Hot", "language_code": "en"}
CHAT = {"id": 4242, "type": "private"}
_bot = Bot(TOKEN)


def message(text):
    return Update.de_json(
        {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": text, "chat": CHAT, "from": PERSON}}, _bot
    )


def press():
    data = {
        "id": "q1",
        "chat_instance": "c",
        "data": "x",
        "from": PERSON,
        "message": {"message_id": 2, "date": 0, "text": "screen", "chat": CHAT},
    }
    return Update.de_json({"update_id": 2, "callback_query": data}, _bot)


def queries_of(update, view, *args):
    with CaptureQueriesContext(connection) as captured:
        screen = base._render(update, view, args)
    assert screen.text, screen
    return len(captured)


@pytest.mark.django_db
def test_a_known_user_costs_one_query_before_the_screen(make_resource):
    base._render(message("/start"), start.main_menu, ())  # first contact registers the user
    # The user's lookup is the only query of the main menu and of the first pickers of /free.
    assert queries_of(message("/start"), start.main_menu) == 1
    assert queries_of(message("/free"), free.free_days) == 1
    day = rules.today_in(rules.site_zone()) + timedelta(days=2)
    assert queries_of(press(), free.free_from, day) == 1
    start_at = rules.local_datetime(day, time(10), zone=rules.site_zone())
    assert queries_of(press(), free.free_length, start_at) == 1


@pytest.mark.django_db
def test_the_booking_pickers_read_the_resource_and_its_rules_a_bounded_number_of_times(make_resource):
    resource = make_resource(name="Hot plate")
    base._render(message("/start"), start.main_menu, ())
    day = rules.today_in(rules.site_zone()) + timedelta(days=2)
    start_at = rules.local_datetime(day, time(10), zone=rules.site_zone())
    # The month calendar asks bookings and closures once for the whole month (bookings.availability.free_days),
    # not once a day (63 queries for a month of 29 bookable days before), and the other pickers a fixed
    # handful (user, resource, bookings of the day, policies).
    calendar_queries = queries_of(press(), booking.calendar, resource.pk, (day.year, day.month))
    assert calendar_queries <= 8, calendar_queries
    # starts 7, durations 6, confirm 9 when written.
    assert queries_of(press(), booking.starts, resource.pk, day, 0) <= 7
    assert queries_of(press(), booking.durations, resource.pk, start_at) <= 6
    assert queries_of(press(), booking.confirm, resource.pk, start_at, 60) <= 9


def test_the_application_uses_the_aiohttp_client_unless_told_otherwise(settings):
    application = build_application(token=TOKEN, base_url="http://127.0.0.1:9/bot", register_commands=False)
    assert isinstance(application.bot.request, AiohttpRequest)
    settings.BOT_HTTP_CLIENT = "httpx"
    application = build_application(token=TOKEN, base_url="http://127.0.0.1:9/bot", register_commands=False)
    assert isinstance(application.bot.request, HTTPXRequest)


def test_aiohttp_client_sends_texts_and_files_and_maps_failures():
    async def scenario(sandbox, user):
        bot = Bot(TOKEN, base_url=sandbox.base_url, request=AiohttpRequest(read_timeout=0.5))
        async with bot:
            sent = await bot.send_message(user.id, "<b>hello</b> & more", parse_mode="HTML")
            document = await bot.send_document(user.id, b"BEGIN:VCALENDAR\r\n", filename="a.ics", caption="cal")
            sandbox.add_fault("timeout", methods=["sendMessage"], delay_ms=2000)
            with pytest.raises(TimedOut):
                await bot.send_message(user.id, "slow")
        refused = Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=AiohttpRequest(connect_timeout=1))
        async with refused.request:
            with pytest.raises(NetworkError):
                await refused.send_message(user.id, "nobody listens", read_timeout=1)
        return sent, document

    with run_sandbox(tokens=[TOKEN], flood_limits=False) as sandbox:
        user = sandbox.user("Files", started=True)
        sent, document = asyncio.run(scenario(sandbox, user))
        texts = [m.text for m in user.bot_messages()]
    assert sent.text == "hello & more"
    assert document.document.file_name == "a.ics"
    assert texts[:2] == ["hello & more", "cal"]


@pytest.mark.django_db
def test_my_and_typed_book_read_a_bounded_number_of_times(make_resource):
    make_resource(name="Hot kettle")
    base._render(message("/start"), start.main_menu, ())
    day = rules.today_in(rules.site_zone()) + timedelta(days=2)
    typed = ["Hot", "kettle", day.isoformat(), "10:00", "1h"]
    # Typed /book: user, the name match (names, resource, hours), access rules outside the lock (they
    # may ask Telegram), then the booking's transaction: locks, suspension, closures, rules, overlap,
    # inserts of booking, history and receipt (and the test's savepoints): 20 when written.
    assert queries_of(message("/book"), booking.typed_book, typed) <= 20
    # /my: user, upcoming, history, quotas, suspension, strikes, waitlist, pool requests: 8 when written.
    assert queries_of(message("/my"), my.my_bookings) <= 8
