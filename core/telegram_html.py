"""Cutting Telegram HTML messages to Telegram's length limit without breaking them.

Telegram counts a message's length after parsing its entities (the visible
text, in UTF-16 code units) and refuses HTML whose tags do not balance. A
plain `text[:4096]` can cut a tag or an `&amp;` in half, or leave a `<b>`
open, and then the whole message is refused. Shared by bot/ and
notifications/ (which may not import each other), like core/callbacks.py.
"""

import re

MAX_MESSAGE = 4096
ELLIPSIS = "…"

# A tag, an entity, or one character: the pieces a message may be cut between.
_PIECE = re.compile(r"<[^>]*>|&[#\w]+;|.", re.DOTALL)
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z-]+)")


def visible_length(text):
    """Telegram's count: visible characters in UTF-16 code units (tags are free, an entity is one)."""
    return sum(_units(piece) for piece in _PIECE.findall(text) if not piece.startswith("<"))


def fit_html(text, limit=MAX_MESSAGE):
    """`text` if it fits, else its longest whole-piece prefix, an ellipsis and the tags still open, closed."""
    if visible_length(text) <= limit:
        return text
    budget = limit - _units(ELLIPSIS)
    kept, open_tags = [], []
    for piece in _PIECE.findall(text):
        if piece.startswith("<"):
            _track(piece, open_tags)
            kept.append(piece)
            continue
        budget -= _units(piece)
        if budget < 0:
            break
        kept.append(piece)
    # Tags opened at the very end would wrap nothing: close them all the same.
    return "".join(kept) + ELLIPSIS + "".join(f"</{name}>" for name in reversed(open_tags))


def _track(tag, open_tags):
    match = _TAG_NAME.match(tag)
    if not match or tag.endswith("/>"):
        return
    name = match.group(1).lower()
    if tag.startswith("</"):
        if name in open_tags:
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name)]
    else:
        open_tags.append(name)


def _units(piece):
    if piece.startswith("&"):
        return 1
    return len(piece.encode("utf-16-le")) // 2
