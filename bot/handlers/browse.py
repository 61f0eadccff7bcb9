"""/resources: kinds → categories → a paginated list → a resource card with a Book button.

A resource the user may not book (bookings.policies) is marked with a lock in
the list, and its card says who may book it and offers Request access instead
of a calendar.
"""

from bookings import policies, rules, selectors
from bookings.models import ResourceKind
from bot import callbacks as cb
from bot import keyboards, texts
from bot.calendar import month_of
from bot.handlers import access
from bot.handlers.base import Expired, Screen, paginate, reply, view_only

PER_PAGE = 8
KINDS = [kind.value for kind in ResourceKind]


def kinds(actor):
    buttons = [cb.button(texts.KIND_LABELS.get(kind, kind), cb.CATEGORIES, index) for index, kind in enumerate(KINDS)]
    return Screen(str(texts.CHOOSE_KIND), [buttons, keyboards.to_menu()])


def categories(actor, kind_index):
    kind = kind_of(kind_index)
    names = selectors.resource_categories(kind=kind)
    if len(names) <= 1:
        return resource_list(actor, kind_index, 0, 0)
    buttons = [cb.button(texts.ALL_CATEGORIES, cb.RESOURCES, kind_index, 0, 0)]
    buttons += [cb.button(name, cb.RESOURCES, kind_index, number, 0) for number, name in enumerate(names, 1)]
    rows = keyboards.grid(buttons, 2) + [keyboards.back(cb.KINDS)]
    return Screen(texts.choose_category(texts.KIND_LABELS.get(kind, kind)), rows)


def resource_list(actor, kind_index, category_number, page):
    kind = kind_of(kind_index)
    category = category_of(kind, category_number)
    items = list(selectors.resources_list(kind=kind, category=category))
    shown, page, pages = paginate(items, page, PER_PAGE)
    label = texts.KIND_LABELS.get(kind, kind)
    text = texts.resource_list_title(label, category, page, pages)
    if not items:
        text += "\n" + str(texts.NO_RESOURCES)
    rows = resource_buttons(actor, shown)
    rows += keyboards.pager(page, pages, cb.RESOURCES, kind_index, category_number)
    if items:
        today = rules.today_in(actor.zone)
        rows.append([cb.button(texts.DAY_VIEW, cb.TIMELINE_CATEGORY, kind_index, category_number, today)])
    rows.append(keyboards.back(cb.CATEGORIES, kind_index))
    return Screen(text, rows)


def resource_card(actor, resource_id):
    resource = selectors.resource_get(resource_id=resource_id)
    if resource is None:
        raise Expired()
    back = keyboards.back(cb.RESOURCES, KINDS.index(resource.kind), 0, 0)
    text = texts.resource_card(resource, opening_hours_lines(resource))
    allowed = access.access_of(actor, [resource])[resource.pk]
    first_day = rules.today_in(actor.zone)
    day_view = [cb.button(texts.DAY_VIEW, cb.TIMELINE_RESOURCE, resource.pk, first_day)]
    if not allowed.bookable:
        text += "\n\n" + texts.restricted(policies.not_permitted(allowed).message)
        return Screen(text, [[access.request_button(resource)], day_view, back])
    return Screen(text, [[cb.button(texts.BOOK, cb.CALENDAR, resource.pk, month_of(first_day))], day_view, back])


def resource_buttons(actor, resources):
    """One button per resource opening its card; a lock on those `actor` may not book."""
    allowed = access.access_of(actor, resources)
    return [
        [cb.button(texts.resource_button(resource.name, allowed[resource.pk].bookable), cb.RESOURCE, resource.pk)]
        for resource in resources
    ]


def opening_hours_lines(resource):
    """'Mon–Fri 08:00–20:00', grouping consecutive weekdays with the same hours; [] if always open."""
    by_day = {}
    for row in resource.opening_hours.all():
        by_day.setdefault(row.weekday, []).append(f"{row.opens:%H:%M}–{row.closes:%H:%M}")
    groups = []  # [first weekday, last weekday, hours text]
    for weekday in range(7):
        hours = ", ".join(by_day.get(weekday, []))
        if not hours:
            continue
        if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == hours:
            groups[-1][1] = weekday
        else:
            groups.append([weekday, weekday, hours])
    names = texts.WEEKDAYS_ABBR
    return [f"{names[first]}{'–' + str(names[last]) if last != first else ''} {hours}" for first, last, hours in groups]


def kind_of(kind_index):
    if kind_index >= len(KINDS):
        raise Expired()
    return KINDS[kind_index]


def category_of(kind, number):
    """0 is every category; n is the n-th of the kind's categories as they are now."""
    if number == 0:
        return None
    names = selectors.resource_categories(kind=kind)
    if number > len(names):
        raise Expired()
    return names[number - 1]


async def resources_command(update, context):
    await reply(update, context, kinds)


COMMANDS = {"resources": resources_command}
PRESSES = {
    cb.KINDS: view_only(kinds),
    cb.CATEGORIES: view_only(categories),
    cb.RESOURCES: view_only(resource_list),
    cb.RESOURCE: view_only(resource_card),
}
