"""The day timeline as a PNG: hours across, resources down, a legend, the "now" mark.

Drawn with Pillow and the DejaVu fonts (Debian's fonts-dejavu-core; the
Makefile's system-deps installs it), no browser. The picture is made for a
phone: 1,280 px wide, no text smaller than 24 px. It draws a
bookings.timeline.DayTimeline and the words it is given (already in the
reader's language); it reads no database and no settings, so it may run in
any thread.
"""

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bookings.timeline import BOOKED, CLOSED, FREE, HELD, OUTSIDE, OWN, PENDING, STATES, DayTimeline

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"

WIDTH = 1280
MARGIN = 24
NAME_WIDTH = 300
ROW_HEIGHT = 60
BAR_HEIGHT = 46
HEADER_HEIGHT = 130  # title, subtitle, hour labels
LEGEND_SWATCH = 34
TEXT_SIZE = 24
TITLE_SIZE = 34
NOW_WIDTH = 4

# One colour per state (colour-blind-friendly choices where they matter: own is blue, booked is red).
COLOURS = {
    FREE: (169, 222, 170),
    BOOKED: (226, 102, 96),
    OWN: (52, 120, 222),
    PENDING: (245, 190, 70),
    HELD: (155, 107, 211),
    CLOSED: (96, 96, 96),
    OUTSIDE: (226, 226, 226),
}
NOW_COLOUR = (20, 20, 20)
BACKGROUND = (255, 255, 255)
TEXT = (33, 33, 33)
MUTED = (110, 110, 110)
HOUR_LINE = (255, 255, 255)


@dataclass(frozen=True)
class Words:
    """What the picture says, in the reader's language."""

    title: str
    subtitle: str
    legend: dict  # state → label
    now: str
    more: str = ""  # "and 12 more" under the rows, when the list was cut


def _font(path, size):
    return ImageFont.truetype(str(path), size)


_FONTS = {}


def font(size, *, bold=False):
    """A DejaVu font of `size` px (loaded once per size)."""
    key = (size, bold)
    if key not in _FONTS:
        _FONTS[key] = _font(BOLD_FONT if bold else FONT, size)
    return _FONTS[key]


def _fit(draw, text, width, face):
    """`text` cut with an ellipsis to fit `width` px."""
    if draw.textlength(text, font=face) <= width:
        return text
    while text and draw.textlength(text + "…", font=face) > width:
        text = text[:-1]
    return text + "…"


def _legend_layout(draw, words):
    """[(x, y, kind, label)] of the legend entries, flowing over as many lines as they need."""
    entries = [(state, words.legend[state]) for state in STATES] + [("now", words.now)]
    x, y, placed = MARGIN, 0, []
    face = font(TEXT_SIZE)
    for kind, label in entries:
        width = LEGEND_SWATCH + 10 + draw.textlength(label, font=face) + 28
        if x + width > WIDTH - MARGIN and x > MARGIN:
            x, y = MARGIN, y + LEGEND_SWATCH + 14
        placed.append((x, y, kind, label))
        x += width
    return placed, y + LEGEND_SWATCH


def x_of(timeline: DayTimeline, moment) -> float:
    """The x pixel of a moment on the day's axis (elapsed time: a 25-hour day is wider per hour)."""
    left, right = MARGIN + NAME_WIDTH, WIDTH - MARGIN
    share = (moment - timeline.start) / (timeline.end - timeline.start)
    return left + share * (right - left)


def row_top(index: int) -> int:
    return HEADER_HEIGHT + index * ROW_HEIGHT


def render_png(timeline: DayTimeline, words: Words) -> bytes:
    """The PNG of `timeline` with `words`."""
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    legend, legend_height = _legend_layout(probe, words)
    rows_bottom = row_top(len(timeline.rows))
    more_height = 40 if words.more else 0
    height = rows_bottom + more_height + 30 + legend_height + MARGIN
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    text_face, title_face = font(TEXT_SIZE), font(TITLE_SIZE, bold=True)

    draw.text((MARGIN, 14), _fit(draw, words.title, WIDTH - 2 * MARGIN, title_face), font=title_face, fill=TEXT)
    draw.text((MARGIN, 58), _fit(draw, words.subtitle, WIDTH - 2 * MARGIN, text_face), font=text_face, fill=MUTED)

    marks = timeline.hour_marks()
    for index, (moment, label) in enumerate(marks):
        if index % 2 == 0:
            x = x_of(timeline, moment)
            draw.text((x, HEADER_HEIGHT - 8), label, font=text_face, fill=MUTED, anchor="ls")

    for index, row in enumerate(timeline.rows):
        top = row_top(index)
        bar_top, bar_bottom = top + (ROW_HEIGHT - BAR_HEIGHT) // 2, top + (ROW_HEIGHT + BAR_HEIGHT) // 2
        name = _fit(draw, row.resource.name, NAME_WIDTH - 16, text_face)
        draw.text((MARGIN, (bar_top + bar_bottom) // 2), name, font=text_face, fill=TEXT, anchor="lm")
        for segment in row.segments:
            x0, x1 = x_of(timeline, segment.start), x_of(timeline, segment.end)
            draw.rectangle((round(x0), bar_top, max(round(x0), round(x1) - 1), bar_bottom), fill=COLOURS[segment.state])
        for moment, _ in marks[1:]:
            x = round(x_of(timeline, moment))
            draw.line((x, bar_top, x, bar_bottom), fill=HOUR_LINE, width=1)

    if timeline.now is not None and timeline.rows:
        x = round(x_of(timeline, timeline.now))
        draw.rectangle((x - NOW_WIDTH // 2, HEADER_HEIGHT - 4, x + NOW_WIDTH // 2 - 1, rows_bottom), fill=NOW_COLOUR)

    if words.more:
        draw.text((MARGIN, rows_bottom + 8), words.more, font=text_face, fill=MUTED)

    legend_top = rows_bottom + more_height + 30
    for x, y, kind, label in legend:
        top = legend_top + y
        if kind == "now":
            middle = x + LEGEND_SWATCH // 2
            line = (middle - NOW_WIDTH // 2, top, middle + NOW_WIDTH // 2 - 1, top + LEGEND_SWATCH)
            draw.rectangle(line, fill=NOW_COLOUR)
        else:
            draw.rectangle((x, top, x + LEGEND_SWATCH, top + LEGEND_SWATCH), fill=COLOURS[kind], outline=MUTED)
        draw.text((x + LEGEND_SWATCH + 10, top + LEGEND_SWATCH // 2), label, font=text_face, fill=TEXT, anchor="lm")

    out = io.BytesIO()
    # Flat colours: run-length zlib at its fastest level is a third of the default's time, for ~20 % more bytes.
    image.save(out, format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return out.getvalue()
