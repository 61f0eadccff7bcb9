"""/free, availability first: a day → a start → a length → every resource free for all of it.

Only resources the user may book are listed (bookings.policies): a start that
booking_create would refuse is never offered. Restricted ones are found in
/resources, where their card offers Request access.
"""

from datetime import time, timedelta

from django.utils import timezone

from bookings import errors, rules, selectors
from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers.base import Screen, reply, view_only

DAYS_SHOWN = 14
LENGTHS_MINUTES = (30, 60, 90, 120, 180, 240, 360, 480)
PER_PAGE = 8


def free_days(actor):
    today = rules.today_in(actor.zone)
    buttons = [
        cb.button(texts.day_label(day), cb.FREE_FROM, day)
        for day in (today + timedelta(days=n) for n in range(DAYS_SHOWN))
    ]
    return Screen(str(texts.FREE_CHOOSE_DAY), keyboards.grid(buttons, 3) + [keyboards.to_menu()])


def free_from(actor, day):
    now = timezone.now()
    buttons = [
        cb.button(texts.clock(start, actor.zone), cb.FREE_LENGTH, start)
        for start in _hours_of(day, actor.zone)
        if start >= now - timedelta(minutes=59)
    ]
    rows = keyboards.grid(buttons, 6) + [keyboards.back(cb.FREE_DAYS)]
    return Screen(texts.free_choose_start(day, actor.user.time_zone), rows)


def free_length(actor, start):
    buttons = [cb.button(texts.length(timedelta(minutes=m)), cb.FREE_LIST, start, m, 0) for m in LENGTHS_MINUTES]
    day = start.astimezone(actor.zone).date()
    rows = keyboards.grid(buttons, 4) + [keyboards.back(cb.FREE_FROM, day)]
    start_text = f"{texts.day_label(day)} {texts.clock(start, actor.zone)}"
    return Screen(texts.free_choose_length(start_text), rows)


def free_list(actor, start, minutes, page):
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    page = max(page, 0)
    found = free_page(actor, start, end, page)
    pages = max(1, -(-found.total // PER_PAGE))
    if page >= pages:  # fewer are free than when this page was offered: the last page instead
        page = pages - 1
        found = free_page(actor, start, end, page)
    rows = [[cb.button(resource.name, cb.CONFIRM, resource.pk, start, minutes)] for resource in found.items]
    rows += keyboards.pager(page, pages, cb.FREE_LIST, start, minutes)
    if found.total:
        day = start.astimezone(actor.zone).date()
        rows.append([cb.button(texts.DAY_VIEW, cb.TIMELINE_FREE, start, minutes, day)])
    rows.append(keyboards.back(cb.FREE_LENGTH, start))
    return Screen(texts.free_results(texts.when(start, end, actor.zone), found.total, page, pages), rows)


def free_page(actor, start, end, page):
    """One page of what is free for start..end and bookable by the presser, cut in the database."""
    return selectors.resources_free_page(user=actor.user, start=start, end=end, offset=page * PER_PAGE, limit=PER_PAGE)


def _hours_of(day, zone):
    """Each whole hour of a local day as an aware datetime, skipping what DST skips or repeats
    (the domain refuses those local times, typed or tapped alike)."""
    for hour in range(24):
        try:
            yield rules.local_datetime(day, time(hour), zone=zone)
        except errors.UnclearLocalTime:
            continue


async def free_command(update, context):
    await reply(update, context, free_days)


COMMANDS = {"free": free_command}
PRESSES = {
    cb.FREE_DAYS: view_only(free_days),
    cb.FREE_FROM: view_only(free_from),
    cb.FREE_LENGTH: view_only(free_length),
    cb.FREE_LIST: view_only(free_list),
}
