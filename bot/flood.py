"""A per-user flood limit and a per-chat reply backlog, checked before any handler runs.

A person who sends more than BOT_FLOOD_LIMIT updates within
BOT_FLOOD_WINDOW_SECONDS gets one polite "slow down" and their further
updates are dropped until the window passes; button presses are still
answered (Telegram shows a spinner until they are). The counts live in
Django's cache, so every bot or webhook process shares one limit when
CACHES is Redis (core/settings.py); the check costs no database call, so a
flood cannot crowd out other users' updates, which the Application
processes concurrently.

The window allows bursts faster than Telegram lets the bot answer in one
chat (about 1 a second), so a message also books its reply's place in the
chat's reply queue: a bucket at the chat's own rate and burst, in the shared
rate limiter (core/ratelimit.py). A message whose reply would wait more than
BOT_REPLY_BACKLOG_SECONDS is dropped, and the chat is told once per backlog to
slow down, instead of getting replies tens of seconds late. It is booked
when the message arrives, not when the reply is sent, so a burst that the
Application handles all at once is counted in full. Button presses do not
book (their answers are edits, not new messages in the chat).
"""

import asyncio
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache as default_cache
from django.utils import translation
from redis.exceptions import RedisError
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.ratelimit import CHAT_BURST, GROUP_BURST
from core.ratelimit import Bucket, chat_bucket, get_rate_limiter
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

    def __init__(self, limit, window_seconds, *, cache=None, clock=time.time, reply_backlog=None, limiter=None):
        self.limit = limit
        self.window = window_seconds
        self._cache = cache  # None: Django's default cache, looked up at each check
        self.reply_backlog = reply_backlog  # seconds; None: replies are not counted
        self._limiter = limiter  # None: core.ratelimit's, looked up at each check
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

    def check_update(self, user_id, *, reply_chat_id=None, is_group=False):
        """The verdict on one update: the sender's window, then (for a message the bot answers in
        `reply_chat_id`) the chat's reply backlog. One "slow down" per flood: a window warning while
        the chat was already told about its backlog is a DROP. Blocking: it may call Redis."""
        verdict = self.check(user_id)
        if reply_chat_id is None:
            return verdict
        if verdict == OK:
            return self.check_reply_backlog(reply_chat_id, is_group=is_group)
        if verdict == WARN and self._backlog_warned(reply_chat_id):
            return DROP
        return verdict

    @property
    def limiter(self):
        return self._limiter or get_rate_limiter()

    def check_reply_backlog(self, chat_id, *, is_group):
        """OK and the reply's place booked, or WARN (first message over the backlog) or DROP. Blocking."""
        if self.reply_backlog is None:
            return OK
        chat = chat_bucket(chat_id, is_group=is_group, burst=GROUP_BURST if is_group else CHAT_BURST)
        queue = Bucket(f"replies:{chat.key}", chat.interval, chat.tolerance)
        try:
            reservation = self.limiter.reserve([queue], max_wait=self.reply_backlog)
            if reservation.booked:
                return OK
            # Warned once until the backlog has drained: a chat that keeps writing hears it only once.
            ttl = max(1, math.ceil(reservation.wait))
            return WARN if self.cache.add(self._backlog_warned_key(chat_id), True, ttl) else DROP
        except RedisError as error:
            logger.warning("Reply backlog check for chat %s skipped, Redis failed: %s", chat_id, error)
            return OK

    def _backlog_warned(self, chat_id):
        try:
            return bool(self.cache.get(self._backlog_warned_key(chat_id)))
        except RedisError:
            return False

    @staticmethod
    def _backlog_warned_key(chat_id):
        return f"bot:backlog-warned:{chat_id}"

    def _increment(self, key):
        try:
            return self.cache.incr(key)
        except ValueError:
            # Evicted between add and incr (a full cache culls): count afresh.
            self.cache.add(key, 1, self._ttl)
            return 1


def flood_guard_from_settings():
    return FloodGuard(
        settings.BOT_FLOOD_LIMIT, settings.BOT_FLOOD_WINDOW_SECONDS, reply_backlog=settings.BOT_REPLY_BACKLOG_SECONDS
    )


def expects_reply(update):
    """A new message the bot answers with a message: anything in a private chat, a command in a group
    (where people also talk among themselves)."""
    message = update.message
    if message is None:
        return False
    return message.chat.type == ChatType.PRIVATE or (message.text or "").startswith("/")


async def check_flood(update, context):
    """TypeHandler callback in the earliest group: stop the update here if its sender floods."""
    guard = context.application.bot_data.get("flood_guard")
    person = update.effective_user
    if guard is None or person is None or update.my_chat_member:
        return  # a block or unblock is never dropped: it decides whether the user can be reached
    # The check may wait on Redis: off the event loop, so other updates go on meanwhile.
    chat = update.effective_chat
    reply_chat_id = chat.id if chat and expects_reply(update) else None
    is_group = chat is not None and chat.type != ChatType.PRIVATE
    verdict = await asyncio.to_thread(guard.check_update, person.id, reply_chat_id=reply_chat_id, is_group=is_group)
    if verdict == OK:
        return
    with translation.override(language_from_telegram(person.language_code)):
        message = str(texts.TOO_FAST)
    if update.callback_query:
        await update.callback_query.answer(message)
    elif verdict == WARN and update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, message)
    raise ApplicationHandlerStop
