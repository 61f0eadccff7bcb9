"""The timeline picture itself (bot.timeline_picture): size, colours at known times, the now mark,
the legend with every state, DST days, Russian words. No database, no sandbox: a DayTimeline is built
by hand and the PNG read back with Pillow."""

import io
from datetime import date, timedelta

from django.utils import translation
from PIL import Image, ImageDraw

from bookings import timeline as t
from bookings.models import Resource
from bookings.rules import site_zone
from bot import texts
from bot import timeline_picture as picture

DAY = date(2030, 6, 3)


def words(language="en", more=""):
    with translation.override(language):
        return picture.Words(
            title=texts.timeline_title("Projector", DAY),
            subtitle=texts.timeline_zone_line("Europe/Berlin"),
            legend={state: str(label) for state, label in texts.TIMELINE_LEGEND.items()},
            now=str(texts.TIMELINE_NOW),
            more=more,
        )


def a_day(day=DAY, rows=3, now_hours=None):
    start, end = t.day_bounds(day, site_zone())

    def at(hours):
        return start + timedelta(hours=hours)

    pieces = [(0, 8, t.OUTSIDE), (8, 9, t.FREE), (9, 10, t.BOOKED), (10, 11, t.OWN), (11, 12, t.PENDING)]
    pieces += [(12, 13, t.HELD), (13, 15, t.CLOSED), (15, 20, t.FREE)]
    segments = tuple(t.Segment(at(a), at(b), state) for a, b, state in pieces) + (t.Segment(at(20), end, t.OUTSIDE),)
    made = tuple(t.Row(Resource(name=f"Room {n}"), segments) for n in range(rows))
    now = at(now_hours) if now_hours is not None else None
    return t.DayTimeline(day=day, zone=site_zone(), start=start, end=end, rows=made, now=now)


def png(day, language="en", more=""):
    return Image.open(io.BytesIO(picture.render_png(day, words(language, more)))).convert("RGB")


def pixel(image, day, hours, row=0):
    x = round(picture.x_of(day, day.start + timedelta(hours=hours)))
    return image.getpixel((x, picture.row_top(row) + picture.ROW_HEIGHT // 2))


def test_the_picture_is_phone_sized_and_each_state_has_its_colour_at_its_time():
    day = a_day(now_hours=16.25)
    image = png(day)

    assert image.width == picture.WIDTH >= 1080
    assert picture.TEXT_SIZE >= 24 and picture.TITLE_SIZE >= 24
    expected = {4.5: t.OUTSIDE, 8.5: t.FREE, 9.5: t.BOOKED, 10.5: t.OWN, 11.5: t.PENDING, 12.5: t.HELD, 14.5: t.CLOSED}
    for row in range(3):
        for hours, state in expected.items():
            assert pixel(image, day, hours, row) == picture.COLOURS[state], (row, hours, state)
    assert pixel(image, day, 16.25, 2) == picture.NOW_COLOUR
    assert len(set(picture.COLOURS.values()) | {picture.NOW_COLOUR}) == len(picture.COLOURS) + 1


def test_the_legend_shows_every_state_in_its_colour_in_english_and_russian():
    for language in ("en", "ru"):
        day = a_day(rows=2)
        chosen = words(language)
        image = png(day, language)
        layout, height = picture._legend_layout(ImageDraw.Draw(Image.new("RGB", (1, 1))), chosen)
        top = picture.row_top(len(day.rows)) + 30
        swatches = {kind: (x, y) for x, y, kind, _ in layout}
        assert set(swatches) == {*t.STATES, "now"}
        for state in t.STATES:
            x, y = swatches[state]
            centre = (x + picture.LEGEND_SWATCH // 2, top + y + picture.LEGEND_SWATCH // 2)
            assert image.getpixel(centre) == picture.COLOURS[state], (language, state)
        assert all(x < picture.WIDTH - picture.MARGIN for x, _, _, _ in layout)
        assert image.height >= top + height
    with translation.override("ru"):
        assert str(texts.TIMELINE_LEGEND[t.OUTSIDE]) == "Вне часов работы"
        assert texts.timeline_zone_line("Europe/Berlin") == "Время: Europe/Berlin"


def test_a_25_hour_day_is_drawn_on_its_real_length():
    autumn = date(2030, 10, 27)
    day = a_day(autumn)
    assert day.end - day.start == timedelta(hours=25)
    image = png(day)
    # 08:00 local is 9 elapsed hours after midnight that day: the segments were built by elapsed hours.
    assert pixel(image, day, 9.5) == picture.COLOURS[t.BOOKED]
    assert [label for _, label in day.hour_marks()].count("02") == 2


def test_a_cut_list_says_how_many_were_left_out():
    with translation.override("en"):
        assert texts.timeline_more(12) == "…and 12 more resources"
    with translation.override("ru"):
        assert texts.timeline_more(5) == "…и ещё 5 ресурсов"
    assert png(a_day(), more="…and 12 more resources").height > png(a_day()).height
