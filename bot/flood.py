"""A per-user flood limit, checked before any handler runs.

A person who sends more than BOT_FLOOD_LIMIT updates within
BOT_FLOOD_WINDOW_SECONDS gets one polite "slow down" and their further
updates are dropped until the window passes; button presses are still
answered (Telegram shows a spinner until they are). The counts live in
Django's cache, so every bot or webhook process shares one limit when
CACHES is Redis (core/settings.py); the check costs no database call, so a
flood cannot crowd out other users' updates, which the Application
processes concurrently.
"""

import asyncio
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache as default_cache
from django.utils import translation
from redis.exceptions import RedisError
from telegram.ext import ApplicationHandlerStop

from bot import texts
from core.services import language_from_telegram

logger = logging.getLogger(__name__)

OK, WARN, DROP = "ok", "warn", "drop"


class FloodGuard:
    """A sliding-window counter per Telegram user id, kept in a cache all processes share.

    Updates are counted in fixed windows; the previous window's count is
    weighted by how much of it still lies within the sliding window (the
    usual approximation, exact for an even flow). Only accepted updates
    count, so a flood that goes on being dropped does not extend itself.
    """

    def __init__(self, limit, window_seconds, *, cache=None, clock=time.time):
        self.limit = limit
        self.window = window_seconds
        self._cache = cache  # None: Django's default cache, looked up at each check
        # Wall-clock time, not monotonic: every process must agree on the window.
        self.clock = clock
        self._ttl = math.ceil(2 * window_seconds) + 1  # a window's count is read through the next one

    @property
    def cache(self):
        return self._cache if self._cache is not None else default_cache

    def check(self, user_id):
        """OK, WARN (first update over the limit in this window) or DROP. Blocking: it may call Redis."""
        try:
            return self._check(user_id)
        except RedisError as error:
            # Better an unguarded bot than a bot that answers nobody while Redis is away.
            logger.warning("Flood check for user %s skipped, the shared cache failed: %s", user_id, error)
            return OK

    def _check(self, user_id):
        window_index, into_window = divmod(self.clock(), self.window)
        key = f"bot:flood:{user_id}:{int(window_index)}"
        self.cache.add(key, 0, self._ttl)
        count = self._increment(key)
        previous = self.cache.get(f"bot:flood:{user_id}:{int(window_index) - 1}", 0)
        if previous * (1 - into_window / self.window) + count <= self.limit:
            return OK
        self.cache.decr(key)  # a dropped update does not count
        first_warning = self.cache.add(f"bot:flood-warned:{user_id}:{int(window_index)}", True, self._ttl)
        return WARN if first_warning else DROP

    def _increment(self, key):
        try:
            return self.cache.incr(key)
        except ValueError:
            # Evicted between add and incr (a full cache culls): count afresh.
            self.cache.add(key, 1, self._ttl)
            return 1


def flood_guard_from_settings():
    return FloodGuard(settings.BOT_FLOOD_LIMIT, settings.BOT_FLOOD_WINDOW_SECONDS)


async def check_flood(update, context):
    """TypeHandler callback in the earliest group: stop the update here if its sender floods."""
    guard = context.application.bot_data.get("flood_guard")
    person = update.effective_user
    if guard is None or person is None or update.my_chat_member:
        return  # a block or unblock is never dropped: it decides whether the user can be reached
    # The check may wait on Redis: off the event loop, so other updates go on meanwhile.
    verdict = await asyncio.to_thread(guard.check, person.id)
    if verdict == OK:
        return
    with translation.override(language_from_telegram(person.language_code)):
        message = str(texts.TOO_FAST)
    if update.callback_query:
        await update.callback_query.answer(message)
    elif verdict == WARN and update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, message)
    raise ApplicationHandlerStop
