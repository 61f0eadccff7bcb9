"""Day timeline pictures in the chat: 🖼 Day view on a resource card, a pool, /free results and /today.

Scopes: one resource (`tlr`), a kind or category as /resources lists it
(`tlc`), a pool's units (`tlp`), a /free search's results (`tlf`), every
resource for the admins (`tla`). A press on Day view sends the day as a photo (sendPhoto); ◀ ▶ under the photo
edit it in place to the day before or after (editMessageMedia). Every press
is re-checked: the resource or pool must still be there, a /free picture
shows only what the presser may book, the admins' picture is for admins.

A picture is cached by what it shows — bookings.timeline's fingerprint (the
day counters every booking change bumps, closures, hours, the viewer's own
bookings, the now mark) plus the language, zone and title — as the file_id
Telegram gave it. An unchanged day is therefore re-sent by file_id: neither
drawn nor uploaded again. A file_id that Telegram refuses (stale) is
forgotten and the picture uploaded anew.
"""

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from redis.exceptions import RedisError
from telegram import InlineKeyboardMarkup, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bookings import pools, rules, selectors, timeline
from bot import callbacks as cb
from bot import texts
from bot.admins import in_admin_chat
from bot.handlers.base import AdminsOnly, Expired, Screen, render
from bot.handlers.browse import category_of, kind_of
from bot.sync import db
from bot.timeline_picture import Words, render_png

logger = logging.getLogger(__name__)

# Which days the arrows reach, from today in the viewer's zone.
DAYS_BACK = 7
DAYS_AHEAD = 60
# Rows in one picture (a category or /today with more resources says how many were left out).
MAX_ROWS = 50
CACHE_SECONDS = 30 * 24 * 3600
FILENAME = "timeline.png"

# Drawn, re-sent by file_id, stale file_ids: read by bench/bench_timeline.py.
STATS = Counter()


@dataclass
class Picture:
    """A day's picture to show: its cache key, the file_id it had (or None), how to draw it, its caption."""

    key: str
    draw: object  # () -> PNG bytes; reads the day and draws it (run it in the database thread)
    caption: str
    rows: list = field(default_factory=list)
    file_id: str | None = None

    @property
    def markup(self):
        return InlineKeyboardMarkup(self.rows) if self.rows else None


def _check_day(actor, day):
    today = rules.today_in(actor.zone)
    if not today - timedelta(days=DAYS_BACK) <= day <= today + timedelta(days=DAYS_AHEAD):
        raise Expired()
    return today


def _arrows(actor, day, action, *values):
    today = rules.today_in(actor.zone)
    row = []
    if day > today - timedelta(days=DAYS_BACK):
        row.append(cb.button(texts.TIMELINE_PREVIOUS, action, *values, day - timedelta(days=1)))
    row.append(cb.button(texts.day_label(day), cb.NOTHING))
    if day < today + timedelta(days=DAYS_AHEAD):
        row.append(cb.button(texts.TIMELINE_NEXT, action, *values, day + timedelta(days=1)))
    return [row]


def _picture(actor, resources, day, scope, arrows, total=None):
    """The Picture of `resources` on `day` for `actor` (its file_id when this exact picture was sent before).
    `total`: how many there are when `resources` is already a page of them."""
    if not resources:
        return Screen(notice=str(texts.TIMELINE_EMPTY))
    now = timezone.now()
    shown, left_out = resources[:MAX_ROWS], (len(resources) if total is None else total) - MAX_ROWS
    zone_name = str(actor.zone)
    title = texts.timeline_title(scope, day)
    words = Words(
        title=title,
        subtitle=texts.timeline_zone_line(zone_name),
        legend={state: str(label) for state, label in texts.TIMELINE_LEGEND.items()},
        now=str(texts.TIMELINE_NOW),
        more=texts.timeline_more(left_out) if left_out > 0 else "",
    )
    fingerprint = timeline.day_timeline_fingerprint(
        resources=shown, day=day, zone=actor.zone, viewer=actor.user, now=now
    )
    language = translation.get_language()
    key = hashlib.sha256(repr((fingerprint, language, zone_name, words)).encode()).hexdigest()[:40]

    def draw():
        found = timeline.day_timeline(resources=shown, day=day, zone=actor.zone, viewer=actor.user, now=now)
        return render_png(found, words)

    return Picture(key=key, draw=draw, caption=texts.timeline_caption(title, zone_name), rows=arrows)


# --- Views: what each scope shows (sync; in the database thread) --------------------


def resource_day(actor, resource_id, day):
    _check_day(actor, day)
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    arrows = _arrows(actor, day, cb.TIMELINE_RESOURCE, resource.pk)
    return _with_draw_ready(_picture(actor, [resource], day, resource.name, arrows))


def category_day(actor, kind_index, category_number, day):
    """A kind's resources, or one category of it (numbered as the /resources list numbers them now)."""
    _check_day(actor, day)
    kind = kind_of(kind_index)
    category = category_of(kind, category_number)
    found = list(selectors.resources_list(kind=kind, category=category))
    scope = category or str(texts.KIND_LABELS.get(kind, kind))
    arrows = _arrows(actor, day, cb.TIMELINE_CATEGORY, kind_index, category_number)
    return _with_draw_ready(_picture(actor, found, day, scope, arrows))


def pool_day(actor, pool_id, day):
    _check_day(actor, day)
    pool = pools.pool_get(pool_id=pool_id)
    if pool is None:
        raise Expired()
    arrows = _arrows(actor, day, cb.TIMELINE_POOL, pool.pk)
    return _with_draw_ready(_picture(actor, pools.pool_units(pool=pool), day, pool.name, arrows))


def free_day(actor, start, minutes, day):
    """The resources a /free search found (free for all of start..start+minutes, bookable by the presser)."""
    _check_day(actor, day)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    found = selectors.resources_free_page(user=actor.user, start=start, end=end, offset=0, limit=MAX_ROWS)
    scope = texts.timeline_free_scope(texts.when(start, end, actor.zone))
    arrows = _arrows(actor, day, cb.TIMELINE_FREE, start, minutes)
    return _with_draw_ready(_picture(actor, found.items, day, scope, arrows, total=found.total))


def admins_day(actor, day):
    if not actor.user.is_staff:
        raise AdminsOnly()
    _check_day(actor, day)
    every = list(selectors.resources_list())
    arrows = _arrows(actor, day, cb.TIMELINE_ADMINS)
    return _with_draw_ready(_picture(actor, every, day, str(texts.TIMELINE_ALL_RESOURCES), arrows))


def _with_draw_ready(answer):
    """Look the picture's file_id up while still in the database thread (the cache may be Redis)."""
    if isinstance(answer, Picture):
        answer.file_id = _cached(answer.key)
    return answer


# --- Cache ---------------------------------------------------------------------------


def _cache_key(key):
    # file_ids belong to one bot: its id is part of the key (the token's first part).
    return f"bot:timeline:{settings.TELEGRAM_BOT_TOKEN.split(':', 1)[0]}:{key}"


def _cached(key):
    try:
        return cache.get(_cache_key(key))
    except RedisError as error:
        logger.warning("Timeline cache unavailable, drawing anew: %s", error)
        return None


def _remember(key, file_id):
    try:
        cache.set(_cache_key(key), file_id, CACHE_SECONDS)
    except RedisError as error:
        logger.warning("Timeline picture not remembered, the cache failed: %s", error)


def _forget(key):
    try:
        cache.delete(_cache_key(key))
    except RedisError as error:
        logger.warning("Timeline cache unavailable: %s", error)


# --- Showing it ------------------------------------------------------------------------


def _stale_file(error):
    reason = error.message.lower()
    return "wrong file identifier" in reason or "file reference" in reason or "wrong remote file" in reason


async def _put(bot, query, picture, media, edit):
    """Send or edit with `media` (a file_id or PNG bytes); the Message Telegram returns."""
    if edit:
        try:
            return await query.edit_message_media(
                InputMediaPhoto(media, caption=picture.caption, parse_mode=ParseMode.HTML, filename=FILENAME),
                reply_markup=picture.markup,
            )
        except BadRequest as error:
            reason = error.message.lower()
            if "message is not modified" in reason:
                return None  # pressed twice: the photo already shows this day
            if "message can't be edited" not in reason and "message to edit not found" not in reason:
                raise
    return await bot.send_photo(
        query.message.chat.id if query.message else query.from_user.id,
        media,
        caption=picture.caption,
        parse_mode=ParseMode.HTML,
        reply_markup=picture.markup,
        filename=FILENAME,
    )


async def deliver(bot, query, picture):
    """Show `picture`: by its file_id when known (nothing drawn or uploaded), else drawn and uploaded once.

    A press on a photo's arrows edits that photo; a press elsewhere (a card, a list) sends a new one.
    """
    edit = query.message is not None and bool(query.message.photo)
    if picture.file_id:
        try:
            sent = await _put(bot, query, picture, picture.file_id, edit)
            STATS["reused"] += 1
            return sent
        except BadRequest as error:
            if not _stale_file(error):
                raise
            STATS["stale"] += 1
            logger.info("Timeline file_id refused (%s): uploading anew", error.message)
            await asyncio.to_thread(_forget, picture.key)
    data = await db(picture.draw)()
    STATS["drawn"] += 1
    sent = await _put(bot, query, picture, data, edit)
    if sent is not None and getattr(sent, "photo", None):
        await asyncio.to_thread(_remember, picture.key, sent.photo[-1].file_id)
    return sent


def shows(view):
    """A press handler: run `view` (re-checking the press), then show its picture, or its refusal."""

    async def handler(update, context, *values):
        query = update.callback_query
        answer = await render(update, view, *values)
        if isinstance(answer, Picture):
            await deliver(context.bot, query, answer)
            await query.answer()
            return
        await query.answer(texts.notice(answer.notice) or None, show_alert=answer.alert)

    handler.__name__ = f"picture_{view.__name__}"
    return handler


def day_view_button(action, *values):
    """The 🖼 Day view button other screens carry."""
    return [cb.button(texts.DAY_VIEW, action, *values)]


def _refuse(actor, *values):
    raise AdminsOnly()


_admins_day = shows(admins_day)
_not_admin = shows(_refuse)


async def admins_press(update, context, day):
    """The admins' picture: members of the admin chat (bot.admins), then staff (the view), as /today."""
    allowed = await in_admin_chat(context.bot, update.effective_user.id)
    await (_admins_day if allowed else _not_admin)(update, context, day)


PRESSES = {
    cb.TIMELINE_RESOURCE: shows(resource_day),
    cb.TIMELINE_CATEGORY: shows(category_day),
    cb.TIMELINE_POOL: shows(pool_day),
    cb.TIMELINE_FREE: shows(free_day),
    cb.TIMELINE_ADMINS: admins_press,
}
