"""Fuzz: over a thousand random updates from several users (texts, commands, arguments,
well-formed and forged button data). No error reaches the error handler, every
update is answered, and no two live bookings of a resource overlap."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.models import LIVE_STATUSES, Booking
from bot import callbacks as cb
from core import callbacks as codec
from core.models import User

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = 30
UPDATES_PER_EXAMPLE = 40  # 1,200 updates in all
COMMANDS = ["/start", "/help", "/resources", "/free", "/book", "/my", "/settings", "/pending", "/today", "/nope"]
BOOK_WORDS = [
    "projector",
    "proj",
    "room",
    "today",
    "tomorrow",
    "завтра",
    "2030-06-04",
    "31.02",
    "14:00",
    "9:30",
    "25:00",
    "2h",
    "90m",
    "1h30m",
    "1.5h",
    "0m",
    "99999h",
    "<b>",
    "&amp;",
]

texts = st.text(min_size=1, max_size=80).filter(lambda t: t.strip())
commands = st.builds(
    lambda command, words: " ".join([command, *words]),
    st.sampled_from(COMMANDS),
    st.lists(st.one_of(st.sampled_from(BOOK_WORDS), st.text(min_size=1, max_size=12).filter(str.strip)), max_size=5),
)
forged_data = st.one_of(
    st.text(min_size=1, max_size=64).filter(lambda t: len(t.encode()) <= 64),
    st.builds(
        lambda action, numbers: ":".join([action, *numbers]),
        st.sampled_from(sorted(cb.ARGUMENTS)),
        st.lists(st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=13), max_size=4),
    ),
)


@st.composite
def well_formed_press(draw, resource_ids):
    """Typed button data with plausible values: these reach deep into the flows and book."""
    action = draw(st.sampled_from(sorted(cb.ARGUMENTS)))
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    values = []
    for kind in cb.ARGUMENTS[action]:
        if kind is cb.ID:
            values.append(
                draw(st.one_of(st.sampled_from(resource_ids), st.integers(1, 400), st.integers(1, 2**63 - 1)))
            )
        elif kind is cb.MOMENT:
            values.append(now + timedelta(minutes=30 * draw(st.integers(-4, 200))))
        elif kind is cb.DAY:
            values.append(now.date() + timedelta(days=draw(st.integers(-2, 40))))
        elif kind is cb.MINUTES:
            values.append(draw(st.sampled_from([30, 60, 90, 120, 45, 600, 7 * 24 * 60])))
        elif kind is cb.MONTH:
            values.append((now.year, draw(st.integers(1, 12))))
        else:
            values.append(draw(st.integers(0, 12)))
    return cb.data(action, *values)


def updates(resource_ids, users):
    action = st.one_of(
        st.tuples(st.just("text"), texts),
        st.tuples(st.just("text"), commands),
        st.tuples(st.just("press"), forged_data),
        st.tuples(st.just("press"), well_formed_press(resource_ids)),
        st.tuples(st.just("press"), well_formed_press(resource_ids)),
    )
    return st.lists(
        st.tuples(st.integers(0, users - 1), action), min_size=UPDATES_PER_EXAMPLE, max_size=UPDATES_PER_EXAMPLE
    )


def test_random_updates_never_break_the_bot(bot, sandbox, make_resource, errors_seen, make_user):
    resources = [
        make_resource(name="Projector", hours=None),
        make_resource(name="Room A", kind="space", hours=None, requires_approval=True, buffer_minutes=15),
        make_resource(name="Camera", requires_check_in=True, slot_minutes=15, max_duration_minutes=120),
    ]
    people = [
        sandbox.user(name, language_code=language)
        for name, language in [("Ann", "en"), ("Boris", "ru"), ("Chen", "zh"), ("Dana", "en")]
    ]
    make_user(username="dana", is_staff=True, telegram_id=people[3].id)  # one admin among them
    for person in people:
        person.send("/start")
        person.expect_message(containing="")
    resource_ids = [r.pk for r in resources]
    seen, refused = {"call": 0}, []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(updates(resource_ids, len(people)))
    def run(batch):
        sent = {person.id: len(person.bot_messages()) for person in people}
        expected = dict(sent)
        presses = []
        for index, (kind, payload) in batch:
            person = people[index]
            if kind == "text":
                person.send(payload)
                expected[person.id] += 1
            else:
                presses.append(person.press(payload, forge=True))
        for press in presses:
            press.answer(timeout=20)
        wait_until(lambda: all(len(p.bot_messages()) >= expected[p.id] for p in people))
        calls = sandbox.calls(after=seen["call"])
        if calls:
            seen["call"] = calls[-1]["id"]
        refused.extend((c["method"], c["response"]) for c in calls if c["status"] != 200)

    run()
    assert errors_seen == []
    # The sandbox's record: the only calls Telegram refused are edits to what the message already
    # showed (a button pressed twice), an outcome the bot expects and handles by name.
    assert sandbox.stats()["errors"] == len(refused)
    assert {(method, response["description"].split(":")[1].strip()) for method, response in refused} <= {
        ("editMessageText", "message is not modified")
    }
    assert_no_overlapping_live_bookings()


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the bot did not answer every message"
        time.sleep(0.05)


def assert_no_overlapping_live_bookings():
    previous = {}
    for booking in Booking.objects.filter(status__in=LIVE_STATUSES).order_by("resource_id", "start"):
        last = previous.get(booking.resource_id)
        assert last is None or last.blocked_until <= booking.start, f"{last} overlaps {booking}"
        previous[booking.resource_id] = booking
    assert User.objects.filter(telegram_id__isnull=False).count() >= 4
    assert codec.MAX_BYTES == 64
