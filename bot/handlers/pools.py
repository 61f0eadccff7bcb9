"""/pools: a pool as one card with its free counts, the quantity, the request with its units.

The card lists "Laptops: 3 of 5 free 10:00–12:00" per interval of a day
(bookings.pools.pool_free_counts); a press on an interval asks how many
units (buttons 1..N that fit that time, from pool_free_units), and the next
press books them in one request (pool_book). The request's card shows each
unit with its status; Cancel all and Return all act on the whole request,
each unit's own card (my.py) on one unit, and a unit that may be checked in
can be swapped for another free unit of the pool. What is offered is the
domain's answer (pool_request_actions, booking_actions, swap_candidates).
"""

from datetime import timedelta
from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bookings import pools, rules, selectors, services
from bookings.selectors import Action
from bot import callbacks as cb
from bot import keyboards, texts
from bot.handlers.base import Expired, Screen, reply, view_only
from bot.handlers.my import action_buttons

MAX_QUANTITY_BUTTONS = 10
MAX_INTERVALS = 12

POOLS, POOL, POOL_QUANTITY, POOL_BOOK = cb.POOLS, cb.POOL, cb.POOL_QUANTITY, cb.POOL_BOOK
POOL_REQUEST, POOL_CANCEL, POOL_RETURN, POOL_SWAPS, POOL_SWAP = (
    cb.POOL_REQUEST,
    cb.POOL_CANCEL,
    cb.POOL_RETURN,
    cb.POOL_SWAPS,
    cb.POOL_SWAP,
)

NO_POOLS = gettext_lazy("There are no pools to book.")
CHOOSE_POOL = gettext_lazy("Pools of identical items, booked by number:")
POOL_REQUESTS = gettext_lazy("Pool requests:")
CANCEL_ALL = gettext_lazy("✖️ Cancel all")
RETURN_ALL = gettext_lazy("↩️ Return all")
SWAP = gettext_lazy("🔁 Other unit")
NEXT_DAY = gettext_lazy("Next day ▶️")


def pool_list(actor):
    found = list(pools.pools_list())
    if not found:
        return Screen(str(NO_POOLS), [keyboards.to_menu()])
    today = rules.today_in(actor.zone)
    rows = [[cb.button(f"{p.name} ({p.unit_count})", POOL, p.pk, today)] for p in found]
    return Screen(str(CHOOSE_POOL), rows + [keyboards.to_menu()])


def pool_card(actor, pool_id, day):
    pool = _pool(pool_id)
    counts = pools.pool_free_counts(pool=pool, day=day)[:MAX_INTERVALS]
    lines = [f"<b>{escape(pool.name)}</b>, {escape(str(day))}"]
    if pool.description:
        lines.append(escape(pool.description))
    rows = []
    for interval in counts:
        span = texts.when(interval.start, interval.end, actor.zone)
        lines.append(free_count_line(pool.name, interval.free, interval.total, span))
        length = pools.pool_longest_booking(pool=pool, start=interval.start, end=interval.end)
        if length:
            end = rules.add_elapsed(interval.start, length)
            label = f"{texts.when(interval.start, end, actor.zone)} · {interval.free}"
            rows.append([cb.button(label, POOL_QUANTITY, pool.pk, interval.start, int(length.total_seconds() // 60))])
    if not counts:
        lines.append(_("No unit is free on this day."))
    rows.append([cb.button(NEXT_DAY, POOL, pool.pk, day + timedelta(days=1))])
    rows.append([cb.button(texts.DAY_VIEW, cb.TIMELINE_POOL, pool.pk, day)])
    rows.append(keyboards.back(POOLS))
    return Screen("\n".join(lines), rows)


def free_count_line(name, free, total, span):
    """'Laptops: 3 of 5 free Tue 4 Jun, 10:00–12:00'."""
    return ngettext(
        "%(name)s: %(free)s of %(total)s free %(span)s",
        "%(name)s: %(free)s of %(total)s free %(span)s",
        total,
    ) % {"name": escape(name), "free": free, "total": total, "span": span}


def ask_quantity(actor, pool_id, start, minutes):
    pool = _pool(pool_id)
    end = rules.add_elapsed(start, timedelta(minutes=minutes))
    free = len(pools.pool_free_units(pool=pool, start=start, end=end))
    if not free:
        raise Expired()
    text = _("How many units of <b>%(name)s</b>, %(when)s?") % {
        "name": escape(pool.name),
        "when": texts.when(start, end, actor.zone),
    }
    buttons = [
        cb.button(str(n), POOL_BOOK, pool.pk, start, minutes, n) for n in range(1, min(free, MAX_QUANTITY_BUTTONS) + 1)
    ]
    day = start.astimezone(actor.zone).date()
    return Screen(text, keyboards.grid(buttons, 5) + [keyboards.back(POOL, pool.pk, day)])


def book(actor, pool_id, start, minutes, quantity):
    pool = _pool(pool_id)
    made = pools.pool_book(
        user=actor.user,
        pool=pool,
        start=start,
        end=rules.add_elapsed(start, timedelta(minutes=minutes)),
        quantity=quantity,
        receipt=False,
    )
    bookings = list(made.bookings.all())
    # This reply is the request's receipt: the first unit's held receipt waits on it, the others are shown here.
    for booking in bookings[1:]:
        services.booking_receipt_shown(booking=booking)
    screen = request_card(actor, made.pk, notice=booked_notice(len(bookings)))
    screen.receipt_of = bookings[0]
    return screen


def booked_notice(count):
    return ngettext("Booked %(count)s unit.", "Booked %(count)s units.", count) % {"count": count}


def request_card(actor, request_id, notice=""):
    found = _own_request(actor, request_id)
    zone = actor.zone
    lines = [
        f"<b>{escape(found.pool.name)}</b> ×{found.quantity} #{found.pk}",
        texts.when(found.start, found.end, zone),
    ]
    rows = []
    for booking in found.bookings.all():
        lines.append(f"• {escape(booking.resource.name)} — {texts.status_label(booking.status)}")
        unit_rows = [cb.button(f"#{booking.pk} {booking.resource.name}", cb.MY_BOOKING, booking.pk)]
        unit_rows += action_buttons(booking, actor.user, only={Action.CHECK_IN})
        if _may_swap(booking, actor.user):
            unit_rows.append(cb.button(SWAP, POOL_SWAPS, booking.pk))
        rows.append(unit_rows)
    allowed = pools.pool_request_actions(request=found, user=actor.user)
    whole = []
    if Action.CANCEL in allowed:
        whole.append(cb.button(CANCEL_ALL, POOL_CANCEL, found.pk))
    if Action.RETURN in allowed:
        whole.append(cb.button(RETURN_ALL, POOL_RETURN, found.pk))
    rows += ([whole] if whole else []) + [keyboards.back(cb.MY, 0)]
    return Screen("\n".join(lines), rows, notice=str(notice))


def cancel_all(actor, request_id):
    cancelled = pools.pool_request_cancel(request=_own_request(actor, request_id), by=actor.user)
    notice = ngettext("Cancelled %(count)s unit.", "Cancelled %(count)s units.", len(cancelled)) % {
        "count": len(cancelled)
    }
    return request_card(actor, request_id, notice=notice)


def return_all(actor, request_id):
    returned = pools.pool_request_return(request=_own_request(actor, request_id), by=actor.user)
    notice = ngettext("Returned %(count)s unit.", "Returned %(count)s units.", len(returned)) % {"count": len(returned)}
    return request_card(actor, request_id, notice=notice)


def swap_choices(actor, booking_id):
    booking = _own_unit_booking(actor, booking_id)
    candidates = pools.swap_candidates(booking=booking)
    if not candidates:
        return Screen(notice=_("No other unit is free for this time."), alert=True)
    text = _("Take another unit instead of <b>%(name)s</b>:") % {"name": escape(booking.resource.name)}
    buttons = [cb.button(unit.name, POOL_SWAP, booking.pk, unit.pk) for unit in candidates[:MAX_QUANTITY_BUTTONS]]
    return Screen(text, keyboards.grid(buttons, 2) + [keyboards.back(POOL_REQUEST, booking.pool_request_id)])


def swap(actor, booking_id, unit_id):
    booking = _own_unit_booking(actor, booking_id)
    unit = selectors.resource_get(resource_id=unit_id)
    if unit is None:
        raise Expired()
    pools.pool_unit_swap(booking=booking, unit=unit, by=actor.user)
    notice = _("You take %(name)s.") % {"name": unit.name}
    return request_card(actor, booking.pool_request_id, notice=notice)


def my_section(actor):
    """/my's lines and buttons for the user's upcoming pool requests (their units are listed with the bookings)."""
    found = pools.pool_requests_of(user=actor.user)
    if not found:
        return [], []
    lines = ["", str(POOL_REQUESTS)]
    rows = []
    for request in found:
        units = ", ".join(escape(b.resource.name) for b in request.bookings.all())
        span = texts.when(request.start, request.end, actor.zone)
        lines.append(f"#{request.pk} {escape(request.pool.name)} ×{len(request.bookings.all())}, {span}: {units}")
        rows.append(
            [cb.button(f"{request.pool.name} ×{len(request.bookings.all())}, {span}", POOL_REQUEST, request.pk)]
        )
    return lines, rows


def _may_swap(booking, user):
    """Offered at check-in (or once the unit is out) when another unit is free for the rest of the time."""
    allowed = set(selectors.booking_actions(booking=booking, user=user))
    return bool(allowed & {Action.CHECK_IN, Action.RETURN}) and bool(pools.swap_candidates(booking=booking))


def _pool(pool_id):
    pool = pools.pool_get(pool_id=pool_id)
    if pool is None:
        raise Expired()
    return pool


def _own_request(actor, request_id):
    found = pools.pool_request_get(request_id=request_id, user=actor.user)
    if found is None or found.user_id != actor.user.pk:
        raise Expired()
    return found


def _own_unit_booking(actor, booking_id):
    booking = selectors.booking_get(booking_id=booking_id, user=actor.user)
    if booking is None or booking.user_id != actor.user.pk or booking.pool_request_id is None:
        raise Expired()
    return booking


async def pools_command(update, context):
    await reply(update, context, pool_list)


COMMANDS = {"pools": pools_command}
PRESSES = {
    POOLS: view_only(pool_list),
    POOL: view_only(pool_card),
    POOL_QUANTITY: view_only(ask_quantity),
    POOL_BOOK: view_only(book),
    POOL_REQUEST: view_only(request_card),
    POOL_CANCEL: view_only(cancel_all),
    POOL_RETURN: view_only(return_all),
    POOL_SWAPS: view_only(swap_choices),
    POOL_SWAP: view_only(swap),
}
